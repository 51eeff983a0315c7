"""The services provider against the simulated Seamless CI/CD API: the exact requests, the
normalized result, the actions, and every kind of bad answer."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from runwatch.config import SourceConfig
from runwatch.errors import (
    BadResponse,
    NotFound,
    ReadOnlyError,
)
from runwatch.http import RetryPolicy
from runwatch.models import Run, RunStatus, Step
from runwatch.providers import Provider, RunAction, build_provider
from runwatch.providers.services import STAGE_ORDER
from runwatch.session import Refused, Session
from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.core import RecordedRequest
from runwatch.sim.services import SimRun, SimulatedApi

TOKEN = demo_tokens()["services"]


# -- helpers ---------------------------------------------------------------------------------


def api_of(sim: Any) -> SimulatedApi:
    return sim.sim.apis["services"]


async def raw(sim: Any, method: str, path: str, *, token: str | None = TOKEN,
              **kwargs: Any) -> httpx.Response:
    """A request straight to the simulated API, outside the provider."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=sim.base_url("services"), headers=headers) as client:
        return await client.request(method, path, **kwargs)


def newest_first(items: list[dict[str, Any]]) -> list[str]:
    return [i["id"] for i in sorted(items, key=lambda i: i["createdAt"], reverse=True)]


def assert_request(request: RecordedRequest, method: str, path: str, query: str = "") -> None:
    assert (request.method, request.path, request.query) == (method, path, query)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/json"


def mocked(handler: Callable[[httpx.Request], httpx.Response], *, limit: int = 50,
           **scope: Any) -> tuple[Provider, list[httpx.Request]]:
    """A provider on an httpx.MockTransport, for shapes the simulator never sends."""
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    source = SourceConfig(name="ci", provider="services", base_url="https://ci.example.com",
                          **scope)
    provider = build_provider(source, token="t0k", limit=limit, retry=RetryPolicy.none(),
                              transport=httpx.MockTransport(record))
    return provider, calls


