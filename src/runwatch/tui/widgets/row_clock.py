"""When a runs-table row's time cells (started, duration, spinner) may next read differently,
so the 1 s tick renders only the rows whose time turned over. Its own module: it changes with
the rules of what moves with the clock, not with how the table lays out or repaints rows."""

from __future__ import annotations

import math

from runwatch.formatting import to_epoch
from runwatch.models import Run

__all__ = ["RowClock", "next_turnover"]


def next_turnover(run: Run, now: float, *, stale: bool = False) -> float:
    """The moment a row's time cells (`cells.TIMED_COLUMNS`) may next read differently: the
    next second while a duration or spinner moves (a run not yet ended, UNKNOWN too, of a
    live source), else when its "N m ago" turns over (whole minutes of its age; hours and
    days turn over on a minute too). Between those moments a tick has nothing to render."""
    if not run.status.is_terminal and not stale:
        return math.floor(now) + 1.0
    epoch = to_epoch(run.created_at or run.started_at)
    if epoch is None or not math.isfinite(now - epoch):
        return math.inf  # "–" for good
    age = now - epoch
    # "in 3m" counts down to "<1m" and then up: the next whole minute either way.
    return now + ((-age) % 60.0 if age < 0 else 60.0 - age % 60.0)


class RowClock:
    """Row key → (when its time cells were rendered, until when they cannot turn over)."""

    def __init__(self) -> None:
        self._due: dict[str, tuple[float, float]] = {}

    def is_due(self, key: str, now: float) -> bool:
        """Whether the row's time may have moved since it was rendered (or it never was)."""
        seen, due = self._due.get(key, (now, now))
        return not (seen <= now < due)  # a clock set back is seen as a turnover too

    def rendered(self, key: str, run: Run, now: float, *, stale: bool) -> None:
        """The row's time cells were rendered from `run` at `now`."""
        self._due[key] = (now, next_turnover(run, now, stale=stale))

    def forget(self, key: str) -> None:
        """New values (a poll, the theme, staleness) or a row gone: look again."""
        self._due.pop(key, None)

    def clear(self) -> None:
        self._due.clear()

    def rows(self) -> frozenset[str]:
        """The rows whose rendering is remembered."""
        return frozenset(self._due)
