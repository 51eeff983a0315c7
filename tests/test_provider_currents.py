"""The Currents provider against the simulated Currents API (and odd shapes via MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from conftest import SimHandle
from runwatch.config import SourceConfig
from runwatch.errors import (
    ApiError,
    BadResponse,
    Conflict,
    NotFound,
    ReadOnlyError,
    Unsupported,
)
from runwatch.http import RetryPolicy
from runwatch.models import RunStatus, Spec, Step
from runwatch.providers import RunAction, build_provider
from runwatch.providers.currents import CurrentsProvider, run_status
from runwatch.session import Session
from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.core import iso
from runwatch.sim.currents import PROJECT_ID, SimRun, SimulatedApi

TOKEN = demo_tokens()["currents"]
RUNS_PATH = f"/v1/projects/{PROJECT_ID}/runs"

# -- helpers ----------------------------------------------------------------------------------


def api(sim: SimHandle) -> SimulatedApi:
    return sim.sim.apis["currents"]


def now(sim: SimHandle) -> float:
    return sim.sim.now()


def visible(sim: SimHandle) -> list[SimRun]:
    return [r for r in api(sim).runs if r.script.visible(now(sim))]


def first(runs: list[SimRun], what: str, test: Callable[[SimRun], bool]) -> SimRun:
    found = next((r for r in runs if test(r)), None)
    assert found is not None, f"seed 7 has no {what}"
    return found


def finished(sim: SimHandle, framework: str, fails: bool) -> SimRun:
    return first(
        visible(sim), f"finished {framework} run (fails={fails})",
        lambda r: r.framework == framework and r.script.fails == fails
        and r.script.phase(now(sim)) in ("passed", "failed"),
    )


def at(sim: SimHandle, ts: float) -> None:
    """Move the frozen clock to `ts` (backwards too: runs created later disappear)."""
    sim.sim.clock.advance(ts - now(sim))


def mid_run(sim: SimHandle, run: SimRun) -> None:
    script = run.script
    at(sim, script.started_at + (script.planned_end - script.started_at) / 2)


def failing_step(run: SimRun) -> int:
    return next(i for i, step in enumerate(run.script.steps) if step.fails)


async def raw(sim: SimHandle, method: str, path: str, token: str | None = TOKEN,
              **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=sim.base_url("currents"), headers=headers) as client:
        return await client.request(method, path, params=params or None)


@pytest.fixture
def big_sim(sim_server: Any) -> Iterator[SimHandle]:
    """120 runs: enough for several pages of 50."""
    server, switch = sim_server
    simulator = Simulator(SimSettings(seed=7, runs=120, tokens=dict(demo_tokens())),
                          SimClock(frozen=True))
    switch.target = simulator
    yield SimHandle(simulator, server)
    switch.target = None


def mock_provider(
    handler: Callable[[httpx.Request], httpx.Response], *, limit: int = 50
) -> tuple[CurrentsProvider, list[httpx.Request]]:
    """A provider for the public API host, answered by `handler` instead of a server."""
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    source = SourceConfig(name="web-e2e", provider="currents",
                          base_url="https://api.currents.dev", project_id="bAYZ4a")
    provider = build_provider(source, token="k", limit=limit, retry=RetryPolicy.none(),
                              transport=httpx.MockTransport(record))
    assert isinstance(provider, CurrentsProvider)
    return provider, calls


def answer(body: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    content = json.dumps(body).encode()  # `json=None` would send no body at all
    return lambda _: httpx.Response(status, content=content,
                                    headers={"content-type": "application/json"})


def page(*items: dict[str, Any], has_more: bool = False) -> dict[str, Any]:
    return {"status": "OK", "has_more": has_more, "data": list(items)}


# -- listing ----------------------------------------------------------------------------------


async def test_list_is_one_request_newest_first_with_the_run_fields(sim):
    provider = sim.provider("currents")
    runs = await provider.list_runs()

    [request] = sim.sim.requests_to("currents")
    assert (request.method, request.path, request.query) == ("GET", RUNS_PATH, "limit=50")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/json"
    assert [r.id for r in runs] == [r.run_id for r in visible(sim)]
    assert len(runs) == 24
    assert [r.created_at for r in runs] == sorted((r.created_at for r in runs), reverse=True)

    want = finished(sim, "cypress", fails=False)
    run = next(r for r in runs if r.id == want.run_id)
    script = want.script
    assert (run.source, run.provider, run.status) == ("currents", "currents", RunStatus.PASSED)
    assert run.provider_status == "COMPLETE/PASSED"
    assert (run.title, run.branch, run.commit) == (script.message, script.branch, script.commit)
    assert run.author == script.author.title()
    assert run.model_dump(mode="json")["created_at"] == iso(script.created_at)
    assert run.progress == 100.0
    assert run.tests is not None and run.tests.failures == 0
    assert run.tests.overall == sum(len(s.tests) for s in want.specs)
    assert run.url == f"{sim.base_url('currents')}/v1/runs/{want.run_id}"
    # A list item has no spec files, so no start time, but its `durationMs` is the duration.
    assert run.started_at is None
    assert run.duration_s == round((script.planned_end - script.started_at) * 1000) / 1000


async def test_list_pages_on_the_items_cursor_until_limit(big_sim):
    runs = await big_sim.provider("currents", limit=75).list_runs()

    expected = visible(big_sim)
    queries = [r.query for r in big_sim.sim.requests_to("currents")]
    assert queries == ["limit=50", f"limit=25&starting_after={expected[49].cursor}"]
    assert [r.id for r in runs] == [r.run_id for r in expected[:75]]


async def test_list_stops_when_has_more_is_false(big_sim):
    runs = await big_sim.provider("currents", limit=500).list_runs()

    requests = big_sim.sim.requests_to("currents")
    assert len(requests) == 3  # 50 + 50 + the last 20
    assert len(runs) == len({r.id for r in runs}) == 120


async def test_paging_is_bounded_when_has_more_never_ends():
    counter = iter(range(1000))

    def endless(_: httpx.Request) -> httpx.Response:
        n = next(counter)
        return httpx.Response(200, json=page({"runId": f"r{n}", "cursor": f"c{n}"},
                                             has_more=True))

    provider, calls = mock_provider(endless, limit=60)
    runs = await provider.list_runs()
    assert len(calls) == 4  # the 2 pages 60 runs need, plus 2 spare
    assert [r.id for r in runs] == ["r0", "r1", "r2", "r3"]


async def test_a_cursor_that_repeats_stops_paging():
    provider, calls = mock_provider(answer(page({"runId": "r1", "cursor": "c1"}, has_more=True)))
    runs = await provider.list_runs()
    assert len(calls) == 2
    assert [r.id for r in runs] == ["r1"]


async def test_duplicate_ids_across_pages_count_once():
    def pages(request: httpx.Request) -> httpx.Response:
        if "starting_after" not in request.url.params:
            body = page({"runId": "a", "createdAt": "2026-01-03T00:00:00Z", "cursor": "ca"},
                        {"runId": "b", "createdAt": "2026-01-02T00:00:00Z", "cursor": "cb"},
                        has_more=True)
        else:
            body = page({"runId": "b", "createdAt": "2026-01-02T00:00:00Z", "cursor": "cb"},
                        {"runId": "c", "createdAt": "2026-01-01T00:00:00Z", "cursor": "cc"})
        return httpx.Response(200, json=body)

    provider, calls = mock_provider(pages)
    runs = await provider.list_runs()
    assert [r.id for r in runs] == ["a", "b", "c"]
    assert calls[1].url.params["starting_after"] == "cb"


async def test_items_without_a_cursor_page_on_the_run_id():
    def pages(request: httpx.Request) -> httpx.Response:
        if "starting_after" in request.url.params:
            return httpx.Response(200, json=page({"runId": "r2"}))
        return httpx.Response(200, json=page({"runId": "r1"}, has_more=True))

    provider, calls = mock_provider(pages)
    assert [r.id for r in await provider.list_runs()] == ["r1", "r2"]
    assert str(calls[1].url) == (
        "https://api.currents.dev/v1/projects/bAYZ4a/runs?limit=49&starting_after=r1"
    )
    assert calls[1].headers["authorization"] == "Bearer k"


async def test_an_unchanged_body_is_not_mapped_again(sim):
    provider = sim.provider("currents")
    first_runs = await provider.list_runs()
    again = await provider.list_runs()
    assert again[0] is first_runs[0]
    sim.sim.clock.advance(30)  # the newest run moves on: a new body, new objects
    moved = await provider.list_runs()
    assert moved[0] is not first_runs[0]


# -- status -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "status", "expected"),
    [
        ("IN_PROGRESS", "RUNNING", RunStatus.RUNNING),
        ("IN_PROGRESS", "FAILING", RunStatus.RUNNING),
        ("COMPLETE", "PASSED", RunStatus.PASSED),
        ("COMPLETE", "FAILED", RunStatus.FAILED),
        ("complete", "failed", RunStatus.FAILED),
        ("CANCELED", "RUNNING", RunStatus.CANCELED),
        ("TIMEOUT", "FAILED", RunStatus.TIMED_OUT),
        ("COMPLETE", "ERRORED", RunStatus.UNKNOWN),
        ("PAUSED", "RUNNING", RunStatus.UNKNOWN),
        (None, None, RunStatus.UNKNOWN),
    ],
)
def test_status_table(completion, status, expected):
    assert run_status(completion, status) is expected


async def test_unknown_values_keep_the_raw_status():
    item = {"runId": "r1", "completionState": "PAUSED", "status": "WEIRD"}
    provider, _ = mock_provider(answer(page(item)))
    [run] = await provider.list_runs()
    assert (run.status, run.provider_status) == (RunStatus.UNKNOWN, "PAUSED/WEIRD")


async def test_missing_optional_fields_nulls_and_extra_fields_parse():
    items = [
        {"runId": "bare"},
        {"runId": "nulls", "createdAt": None, "completionState": "COMPLETE", "status": "PASSED",
         "groups": None, "meta": None, "tags": None, "timeout": None, "cancellation": None},
        {"runId": "inner-nulls", "meta": {"commit": None, "ciBuildId": "build-7"},
         "groups": [{"groupId": None, "instances": None, "tests": None, "platform": None}],
         "brandNew": {"nested": [1, 2]}},
    ]
    provider, _ = mock_provider(answer(page(*items)))
    bare, nulls, inner = await provider.list_runs()
    assert (bare.status, bare.provider_status, bare.title) == (RunStatus.UNKNOWN, "unknown", None)
    assert (bare.progress, bare.tests, bare.author) == (None, None, None)
    assert bare.url == "https://api.currents.dev/v1/runs/bare"  # the API; web_url: weblinks
    # Passed is done, whether or not the groups said how many specs there were.
    assert (nulls.status, nulls.created_at, nulls.progress) == (RunStatus.PASSED, None, 100.0)
    assert (inner.title, inner.tests, inner.branch) == ("build-7", None, None)


async def test_title_falls_back_to_the_tags_and_the_message_is_its_first_line():
    items = [
        {"runId": "t", "tags": ["nightly", "smoke"]},
        {"runId": "m", "meta": {"commit": {"message": "\nfeat: pay by card\n\nLong body",
                                           "authorEmail": "ana@example.com"}}},
    ]
    provider, _ = mock_provider(answer(page(*items)))
    tagged, messaged = await provider.list_runs()
    assert tagged.title == "nightly, smoke"
    assert (messaged.title, messaged.author) == ("feat: pay by card", "ana@example.com")


async def test_progress_and_tests_sum_over_groups():
    groups = [
        {"groupId": "chromium", "instances": {"overall": 4, "complete": 3},
         "tests": {"overall": 10, "tests": 10, "passes": 8, "failures": 1, "flaky": 1}},
        {"groupId": "firefox", "instances": {"overall": 4, "complete": 1},
         "tests": {"overall": 3, "passes": 3, "failures": 0}},
    ]
    item = {"runId": "r1", "completionState": "IN_PROGRESS", "status": "FAILING",
            "groups": groups}
    provider, _ = mock_provider(answer(page(item)))
    [run] = await provider.list_runs()
    assert run.progress == 50.0
    assert run.tests is not None
    assert (run.tests.overall, run.tests.passes, run.tests.failures) == (13, 11, 1)
    assert (run.tests.flaky, run.tests.pending) == (1, None)
    assert (run.status, run.provider_status) == (RunStatus.RUNNING, "IN_PROGRESS/FAILING")


# -- detail -----------------------------------------------------------------------------------


async def test_cypress_run_detail(sim):
    want = finished(sim, "cypress", fails=False)
    script = want.script
    detail = await sim.provider("currents").get_run(want.run_id)

    [request] = sim.sim.requests_to("currents")
    assert (request.method, request.path, request.query) == ("GET", f"/v1/runs/{want.run_id}", "")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert (detail.id, detail.status, detail.title) == (want.run_id, RunStatus.PASSED,
                                                          script.message)
    [group] = detail.groups
    assert (group.id, group.platform, group.browser) == (
        want.ci_build_id, "linux Debian - 12.5", "Chrome 124.0.6367.91")
    assert group.instances is not None
    assert (group.instances.overall, group.instances.passes) == (6, 6)
    assert group.instances_progress == 100.0
    assert [s.spec for s in detail.specs] == [s.path for s in want.specs]
    assert detail.specs[0].spec == "cypress/e2e/login.cy.ts"
    assert [s.instance_id for s in detail.specs] == [s.instance_ids[0] for s in want.specs]
    assert {s.status for s in detail.specs} == {RunStatus.PASSED}
    first_step = script.steps[0]
    assert detail.specs[0].duration_s == pytest.approx(first_step.duration_s)
    times = detail.model_dump(mode="json")
    assert (times["started_at"], times["finished_at"]) == (iso(script.started_at),
                                                           iso(script.planned_end))
    assert detail.duration_s == pytest.approx(script.planned_end - script.started_at, abs=0.01)
    assert detail.steps == [] and detail.content is None
    assert detail.summary().id == want.run_id


async def test_playwright_run_detail_has_a_group_per_project(sim):
    want = finished(sim, "playwright", fails=True)
    detail = await sim.provider("currents").get_run(want.run_id)

    assert (detail.status, detail.provider_status) == (RunStatus.FAILED, "COMPLETE/FAILED")
    assert [(g.id, g.browser) for g in detail.groups] == [
        ("chromium", "chromium 131.0.6778.33"), ("firefox", "firefox 132.0")]
    assert len(detail.specs) == 2 * len(want.script.steps)
    assert detail.specs[0].spec.startswith("tests/") and detail.specs[0].group == "chromium"
    failing = want.specs[failing_step(want)].path
    failed = [s for s in detail.specs if s.status is RunStatus.FAILED]
    assert [(s.spec, s.group) for s in failed] == [(failing, "chromium"), (failing, "firefox")]
    assert detail.tests is not None and detail.tests.failures == 2
    # Fail-fast: the spec files after the failure are reported with every test skipped.
    after = want.specs[failing_step(want) + 1:]
    skipped = [s for s in detail.specs if s.spec in {p.path for p in after}]
    assert all(s.tests and s.tests.skipped == s.tests.overall for s in skipped)
    # How far it got: the spec files that ran (the failing one too), not the API's 100 %,
    # which counts the skipped files as complete.
    ran = 2 * (failing_step(want) + 1)
    assert all(s.status is RunStatus.SKIPPED for s in skipped)
    assert detail.steps_done == (ran, len(detail.specs))
    assert detail.progress == round(100 * ran / len(detail.specs), 1)


async def test_detail_from_cypress_counters_and_mixed_time_zones():
    specs = [
        {"spec": "a.cy.ts", "groupId": "g", "claimedAt": "2026-01-01T10:00:00",
         "completedAt": "2026-01-01T10:00:30Z",
         "results": {"stats": {"suites": 1, "tests": 2, "passes": 1, "failures": 1},
                     "flaky": 1}},
        {"spec": "b.cy.ts", "claimedAt": "2026-01-01T10:00:05+02:00", "completedAt": None,
         "results": None},
    ]
    run = {"runId": "r", "completionState": "COMPLETE", "status": "FAILED", "specs": specs}
    provider, _ = mock_provider(answer({"status": "OK", "data": run}))
    detail = await provider.get_run("r")
    a, b = detail.specs
    assert (a.status, a.duration_s, a.group) == (RunStatus.FAILED, 30.0, "g")
    assert a.tests is not None and (a.tests.overall, a.tests.flaky) == (2, 1)
    assert (b.status, b.tests, b.duration_s) == (RunStatus.CANCELED, None, None)
    times = detail.model_dump(mode="json")
    assert (times["started_at"], times["finished_at"]) == (
        "2026-01-01T08:00:05.000Z", "2026-01-01T10:00:30.000Z")


async def test_unchanged_detail_is_the_same_object(sim):
    provider = sim.provider("currents")
    run_id = finished(sim, "cypress", fails=True).run_id
    assert await provider.get_run(run_id) is await provider.get_run(run_id)


async def test_a_run_progresses_with_the_clock(sim):
    provider = sim.provider("currents")
    future = first(api(sim).runs, "future run", lambda r: r.script.created_at > now(sim))
    script = future.script
    at(sim, script.created_at + 0.5)
    queued = await provider.get_run(future.run_id)
    assert (queued.status, queued.provider_status) == (RunStatus.RUNNING, "IN_PROGRESS/RUNNING")
    assert (queued.progress, queued.started_at) == (0.0, None)
    assert {s.status for s in queued.specs} == {RunStatus.QUEUED}

    seen = []
    for share in (0.2, 0.5, 0.8):
        at(sim, script.started_at + share * (script.planned_end - script.started_at))
        detail = await provider.get_run(future.run_id)
        assert detail.status is RunStatus.RUNNING
        assert RunStatus.RUNNING in {s.status for s in detail.specs}
        seen.append((detail.progress, detail.tests.overall if detail.tests else 0))
    assert seen == sorted(seen) and seen[0] < seen[-1]

    at(sim, script.planned_end + 1)
    done = await provider.get_run(future.run_id)
    assert done.status is (RunStatus.FAILED if script.fails else RunStatus.PASSED)
    assert done.progress == 100.0


async def test_failing_shows_failures_before_the_run_completes(sim):
    def fails_early(run: SimRun) -> bool:
        if not run.script.fails:
            return False
        tests = run.specs[failing_step(run)].tests
        return any(t.outcome == "failed" for t in tests[:-1])

    run = first(api(sim).runs, "run failing before its spec's last test", fails_early)
    i = failing_step(run)
    step = run.script.steps[i]
    failed_test = next(t for t in run.specs[i].tests if t.outcome == "failed")
    at(sim, run.script.started_at + step.start_s + step.duration_s * failed_test.end + 0.01)

    provider = sim.provider("currents")
    detail = await provider.get_run(run.run_id)
    assert (detail.status, detail.provider_status) == (RunStatus.RUNNING, "IN_PROGRESS/FAILING")
    assert detail.tests is not None and detail.tests.failures == len(run.groups)
    assert detail.progress is not None and detail.progress < 100
    [row] = [r for r in await provider.list_runs() if r.id == run.run_id]
    assert row.provider_status == "IN_PROGRESS/FAILING"
    assert row.tests == detail.tests


async def test_a_timed_out_run(sim):
    run = first(visible(sim), "timed-out run",
                lambda r: r.timeout_ms is not None and r.script.phase(now(sim)) == "canceled")
    detail = await sim.provider("currents").get_run(run.run_id)
    assert (detail.status, detail.provider_status) == (RunStatus.TIMED_OUT, "TIMEOUT/RUNNING")
    assert detail.finished_at is None  # when it timed out is not reported
    assert detail.progress is not None and detail.progress < 100
    incomplete = {s.status for s in detail.specs if s.status is not RunStatus.PASSED}
    # Cut short where a runner had it; never claimed (never ran) is skipped.
    assert incomplete == {RunStatus.TIMED_OUT, RunStatus.SKIPPED}
    body = (await raw(sim, "GET", f"/v1/runs/{run.run_id}")).json()["data"]
    assert body["timeout"]["isTimeout"] is True


# -- spec results -----------------------------------------------------------------------------


async def test_cypress_spec_results_carry_titles_and_errors(sim):
    run = finished(sim, "cypress", fails=True)
    plan = run.specs[failing_step(run)]
    provider = sim.provider("currents")
    detail = await provider.get_run(run.run_id)
    spec = next(s for s in detail.specs if s.status is RunStatus.FAILED)

    results = await provider.get_spec_results(run.run_id, spec)

    request = sim.sim.requests_to("currents")[-1]
    assert (request.method, request.path) == ("GET", f"/v1/instances/{plan.instance_ids[0]}")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert [r.title for r in results] == [" › ".join(t.title) for t in plan.tests]
    failed = [r for r in results if r.status is RunStatus.FAILED]
    [wanted] = [t for t in plan.tests if t.outcome == "failed"]
    assert [(r.provider_status, r.error) for r in failed] == [("failed", wanted.error)]
    assert all(r.error is None for r in results if r.status is RunStatus.PASSED)
    pending = [r for r in results if r.provider_status == "pending"]
    assert all(r.status is RunStatus.SKIPPED and r.duration_s is None for r in pending)
    ran = [r for r in results if r.provider_status != "pending"]
    assert all(r.duration_s and r.duration_s > 0 for r in ran)


async def test_playwright_spec_results_take_errors_from_attempts(sim):
    run = first(visible(sim), "finished Playwright run with a flaky test", lambda r: (
        r.framework == "playwright" and r.script.phase(now(sim)) in ("passed", "failed")
        and any(t.outcome == "flaky" for s in r.specs for t in s.tests)))
    i = next(n for n, s in enumerate(run.specs) if any(t.outcome == "flaky" for t in s.tests))
    plan = run.specs[i]
    spec = Spec(spec=plan.path, group="firefox", status=RunStatus.PASSED,
                instance_id=plan.instance_ids[1])

    results = await sim.provider("currents").get_spec_results(run.run_id, spec)

    flaky_plan = next(t for t in plan.tests if t.outcome == "flaky")
    flaky = next(r for r in results if r.title == " › ".join(flaky_plan.title))
    # Passed on its retry: no error shown, and its time is both attempts'.
    assert (flaky.status, flaky.error) == (RunStatus.PASSED, None)
    step = run.script.steps[i]
    share = flaky_plan.end - flaky_plan.start
    assert flaky.duration_s == pytest.approx(step.duration_s * share, abs=0.01)


async def test_playwright_failed_test_error_is_the_attempts_stack(sim):
    run = finished(sim, "playwright", fails=True)
    plan = run.specs[failing_step(run)]
    spec = Spec(spec=plan.path, status=RunStatus.FAILED, instance_id=plan.instance_ids[0])
    results = await sim.provider("currents").get_spec_results(run.run_id, spec)
    [failed] = [r for r in results if r.status is RunStatus.FAILED]
    [wanted] = [t for t in plan.tests if t.outcome == "failed"]
    assert wanted.error is not None and failed.error is not None
    assert failed.error.startswith(wanted.error)
    assert plan.path in failed.error


async def test_spec_results_of_an_unclaimed_spec_are_empty(sim):
    future = first(api(sim).runs, "future run", lambda r: r.script.created_at > now(sim))
    at(sim, future.script.created_at + 0.1)
    spec = Spec(spec="x", status=RunStatus.QUEUED, instance_id=future.specs[0].instance_ids[0])
    provider = sim.provider("currents")
    assert await provider.get_spec_results(future.run_id, spec) == []
    assert await provider.get_spec_results("r", Spec(spec="x", status=RunStatus.QUEUED)) == []


async def test_instance_exception_and_odd_test_shapes():
    instance = {"instanceId": "i1", "spec": "a.cy.ts", "results": {
        "exception": "Error: webpack compilation failed",
        "tests": [
            {"title": "plain string title", "state": "interrupted", "attempts": None},
            {"title": None, "testId": "t9", "state": "timedOut",
             "attempts": [{"state": "timedOut", "wallClockDuration": 1500,
                           "error": {"name": "TimeoutError", "message": "30000ms exceeded",
                                     "stack": None}}]},
        ]}}
    provider, _ = mock_provider(answer({"status": "OK", "data": instance}))
    spec = Spec(spec="a.cy.ts", status=RunStatus.FAILED, instance_id="i1")
    interrupted, timed_out, exception = await provider.get_spec_results("r", spec)
    assert (interrupted.title, interrupted.status) == ("plain string title", RunStatus.CANCELED)
    assert (timed_out.title, timed_out.status, timed_out.duration_s) == (
        "t9", RunStatus.TIMED_OUT, 1.5)
    assert timed_out.error == "TimeoutError: 30000ms exceeded"
    assert (exception.title, exception.status) == ("a.cy.ts", RunStatus.FAILED)
    assert exception.error == "Error: webpack compilation failed"


async def test_instance_not_yet_claimed_has_null_results():
    provider, _ = mock_provider(answer({"status": "OK", "data": {"results": None}}))
    spec = Spec(spec="a", status=RunStatus.QUEUED, instance_id="i1")
    assert await provider.get_spec_results("r", spec) == []


# -- actions ----------------------------------------------------------------------------------


def test_capabilities(sim):
    provider = sim.provider("currents")
    assert (provider.name, provider.cancel_verb) == ("currents", "cancel")
    assert provider.actions == frozenset({RunAction.CANCEL, RunAction.DELETE})
    assert (provider.has_logs, provider.has_spec_results) == (False, True)
    assert Session({"currents": provider}).refusal(RunAction.RERUN, source="currents") == (
        "currents has no rerun")


async def test_cancel_puts_and_the_run_turns_canceled(sim):
    run = first(visible(sim), "passing Cypress run", lambda r: (
        r.framework == "cypress" and not r.script.fails and r.timeout_ms is None))
    mid_run(sim, run)
    provider = sim.provider("currents")

    await provider.cancel(run.run_id)

    [put] = sim.sim.mutating_requests()
    assert (put.method, put.path, put.query, put.body) == (
        "PUT", f"/v1/runs/{run.run_id}/cancel", "", b"")
    assert put.headers["authorization"] == f"Bearer {TOKEN}"
    detail = await provider.get_run(run.run_id)
    assert (detail.status, detail.provider_status) == (RunStatus.CANCELED, "CANCELED/RUNNING")
    assert detail.model_dump(mode="json")["finished_at"] == iso(now(sim))
    assert RunStatus.CANCELED in {s.status for s in detail.specs}
    [row] = [r for r in await provider.list_runs() if r.id == run.run_id]
    assert (row.status, row.finished_at) == (RunStatus.CANCELED, detail.finished_at)

    with pytest.raises(Conflict) as refused:
        await provider.cancel(run.run_id)
    assert str(refused.value) == f"currents: run {run.run_id} is already cancelled"
    assert refused.value.status_code == 422


async def test_cancel_of_a_finished_run_gives_the_servers_reason(sim):
    run = finished(sim, "playwright", fails=False)
    with pytest.raises(Conflict, match="cannot be cancelled: Run already completed"):
        await sim.provider("currents").cancel(run.run_id)


async def test_cancel_422_without_a_reason_is_already_cancelled():
    provider, _ = mock_provider(lambda _: httpx.Response(422))
    with pytest.raises(Conflict, match="run r1 is already cancelled"):
        await provider.cancel("r1")


async def test_delete_removes_the_run(sim):
    run = finished(sim, "cypress", fails=True)
    provider = sim.provider("currents")

    await provider.delete(run.run_id)

    [delete] = sim.sim.mutating_requests()
    assert (delete.method, delete.path, delete.body) == ("DELETE", f"/v1/runs/{run.run_id}", b"")
    assert run.run_id not in {r.id for r in await provider.list_runs()}
    with pytest.raises(NotFound, match=f"/v1/runs/{run.run_id}.*Run not found"):
        await provider.get_run(run.run_id)
    with pytest.raises(NotFound):
        await provider.delete(run.run_id)


async def test_read_only_sends_nothing(sim):
    provider = sim.provider("currents", read_only=True)
    run_id = visible(sim)[0].run_id
    with pytest.raises(ReadOnlyError):
        await provider.cancel(run_id)
    with pytest.raises(ReadOnlyError):
        await provider.delete(run_id)
    assert sim.sim.requests == []


async def test_rerun_and_logs_are_unsupported(sim):
    provider = sim.provider("currents")
    with pytest.raises(Unsupported):
        await provider.rerun(visible(sim)[0].run_id)
    with pytest.raises(Unsupported):
        await provider.get_log("r", Step(id="s", name="s", order=0, status=RunStatus.PASSED))
    assert sim.sim.requests == []


# -- errors -----------------------------------------------------------------------------------


async def test_unknown_run_and_project_are_not_found(sim):
    with pytest.raises(NotFound, match=r"/v1/runs/nope.*Run not found"):
        await sim.provider("currents").get_run("nope")
    with pytest.raises(NotFound, match="Project not found"):
        await sim.provider("currents", project_id="other").list_runs()
    spec = Spec(spec="x", status=RunStatus.PASSED, instance_id="no-such-instance")
    with pytest.raises(NotFound, match="Instance not found"):
        await sim.provider("currents").get_spec_results("r", spec)


async def test_ids_are_one_path_segment(sim):
    # Unescaped, this id would be normalized into the project's run list.
    with pytest.raises(NotFound, match="Not Found"):
        await sim.provider("currents").get_run("../projects/proj-1/runs")
    provider, calls = mock_provider(answer({"status": "OK", "data": {"runId": "a/b"}}))
    await provider.get_run("a/b")
    assert calls[0].url.raw_path == b"/v1/runs/a%2Fb"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "OK", "has_more": False, "data": {"runId": "not-a-list"}},
        {"status": "OK", "has_more": False, "data": [None]},
        {"status": "OK", "has_more": False, "data": [{"completionState": "COMPLETE"}]},
        {"status": "OK", "has_more": False, "data": [{"runId": "r", "groups": {"a": 1}}]},
        [{"runId": "bare-list"}],
        None,
    ],
    ids=["object-for-list", "null-item", "no-run-id", "object-for-groups", "no-envelope", "null"],
)
async def test_wrong_shapes_are_bad_responses_naming_source_and_path(body):
    provider, _ = mock_provider(answer(body))
    shape = "web-e2e: /v1/projects/bAYZ4a/runs returned an unexpected shape"
    with pytest.raises(BadResponse, match=shape):
        await provider.list_runs()


async def test_wrong_detail_and_instance_shapes_are_bad_responses():
    provider, _ = mock_provider(answer({"status": "OK", "data": {"runId": "r", "specs": [None]}}))
    shape = r"web-e2e: /v1/runs/r returned an unexpected shape \(data\.specs\.0"
    with pytest.raises(BadResponse, match=shape):
        await provider.get_run("r")
    provider, _ = mock_provider(answer({"status": "OK", "data": {"results": {"tests": "x"}}}))
    with pytest.raises(BadResponse, match="/v1/instances/i1"):
        await provider.get_spec_results("r", Spec(spec="a", status=RunStatus.PASSED,
                                                  instance_id="i1"))


async def test_a_failed_envelope_with_200_is_an_api_error():
    provider, _ = mock_provider(answer({"status": "FAILED", "error": "Project is archived"}))
    with pytest.raises(ApiError, match="web-e2e: /v1/projects/bAYZ4a/runs: Project is archived"):
        await provider.list_runs()


# -- the simulator itself ---------------------------------------------------------------------


async def test_frozen_clock_gives_identical_bodies(sim):
    one = await raw(sim, "GET", RUNS_PATH, limit=50)
    two = await raw(sim, "GET", RUNS_PATH, limit=50)
    assert one.content == two.content
    assert one.headers["content-type"] == "application/json"


async def test_cypress_and_playwright_alternate_and_list_items_have_no_specs(sim):
    items = (await raw(sim, "GET", RUNS_PATH, limit=6)).json()["data"]
    kinds = ["cypress" if "cypressVersion" in item else "playwright" for item in items]
    assert kinds in (["cypress", "playwright"] * 3, ["playwright", "cypress"] * 3)
    for item in items:
        assert "specs" not in item and item["cursor"] and item["groups"]
        assert len(item["groups"]) == (1 if "cypressVersion" in item else 2)
        assert ("platform" in item["meta"]) == ("cypressVersion" not in item)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"limit": 0}, "Invalid limit parameter. Must be between 1 and 50"),
        ({"limit": 51}, "Invalid limit parameter. Must be between 1 and 50"),
        ({"limit": "ten"}, "Invalid limit parameter. Must be between 1 and 50"),
        ({"starting_after": "nope"}, "Invalid pagination cursor"),
        ({"starting_after": "a", "ending_before": "b"},
         "Only one of starting_after or ending_before may be used"),
    ],
)
async def test_sim_rejects_bad_queries_with_currents_errors(sim, params, error):
    response = await raw(sim, "GET", RUNS_PATH, **params)
    assert (response.status_code, response.json()) == (400, {"status": "FAILED", "error": error})


async def test_sim_error_bodies(sim):
    no_key = await raw(sim, "GET", RUNS_PATH, token=None)
    assert (no_key.status_code, no_key.json()["error"]) == (401, "Missing API key")
    wrong = await raw(sim, "GET", RUNS_PATH, token="wrong")
    assert (wrong.status_code, wrong.json()) == (
        401, {"status": "FAILED", "error": "Invalid API key provided"})
    nowhere = await raw(sim, "GET", "/v1/nowhere")
    assert (nowhere.status_code, nowhere.json()) == (
        404, {"status": "FAILED", "error": "Not Found"})
    wrong_method = await raw(sim, "POST", RUNS_PATH)
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == "FAILED"


async def test_sim_pages_both_ways(sim):
    runs = visible(sim)
    older = (await raw(sim, "GET", RUNS_PATH, limit=3, starting_after=runs[4].cursor)).json()
    assert [i["runId"] for i in older["data"]] == [r.run_id for r in runs[5:8]]
    assert older["has_more"] is True
    newer = (await raw(sim, "GET", RUNS_PATH, limit=3, ending_before=runs[4].cursor)).json()
    assert [i["runId"] for i in newer["data"]] == [r.run_id for r in runs[1:4]]
    assert newer["has_more"] is True
    last = (await raw(sim, "GET", RUNS_PATH, limit=50, starting_after=runs[20].cursor)).json()
    assert len(last["data"]) == 3 and last["has_more"] is False


async def test_sim_cancel_and_delete_bodies(sim):
    run = first(visible(sim), "plain run", lambda r: r.timeout_ms is None)
    mid_run(sim, run)
    cancel = await raw(sim, "PUT", f"/v1/runs/{run.run_id}/cancel")
    assert cancel.json() == {"status": "OK", "data": {
        "actor": "api:runwatch-sim", "canceledAt": iso(now(sim)), "reason": "apiRequest",
        "runId": run.run_id}}
    again = await raw(sim, "PUT", f"/v1/runs/{run.run_id}/cancel")
    assert (again.status_code, again.json()["error"]) == (422, "Run already cancelled")
    deleted = await raw(sim, "DELETE", f"/v1/runs/{run.run_id}")
    assert deleted.json() == {"status": "OK", "data": {"runId": run.run_id,
                                                       "actor": "API Request"}}
    gone = await raw(sim, "GET", f"/v1/instances/{run.specs[0].instance_ids[0]}")
    assert (gone.status_code, gone.json()["error"]) == (404, "Instance not found")


async def test_sim_instance_shapes_differ_by_framework(sim):
    for framework in ("cypress", "playwright"):
        run = finished(sim, framework, fails=True)
        plan = run.specs[failing_step(run)]
        body = (await raw(sim, "GET", f"/v1/instances/{plan.instance_ids[0]}")).json()["data"]
        [failed] = [t for t in body["results"]["tests"] if t["state"] == "failed"]
        if framework == "cypress":
            assert failed["displayError"] and "cypressVersion" in body
            assert "overall" not in body["results"]["stats"]
        else:
            assert failed["displayError"] is None and failed["attempts"][0]["error"]["stack"]
            assert body["framework"]["type"] == "pw" and body["results"]["stats"]["overall"]


async def test_sim_renders_only_the_page_asked_for():
    clock = SimClock(frozen=True)
    world = SimpleNamespace(settings=SimSettings(runs=10_000), now=clock.now,
                            token_for=lambda _: None)
    sim_api = SimulatedApi(world)
    assert len(sim_api.runs) == 10_006

    transport = httpx.ASGITransport(app=sim_api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        body = (await client.get(RUNS_PATH, params={"limit": 50})).json()
    assert len(body["data"]) == 50 and body["has_more"] is True
    drawn = [r for r in sim_api.runs if "plan" in vars(r)]
    assert len(drawn) == 50  # the page's runs, not all 10,006


def test_sim_ids_are_stable_per_seed():
    def ids(seed: int) -> list[str]:
        world = SimpleNamespace(settings=SimSettings(seed=seed), now=SimClock(frozen=True).now,
                                token_for=lambda _: None)
        return [r.run_id for r in SimulatedApi(world).runs]

    assert ids(7) == ids(7)
    assert ids(7) != ids(8)
    assert {len(i) for i in ids(7)} == {32, 16}  # Cypress and Playwright id lengths


def test_a_completed_spec_whose_tests_were_all_skipped_did_not_pass():
    from runwatch.models import TestCounts
    from runwatch.providers.currents import SpecWire, spec_status

    spec = SpecWire.model_validate(
        {"spec": "tests/cart.spec.ts", "completedAt": "2026-11-22T12:00:00Z"}
    )
    skipped = TestCounts(overall=4, passes=0, failures=0, skipped=4)
    assert spec_status(spec, skipped, RunStatus.FAILED) is RunStatus.SKIPPED
    some_passed = TestCounts(overall=4, passes=1, failures=0, skipped=3)
    assert spec_status(spec, some_passed, RunStatus.FAILED) is RunStatus.PASSED


# -- issue 9: durationMs, cancellation, Playwright's ANSI errors, limit, lenient timestamps ---


async def test_durationms_gives_list_rows_and_details_their_duration(sim):
    run = finished(sim, "playwright", fails=True)
    script = run.script
    want_ms = round((script.planned_end - script.started_at) * 1000)
    body = (await raw(sim, "GET", RUNS_PATH, limit=50)).json()["data"]
    item = next(i for i in body if i["runId"] == run.run_id)
    assert item["durationMs"] == want_ms  # list items carry it, as the real API's do
    running = [i for i in body if i["completionState"] == "IN_PROGRESS"]
    assert running and all(i["durationMs"] is None for i in running)
    provider = sim.provider("currents")
    mark = len(sim.sim.requests_to("currents"))

    row = next(r for r in await provider.list_runs() if r.id == run.run_id)
    detail = await provider.get_run(run.run_id)

    assert row.duration_s == want_ms / 1000 and row.started_at is None
    assert detail.duration_s == pytest.approx(want_ms / 1000, abs=0.002)
    sent = [(r.method, r.path, r.query) for r in sim.sim.requests_to("currents")[mark:]]
    assert sent == [("GET", RUNS_PATH, "limit=50"), ("GET", f"/v1/runs/{run.run_id}", "")]


async def test_a_canceled_run_says_who_canceled_it_and_when(sim):
    from runwatch.models import Cancellation
    from runwatch.sim.currents import CANCEL_ACTOR

    run = first(visible(sim), "passing Cypress run", lambda r: (
        r.framework == "cypress" and not r.script.fails and r.timeout_ms is None))
    mid_run(sim, run)
    provider = sim.provider("currents")
    await provider.cancel(run.run_id)
    canceled_at = now(sim)
    sim.sim.clock.advance(60)

    body = (await raw(sim, "GET", f"/v1/runs/{run.run_id}")).json()["data"]
    detail = await provider.get_run(run.run_id)

    assert body["cancellation"] == {"actor": CANCEL_ACTOR, "canceledAt": iso(canceled_at),
                                    "reason": "apiRequest"}
    assert detail.cancellation == Cancellation.model_validate(
        {"by": CANCEL_ACTOR, "at": iso(canceled_at), "reason": "apiRequest"})
    shown = detail.model_dump(mode="json")["cancellation"]
    assert shown == {"by": CANCEL_ACTOR, "at": iso(canceled_at), "reason": "apiRequest"}
    assert detail.duration_s == pytest.approx(canceled_at - run.script.started_at, abs=0.002)
    # A run nobody canceled says nothing of it.
    other = finished(sim, "cypress", fails=True)
    assert (await provider.get_run(other.run_id)).cancellation is None


async def test_playwright_errors_arrive_with_their_ansi_colours(sim):
    run = first(visible(sim), "finished Playwright run failing on an expect()", lambda r: (
        r.framework == "playwright" and r.script.phase(now(sim)) == "failed"
        and "\x1b[" in (next(t for t in r.specs[failing_step(r)].tests
                             if t.outcome == "failed").error or "")))
    plan = run.specs[failing_step(run)]
    instance = (await raw(sim, "GET", f"/v1/instances/{plan.instance_ids[0]}")).json()["data"]
    attempt_errors = [a["error"] for t in instance["results"]["tests"] for a in t["attempts"]
                      if a["error"]]
    assert any("\x1b[31m" in e["message"] and "\x1b[31m" in e["stack"] for e in attempt_errors)

    spec = Spec(spec=plan.path, status=RunStatus.FAILED, instance_id=plan.instance_ids[0])
    [failed] = [r for r in await sim.provider("currents").get_spec_results(run.run_id, spec)
                if r.status is RunStatus.FAILED]
    # The SGR codes reach the model (sanitize.clean_log keeps SGR only); the screen draws them.
    assert failed.error is not None and "\x1b[31m" in failed.error


@pytest.mark.parametrize(("params", "count", "error"), [
    ({}, 10, None),  # the real API's default page
    ({"limit": 50}, 24, None),
    ({"limit": 51}, None, "Invalid limit parameter. Must be between 1 and 50"),
    ({"limit": 0}, None, "Invalid limit parameter. Must be between 1 and 50"),
])
async def test_sim_limit_is_1_to_50_with_a_default_of_10(sim, params, count, error):
    response = await raw(sim, "GET", RUNS_PATH, **params)
    if error is None:
        assert (response.status_code, len(response.json()["data"])) == (200, count)
    else:
        assert (response.status_code, response.json()) == (400, {"status": "FAILED",
                                                                 "error": error})


async def test_one_bad_timestamp_costs_that_field_not_the_list():
    good = {"runId": "r1", "createdAt": "2026-11-22T11:00:00Z", "completionState": "COMPLETE",
            "status": "PASSED", "durationMs": 90500}
    bad = {"runId": "r2", "createdAt": "2025-12-08T...", "completionState": "COMPLETE",
           "status": "FAILED", "durationMs": "soon",
           "cancellation": {"actor": "ana", "canceledAt": "yesterday", "reason": None}}
    provider, calls = mock_provider(answer(page(good, bad)))

    runs = {r.id: r for r in await provider.list_runs()}

    assert set(runs) == {"r1", "r2"}
    assert (runs["r1"].duration_s, runs["r2"].duration_s) == (90.5, None)
    assert runs["r2"].created_at is None and runs["r2"].status is RunStatus.FAILED
    assert [(c.method, c.url.path, c.url.query) for c in calls] == [
        ("GET", "/v1/projects/bAYZ4a/runs", b"limit=50")]