def answering(body: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _request: httpx.Response(200, json=body)


def newest(runs: list[SimRun], now: float, phase: str) -> SimRun:
    """The newest visible simulated run in `phase`."""
    found = [r for r in runs if r.script.visible(now) and r.script.phase(now) == phase]
    return max(found, key=lambda r: r.script.created_at)


# -- listing ---------------------------------------------------------------------------------


async def test_list_asks_for_the_service_and_keeps_the_newest_limit(sim):
    provider = sim.provider("services", service_id="svc-web", limit=5)
    runs = await provider.list_runs()

    [request] = sim.sim.requests_to("services")
    assert_request(request, "GET", "/api/runs", "serviceId=svc-web")
    served = (await raw(sim, "GET", "/api/runs", params={"serviceId": "svc-web"})).json()
    assert [i["id"] for i in served] != newest_first(served)  # the server does not order
    assert [r.id for r in runs] == newest_first(served)[:5]
    assert {(r.source, r.provider) for r in runs} == {("services", "services")}


async def test_without_a_service_id_no_filter_is_sent(sim):
    runs = await sim.provider("services").list_runs()

    assert_request(sim.sim.requests_to("services")[0], "GET", "/api/runs")
    served = {i["id"]: i for i in (await raw(sim, "GET", "/api/runs")).json()}
    assert [r.id for r in runs] == newest_first(list(served.values()))
    assert {served[r.id]["serviceId"] for r in runs} == {"svc-web", "svc-api"}


async def test_the_simulator_filters_by_service(sim):
    web = (await raw(sim, "GET", "/api/runs", params={"serviceId": "svc-web"})).json()
    api = (await raw(sim, "GET", "/api/runs", params={"serviceId": "svc-api"})).json()
    everything = (await raw(sim, "GET", "/api/runs")).json()

    assert web and api
    assert {i["serviceId"] for i in web} == {"svc-web"}
    assert {i["serviceId"] for i in api} == {"svc-api"}
    assert len(web) + len(api) == len(everything)
    assert {i["triggerType"] for i in everything} == {"MAIN", "PR_OPEN", "PR_SYNC"}
    assert all((i["pullNumber"] is None) is (i["triggerType"] == "MAIN") for i in everything)


async def test_a_run_maps_onto_the_normalized_model(sim):
    served = (await raw(sim, "GET", "/api/runs")).json()
    item = next(i for i in served if i["status"] == "SUCCESS" and i["pullNumber"] is not None)
    runs = await sim.provider("services").list_runs()
    run = next(r for r in runs if r.id == item["id"])

    started = datetime.fromisoformat(item["startedAt"])
    ended = datetime.fromisoformat(item["endedAt"])
    assert run.status is RunStatus.PASSED
    assert run.provider_status == "SUCCESS"
    assert (run.title, run.commit, run.author) == (
        item["commitMessage"], item["commitHash"], item["committer"])
    assert run.created_at == datetime.fromisoformat(item["createdAt"])
    assert (run.started_at, run.finished_at) == (started, ended)
    assert run.duration_s == (ended - started).total_seconds()
    # The server reports whole seconds, rounded up.
    assert item["duration"] == math.ceil((ended - started).total_seconds())
    assert run.url == f"{sim.base_url('services')}/api/runs/{run.id}"
    # The list has no stages: a passed run is done (100 %), and that is all it can say.
    assert (run.branch, run.progress, run.tests) == (None, 100.0, None)


@pytest.mark.parametrize(
    ("wire", "status"),
    [
        ("IDLE", RunStatus.QUEUED),
        ("IN_PROGRESS", RunStatus.RUNNING),
        ("AWAITING_APPROVAL", RunStatus.WAITING),
        ("SUCCESS", RunStatus.PASSED),
        ("FAILURE", RunStatus.FAILED),
        ("success", RunStatus.PASSED),
        ("In_Progress", RunStatus.RUNNING),
        ("STOPPED", RunStatus.UNKNOWN),
    ],
)
async def test_statuses_map_case_insensitively_and_unknown_ones_are_kept(wire, status):
    provider, _ = mocked(answering([{"id": "r1", "status": wire}]))
    [run] = await provider.list_runs()
    assert (run.status, run.provider_status) == (status, wire)


async def test_missing_optional_fields_null_and_extra_fields_parse():
    provider, calls = mocked(answering([
        {"id": "bare"},
        {"id": 42, "status": None, "createdAt": "2026-01-02T03:04:05.000Z", "pullNumber": 17,
         "reviewers": ["li"], "startedAt": "2026-01-02T03:04:06.000Z", "endedAt": None,
         "duration": 61},
    ]))
    numbered, bare = await provider.list_runs()

    assert str(calls[0].url) == "https://ci.example.com/api/runs"
    assert calls[0].headers["authorization"] == "Bearer t0k"
    assert (bare.id, bare.status, bare.provider_status) == ("bare", RunStatus.UNKNOWN, "")
    assert (bare.title, bare.author, bare.created_at, bare.duration_s) == (None,) * 4
    assert numbered.id == "42"
    assert numbered.duration_s == 61.0  # no end time yet: the server's own figure


async def test_duplicate_ids_are_listed_once_and_a_long_list_stops_at_the_limit():
    # Each id twice, and the server's order scrambled.
    items = [{"id": f"r{n // 2}", "createdAt": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z"}
             for n in range(300)]
    items = items[1::2] + items[::2]
    provider, calls = mocked(answering(items), limit=10)
    runs = await provider.list_runs()

    assert len(calls) == 1
    assert [r.id for r in runs] == [f"r{k}" for k in range(149, 139, -1)]


async def test_which_tied_runs_make_the_limit_does_not_change_with_the_servers_order():
    # Three runs of one second, two listed: the server shuffles its list between polls, and
    # answers compact (read item by item) or indented (read whole); either way the same two.
    tied = [{"id": f"t{n}", "createdAt": "2026-01-01T00:00:09Z"} for n in range(3)]
    older = [{"id": f"o{n}", "createdAt": f"2026-01-01T00:00:0{n}Z"} for n in range(5)]
    polls = iter(range(1000))

    def shuffled(_request: httpx.Request) -> httpx.Response:
        poll = next(polls)
        body = tied + older
        random.Random(poll).shuffle(body)
        text = json.dumps(body, separators=(",", ":"), indent=None if poll % 3 else 1)
        return httpx.Response(200, content=text, headers={"content-type": "application/json"})

    provider, calls = mocked(shuffled, limit=2)
    listed = {tuple(r.id for r in await provider.list_runs()) for _ in range(12)}

    assert len(calls) == 12
    assert listed == {("t2", "t1")}  # equal times by run id, greatest first


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"runs": []}, "an object, not a list of runs"),
        ([None], "null where a run belongs"),
        ([{"status": "SUCCESS"}], "id: Field required"),
        ([{"id": ["r"]}], "id: Input should be a valid string"),
    ],
)
async def test_a_list_of_the_wrong_shape_is_a_bad_response(body, words):
    provider, _ = mocked(answering(body))
    with pytest.raises(BadResponse) as caught:
        await provider.list_runs()
    assert str(caught.value).startswith("ci: /api/runs returned an unexpected shape (")
    assert words in str(caught.value)


