"""Currents REST API v1: Cypress and Playwright runs of one project (`currents-v1.md`).

    GET    /v1/projects/{project_id}/runs?limit=&starting_after=   newest first, cursor paging
    GET    /v1/runs/{id}                                           groups and spec files
    GET    /v1/instances/{instance_id}                             one spec file's tests
    PUT    /v1/runs/{id}/cancel                                    422: already cancelled
    DELETE /v1/runs/{id}

Every body is an envelope, `{"status": "OK", "data": ...}` (lists add `has_more`), and errors
are `{"status": "FAILED", "error": ...}`. Cypress and Playwright runs differ in detail (which
counters a group or spec reports, where the platform is): both parse into the same models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit

from pydantic import AfterValidator, BeforeValidator, ValidationError

from runwatch.config import SourceConfig
from runwatch.errors import ApiError, BadResponse, ConfigError, Conflict
from runwatch.http import SourceClient
from runwatch.models import (
    Cancellation,
    Group,
    Run,
    RunDetail,
    RunStatus,
    Spec,
    TestCounts,
    TestResult,
    map_status,
    seconds_between,
    utc,
)
from runwatch.providers.base import Action, Provider
from runwatch.providers.wire import WireModel, first_problem, lenient_time, validate

PAGE_SIZE = 50  # the API's largest `limit`
# Paging stops after this many pages beyond what `limit` needs, whatever `has_more` says.
SPARE_PAGES = 2
DASHBOARD = "https://app.currents.dev/run/{run_id}"
PUBLIC_API_HOST = "api.currents.dev"

# -- wire models ------------------------------------------------------------------------------


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


class RunEnvelope(_Envelope):
    data: RunWire


class InstanceEnvelope(_Envelope):
    data: InstanceWire


E = TypeVar("E", bound=_Envelope)

# -- mapping ----------------------------------------------------------------------------------

# completionState first; a COMPLETE run's outcome is its `status`.
_COMPLETION = {
    "in_progress": RunStatus.RUNNING,  # status RUNNING or FAILING
    "canceled": RunStatus.CANCELED,
    "cancelled": RunStatus.CANCELED,
    "timeout": RunStatus.TIMED_OUT,
}
_OUTCOME = {"passed": RunStatus.PASSED, "failed": RunStatus.FAILED}
# Test states: Cypress passed/failed/pending/skipped, Playwright adds timedOut/interrupted.
# A pending test (`it.skip`) never ran either: skipped, its raw state kept.
_TEST_STATE = {
    "passed": RunStatus.PASSED,
    "failed": RunStatus.FAILED,
    "timedout": RunStatus.TIMED_OUT,
    "interrupted": RunStatus.CANCELED,
    "skipped": RunStatus.SKIPPED,
    "pending": RunStatus.SKIPPED,
}


def run_status(completion: str | None, status: str | None) -> RunStatus:
    """The normalized status from `completionState` and `status` (DESIGN section 3)."""
    if completion is not None and completion.strip().lower() == "complete":
        return map_status(status, _OUTCOME)
    return map_status(completion, _COMPLETION)


def provider_status(run: RunWire) -> str:
    return "/".join(p for p in (run.completionState, run.status) if p) or "unknown"


def title_of(run: RunWire) -> str | None:
    """What a person recognises: the commit's subject, else the CI build id, else the tags."""
    commit = run.meta.commit if run.meta else None
    if commit and commit.message and commit.message.strip():
        return commit.message.strip().splitlines()[0]
    if run.meta and run.meta.ciBuildId:
        return run.meta.ciBuildId
    return ", ".join(run.tags) if run.tags else None


def counts_of(counters: TestCounters | None, flaky: int | None = None) -> TestCounts | None:
    if counters is None:
        return None
    return TestCounts(
        overall=counters.overall if counters.overall is not None else counters.tests,
        passes=counters.passes,
        failures=counters.failures,
        pending=counters.pending,
        skipped=counters.skipped,
        flaky=counters.flaky if counters.flaky is not None else flaky,
        retries=counters.retries,
    )


