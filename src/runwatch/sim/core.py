"""The simulated world: an injectable clock, run scripts that progress over time, recorded
requests, injected faults and the simulator's settings (what each API builds from them is in
`runwatch.sim.kit`).

A run's state is a pure function of its script and the clock, so a frozen clock gives
byte-identical responses (stable snapshots) and an advancing one gives live runs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

# 2026-11-22T12:00:00Z: the epoch a frozen simulator lives at.
FROZEN_EPOCH = 1_795_348_800.0

Phase = Literal["queued", "running", "passed", "failed", "canceled"]
StepPhase = Literal["pending", "running", "passed", "failed", "skipped", "canceled"]


class SimClock:
    """Wall-clock seconds, frozen or live. Tests freeze it and `advance` it by hand; it is
    never a patched `time` (that would freeze asyncio's monotonic clock too)."""

    def __init__(self, start: float | None = None, *, frozen: bool = False) -> None:
        self._frozen = frozen
        self._offset = 0.0
        self._start = FROZEN_EPOCH if start is None and frozen else (start or time.time())
        self._real_start = time.time()

    def now(self) -> float:
        if self._frozen:
            return self._start + self._offset
        return self._start + (time.time() - self._real_start) + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def wall(self) -> float:
        """The time clients read on their own clocks: `now()` less every `advance`."""
        return self.now() - self._offset


def iso(ts: float | None) -> str | None:
    """Epoch seconds as the ISO 8601 `...Z` form these APIs use (milliseconds)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class StepScript:
    name: str
    start_s: float  # offset from the run's start
    duration_s: float
    fails: bool = False

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass
class RunScript:
    """One run's life: created, queued for a while, steps one after another, an outcome."""

    index: int
    created_at: float
    queue_s: float
    steps: list[StepScript]
    author: str
    branch: str
    message: str
    commit: str
    canceled_at: float | None = None
    deleted: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def started_at(self) -> float:
        return self.created_at + self.queue_s

    @property
    def planned_end(self) -> float:
        # Execution stops at the first failing step.
        for step in self.steps:
            if step.fails:
                return self.started_at + step.end_s
        return self.started_at + (self.steps[-1].end_s if self.steps else 0.0)

    @property
    def fails(self) -> bool:
        return any(s.fails for s in self.steps)

    def visible(self, now: float) -> bool:
        return not self.deleted and self.created_at <= now

    def phase(self, now: float) -> Phase:
        if self.canceled_at is not None and self.canceled_at <= now:
            return "canceled"
        if now < self.started_at:
            return "queued"
        if now < self.planned_end:
            return "running"
        return "failed" if self.fails else "passed"

    def start_time(self, now: float) -> float | None:
        stop = self.canceled_at if self.canceled_at is not None else now
        return self.started_at if stop >= self.started_at and now >= self.started_at else None

    def end_time(self, now: float) -> float | None:
        phase = self.phase(now)
        if phase == "canceled":
            return self.canceled_at
        if phase in ("passed", "failed"):
            return self.planned_end
        return None

    def step_phase(self, i: int, now: float) -> StepPhase:
        step = self.steps[i]
        stop = min(now, self.canceled_at) if self.canceled_at is not None else now
        begin, end = self.started_at + step.start_s, self.started_at + step.end_s
        canceled = self.canceled_at is not None and self.canceled_at <= now
        if any(s.fails for s in self.steps[:i]):
            return "skipped"
        if stop < begin:
            return "canceled" if canceled else "pending"
        if stop < end:
            return "canceled" if canceled else "running"
        return "failed" if step.fails else "passed"

    def step_times(self, i: int, now: float) -> tuple[float | None, float | None]:
        phase = self.step_phase(i, now)
        step = self.steps[i]
        begin, end = self.started_at + step.start_s, self.started_at + step.end_s
        if phase in ("pending", "skipped"):
            return None, None
        if phase == "running":
            return begin, None
        if phase == "canceled":
            ended = self.canceled_at
            return (begin, ended) if ended is not None and ended > begin else (None, None)
        return begin, end

    def progress(self, now: float) -> float:
        """0–100: the share of step time done."""
        total = sum(s.duration_s for s in self.steps) or 1.0
        done = 0.0
        stop = min(now, self.canceled_at) if self.canceled_at is not None else now
        for step in self.steps:
            begin = self.started_at + step.start_s
            done += min(max(0.0, stop - begin), step.duration_s)
        if self.phase(now) in ("passed", "failed"):
            return 100.0
        return round(100.0 * done / total, 1)

    def cancel(self, now: float) -> bool:
        """Cancel if still active; False when it had already finished."""
        if self.phase(now) in ("passed", "failed", "canceled"):
            return False
        self.canceled_at = now
        return True


# -- faults, requests ----------------------------------------------------------------

FaultKind = Literal["none", "500", "429", "html", "truncated", "hang", "refuse",
                    "hostile_text", "hostile_error"]
# Hostile answers that test runwatch's limits (runwatch.sim.hostile_http).
HttpAttackKind = Literal["endless", "gzip_bomb", "huge", "drip", "broken_gzip", "redirect_loop",
                         "redirect_307", "deep_nesting", "non_finite", "far_dates",
                         "bad_dates"]


@dataclass
class Fault:
    """A fault injected into one simulated API until cleared.

    refuse: the connection is dropped without an HTTP response (as a server going away).
    hostile_text, hostile_error: escape sequences and markup in every string (sim/hostile.py)."""

    kind: FaultKind | HttpAttackKind = "none"
    retry_after: float | str | None = None  # a string is sent as is ("soon", "1e309")
    hang_s: float = 30.0
    times: int | None = None  # None: until cleared; N: the next N requests only
    location: str | None = None  # where redirect_307 points

    def consume(self) -> bool:
        """Whether this fault applies to the current request."""
        if self.kind == "none":
            return False
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


@dataclass(frozen=True)
class RecordedRequest:
    provider: str
    method: str
    path: str  # below the provider's prefix, e.g. /api/v3/runs
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        import json

        return json.loads(self.body) if self.body else None


@dataclass
class SimSettings:
    """Knobs of one simulator instance."""

    seed: int = 7
    runs: int = 24  # per provider, created before the clock's start
    future_runs: int = 6
    # Expected bearer token per provider; None accepts any (or no) token.
    tokens: dict[str, str | None] = field(default_factory=dict)
    # The project conduct's newer backend wants in X-Project-ID; None: no header needed.
    conduct_project: str | None = None


def demo_tokens() -> dict[str, str]:
    """The tokens the demo and the tests use with the simulator."""
    names = ("services", "wercker", "currents", "conduct", "scheduler")
    return {p: f"sim-{p}-token" for p in names}


def seeded(seed: int, provider: str) -> random.Random:
    """A generator per provider, so adding one provider's data never reshuffles another's."""
    return random.Random(f"{seed}:{provider}")


Clock = Callable[[], float]