async def test_one_bad_timestamp_costs_that_field_not_the_list():
    provider, _ = mocked(answering([
        {"id": "odd", "status": "SUCCESS", "createdAt": "yesterday", "startedAt": "soon",
         "endedAt": "2026-01-01T00:02:00Z", "duration": 5},
        {"id": "good", "status": "SUCCESS", "createdAt": "2026-01-01T00:00:00Z",
         "startedAt": "2026-01-01T00:00:01Z", "endedAt": "2026-01-01T00:00:31Z"},
    ]))
    good, odd = await provider.list_runs()  # a createdAt that does not parse sorts oldest

    assert (good.id, good.duration_s) == ("good", 30.0)
    assert (odd.id, odd.created_at, odd.started_at) == ("odd", None, None)
    assert odd.finished_at is not None and odd.duration_s == 5.0


async def test_an_idle_run_has_not_started_whatever_started_at_says():
    provider, _ = mocked(answering([
        {"id": "new", "status": "IDLE", "createdAt": "2026-01-01T00:00:00.000Z",
         "startedAt": "2026-01-01T00:00:00.000Z", "endedAt": None, "duration": None},
    ]))
    [run] = await provider.list_runs()
    assert (run.status, run.started_at, run.duration_s) == (RunStatus.QUEUED, None, None)


async def test_a_bad_timestamp_costs_that_field_not_the_list():
    body = [{"id": "r1", "createdAt": "yesterday", "startedAt": "soon"},
            {"id": "r2", "createdAt": "2026-01-02T03:04:05Z",
             "endedAt": "9999-12-31T23:59:59-05:00"}]
    provider, _ = mocked(answering(body))
    runs = await provider.list_runs()
    assert [r.id for r in runs] == ["r2", "r1"]  # the unreadable one sorts last
    assert runs[1].created_at is None and runs[1].started_at is None
    assert runs[0].finished_at is None


async def test_an_unchanged_list_is_not_mapped_again(sim):
    provider = sim.provider("services")
    before = await provider.list_runs()
    again = await provider.list_runs()
    assert again == before and again[0] is before[0]

    sim.sim.clock.advance(300)  # a new run has arrived by then
    later = await provider.list_runs()
    assert later[0] is not before[0]


