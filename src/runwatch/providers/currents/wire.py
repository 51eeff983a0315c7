"""Currents' bodies: envelopes, runs (Cypress and Playwright shapes), spec files and an
instance's tests. Every field that can be missing is optional; a timestamp or a duration
that does not parse costs that field, not the body."""

from datetime import datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BeforeValidator

from runwatch.models import utc
from runwatch.providers.wire import WireModel, lenient_time

# Timestamps are compared across spec files: a stray one without a zone is taken as UTC.
# One that does not parse costs that field, not the body (nor the list it is in).
Timestamp = Annotated[datetime | None, BeforeValidator(lenient_time), AfterValidator(utc)]


def _lenient_ms(value: object) -> float | None:
    """A duration in milliseconds, or None where it is not a non-negative number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 and value == value and value != float("inf") else None


Millis = Annotated[float | None, BeforeValidator(_lenient_ms)]


class Platform(WireModel):
    osName: str | None = None
    osVersion: str | None = None
    browserName: str | None = None
    browserVersion: str | None = None


class InstanceCounters(WireModel):
    """A group's spec files: how many there are, claimed by a runner, completed."""

    overall: int | None = None
    claimed: int | None = None
    complete: int | None = None
    passes: int | None = None
    failures: int | None = None


class TestCounters(WireModel):
    """Test counters of a group or a spec file. Cypress spec stats have `tests` but no
    `overall`; Playwright reports both."""

    __test__ = False

    overall: int | None = None
    tests: int | None = None
    passes: int | None = None
    failures: int | None = None
    pending: int | None = None
    skipped: int | None = None
    flaky: int | None = None
    retries: int | None = None
    wallClockStartedAt: Timestamp = None
    wallClockEndedAt: Timestamp = None
    wallClockDuration: float | None = None  # milliseconds


class GroupWire(WireModel):
    groupId: str | None = None
    platform: Platform | None = None
    instances: InstanceCounters | None = None
    tests: TestCounters | None = None


class Commit(WireModel):
    sha: str | None = None
    branch: str | None = None
    authorName: str | None = None
    authorEmail: str | None = None
    message: str | None = None


class Meta(WireModel):
    ciBuildId: str | None = None
    commit: Commit | None = None
    platform: Platform | None = None  # Playwright only


class Timeout(WireModel):
    isTimeout: bool | None = None
    timeoutValueMs: float | None = None


class CancellationWire(WireModel):
    """Who canceled a run (a person's name or "API Request"), when and why."""

    actor: str | None = None
    canceledAt: Timestamp = None
    reason: str | None = None


class SpecResults(WireModel):
    stats: TestCounters | None = None
    flaky: int | None = None  # Cypress puts the flaky count here, beside the stats


class SpecWire(WireModel):
    spec: str | None = None
    groupId: str | None = None
    instanceId: str | None = None
    claimedAt: Timestamp = None
    completedAt: Timestamp = None
    results: SpecResults | None = None


class RunWire(WireModel):
    """A run of GET /v1/runs/{id}, or an item of a project's run list (no `specs` there)."""

    runId: str
    cursor: str | None = None  # list items only
    createdAt: Timestamp = None
    completionState: str | None = None
    status: str | None = None
    tags: list[str] | None = None
    timeout: Timeout | None = None
    cancellation: CancellationWire | None = None
    groups: list[GroupWire] | None = None
    meta: Meta | None = None
    specs: list[SpecWire] | None = None
    durationMs: Millis = None  # list items too: the only duration a list row has


class AttemptError(WireModel):
    name: str | None = None
    message: str | None = None
    stack: str | None = None


class Attempt(WireModel):
    state: str | None = None
    error: AttemptError | None = None
    wallClockDuration: float | None = None  # milliseconds


class TestWire(WireModel):
    __test__ = False

    testId: str | None = None
    title: list[str] | str | None = None
    state: str | None = None
    displayError: str | None = None
    attempts: list[Attempt] | None = None


class InstanceResults(WireModel):
    tests: list[TestWire] | None = None
    exception: str | None = None  # an error that kept the spec file from running


class InstanceWire(WireModel):
    instanceId: str | None = None
    spec: str | None = None
    results: InstanceResults | None = None


class _Envelope(WireModel):
    status: str | None = None


class RunPage(_Envelope):
    has_more: bool | None = None
    data: list[RunWire]


class RunPageHead(_Envelope):
    """A runs page with its items unvalidated (each is validated when new)."""

    has_more: bool | None = None
    data: list[object]


class RunEnvelope(_Envelope):
    data: RunWire


class InstanceEnvelope(_Envelope):
    data: InstanceWire


E = TypeVar("E", bound=_Envelope)