def total_counts(groups: list[GroupWire]) -> TestCounts | None:
    """The run's test counters: its groups' added up; a counter no group reports stays None."""
    counts = [c for c in (counts_of(g.tests) for g in groups) if c is not None]
    if not counts:
        return None
    totals: dict[str, int | None] = {}
    for key in TestCounts.model_fields:
        values = [v for v in (getattr(c, key) for c in counts) if v is not None]
        totals[key] = sum(values) if values else None
    return TestCounts(**totals)


def progress_of(groups: list[GroupWire]) -> float | None:
    """Completed spec files over all spec files, across groups, in percent."""
    instances = [g.instances for g in groups if g.instances is not None]
    overall = sum(i.overall or 0 for i in instances)
    if not overall:
        return None
    complete = sum(i.complete or 0 for i in instances)
    return round(min(100.0, max(0.0, 100.0 * complete / overall)), 1)


def to_group(group: GroupWire, n: int) -> Group:
    platform = group.platform or Platform()
    instances = group.instances
    return Group(
        id=group.groupId or f"group {n + 1}",
        platform=_joined(platform.osName, platform.osVersion),
        browser=_joined(platform.browserName, platform.browserVersion),
        # Group.instances reads passes as "complete": its progress bar is complete/overall.
        instances=TestCounts(
            overall=instances.overall, passes=instances.complete, failures=instances.failures
        ) if instances else None,
        tests=counts_of(group.tests),
    )


def to_spec(spec: SpecWire, run: RunStatus) -> Spec:
    results = spec.results
    stats = results.stats if results else None
    tests = counts_of(stats, results.flaky if results else None)
    return Spec(
        spec=spec.spec or spec.instanceId or "?",
        group=spec.groupId,
        status=spec_status(spec, tests, run),
        tests=tests,
        duration_s=_spec_duration(spec, stats),
        instance_id=spec.instanceId,
    )


def spec_status(spec: SpecWire, tests: TestCounts | None, run: RunStatus) -> RunStatus:
    if spec.completedAt is not None:
        if tests and tests.failures:
            return RunStatus.FAILED
        if tests and not tests.passes and (tests.skipped or tests.pending):
            # Every test skipped (e.g. after a fail-fast stop): nothing passed, nothing ran.
            return RunStatus.SKIPPED
        return RunStatus.PASSED
    if run.is_terminal and spec.claimedAt is not None:
        # Claimed but never completed in a finished run: cut short by the cancel or timeout.
        return run if run in (RunStatus.CANCELED, RunStatus.TIMED_OUT) else RunStatus.CANCELED
    # Unclaimed: waiting, or (once the run has ended) skipped by RunDetail's one rule.
    return RunStatus.RUNNING if spec.claimedAt is not None else RunStatus.QUEUED


def _spec_duration(spec: SpecWire, stats: TestCounters | None) -> float | None:
    if stats is not None and stats.wallClockDuration is not None:
        return stats.wallClockDuration / 1000
    return seconds_between(spec.claimedAt, spec.completedAt)


def to_test_result(test: TestWire) -> TestResult:
    title = test.title if isinstance(test.title, str) else " › ".join(test.title or [])
    durations = [a.wallClockDuration for a in test.attempts or [] if a.wallClockDuration]
    status = map_status(test.state, _TEST_STATE)
    return TestResult(
        title=title or test.testId or "(untitled test)",
        status=status,
        provider_status=test.state,
        # Every attempt counts: a test that passed on its retry took both.
        duration_s=sum(durations) / 1000 if durations else None,
        error=error_of(test) if status is not RunStatus.PASSED else None,
    )