async def test_the_clock_moves_a_run_through_queued_running_waiting_and_passed(sim):
    now = sim.sim.now()
    run = next(r for r in sorted(api_of(sim).runs, key=lambda r: r.script.created_at)
               if r.script.created_at > now and r.approval and not r.script.fails)
    gate = run.approval_until(len(run.script.steps) - 1)
    assert gate is not None
    provider = sim.provider("services", service_id=run.service_id)

    async def status_at(moment: float) -> RunStatus:
        sim.sim.clock.advance(moment - sim.sim.now())
        return next(r for r in await provider.list_runs() if r.id == run.id).status

    assert run.id not in {r.id for r in await provider.list_runs()}  # not created yet
    assert await status_at(run.script.created_at + 0.5) is RunStatus.QUEUED
    assert await status_at(run.script.started_at + 0.5) is RunStatus.RUNNING
    assert await status_at(gate - 0.5) is RunStatus.WAITING
    detail = await provider.get_run(run.id)
    assert (detail.steps[-1].name, detail.steps[-1].status) == ("DEPLOY_PROD", RunStatus.WAITING)
    assert await status_at(gate + 0.5) is RunStatus.RUNNING
    assert await status_at(run.script.planned_end + 1) is RunStatus.PASSED


# -- one run ---------------------------------------------------------------------------------


async def test_detail_fetches_the_run_then_its_stages_in_pipeline_order(sim):
    target = newest(api_of(sim).runs, sim.sim.now(), "running")
    provider = sim.provider("services")
    detail = await provider.get_run(target.id)

    run_request, stages_request = sim.sim.requests_to("services")
    assert_request(run_request, "GET", f"/api/runs/{target.id}")
    assert_request(stages_request, "GET", "/api/stages", f"runId={target.id}")
    served = (await raw(sim, "GET", "/api/stages", params={"runId": target.id})).json()
    assert [s["type"] for s in served] != list(STAGE_ORDER)  # the server does not order
    by_type = {s["type"]: s for s in served}
    assert [s.name for s in detail.steps] == list(STAGE_ORDER)
    assert [s.order for s in detail.steps] == list(range(7))
    for step in detail.steps:
        stage = by_type[step.name]
        assert (step.id, step.provider_status) == (stage["id"], stage["status"])
        # Every stage carries startedAt from the run's creation; an IDLE one has not started.
        assert stage["startedAt"] is not None
        idle = stage["status"] == "IDLE"
        assert step.log_available is not idle
        assert (step.started_at is None) is idle
    assert detail.status is RunStatus.RUNNING
    statuses = [s.status for s in detail.steps]
    current = statuses.index(RunStatus.RUNNING)
    assert current < 6, "the newest running run should still have stages to come"
    assert statuses[:current] == [RunStatus.PASSED] * current
    assert statuses[current + 1:] == [RunStatus.QUEUED] * (6 - current)
    assert detail.progress == round(100 * current / 7, 1)


async def test_a_finished_runs_steps_carry_times_and_durations(sim):
    target = newest(api_of(sim).runs, sim.sim.now(), "failed")
    detail = await sim.provider("services").get_run(target.id)

    statuses = [s.status for s in detail.steps]
    failed_at = statuses.index(RunStatus.FAILED)
    # How far it got: the stages that ran (the failed one too), not a full bar.
    assert detail.status is RunStatus.FAILED
    assert detail.progress == round(100 * (failed_at + 1) / 7, 1)
    assert detail.steps_done == (failed_at + 1, 7)
    assert statuses[:failed_at] == [RunStatus.PASSED] * failed_at
    # Placeholder stages after the failure never start: they stay IDLE.
    assert statuses[failed_at + 1:] == [RunStatus.SKIPPED] * (6 - failed_at)  # never ran
    step = detail.steps[0]
    assert step.duration_s == (step.finished_at - step.started_at).total_seconds()


async def test_an_unknown_run_is_not_found_naming_it(sim):
    provider = sim.provider("services")
    assert (await raw(sim, "GET", "/api/runs/no-such-run")).json() is None  # 200 null
    sim.sim.requests.clear()

    with pytest.raises(NotFound, match="services: run no-such-run not found"):
        await provider.get_run("no-such-run")
    assert [r.path for r in sim.sim.requests_to("services")] == ["/api/runs/no-such-run"]


