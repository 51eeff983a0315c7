"""Which transitions of a run alert, for which runs, and the words an alert says
(DESIGN section 14). Plain functions: the engine decides when, the channels how."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from runwatch.config_notify import ChannelRule, NotifyConfig, Transition
from runwatch.models import Run, RunStatus

if TYPE_CHECKING:
    from runwatch.history.store import Point

WORDS: dict[Transition, str] = {"failed": "failed", "timed_out": "timed out",
                                "canceled": "was canceled", "fixed": "is fixed",
                                "slower": "was slower than usual"}


@dataclass(frozen=True)
class Alert:
    """One run's transition that a rule let through."""

    kind: Transition
    run: Run

    @property
    def line(self) -> str:
        """"web-e2e: run 812 failed · fix login (main)"."""
        run = self.run
        details = " · ".join(p for p in (run.title, run.branch and f"({run.branch})") if p)
        head = f"{run.source}: run {run.id} {WORDS[self.kind]}"
        return f"{head} · {details}" if details else head


def transitions(run: Run, track_runs: Iterable[Run]) -> list[Transition]:
    """What `run`, just finished, did: its end status and, against the track's other runs,
    `fixed` (the first pass after a red run) and `slower` (above the usual p90)."""
    # The history's statistics (and its store, sqlite3) when the first run ends: ~5 ms of
    # the dashboard's way to its first screen otherwise, where no run has ended yet.
    from runwatch.history.stats import RED, TrackStats, newest_first
    from runwatch.history.store import Point

    kinds: list[Transition] = []
    status = run.status
    if status is RunStatus.FAILED:
        kinds.append("failed")
    elif status is RunStatus.TIMED_OUT:
        kinds.append("timed_out")
    elif status is RunStatus.CANCELED:
        kinds.append("canceled")
    before = [p for p in newest_first(Point.of(r) for r in track_runs
                                      if r.track == run.track and r.id != run.id)
              if _earlier(p, run)]
    stats = TrackStats(run.track, tuple(before))
    if status is RunStatus.PASSED:
        previous = next((p for p in stats.finished
                         if p.status is RunStatus.PASSED or p.status in RED), None)
        if previous is not None and previous.status in RED:
            kinds.append("fixed")
    if status.is_terminal and stats.is_slower(run.duration_s):
        kinds.append("slower")
    return kinds


def _earlier(point: Point, run: Run) -> bool:
    began = run.created_at or run.started_at
    return point.created_at is None or began is None or point.created_at <= began.timestamp()


def _globs(patterns: Sequence[str], value: str | None) -> bool:
    return any(fnmatchcase(value or "", pattern) for pattern in patterns)


def allowed(config: NotifyConfig, channel: str, alert: Alert) -> bool:
    """Whether `channel` sends `alert`: its own rule's keys where set, else the table's."""
    own = config.rules.get(channel) or ChannelRule()  # type: ignore[call-overload]
    on = own.on if own.on is not None else config.on
    run = alert.run
    return (alert.kind in on
            and _globs(own.sources if own.sources is not None else config.sources, run.source)
            and _globs(own.pipelines if own.pipelines is not None else config.pipelines,
                       run.pipeline)
            and _globs(own.branches if own.branches is not None else config.branches,
                       run.branch))


def message(alerts: Sequence[Alert]) -> str:
    """One alert's line, or several as one: "3 runs failed: a #1, b #2, c #3"."""
    if len(alerts) == 1:
        return alerts[0].line
    kinds = {a.kind for a in alerts}
    names = ", ".join(f"{a.run.source} #{a.run.id}" for a in alerts)
    if len(kinds) == 1:
        return f"{len(alerts)} runs {WORDS[alerts[0].kind]}: {names}"
    return f"{len(alerts)} alerts: " + ", ".join(
        f"{a.run.source} #{a.run.id} {WORDS[a.kind]}" for a in alerts)
