"""Wercker API v3 runs: the provider against the simulator over real HTTP, the simulator's own
answers, and the odd bodies a real server may send (through httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from urllib.parse import parse_qs

import httpx
import pytest

from conftest import SimHandle
from runwatch.config import SourceConfig
from runwatch.errors import (
    BadResponse,
    Conflict,
    NotFound,
    Unsupported,
)
from runwatch.http import RetryPolicy, SourceClient
from runwatch.models import Run, RunStatus
from runwatch.providers import RunAction
from runwatch.providers.wercker import (
    WerckerProvider,
    wercker_provider_status,
    wercker_status,
)
from runwatch.session import Refused, Session
from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.core import RunScript, iso
from runwatch.sim.wercker import STARTED_S, STEP_NAMES, TOKEN_OWNER, SimulatedApi

TOKEN = demo_tokens()["wercker"]
PHASE_STATUS = {
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "passed": RunStatus.PASSED,
    "failed": RunStatus.FAILED,
    "canceled": RunStatus.CANCELED,
}


def api(sim: SimHandle) -> SimulatedApi:
    return sim.sim.apis["wercker"]


def visible(sim: SimHandle) -> list[RunScript]:
    now = sim.sim.now()
    return [s for s in api(sim).scripts if s.visible(now)]


def first(sim: SimHandle, phase: str) -> RunScript:
    now = sim.sim.now()
    return next(s for s in visible(sim) if s.phase(now) == phase)


def at(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromisoformat(iso(ts))  # type: ignore[arg-type]


def calls(sim: SimHandle, method: str | None = None) -> list[tuple[str, str, str]]:
    return [(r.method, r.path, r.query) for r in sim.sim.requests_to("wercker", method)]


@pytest.fixture
def big_sim(sim_server) -> Iterator[SimHandle]:
    """A simulator with 70 past runs, for lists longer than three pages."""
    server, switch = sim_server
    settings = SimSettings(seed=7, runs=70, tokens=dict(demo_tokens()))
    switch.target = Simulator(settings, SimClock(frozen=True))
    yield SimHandle(switch.target, server)
    switch.target = None


# -- status mapping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "result", "expected", "shown"),
    [
        ("notstarted", "unknown", RunStatus.QUEUED, "notstarted"),
        ("started", "unknown", RunStatus.RUNNING, "started"),
        ("running", None, RunStatus.RUNNING, "running"),
        ("finished", "passed", RunStatus.PASSED, "finished/passed"),
        ("finished", "failed", RunStatus.FAILED, "finished/failed"),
        ("finished", "aborted", RunStatus.CANCELED, "finished/aborted"),
        ("finished", "unknown", RunStatus.UNKNOWN, "finished/unknown"),
        ("FINISHED", "Passed", RunStatus.PASSED, "FINISHED/Passed"),
        ("finished", "flaked", RunStatus.UNKNOWN, "finished/flaked"),
        ("finished", None, RunStatus.UNKNOWN, "finished"),
        ("paused", "unknown", RunStatus.UNKNOWN, "paused"),
        ("running", "failed", RunStatus.RUNNING, "running/failed"),
        (None, None, RunStatus.UNKNOWN, ""),
    ],
)
def test_status_and_result_map_as_design_says(status, result, expected, shown):
    assert wercker_status(status, result) is expected
    assert wercker_provider_status(status, result) == shown


# -- listing -----------------------------------------------------------------------------


async def test_list_pages_twenty_at_a_time_until_a_short_page(sim):
    runs = await sim.provider("wercker", limit=50).list_runs()

    # After the first page, the pages that `limit` needs are asked for together (`skip`
    # says where each starts): the one after the short page is asked for too.
    assert sorted(calls(sim)) == [
        ("GET", "/api/v3/runs", "pipelineId=pipeline-1&limit=10&skip=40"),
        ("GET", "/api/v3/runs", "pipelineId=pipeline-1&limit=20"),
        ("GET", "/api/v3/runs", "pipelineId=pipeline-1&limit=20&skip=20"),
    ]
    assert calls(sim)[0] == ("GET", "/api/v3/runs", "pipelineId=pipeline-1&limit=20")
    for request in sim.sim.requests_to("wercker"):
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["accept"] == "application/json"
    scripts = visible(sim)
    assert [r.id for r in runs] == [api(sim).run_id(s) for s in scripts]
    assert len(runs) == len(scripts) == 24
    now = sim.sim.now()
    assert [r.status for r in runs] == [PHASE_STATUS[s.phase(now)] for s in scripts]
    assert all(r.source == "wercker" and r.provider == "wercker" for r in runs)


async def test_a_finished_run_maps_every_field(sim):
    script = first(sim, "failed")
    run_id = api(sim).run_id(script)
    run = next(r for r in await sim.provider("wercker").list_runs() if r.id == run_id)

    assert run.status is RunStatus.FAILED
    assert run.provider_status == "finished/failed"
    assert run.title == script.message
    assert (run.branch, run.commit, run.author) == (script.branch, script.commit, script.author)
    assert run.created_at == at(script.created_at)
    assert run.started_at == at(script.started_at)
    assert run.finished_at == at(script.planned_end)
    assert run.duration_s == pytest.approx(script.planned_end - script.started_at, abs=0.002)
    # The API says 100 for any finished run: for a failed one that is no "how far", so the
    # list row has none (the detail's steps say it).
    assert run.progress is None
    assert run.tests is None
    assert run.url == f"{sim.base_url('wercker')}/api/v3/runs/{run_id}"


async def test_a_run_goes_from_queued_to_started_running_and_finished(sim):
    provider = sim.provider("wercker", limit=1)
    script = first(sim, "queued")
    [run] = await provider.list_runs()
    assert (run.id, run.status, run.provider_status) == (
        api(sim).run_id(script), RunStatus.QUEUED, "notstarted")
    assert run.progress is None and run.started_at is None

    sim.sim.clock.advance(script.started_at - sim.sim.now() + 1)
    [run] = await provider.list_runs()
    assert (run.status, run.provider_status) == (RunStatus.RUNNING, "started")

    sim.sim.clock.advance(STARTED_S)  # still inside the first step, which is 8 s at least
    [run] = await provider.list_runs()
    assert (run.status, run.provider_status) == (RunStatus.RUNNING, "running")
    assert 0 < run.progress < 100
    assert run.started_at == at(script.started_at) and run.finished_at is None

    sim.sim.clock.advance(script.planned_end - sim.sim.now())
    [run] = await provider.list_runs()
    assert run.status is PHASE_STATUS[script.phase(sim.sim.now())]
    assert run.status.is_terminal
    assert run.progress == (100.0 if run.status is RunStatus.PASSED else None)


async def test_a_limit_below_a_page_asks_for_that_many(sim):
    runs = await sim.provider("wercker", limit=5).list_runs()
    assert calls(sim) == [("GET", "/api/v3/runs", "pipelineId=pipeline-1&limit=5")]
    assert [r.id for r in runs] == [api(sim).run_id(s) for s in visible(sim)[:5]]


async def test_the_last_page_asks_only_for_the_rest_of_the_limit(big_sim):
    runs = await big_sim.provider("wercker", limit=45).list_runs()
    assert [q for _, _, q in calls(big_sim)] == [
        "pipelineId=pipeline-1&limit=20",
        "pipelineId=pipeline-1&limit=20&skip=20",
        "pipelineId=pipeline-1&limit=5&skip=40",
    ]
    assert [r.id for r in runs] == [api(big_sim).run_id(s) for s in visible(big_sim)[:45]]


async def test_an_application_scope_lists_by_application_id(sim):
    provider = sim.provider("wercker", limit=3, pipeline_id=None, application_id="application-1")
    runs = await provider.list_runs()
    assert calls(sim) == [("GET", "/api/v3/runs", "applicationId=application-1&limit=3")]
    assert len(runs) == 3


async def test_an_unknown_pipeline_is_not_found(sim):
    with pytest.raises(NotFound, match="Pipeline not found") as caught:
        await sim.provider("wercker", pipeline_id="nope").list_runs()
    assert str(caught.value).startswith("wercker: ")


# -- detail, steps, logs -----------------------------------------------------------------


async def test_detail_has_the_steps_in_order_up_to_the_failure(sim):
    script = first(sim, "failed")
    run_id = api(sim).run_id(script)
    detail = await sim.provider("wercker").get_run(run_id)

    assert calls(sim) == [
        ("GET", f"/api/v3/runs/{run_id}", ""),
        ("GET", f"/api/v3/runs/{run_id}/steps", ""),
    ]
    assert detail.status is RunStatus.FAILED and detail.title == script.message
    assert [(s.name, s.order) for s in detail.steps] == [
        (name, n) for n, name in enumerate(STEP_NAMES, start=1)]
    failed_at = next(i for i, s in enumerate(script.steps) if s.fails)
    for i, step in enumerate(detail.steps):
        if i < failed_at:
            assert (step.status, step.provider_status) == (RunStatus.PASSED, "finished/passed")
            assert step.duration_s == pytest.approx(script.steps[i].duration_s, abs=0.002)
            assert step.log_available
        elif i == failed_at:
            assert (step.status, step.provider_status) == (RunStatus.FAILED, "finished/failed")
            assert step.log_available
        else:  # never started: the run stopped at the failure, so it never ran
            assert (step.status, step.provider_status) == (RunStatus.SKIPPED, "notstarted")
            assert step.started_at is None and not step.log_available


async def test_a_steps_log_is_text_from_the_runsteps_path(sim):
    script = first(sim, "failed")
    provider = sim.provider("wercker")
    detail = await provider.get_run(api(sim).run_id(script))
    step = next(s for s in detail.steps if s.status is RunStatus.FAILED)

    log = await provider.get_log(detail.id, step)

    assert calls(sim)[-1] == ("GET", f"/api/v3/runsteps/{step.id}/log", "")
    assert log.startswith(f"Running step: {step.name}\n")
    assert log.endswith("Step failed: exit code 1\n")
    with pytest.raises(NotFound, match="Step not found"):
        await provider.get_log(detail.id, step.model_copy(update={"id": "0" * 24}))


async def test_an_unknown_run_is_not_found_naming_it(sim):
    with pytest.raises(NotFound, match=r"/api/v3/runs/ffffffffffffffffffffffff.*Run not found"):
        await sim.provider("wercker").get_run("f" * 24)


# -- abort and rerun ---------------------------------------------------------------------


async def test_abort_puts_an_empty_object_and_the_run_shows_aborted(sim):
    script = first(sim, "queued")
    sim.sim.clock.advance(script.started_at - sim.sim.now() + 5)  # inside its first step
    provider = sim.provider("wercker")
    run_id = api(sim).run_id(script)

    await provider.cancel(run_id)

    [put] = sim.sim.requests_to("wercker", "PUT")
    assert (put.path, put.json()) == (f"/api/v3/runs/{run_id}/abort", {})
    assert put.headers["content-type"] == "application/json"
    assert put.headers["authorization"] == f"Bearer {TOKEN}"
    detail = await provider.get_run(run_id)
    assert (detail.status, detail.provider_status) == (RunStatus.CANCELED, "finished/aborted")
    assert detail.finished_at == at(sim.sim.now())
    assert RunStatus.CANCELED in {s.status for s in detail.steps}
    with pytest.raises(Conflict, match="Run has already finished"):
        await provider.cancel(run_id)


async def test_rerun_triggers_the_same_pipeline_branch_commit_and_message(sim):
    script = first(sim, "passed")
    provider = sim.provider("wercker")

    new = await provider.rerun(api(sim).run_id(script))

    [post] = sim.sim.requests_to("wercker", "POST")
    assert (post.path, post.json()) == ("/api/v3/runs", {
        "pipelineId": "pipeline-1", "branch": script.branch,
        "message": script.message, "commitHash": script.commit,
    })
    assert new is not None
    assert (new.status, new.provider_status, new.progress) == (
        RunStatus.QUEUED, "notstarted", None)
    assert (new.branch, new.commit, new.title) == (script.branch, script.commit, script.message)
    assert new.author == TOKEN_OWNER
    assert (await provider.list_runs())[0].id == new.id


async def test_read_only_refuses_abort_and_rerun_before_any_request(sim):
    session = Session({"wercker": sim.provider("wercker", read_only=True)})
    run = Run(source="wercker", provider="wercker", id="a" * 24, status=RunStatus.RUNNING,
              provider_status="running")
    with pytest.raises(Refused):
        await session.perform(RunAction.CANCEL, run)
    with pytest.raises(Refused):
        await session.perform(RunAction.RERUN, run)
    assert sim.sim.requests_to("wercker") == []
    assert session.refusal(RunAction.CANCEL, run) == "wercker is read-only"


async def test_capabilities_name_abort_and_leave_out_delete(sim):
    provider = sim.provider("wercker", limit=1)
    assert provider.cancel_verb == "abort" and provider.has_logs
    assert not provider.has_spec_results
    assert provider.actions == {RunAction.CANCEL, RunAction.RERUN}
    [run] = await provider.list_runs()
    sim.sim.clock.advance(3600)
    [done] = await provider.list_runs()
    session = Session({"wercker": provider})
    assert session.refusal(RunAction.CANCEL, run) is None
    assert session.refusal(RunAction.CANCEL, done) == f"run {done.id} has already finished"
    with pytest.raises(Unsupported, match="wercker has no delete"):
        await provider.delete(run.id)


# -- the simulator's own answers ---------------------------------------------------------


async def wercker_get(sim: SimHandle, path: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=sim.base_url("wercker"), headers=headers) as client:
        return await client.get(path)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=20", "Either applicationId or pipelineId must be specified"),
        ("pipelineId=pipeline-1&limit=21",
         'child "limit" fails because ["limit" must be less than or equal to 20]'),
        ("pipelineId=pipeline-1&limit=0",
         'child "limit" fails because ["limit" must be larger than or equal to 1]'),
        ("pipelineId=pipeline-1&skip=-1",
         'child "skip" fails because ["skip" must be larger than or equal to 0]'),
        ("pipelineId=pipeline-1&limit=ten",
         'child "limit" fails because ["limit" must be a number]'),
        ("pipelineId=pipeline-1&status=done",
         'child "status" fails because ["status" must be one of '
         "[notstarted, started, finished, running]]"),
    ],
)
async def test_the_simulator_rejects_a_bad_query_with_a_boom_body(sim, query, message):
    response = await wercker_get(sim, f"/api/v3/runs?{query}")
    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "error": "Bad Request", "message": message}


@pytest.mark.parametrize(
    ("token", "path", "status", "message"),
    [
        (None, "/api/v3/runs?pipelineId=pipeline-1", 401, "Missing authentication"),
        ("wrong", "/api/v3/runs?pipelineId=pipeline-1", 401, "Invalid token"),
        (TOKEN, "/api/v3/runs/" + "0" * 24, 404, "Run not found"),
        (TOKEN, "/api/v3/runs/" + "0" * 24 + "/steps", 404, "Run not found"),
        (TOKEN, "/api/v3/0123/steps", 404, "Not Found"),  # the document's typo is not served
        (TOKEN, "/api/v3/runsteps/nothex/log", 404, "Step not found"),
    ],
)
async def test_the_simulator_answers_errors_with_boom_bodies(sim, token, path, status, message):
    response = await wercker_get(sim, path, token=token)
    assert response.status_code == status
    assert response.json()["message"] == message
    assert response.json()["statusCode"] == status


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "Invalid request payload JSON format"),
        (b"{}", 400, 'child "pipelineId" fails because ["pipelineId" is required]'),
        (b'{"pipelineId": "pipeline-1", "commitHash": "abc"}', 400,
         '"commitHash" missing required peer "branch"'),
        (b'{"pipelineId": "other"}', 404, "Pipeline not found"),
    ],
)
async def test_the_simulator_validates_a_trigger(sim, body, status, message):
    async with httpx.AsyncClient(base_url=sim.base_url("wercker")) as client:
        response = await client.post("/api/v3/runs", content=body, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert (response.status_code, response.json()["message"]) == (status, message)
    assert len(api(sim).scripts) == 30  # nothing was created


async def test_the_simulator_filters_sorts_and_repeats_itself_under_a_frozen_clock(sim):
    base = "/api/v3/runs?pipelineId=pipeline-1"
    one, two = await wercker_get(sim, base), await wercker_get(sim, base)
    assert one.content == two.content

    failed = (await wercker_get(sim, f"{base}&status=finished&result=failed")).json()
    expected = [api(sim).run_id(s) for s in visible(sim) if s.phase(sim.sim.now()) == "failed"]
    assert [r["id"] for r in failed] == expected[:20] and expected

    oldest = (await wercker_get(sim, f"{base}&sort=creationDateAsc&limit=3")).json()
    assert [r["id"] for r in oldest] == [api(sim).run_id(s) for s in visible(sim)[::-1][:3]]

    queued = one.json()[0]
    assert queued["status"] == "notstarted" and queued["progress"] is None
    assert "startedAt" not in queued and queued["user"]["meta"]["username"]
    detail = (await wercker_get(sim, f"/api/v3/runs/{queued['id']}")).json()
    assert detail["envVars"] and detail["commits"] == []
    assert detail["pipeline"]["id"] == "pipeline-1"


# -- odd bodies a real server may send ----------------------------------------------------


Handler = Callable[[httpx.Request], httpx.Response]


def mock_provider(handler: Handler, *, limit: int = 50, **scope: str) -> WerckerProvider:
    scope = scope or {"pipeline_id": "p1"}
    source = SourceConfig(name="ci", provider="wercker", base_url="https://w.example", **scope)
    client = SourceClient(source="ci", base_url=source.base_url, token="t",
                          transport=httpx.MockTransport(handler), retry=RetryPolicy.none())
    return WerckerProvider(source, client, limit=limit)


def run_json(n: int, **extra: object) -> dict[str, object]:
    return {"id": f"r{n}", "status": "finished", "result": "passed",
            "createdAt": f"2026-01-01T00:{59 - n // 60:02d}:{59 - n % 60:02d}Z", **extra}


def paged(ids_for_skip: Callable[[int, int], list[int]], seen: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        query = parse_qs(request.url.query.decode())
        skip, limit = int(query.get("skip", ["0"])[0]), int(query["limit"][0])
        return httpx.Response(200, json=[run_json(n) for n in ids_for_skip(skip, limit)])

    return handler


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"id": "r1"}, "body: Input should be a valid list"),
        ([None], "0: Input should be a valid dictionary"),
        ([{"status": "finished"}], "0.id: Field required"),
        ([{"id": "r1", "progress": "half"}], "0.progress"),
        ([{"id": "r1", "user": ["ana"]}], "0.user"),
    ],
)
async def test_a_wrong_shape_is_a_bad_response_naming_source_and_path(body, where):
    provider = mock_provider(lambda _: httpx.Response(200, json=body))
    with pytest.raises(BadResponse, match=r"^ci: /api/v3/runs returned an unexpected shape") as e:
        await provider.list_runs()
    assert where in str(e.value)


async def test_steps_that_are_not_a_list_are_a_bad_response():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/steps"):
            return httpx.Response(200, json={"steps": []})
        return httpx.Response(200, json=run_json(1))

    with pytest.raises(BadResponse, match="/api/v3/runs/r1/steps returned an unexpected shape"):
        await mock_provider(handler).get_run("r1")


async def test_missing_null_extra_and_unknown_values_never_crash():
    body = [
        {"id": 123, "status": "paused", "user": None, "pipeline": None, "progress": 150,
         "newField": {"nested": True}},
        {"id": "r2", "message": "", "commitHash": "abc123", "progress": -3,
         "user": {"name": "Toon", "meta": None}, "status": "running", "result": "unknown"},
    ]
    runs = await mock_provider(lambda _: httpx.Response(200, json=body)).list_runs()
    # neither has a time: the active one counts as newest (Run.sort_time)
    assert [(r.id, r.status, r.provider_status) for r in runs] == [
        ("r2", RunStatus.RUNNING, "running"), ("123", RunStatus.UNKNOWN, "paused")]
    assert (runs[1].title, runs[1].author, runs[1].progress, runs[1].url) == (
        None, None, 100.0, None)
    assert (runs[0].title, runs[0].author, runs[0].progress) == ("abc123", "Toon", 0.0)


async def test_steps_are_ordered_and_tolerate_missing_fields():
    steps = [
        {"id": "s2", "order": 2, "step": "test", "status": "running", "result": "unknown",
         "startedAt": "2026-01-01T00:00:10Z", "logUrl": "https://w.example/log"},
        {"id": "s1", "order": 1, "status": "finished", "result": "passed",
         "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:08.5Z"},
        {"id": 3},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=steps if request.url.path.endswith("/steps")
                              else run_json(1))

    detail = await mock_provider(handler).get_run("r1")
    assert [(s.id, s.name, s.order, s.status) for s in detail.steps] == [
        ("s1", "step 1", 1, RunStatus.PASSED),
        ("s2", "test", 2, RunStatus.RUNNING),
        ("3", "step 3", 3, RunStatus.UNKNOWN),
    ]
    assert detail.steps[0].duration_s == 8.5
    assert [s.log_available for s in detail.steps] == [False, True, False]


async def test_paging_that_never_ends_stops_at_the_limit():
    seen: list[httpx.Request] = []
    provider = mock_provider(paged(lambda skip, limit: list(range(skip, skip + limit)), seen))
    runs = await provider.list_runs()
    assert len(runs) == 50 and len({r.id for r in runs}) == 50
    assert [r.url.query.decode() for r in seen] == [
        "pipelineId=p1&limit=20", "pipelineId=p1&limit=20&skip=20",
        "pipelineId=p1&limit=10&skip=40"]


async def test_a_server_that_ignores_skip_is_asked_a_bounded_number_of_times():
    seen: list[httpx.Request] = []
    provider = mock_provider(paged(lambda skip, limit: list(range(limit)), seen))
    runs = await provider.list_runs()
    assert len(seen) == 4  # ceil(50 / 20) pages and one spare
    assert sorted(r.id for r in runs) == sorted(f"r{n}" for n in range(20))


async def test_duplicates_across_pages_are_dropped_and_the_list_is_newest_first():
    seen: list[httpx.Request] = []
    # A run arrived between the two requests: the second page repeats the first's last run.
    shifted = paged(lambda skip, limit: list(range(max(0, skip - 1), skip - 1 + limit))
                    if skip else [3, 1, 2, *range(4, 21)][:limit], seen)
    runs = await mock_provider(shifted, limit=30).list_runs()
    ids = [r.id for r in runs]
    assert len(ids) == len(set(ids)) == 30
    assert ids[:4] == ["r1", "r2", "r3", "r4"]  # sorted by createdAt, not by page order
    assert [r.created_at for r in runs] == sorted((r.created_at for r in runs), reverse=True)


async def test_an_unchanged_page_is_not_mapped_again():
    body = json.dumps([run_json(1), run_json(2)]).encode()
    answers = [body, body, body.replace(b'"passed"', b'"failed"', 1)]
    provider = mock_provider(lambda _: httpx.Response(200, content=answers.pop(0)))
    first_poll, second_poll, third_poll = [await provider.list_runs() for _ in range(3)]
    assert second_poll[0] is first_poll[0]
    assert third_poll[0] is not first_poll[0]
    assert third_poll[0].status is RunStatus.FAILED


async def test_rerun_without_a_known_pipeline_sends_nothing():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=run_json(1, pipeline=None))

    provider = mock_provider(handler, application_id="app-1")
    with pytest.raises(BadResponse, match="names no pipeline"):
        await provider.rerun("r1")
    assert [r.method for r in seen] == ["GET"]


async def test_rerun_leaves_out_a_commit_without_a_branch_and_takes_an_empty_answer():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(200)
        return httpx.Response(200, json=run_json(1, commitHash="abc", message="m"))

    assert await mock_provider(handler).rerun("r1") is None
    assert json.loads(seen[-1].content) == {"pipelineId": "p1", "message": "m"}


# -- issue 9: step message and phase, errors {message, statusCode}, limit 1-20, timestamps ---


async def test_a_steps_message_is_its_note_and_phase_is_served(sim):
    script = first(sim, "failed")
    run_id = api(sim).run_id(script)
    failed_at = next(i for i, s in enumerate(script.steps) if s.fails)
    body = (await wercker_get(sim, f"/api/v3/runs/{run_id}/steps")).json()
    assert [s["phase"] for s in body] == ["setup", "setup"] + ["main"] * (len(STEP_NAMES) - 2)
    assert body[failed_at]["message"] == "Step failed: exit code 1"
    mark = len(calls(sim))

    detail = await sim.provider("wercker").get_run(run_id)

    assert calls(sim)[mark:] == [("GET", f"/api/v3/runs/{run_id}", ""),
                                 ("GET", f"/api/v3/runs/{run_id}/steps", "")]
    notes = [s.message for s in detail.steps]
    assert notes[:failed_at] == ["Step passed"] * failed_at
    assert notes[failed_at] == "Step failed: exit code 1"
    assert all(n == "Step skipped: an earlier step failed" for n in notes[failed_at + 1:])
    assert all(s.status is RunStatus.SKIPPED for s in detail.steps[failed_at + 1:])


async def test_a_running_step_has_no_note_yet(sim):
    script = max(visible(sim), key=lambda s: s.created_at)
    sim.sim.clock.advance(script.started_at + script.steps[0].duration_s / 2 - sim.sim.now())
    assert script.phase(sim.sim.now()) == "running"
    detail = await sim.provider("wercker").get_run(api(sim).run_id(script))
    running = [s for s in detail.steps if s.status is RunStatus.RUNNING]
    assert running and all(s.message is None for s in running)  # the API's "" is no note


async def test_errors_are_read_from_message_and_status_code():
    body = {"message": "Pipeline is archived", "statusCode": 409}
    provider = mock_provider(lambda _: httpx.Response(409, json=body))
    with pytest.raises(Conflict, match=r"^ci: HTTP 409 Conflict: Pipeline is archived$"):
        await provider.list_runs()


@pytest.mark.parametrize(("limit", "status"), [(1, 200), (20, 200), (21, 400), (0, 400)])
async def test_sim_limit_is_1_to_20(sim, limit, status):
    response = await wercker_get(sim, f"/api/v3/runs?pipelineId=pipeline-1&limit={limit}")
    assert response.status_code == status
    if status == 200:
        assert len(response.json()) == limit
    else:
        assert set(response.json()) >= {"message", "statusCode"}
        assert response.json()["statusCode"] == 400


async def test_one_bad_timestamp_costs_that_field_not_the_list():
    body = [run_json(1), run_json(2, createdAt="2025-12-08T...", finishedAt="17 o'clock")]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/steps"):
            return httpx.Response(200, json=[{"id": "s1", "step": "build", "order": 1,
                                              "status": "finished", "result": "passed",
                                              "startedAt": "not a time", "message": " ok \n",
                                              "phase": "main"}])
        return httpx.Response(200, json=body if request.url.path == "/api/v3/runs"
                              else run_json(1))

    provider = mock_provider(handler)
    runs = {r.id: r for r in await provider.list_runs()}
    assert set(runs) == {"r1", "r2"}
    assert (runs["r2"].created_at, runs["r2"].finished_at) == (None, None)
    [step] = (await provider.get_run("r1")).steps
    assert (step.started_at, step.message, step.status) == (None, "ok", RunStatus.PASSED)
    assert [(r.method, r.url.path) for r in seen] == [
        ("GET", "/api/v3/runs"), ("GET", "/api/v3/runs/r1"), ("GET", "/api/v3/runs/r1/steps")]