async def test_detail_stage_and_log_bodies_of_the_wrong_shape_are_bad_responses():
    stages = {"r1": {"stages": []}, "r2": [None], "r3": []}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/stages":
            return httpx.Response(200, json=stages[request.url.params["runId"]])
        if path == "/api/logs":
            return httpx.Response(200, json={"lines": []})
        run_id = path.rsplit("/", 1)[-1]
        return httpx.Response(200, json=[run_id] if run_id == "r4" else {"id": run_id})

    provider, _ = mocked(handler)
    bad = r"^ci: {} returned an unexpected shape \({}: Input should be a valid {}"
    with pytest.raises(BadResponse, match=r"^ci: /api/runs/r4 returned .*\(an array, not a run\)"):
        await provider.get_run("r4")
    with pytest.raises(BadResponse, match=r"^ci: /api/runs/r4 returned .*\(an array, not a run\)"):
        await provider.rerun("r4")
    with pytest.raises(BadResponse, match=bad.format("/api/stages", "body", "list")):
        await provider.get_run("r1")
    with pytest.raises(BadResponse, match=bad.format("/api/stages", "0", "dictionary")):
        await provider.get_run("r2")
    empty = await provider.get_run("r3")
    assert (empty.steps, empty.progress, empty.status) == ([], None, RunStatus.UNKNOWN)
    step = Step(id="s1", name="BUILD", order=0, status=RunStatus.PASSED)
    with pytest.raises(BadResponse, match=bad.format("/api/logs", "body", "list")):
        await provider.get_log("r1", step)


