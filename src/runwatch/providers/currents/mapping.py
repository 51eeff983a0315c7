"""From Currents' bodies to the normalized model: statuses, counters, progress, specs, a
test's error and who canceled a run."""

from __future__ import annotations

from runwatch.models import (
    Cancellation,
    Group,
    RunStatus,
    Spec,
    TestCounts,
    TestResult,
    map_status,
    seconds_between,
)
from runwatch.providers.currents.wire import (
    CancellationWire,
    GroupWire,
    Platform,
    RunWire,
    SpecWire,
    TestCounters,
    TestWire,
)

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


def pipeline_of(project_id: str | None, groups: list[GroupWire]) -> str | None:
    """What repeats: the project, and the group when the run has exactly one named group
    (a project that runs `chromium` and `firefox` groups separately has two tracks)."""
    named = {g.groupId for g in groups if g.groupId}
    if len(named) == 1 and project_id:
        return f"{project_id}/{named.pop()}"
    return project_id or (named.pop() if len(named) == 1 else None)


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
