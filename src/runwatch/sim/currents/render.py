"""Currents' bodies of a simulated run at a moment: the run object (list item or detail)
and an instance's test-by-test results, in the Cypress or the Playwright shape."""

from __future__ import annotations

from typing import Any

from runwatch.sim.core import iso
from runwatch.sim.currents.plan import (
    CANCEL_ACTOR,
    PLAYWRIGHT_PROJECTS,
    PROJECT_ID,
    REMOTE_ORIGIN,
    GroupPlan,
    InstanceState,
    SimRun,
    TestPlan,
    TestState,
    instance_state,
    run_state,
)


class RunRenderer:
    """The rendering half of the simulated API; it keeps no state of its own."""

    def render(self, run: SimRun, now: float, *, specs: bool) -> dict[str, Any]:
        """The run object of GET /v1/runs/{id} (specs=True) or of a list item."""
        states = [instance_state(run, i, now) for i in range(len(run.script.steps))]
        failures = sum(s.failures for s in states) * len(run.groups)
        completion, status = run_state(run, failures, now)
        body: dict[str, Any] = {
            "runId": run.run_id,
            "projectId": PROJECT_ID,
            "createdAt": iso(run.script.created_at),
            "completionState": completion,
            "status": status,
            "tags": self._tags(run),
            "durationMs": _duration_ms(run, completion, now),
        }
        if run.framework == "cypress":
            body["cypressVersion"] = "13.8.1"
        body["timeout"] = self._timeout(run, completion)
        if completion == "CANCELED":
            body["cancellation"] = {
                "actor": run.script.extra.get("cancel_actor", CANCEL_ACTOR),
                "canceledAt": iso(run.script.canceled_at),
                "reason": "apiRequest",
            }
        body["groups"] = [self._group(run, group, states) for group in run.groups]
        body["meta"] = self._meta(run)
        if specs:
            body["specs"] = [
                self._spec(run, g, i, state)
                for g in range(len(run.groups))
                for i, state in enumerate(states)
            ]
        return body

    def render_instance(self, run: SimRun, g: int, i: int, now: float) -> dict[str, Any]:
        spec, group = run.specs[i], run.groups[g]
        state = instance_state(run, i, now)
        body: dict[str, Any] = {
            "runId": run.run_id,
            "groupId": group.group_id,
            "projectId": PROJECT_ID,
            "instanceId": spec.instance_ids[g],
            "spec": spec.path,
            "machineId": spec.machine_id if state.claimed_at is not None else None,
            "createdAt": iso(state.claimed_at or run.script.created_at),
            "platform": group.platform,
            "tags": self._tags(run),
            "commit": self._commit(run, trailing_newline=True),
        }
        if run.framework == "cypress":
            body["cypressVersion"] = "13.8.1"
        else:
            body["framework"] = {"clientVersion": "1.9.2", "type": "pw", "version": "1.48.2"}
            body["worker"] = {"workerIndex": i % 4, "parallelIndex": i % 4}
        body["results"] = self._instance_results(run, g, i, state)
        return body

    def _tags(self, run: SimRun) -> list[str]:
        if run.framework == "cypress":
            return ["e2e", run.script.branch.split("/")[0]]
        return [f"project:{name}" for name, _, _ in PLAYWRIGHT_PROJECTS]

    def _timeout(self, run: SimRun, completion: str) -> dict[str, Any]:
        if run.framework == "playwright":
            return {"isTimeout": completion == "TIMEOUT"}
        return {"isTimeout": completion == "TIMEOUT", "timeoutValueMs": run.timeout_ms or 3_600_000}

    def _commit(self, run: SimRun, *, trailing_newline: bool = False) -> dict[str, Any]:
        script = run.script
        return {
            "sha": script.commit,
            "branch": script.branch,
            "authorName": script.author.title(),
            "authorEmail": f"{script.author}@users.noreply.github.com",
            "message": script.message + ("\n" if trailing_newline else ""),
            "remoteOrigin": REMOTE_ORIGIN,
            "defaultBranch": "main",
        }

    def _meta(self, run: SimRun) -> dict[str, Any]:
        meta: dict[str, Any] = {"ciBuildId": run.ci_build_id, "commit": self._commit(run)}
        if run.framework == "playwright":
            meta["platform"] = run.groups[0].platform
        return meta

    def _group(self, run: SimRun, group: GroupPlan, states: list[InstanceState]) -> dict[str, Any]:
        complete = [s for s in states if s.completed_at is not None]
        instances = {
            "overall": len(states),
            "claimed": sum(1 for s in states if s.claimed_at is not None),
            "complete": len(complete),
            "passes": sum(1 for s in complete if not s.failures),
            "failures": sum(1 for s in complete if s.failures),
        }
        counts = _test_counts(run, states)
        if run.framework == "cypress":
            return {"groupId": group.group_id, "platform": group.platform,
                    "instances": instances, "tests": counts}
        return {"instances": instances, "tests": counts, "groupId": group.group_id,
                "platform": group.platform, "tags": [f"project:{group.group_id}"]}

    def _spec(self, run: SimRun, g: int, i: int, state: InstanceState) -> dict[str, Any]:
        spec = run.specs[i]
        claimed = state.claimed_at is not None
        body: dict[str, Any] = {
            "groupId": run.groups[g].group_id,
            "spec": spec.path,
            "instanceId": spec.instance_ids[g],
            "claimedAt": iso(state.claimed_at),
            "completedAt": iso(state.completed_at),
            "machineId": spec.machine_id if claimed else None,
            "results": self._spec_results(run, state) if claimed else None,
        }
        if run.framework == "playwright":
            body["tags"] = [f"project:{run.groups[g].group_id}"]
            body["worker"] = {"workerIndex": i % 4, "parallelIndex": i % 4} if claimed else None
        return body

    def _spec_results(self, run: SimRun, state: InstanceState) -> dict[str, Any]:
        stats = _stats(run, state)
        if run.framework == "cypress":
            return {"videoUrl": None, "stats": stats, "screenshots": [], "flaky": state.flaky}
        return {"flaky": state.flaky, "stats": stats, "videoUrl": None, "screenshots": []}

    def _instance_results(
        self, run: SimRun, g: int, i: int, state: InstanceState
    ) -> dict[str, Any] | None:
        if state.claimed_at is None:
            return None
        tests = [_test(run, g, i, t) for t in state.tests]
        if run.framework == "cypress":
            return {"stats": _stats(run, state), "tests": tests, "exception": None,
                    "screenshots": [], "videoUrl": None}
        return {"stats": _stats(run, state), "tests": tests, "playwrightTraces": [],
                "screenshots": [], "videos": []}