async def test_unknown_stage_types_go_last_and_a_name_stands_in_for_the_type():
    stages = [
        {"id": "s4", "type": "OTHER", "status": "SUCCESS", "startedAt": "2026-01-01T00:00:01Z"},
        {"id": "s3", "type": "SMOKE", "status": "IDLE", "startedAt": "2026-01-01T00:00:00Z",
         "endedAt": "later"},
        {"id": "s2", "type": "deploy_prod", "status": "SUCCESS", "duration": 4,
         "startedAt": "2026-01-01T00:00:10Z"},
        {"id": "s1", "name": "PREPARE", "status": "WEIRD"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/stages":
            return httpx.Response(200, json=stages)
        return httpx.Response(200, json={"id": "r1", "status": "IN_PROGRESS"})

    provider, _ = mocked(handler)
    detail = await provider.get_run("r1")
    assert [(s.id, s.name, s.status) for s in detail.steps] == [
        ("s1", "PREPARE", RunStatus.UNKNOWN),
        ("s2", "deploy_prod", RunStatus.PASSED),
        ("s3", "SMOKE", RunStatus.QUEUED),
        ("s4", "OTHER", RunStatus.PASSED),  # OTHER goes last, after unknown types too
    ]
    assert detail.steps[1].duration_s == 4.0
    smoke = detail.steps[2]
    assert (smoke.started_at, smoke.finished_at, smoke.log_available) == (None, None, False)
    assert detail.progress == pytest.approx(50.0)


async def test_a_stage_log_is_fetched_by_stage_id(sim):
    target = newest(api_of(sim).runs, sim.sim.now(), "failed")
    provider = sim.provider("services")
    detail = await provider.get_run(target.id)
    sim.sim.requests.clear()

    first_log = await provider.get_log(target.id, detail.steps[0])
    failed = next(s for s in detail.steps if s.status is RunStatus.FAILED)
    failed_log = await provider.get_log(target.id, failed)

    first_request, _ = sim.sim.requests_to("services")
    assert_request(first_request, "GET", "/api/logs", f"stageId={detail.steps[0].id}")
    lines = first_log.splitlines()
    stamp = detail.steps[0].started_at.strftime("%H:%M:%S")
    assert lines[0] == f"     {stamp} Stage PREPARE started"
    assert re.fullmatch(r" {5}\d\d:\d\d:\d\d Stage PREPARE succeeded in \d+s", lines[-1])
    # The line the server says went to stderr is marked, in words.
    assert re.fullmatch(r"err\| \d\d:\d\d:\d\d .* failed: exit code 1",
                        failed_log.splitlines()[-1])
    assert provider.has_logs and provider.marks_stderr


async def test_log_lines_in_the_real_shape_are_ordered_by_score_with_stderr_marked(sim):
    target = newest(api_of(sim).runs, sim.sim.now(), "failed")
    stage = next(s for s in (await sim.provider("services").get_run(target.id)).steps
                 if s.status is RunStatus.FAILED)
    served = (await raw(sim, "GET", "/api/logs", params={"stageId": stage.id})).json()

    assert served and all(set(line) == {"id", "message", "timestamp", "score", "type",
                                         "stageId"} for line in served)
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", line["id"]) for line in served)
    assert [line["score"] for line in served] == sorted(line["score"] for line in served)
    assert {line["type"] for line in served} == {"stdout", "stderr"}
    assert {line["stageId"] for line in served} == {stage.id}

    provider, _ = mocked(answering([
        {"id": "01J0000000000000000000000B", "message": "second", "score": 20,
         "timestamp": "2026-01-01T00:00:02.000Z", "type": "stderr", "stageId": "s"},
        {"id": "01J0000000000000000000000C", "message": "no score", "type": "stdout"},
        {"id": "01J0000000000000000000000A", "message": "first", "score": "10",
         "timestamp": "bad", "type": "stdout", "stageId": "s"},
        {"id": "01J0000000000000000000000D", "message": "err| not a mark", "score": 30,
         "timestamp": "2026-01-01T00:00:03.000Z", "type": "STDOUT"},
    ]))
    text = await provider.get_log("r1", stage)
    assert text.splitlines() == [
        "     --:--:-- first",
        "err| 00:00:02 second",
        "     00:00:03 err| not a mark",
        "     --:--:-- no score",
    ]


# -- actions ---------------------------------------------------------------------------------


async def test_stop_says_what_the_server_said_not_what_became_of_the_run(sim):
    now = sim.sim.now()
    running = newest(api_of(sim).runs, now, "running")
    queued = min((r for r in api_of(sim).runs if r.script.created_at > now),
                 key=lambda r: r.script.created_at)  # queued once it has been created
    provider = sim.provider("services")

    said = await provider.cancel(running.id)

    [stop] = sim.sim.requests_to("services", "POST")
    assert_request(stop, "POST", f"/api/runs/{running.id}/stop")
    assert stop.body == b""
    assert said == f"stop sent for run {running.id}: 1 execution stopped"
    detail = await provider.get_run(running.id)
    # The API has no canceled status: a stopped run reads FAILURE, on the next read.
    assert (detail.status, detail.provider_status) == (RunStatus.FAILED, "FAILURE")
    assert detail.finished_at.timestamp() == pytest.approx(sim.sim.now(), abs=0.001)
    # Stopping it again, or an unknown run: an empty 200, nothing was running.
    assert await provider.cancel(running.id) == (
        f"stop sent for run {running.id}: nothing was running")
    assert await provider.cancel("nope") == "stop sent for run nope: nothing was running"
    answer = await raw(sim, "POST", f"/api/runs/{running.id}/stop")
    assert (answer.status_code, answer.content) == (200, b"")

    sim.sim.clock.advance(queued.script.created_at + 0.1 - now)
    assert await provider.cancel(queued.id) == (
        f"stop sent for run {queued.id}: nothing was running")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b'{"executionsStopped": 3}', "stop sent for run r1: 3 executions stopped"),
        (b'{"executionsStopped": 1}', "stop sent for run r1: 1 execution stopped"),
        (b'{"executionsStopped": 0}', "stop sent for run r1: nothing was running"),
        (b"", "stop sent for run r1: nothing was running"),
        (b'{"executionsStopped": "many"}', "stop sent for run r1"),
        (b"[]", "stop sent for run r1"),
    ],
)
async def test_stop_answers_in_the_real_shapes(answer, said):
    provider, calls = mocked(lambda _request: httpx.Response(200, content=answer))
    assert await provider.cancel("r1") == said
    assert [(c.method, c.url.path) for c in calls] == [("POST", "/api/runs/r1/stop")]


