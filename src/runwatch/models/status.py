"""A run's normalized status, and the rules every provider's mapping shares: how a raw
status maps, what never ran, how far a run got (DESIGN section 2). Plain Python, no pydantic."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class RunStatus(StrEnum):
    """A run's (or step's, or spec's) normalized status."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    PASSED = "passed"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"
    # Never ran: a scheduler node the server skipped, a spec whose tests were all skipped,
    # a step still waiting to start when its run ended. Terminal and neutral.
    SKIPPED = "skipped"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING)


TERMINAL_STATUSES = frozenset(
    {RunStatus.PASSED, RunStatus.FAILED, RunStatus.CANCELED, RunStatus.TIMED_OUT,
     RunStatus.SKIPPED}
)


def map_status(raw: str | None, table: dict[str, RunStatus]) -> RunStatus:
    """Look `raw` up case-insensitively; anything unmapped is `unknown`, never an error."""
    if raw is None:
        return RunStatus.UNKNOWN
    return table.get(raw.strip().lower(), RunStatus.UNKNOWN)


def never_ran(status: RunStatus, run_status: RunStatus) -> RunStatus:
    """A step's (or spec's) status once its run has ended: one still waiting to start never
    ran, so it is `skipped` (not `queued` under a finished run's bar)."""
    if run_status.is_terminal and status in (RunStatus.QUEUED, RunStatus.WAITING):
        return RunStatus.SKIPPED
    return status


def steps_done(run_status: RunStatus, steps: Sequence[RunStatus]) -> int:
    """How many steps are done: the final ones while the run goes on (a skipped node counts,
    DESIGN section 2); once it ended without passing, only those that ran to their end (not
    one skipped or canceled), so a failed run's bar shows how far it got, not a full bar."""
    if run_status.is_terminal and run_status is not RunStatus.PASSED:
        return sum(1 for s in steps if s in _RAN_TO_THE_END)
    return sum(1 for s in steps if s.is_terminal)


_RAN_TO_THE_END = frozenset({RunStatus.PASSED, RunStatus.FAILED, RunStatus.TIMED_OUT})


def progress_of(run_status: RunStatus, steps: Sequence[RunStatus],
                figure: float | None = None) -> float | None:
    """The run's progress in percent, the one rule for every provider: a passed run is done;
    a run that ended otherwise got as far as its steps (or specs) that ran; a live one says
    what its API figured (Wercker's `progress`, Currents' instances), else its final steps
    over all."""
    if run_status is RunStatus.PASSED:
        return 100.0
    ended = run_status.is_terminal
    if figure is not None and not ended:
        return figure
    if steps:
        return round(100.0 * steps_done(run_status, steps) / len(steps), 1)
    # Ended short of passing with no steps to count: the API's figure says how far it got
    # only below 100 (Wercker says 100 for any run that ended, and Currents counts skipped
    # spec files as complete). A live run without a figure or steps has none.
    return figure if figure is not None and figure < 100 else None
