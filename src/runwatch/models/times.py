"""Times in UTC and durations: the one rule for every screen and command (DESIGN section 2).
Plain Python; the models are named for type checking only."""

from __future__ import annotations

from datetime import UTC, datetime

from runwatch.models.status import RunStatus

# Not `typing.TYPE_CHECKING`: the models import this module, and mypy alone reads these.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from runwatch.models.run import Run, Step


def utc(value: datetime | None) -> datetime | None:
    """Make a datetime timezone-aware UTC (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None  # 9999-12-31T23:59-05:00 is past year 9999 in UTC: no such time


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    start, end = utc(start), utc(end)
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def run_duration(run: Run, now: float) -> float | None:
    """A run's duration, the one rule for every screen and command: a finished run's own
    (timestamps, else the API's figure); a running or waiting one's so far, from its start
    (else its creation: Currents and Conduct list rows have no start). A queued run has
    none yet."""
    if run.duration_s is not None and (run.status.is_terminal or run.finished_at):
        return run.duration_s
    if run.status in (RunStatus.RUNNING, RunStatus.WAITING):
        start = _epoch(run.started_at or run.created_at)
        if start is not None:
            return max(0.0, now - start)
    return run.duration_s


def step_duration(step: Step, now: float) -> float | None:
    """A step's duration: its own once it ended, a running (or waiting) one's so far."""
    if step.duration_s is not None and not step.status.is_active:
        return step.duration_s
    if step.status in (RunStatus.RUNNING, RunStatus.WAITING):
        start = _epoch(step.started_at)
        if start is not None:
            end = _epoch(step.finished_at)
            return max(0.0, (end if end is not None else now) - start)
    return step.duration_s


def _epoch(value: datetime | None) -> float | None:
    try:
        return value.timestamp() if value is not None else None
    except (OverflowError, OSError, ValueError):
        return None