async def test_rerun_posts_the_run_as_served_and_reads_the_new_id_from_plain_text(sim):
    target = newest(api_of(sim).runs, sim.sim.now(), "passed")
    provider = sim.provider("services")
    new = await provider.rerun(target.id)

    fetch, post = sim.sim.requests_to("services")
    assert_request(fetch, "GET", f"/api/runs/{target.id}")
    assert_request(post, "POST", f"/api/runs/{target.id}/rerun")
    assert post.headers["content-type"] == "application/json"
    as_served = (await raw(sim, "GET", f"/api/runs/{target.id}")).json()
    assert post.json() == {"data": as_served}
    assert new is not None and new.id != target.id
    newest_run = (await provider.list_runs())[0]
    assert newest_run.id == new.id
    assert (newest_run.status, newest_run.commit, newest_run.title) == (
        RunStatus.QUEUED, as_served["commitHash"], as_served["commitMessage"])

    answer = await raw(sim, "POST", f"/api/runs/{target.id}/rerun", json={"data": as_served})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert re.fullmatch(r"[0-9a-f-]{36}", answer.text)


@pytest.mark.parametrize(
    ("answer", "new_id"),
    [
        ("4f1c2d3e-0000-4000-a000-000000000001", "4f1c2d3e-0000-4000-a000-000000000001"),
        ("  clx7run42\n", "clx7run42"),
        ("1234", "1234"),
        ('{"id": "r9", "status": "IDLE"}', "r9"),  # an older server's JSON run
        ("<!DOCTYPE html><html><body>Sign in</body></html>", None),
        ("run started", None),
        ("x" * 65, None),
        ("\x1b]52;c;aGk=\x07", None),
        ("", None),
    ],
)
async def test_the_rerun_answer_is_an_id_only_when_it_looks_like_one(answer, new_id):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"id": "r1", "status": "SUCCESS"})
        return httpx.Response(200, text=answer, headers={"content-type": "text/html"})

    provider, calls = mocked(handler)
    new = await provider.rerun("r1")
    assert (new.id if new else None) == new_id
    assert [(c.method, c.url.path) for c in calls] == [
        ("GET", "/api/runs/r1"), ("POST", "/api/runs/r1/rerun")]
    if new is not None:
        assert (new.source, new.provider, new.status) == ("ci", "services", RunStatus.UNKNOWN)


async def test_delete_removes_the_run_and_an_empty_answer_is_not_found(sim):
    target = newest(api_of(sim).runs, sim.sim.now(), "passed")
    provider = sim.provider("services")
    await provider.delete(target.id)

    [delete] = sim.sim.requests_to("services", "DELETE")
    assert_request(delete, "DELETE", f"/api/runs/{target.id}")
    assert target.id not in {r.id for r in await provider.list_runs()}
    with pytest.raises(NotFound):
        await provider.get_run(target.id)
    gone = await raw(sim, "DELETE", f"/api/runs/{target.id}")
    assert (gone.status_code, gone.content) == (200, b"")
    with pytest.raises(NotFound, match=f"services: run {target.id} not found"):
        await provider.delete(target.id)


async def test_rerun_of_an_unknown_run_is_not_found_and_posts_nothing(sim):
    with pytest.raises(NotFound, match="run nope not found"):
        await sim.provider("services").rerun("nope")
    assert sim.sim.requests_to("services", "POST") == []