def _counts(state: InstanceState) -> dict[str, int]:
    return {
        "passes": state.count("passed"),
        "failures": state.failures,
        "pending": state.count("pending"),
        "skipped": state.count("skipped"),
        "flaky": state.flaky,
        "retries": state.flaky,  # a flaky test passed on its one retry
    }


def _test_counts(run: SimRun, states: list[InstanceState]) -> dict[str, int]:
    """A group's test counters: the sum over its instances (Playwright adds `tests`)."""
    total = {"overall": sum(len(s.tests) for s in states)}
    if run.framework == "playwright":
        total["tests"] = total["overall"]
    for state in states:
        for key, value in _counts(state).items():
            total[key] = total.get(key, 0) + value
    return total


def _stats(run: SimRun, state: InstanceState) -> dict[str, Any]:
    """An instance's `results.stats`: Cypress counts suites and tests, Playwright overall."""
    counts = _counts(state)
    ended = state.completed_at
    clock = {
        "wallClockStartedAt": iso(state.claimed_at),
        "wallClockEndedAt": iso(ended),
        "wallClockDuration": None if ended is None or state.claimed_at is None
        else round((ended - state.claimed_at) * 1000),
    }
    if run.framework == "cypress":
        del counts["flaky"], counts["retries"]
        return {"suites": 1, "tests": len(state.tests), **counts, **clock}
    return {"overall": len(state.tests), "tests": len(state.tests), **counts, **clock}


def _test(run: SimRun, g: int, i: int, test: TestState) -> dict[str, Any]:
    """One entry of an instance's `results.tests`, in the framework's own shape."""
    plan = test.plan
    attempts = _attempts(run, run.specs[i].path, test)
    failed = test.state == "failed"
    if run.framework == "cypress":
        return {
            "body": "",
            "title": list(plan.title),
            "state": test.state,
            "displayError": plan.error if failed else None,
            "attempts": attempts,
            "testId": plan.test_id,
        }
    return {
        "_d": True,
        "state": test.state,
        "testId": plan.test_id,
        "originalTitle": list(plan.title),
        "title": list(plan.title),
        "attempts": attempts,
        "displayError": None,  # Playwright errors live on the attempts
        "isFlaky": plan.outcome == "flaky",
        "tags": [f"project:{run.groups[g].group_id}"],
    }


def _attempts(run: SimRun, path: str, test: TestState) -> list[dict[str, Any]]:
    plan = test.plan
    if test.started_at is None or test.ended_at is None:
        return [_attempt(run, plan, test.state, None, None, None, 0)]
    if plan.outcome == "flaky":
        # The first try fails, the retry passes; the test's time is split between them.
        middle = (test.started_at + test.ended_at) / 2
        return [
            _attempt(run, plan, "failed", _error(plan.error, path), test.started_at, middle, 0),
            _attempt(run, plan, "passed", None, middle, test.ended_at, 1),
        ]
    error = _error(plan.error, path) if test.state == "failed" else None
    return [_attempt(run, plan, test.state, error, test.started_at, test.ended_at, 0)]


def _attempt(run: SimRun, plan: TestPlan, state: str, error: dict[str, Any] | None,
             start: float | None, end: float | None, index: int) -> dict[str, Any]:
    duration = None if start is None or end is None else round((end - start) * 1000)
    body: dict[str, Any] = {
        "state": state,
        "error": error,
        "wallClockStartedAt": iso(start),
        "wallClockDuration": duration,
        "videoTimestamp": None,
    }
    if run.framework == "playwright":
        body = {"_d": True, "attemptId": f"{plan.test_id[:16]}-{index}", "state": state,
                "rawStatus": state, **body}
    return body


def _duration_ms(run: SimRun, completion: str, now: float) -> int | None:
    """How long a finished run took, from its first claim (list items and details alike);
    null while it is in progress."""
    if completion == "IN_PROGRESS":
        return None
    script = run.script
    end = script.end_time(now)
    if end is None:  # a timeout: the run stopped when it was cut off
        end = script.canceled_at if script.canceled_at is not None else script.planned_end
    return round(max(0.0, end - script.started_at) * 1000)


def _error(text: str | None, path: str) -> dict[str, Any] | None:
    if text is None:
        return None
    name, _, message = text.partition(": ")
    return {"name": name, "message": message, "stack": f"{text}\n    at {path}:12:7"}