def error_of(test: TestWire) -> str | None:
    """Cypress has `displayError`; Playwright leaves it null and keeps errors on attempts."""
    if test.displayError:
        return test.displayError
    for attempt in reversed(test.attempts or []):
        error = attempt.error
        if error is None:
            continue
        if error.stack and (error.message or "") in error.stack:
            return error.stack  # Playwright's stack starts with the message already
        head = ": ".join(p for p in (error.name, error.message) if p)
        return "\n".join(p for p in (head, error.stack) if p) or None
    return None


def cancellation_of(wire: CancellationWire | None) -> Cancellation | None:
    """Who canceled the run and when; None when the API says nothing of it."""
    if wire is None or not (wire.actor or wire.canceledAt or wire.reason):
        return None
    return Cancellation(by=wire.actor, at=wire.canceledAt, reason=wire.reason)


def _joined(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None


# -- the provider -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    """One mapped page, kept with the body it came from: an identical body (the HTTP
    client hands back the same object) is not mapped again."""

    body: Any
    runs: list[Run]
    has_more: bool
    next_cursor: str | None


class CurrentsProvider(Provider):
    """A Currents project's runs: groups, spec files and per-test results; cancel, delete."""

    name = "currents"
    actions = frozenset({Action.CANCEL, Action.DELETE})
    has_spec_results = True

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        self._pages: dict[str | None, _Page] = {}
        self._detail: tuple[Any, RunDetail] | None = None

    @property
    def project_id(self) -> str:
        if not self.source.project_id:
            raise ConfigError(f"source {self.source.name!r}: key 'project_id': required")
        return self.source.project_id

    # -- reading -----------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        path = f"/v1/projects/{_seg(self.project_id)}/runs"
        runs: dict[str, Run] = {}
        pages: dict[str | None, _Page] = {}
        cursor: str | None = None
        for _ in range(math.ceil(self.limit / PAGE_SIZE) + SPARE_PAGES):
            page = await self._page(path, cursor, want=self.limit - len(runs))
            pages[cursor] = page
            for run in page.runs:
                runs.setdefault(run.id, run)  # a run that moved between pages counts once
            cursor = page.next_cursor
            if len(runs) >= self.limit or not page.has_more or cursor is None or cursor in pages:
                break
        self._pages = pages  # only this poll's pages: memory stays flat however long we run
        newest = sorted(runs.values(), key=lambda r: r.sort_time, reverse=True)
        return newest[: self.limit]

    async def get_run(self, run_id: str) -> RunDetail:
        path = f"/v1/runs/{_seg(run_id)}"
        body = await self.client.get_json(path)
        if self._detail is not None and self._detail[0] is body:
            return self._detail[1]
        detail = self._to_detail(self._parse(RunEnvelope, body, path).data)
        self._detail = (body, detail)
        return detail

    async def get_spec_results(self, run_id: str, spec: Spec) -> list[TestResult]:
        if not spec.instance_id:
            return []
        path = f"/v1/instances/{_seg(spec.instance_id)}"
        instance = self._parse(InstanceEnvelope, await self.client.get_json(path), path).data
        results = instance.results
        if results is None:  # not claimed by a runner yet
            return []
        tests = [to_test_result(t) for t in results.tests or []]
        if results.exception:
            tests.append(TestResult(title=instance.spec or spec.spec, status=RunStatus.FAILED,
                                    provider_status="exception", error=results.exception))
        return tests

    # -- acting ------------------------------------------------------------------------------

    async def _cancel(self, run_id: str) -> None:
        try:
            await self.client.send("PUT", f"/v1/runs/{_seg(run_id)}/cancel")
        except Conflict as exc:
            # The API's one documented refusal is 422 "Run already cancelled"; say so plainly,
            # unless the server gave another reason.
            detail = exc.message.removeprefix(f"{self.client.source}: ")
            said = detail.partition(": ")[2]  # the server's words after the status line
            if not said or "cancel" in said.lower():
                message = f"{self.source.name}: run {run_id} is already cancelled"
            else:
                message = f"{self.source.name}: run {run_id} cannot be cancelled: {said}"
            raise Conflict(message, status_code=exc.status_code) from exc

    async def _delete(self, run_id: str) -> None:
        await self.client.send("DELETE", f"/v1/runs/{_seg(run_id)}")

    # -- internals ---------------------------------------------------------------------------

    async def _page(self, path: str, cursor: str | None, *, want: int) -> _Page:
        params = {"limit": max(1, min(PAGE_SIZE, want)), "starting_after": cursor}
        body = await self.client.get_json(path, params)
        known = self._pages.get(cursor)
        if known is not None and known.body is body:
            return known
        page = self._parse(RunPage, body, path)
        last = page.data[-1] if page.data else None
        return _Page(
            body=body,
            runs=[self._to_run(item) for item in page.data],
            has_more=bool(page.has_more),
            # The API's items carry a `cursor`; the run id stands in where one does not.
            next_cursor=(last.cursor or last.runId) if last else None,
        )

    def _parse(self, envelope: type[E], body: Any, path: str) -> E:
        """Validate an envelope; a wrong shape is a BadResponse naming source and path."""
        if isinstance(body, dict) and str(body.get("status")).upper() == "FAILED":
            # Currents' error envelope, though the HTTP status said all was well.
            said = body.get("error") or "the API answered FAILED"
            raise ApiError(f"{self.source.name}: {path}: {said}")
        try:
            return validate(envelope, body)
        except ValidationError as exc:
            raise BadResponse(
                f"{self.source.name}: {path} returned JSON of an unexpected shape "
                f"({first_problem(exc)})"
            ) from None

    def _fields(self, run: RunWire) -> dict[str, Any]:
        """What a list row and a detail share."""
        status = run_status(run.completionState, run.status)
        groups = run.groups or []
        commit = (run.meta.commit if run.meta else None) or Commit()
        return {
            "source": self.source.name,
            "provider": self.name,
            "id": run.runId,
            "status": status,
            "provider_status": provider_status(run),
            "title": title_of(run),
            "branch": commit.branch,
            "commit": commit.sha,
            "author": commit.authorName or commit.authorEmail,
            "created_at": run.createdAt,
            "finished_at": self._ended(run, status),
            # Timestamps win where the detail has both; a list row has only this figure.
            "duration_s": run.durationMs / 1000 if run.durationMs is not None else None,
            "progress": progress_of(groups),
            "tests": total_counts(groups),
            "url": self._url(run.runId),
        }

    def _ended(self, run: RunWire, status: RunStatus) -> datetime | None:
        if status is RunStatus.CANCELED and run.cancellation:
            return run.cancellation.canceledAt
        if status in (RunStatus.PASSED, RunStatus.FAILED) and run.specs:
            # Complete when its last spec file was: the run has no end time of its own.
            return max((s.completedAt for s in run.specs if s.completedAt), default=None)
        return None  # a timeout's moment is not reported, only that it happened

    def _to_run(self, run: RunWire) -> Run:
        return Run(**self._fields(run))

    def _to_detail(self, run: RunWire) -> RunDetail:
        fields = self._fields(run)
        specs = run.specs or []
        return RunDetail(
            **fields,
            # A run has no start time of its own: its first spec file claimed is the start.
            started_at=min((s.claimedAt for s in specs if s.claimedAt), default=None),
            groups=[to_group(g, n) for n, g in enumerate(run.groups or [])],
            specs=[to_spec(s, fields["status"]) for s in specs],
            cancellation=cancellation_of(run.cancellation),
        )

    def _url(self, run_id: str) -> str:
        """The run in Currents' dashboard, or in the API for any other server."""
        if urlsplit(self.source.base_url).hostname == PUBLIC_API_HOST:
            return DASHBOARD.format(run_id=_seg(run_id))
        return f"{self.source.base_url}/v1/runs/{_seg(run_id)}"


def _seg(value: str) -> str:
    """One URL path segment: an id with a slash must not reach another endpoint."""
    return quote(value, safe="")