async def test_read_only_refuses_every_action_before_any_request(sim):
    provider = sim.provider("services", read_only=True)
    run_id = newest(api_of(sim).runs, sim.sim.now(), "running").id
    session = Session({"services": provider})
    run = Run(source="services", provider="services", id=run_id, status=RunStatus.RUNNING,
              provider_status="running")
    for action in RunAction:
        with pytest.raises(Refused, match="services is read-only"):
            await session.perform(action, run)
    assert sim.sim.requests_to("services") == []
    provider.client.read_only = True  # the client's own guard, under the provider's
    with pytest.raises(ReadOnlyError, match="POST /api/runs/r1/rerun was not sent"):
        await provider.client.send_text("POST", "/api/runs/r1/rerun")
    assert sim.sim.requests_to("services") == []


# -- the simulator's own surface -------------------------------------------------------------


async def test_the_simulator_answers_bad_requests_with_its_error_body(sim):
    run_id = newest(api_of(sim).runs, sim.sim.now(), "running").id
    cases = [
        (await raw(sim, "GET", "/api/stages"), 400, "runId is required"),
        (await raw(sim, "GET", "/api/logs"), 400, "stageId is required"),
        (await raw(sim, "PATCH", f"/api/runs/{run_id}", json={"colour": "red"}), 400,
         "property colour should not exist"),
        (await raw(sim, "PATCH", f"/api/runs/{run_id}", json=["x"]), 400,
         "body must be an object of run properties"),
        (await raw(sim, "POST", f"/api/runs/{run_id}/rerun", json={}), 400,
         "data must be an object"),
        (await raw(sim, "PATCH", "/api/runs/nope", json={}), 404, "Run nope not found"),
    ]
    for response, status, message in cases:
        assert response.json() == {"message": message}
        assert response.status_code == status


async def test_patch_updates_the_fields_the_next_get_shows(sim):
    target = newest(api_of(sim).runs, sim.sim.now(), "passed")
    patched = await raw(sim, "PATCH", f"/api/runs/{target.id}",
                        json={"committer": "Sarah", "serviceId": "svc-api"})
    assert (patched.status_code, patched.json()) == (200, {})

    run = await sim.provider("services").get_run(target.id)
    assert run.author == "Sarah"
    listed = await sim.provider("services", service_id="svc-api").list_runs()
    assert target.id in {r.id for r in listed}


async def test_a_created_run_starts_idle_with_placeholder_stages(sim):
    created = await raw(sim, "POST", "/api/runs/svc-api", json={"committer": "Jim"})
    body = created.json()
    assert created.status_code == 201
    assert (body["status"], body["serviceId"], body["committer"]) == ("IDLE", "svc-api", "Jim")
    # startedAt is set at creation, while IDLE, for the run and every stage alike.
    assert (body["startedAt"], body["endedAt"], body["duration"]) == (
        body["createdAt"], None, None)
    stages = (await raw(sim, "GET", "/api/stages", params={"runId": body["id"]})).json()
    assert sorted(s["type"] for s in stages) == sorted(STAGE_ORDER)
    assert {(s["status"], s["startedAt"], s["endedAt"]) for s in stages} == {
        ("IDLE", body["createdAt"], None)}
    detail = await sim.provider("services").get_run(body["id"])
    assert (detail.status, detail.started_at) == (RunStatus.QUEUED, None)
    assert {(s.started_at, s.log_available) for s in detail.steps} == {(None, False)}
    assert body["id"] in {r.id for r in await sim.provider("services").list_runs()}


async def test_the_simulator_is_deterministic():
    async def bodies() -> list[bytes]:
        sim = Simulator(SimSettings(seed=3), SimClock(frozen=True))
        transport = httpx.ASGITransport(app=sim.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            runs = await client.get("/services/api/runs")
            run_id = json.loads(runs.content)[0]["id"]
            stages = await client.get("/services/api/stages", params={"runId": run_id})
            return [runs.content, stages.content]

    assert await bodies() == await bodies()
