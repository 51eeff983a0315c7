"""What the poller tells its subscribers (DESIGN section 4): how each source is doing, and
the changes to its runs. Plain frozen data, no asyncio: the TUI, the CLI and tests read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runwatch.models import Run, RunDetail, RunStatus

HealthState = Literal["starting", "ok", "stale", "error", "paused"]


@dataclass(frozen=True)
class SourceHealth:
    """How a source is doing. `stale`: the last poll failed and the last good data is kept;
    `error`: no poll has succeeded yet."""

    state: HealthState = "starting"
    error: str | None = None
    last_success: float | None = None
    next_poll: float | None = None
    interval_s: float = 5.0
    failures: int = 0

    def _visible(self) -> tuple[object, ...]:
        return (self.state, self.error, self.failures)


@dataclass(frozen=True)
class RunsChanged:
    source: str
    changed: tuple[Run, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class HealthChanged:
    source: str
    health: SourceHealth


@dataclass(frozen=True)
class DetailLoaded:
    source: str
    run_id: str
    detail: RunDetail | None
    error: str | None


@dataclass(frozen=True)
class RunTransition:
    run: Run
    previous: RunStatus


PollEvent = RunsChanged | HealthChanged | DetailLoaded | RunTransition
