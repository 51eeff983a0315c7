"""What one poll changed in one source's runs (issue 12: a poll costs what changed).

Providers keep the very object of a run that did not change, so only the objects new to the
source are compared. The list is compared with the last one position by position first (the
lists come newest first, so a changed run stays where it was: a C loop of identity checks),
else as sets of object ids (C loops too). Either way the Python work is that of the changed
runs, and so is keeping count of the unfinished ones (no walk of every row to learn that all
of them finished).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress, count
from operator import attrgetter, is_not

from runwatch.models import Run

# The position-by-position shortcut is taken while at most 1 run in this many moved.
FEW_SHARE = 16

_run_id = attrgetter("id")


@dataclass(frozen=True)
class Merged:
    """The runs that are new or differ (in the list's order), the ids that left, and the
    runs that became terminal with the status they had before."""

    changed: tuple[Run, ...] = ()
    removed: tuple[str, ...] = ()
    finished: tuple[tuple[Run, Run], ...] = ()  # (before, now)


@dataclass
class SourceRuns:
    """One source's runs as last polled, by id in the list's order."""

    runs: dict[str, Run] = field(default_factory=dict)
    last_list: list[Run] | None = None  # the last whole list (not a first page)
    unfinished: int = 0  # of `runs`

    @property
    def all_terminal(self) -> bool:
        return self.unfinished == 0

    def merge(self, runs: list[Run], *, partial: bool = False) -> Merged:
        """Take a fresh list. A `partial` one (a first page while later pages load) adds and
        updates, and removes nothing."""
        old = self.runs
        aligned = None if partial else self._aligned(runs)
        if aligned is not None:
            fresh, candidates = aligned
            removed: tuple[str, ...] = ()
        else:
            fresh = dict(zip(map(_run_id, runs), runs, strict=True))
            candidates = _new_objects(runs, old)
            removed = () if partial else tuple(old.keys() - fresh.keys())
            if partial:
                fresh = {**old, **fresh}
        # Only the object kept for its id: a list holding an id twice keeps one of them, and
        # counting both would hold the unfinished count above the truth for good.
        changed = tuple(
            run for run in candidates if fresh.get(run.id) is run
            and ((before := old.get(run.id)) is None or before != run))
        finished = []
        unfinished = self.unfinished
        for run in changed:
            before = old.get(run.id)
            unfinished += not run.status.is_terminal
            if before is not None:
                unfinished -= not before.status.is_terminal
                if not before.status.is_terminal and run.status.is_terminal:
                    finished.append((before, run))
        for run_id in removed:
            unfinished -= not old[run_id].status.is_terminal
        self.runs, self.unfinished = fresh, unfinished
        if not partial:
            self.last_list = runs
        return Merged(changed, removed, tuple(finished))

    def _aligned(self, runs: list[Run]) -> tuple[dict[str, Run], list[Run]] | None:
        """The runs by id and the objects new at their place, when `runs` holds the last
        list's ids at the same places (a few runs changed, none came or went); else None."""
        last, old = self.last_list, self.runs
        if last is None or not len(runs) == len(last) == len(old):
            return None
        at = list(compress(range(len(runs)), map(is_not, runs, last)))
        if len(at) * FEW_SHARE > len(runs):
            return None
        moved = [runs[i] for i in at]
        if any(run.id != last[i].id for run, i in zip(moved, at, strict=True)):
            return None  # a run came, went or moved: the ids' order changed
        fresh = old.copy()  # the same ids in the same order: only the changed are set
        for run in moved:
            fresh[run.id] = run
        return fresh, moved


def _new_objects(runs: list[Run], old: dict[str, Run]) -> list[Run]:
    """The objects of `runs` that `old` does not hold, in the list's order."""
    new = set(map(id, runs)).difference(map(id, old.values()))
    if len(new) * FEW_SHARE > len(runs):
        return [run for run in runs if id(run) in new]
    # A few: put in the list's order by their places (list.index would compare models).
    place = dict(zip(map(id, runs), count()))
    return [runs[i] for i in sorted(place[key] for key in new)]
