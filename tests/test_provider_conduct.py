"""Conduct: the provider against the simulator over real HTTP, odd bodies through a mock
transport, and the simulator's own endpoints (create, update, link features, errors)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from runwatch.config import SourceConfig
from runwatch.errors import (
    ApiError,
    BadResponse,
    ConfigError,
    NotFound,
    ReadOnlyError,
    Unsupported,
)
from runwatch.http import RetryPolicy, SourceClient
from runwatch.models import Run, RunStatus, Step
from runwatch.providers import RunAction
from runwatch.providers.conduct import ConductProvider, first_heading, run_title
from runwatch.session import Session
from runwatch.sim import SimClock, SimSettings, Simulator
from runwatch.sim import conduct as sim_conduct
from runwatch.sim.core import iso

TOKEN = "sim-conduct-token"


def stamp(ts: float | None) -> datetime | None:
    """A simulator timestamp as the provider parses it (the wire has milliseconds)."""
    text = iso(ts)
    return None if text is None else datetime.fromisoformat(text)


def api(sim) -> sim_conduct.SimulatedApi:
    return sim.sim.apis["conduct"]


def requests(sim, method: str | None = None):
    return sim.sim.requests_to("conduct", method)


def assert_headers(request) -> None:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/json"


def query(request) -> dict[str, list[str]]:
    return parse_qs(request.query, keep_blank_values=True)


async def raw_client(sim, token: str | None = TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=sim.base_url("conduct"), headers=headers)


# -- listing ---------------------------------------------------------------------------------


async def test_list_runs_sends_one_documented_request_and_maps_every_run(sim):
    provider = sim.provider("conduct")
    runs = await provider.list_runs()

    [request] = requests(sim)
    assert (request.method, request.path, request.query) == ("GET", "/v1/runs", "limit=50")
    assert_headers(request)

    assert [r.id for r in runs] == [f"RUN-{n:03d}" for n in range(24, 0, -1)]
    newest = api(sim).record("RUN-024")
    assert runs[0] == Run(
        source="conduct",
        provider="conduct",
        id="RUN-024",
        status=RunStatus.RUNNING,
        provider_status="in_progress",
        title=newest.spec_id,  # list items carry no content, so no heading
        created_at=stamp(newest.script.created_at),
        url=f"{sim.base_url('conduct')}/v1/runs/RUN-024",
        pipeline=newest.spec_id,  # what repeats: the spec
    )
    assert {r.status for r in runs[1:]} <= {RunStatus.PASSED, RunStatus.FAILED}
    assert {r.provider_status for r in runs[1:]} == {"completed", "failed"}
    assert [r.created_at for r in runs] == sorted((r.created_at for r in runs), reverse=True)


async def test_spec_id_scopes_the_list(sim):
    spec = api(sim).record("RUN-024").spec_id
    runs = await sim.provider("conduct", spec_id=spec).list_runs()

    assert query(requests(sim)[0]) == {"specId": [spec], "limit": ["50"]}
    expected = [f"RUN-{n:03d}" for n in range(24, 0, -1)
                if api(sim).record(f"RUN-{n:03d}").spec_id == spec]
    assert 0 < len(runs) < 24
    assert [r.id for r in runs] == expected
    assert {r.title for r in runs} == {spec}


async def test_paging_follows_the_opaque_cursor_to_the_end(sim):
    provider = sim.provider("conduct")
    provider.page_size = 10
    runs = await provider.list_runs()

    sent = requests(sim)
    assert [query(r)["limit"] for r in sent] == [["10"], ["10"], ["10"]]
    assert "cursor" not in query(sent[0])
    async with await raw_client(sim) as client:
        first = (await client.get("/v1/runs", params={"limit": 10})).json()
    assert query(sent[1])["cursor"] == [first["meta"]["nextCursor"]]
    assert [r.id for r in runs] == [f"RUN-{n:03d}" for n in range(24, 0, -1)]


async def test_paging_stops_at_the_limit(sim):
    provider = sim.provider("conduct", limit=15)
    provider.page_size = 10
    runs = await provider.list_runs()

    assert [query(r)["limit"] for r in requests(sim)] == [["10"], ["5"]]
    assert [r.id for r in runs] == [f"RUN-{n:03d}" for n in range(24, 9, -1)]


async def test_an_unchanged_list_is_not_mapped_again(sim):
    provider = sim.provider("conduct")
    first = await provider.list_runs()
    second = await provider.list_runs()
    assert second[0] is first[0]  # same body, same objects: nothing to re-render

    sim.sim.clock.advance(900)
    third = await provider.list_runs()
    assert third[0] is not first[0]
    assert third[0].id == "RUN-027"  # runs that were in the future have arrived


async def test_runs_progress_with_the_clock(sim):
    provider = sim.provider("conduct")
    before = await provider.get_run("RUN-024")
    assert before.status is RunStatus.RUNNING
    assert before.steps == []  # a check is recorded once it has a result
    assert before.finished_at is None

    sim.sim.clock.advance(600)
    after = await provider.get_run("RUN-024")
    assert after.status in (RunStatus.PASSED, RunStatus.FAILED)
    assert {s.status for s in after.steps} <= {RunStatus.PASSED, RunStatus.FAILED}
    assert len(after.steps) > 1
    assert after.finished_at == after.steps[-1].finished_at
    assert after.duration_s == pytest.approx(
        (after.finished_at - after.started_at).total_seconds()
    )


# -- one run ---------------------------------------------------------------------------------


def finished_run_with_a_warning(sim) -> sim_conduct.SimRun:
    now = sim.sim.now()
    for n in range(23, 0, -1):
        record = api(sim).record(f"RUN-{n:03d}")
        if record.status_at(now) == "completed" and record.warns:
            return record
    raise AssertionError("seed 7 should have a completed run with a warning")


async def test_get_run_reads_the_run_and_its_checks(sim):
    record = finished_run_with_a_warning(sim)
    run_id = record.run_id
    detail = await sim.provider("conduct").get_run(run_id)

    first, second = requests(sim)
    assert (first.method, first.path, first.query) == ("GET", f"/v1/runs/{run_id}", "")
    assert (second.method, second.path, second.query) == ("GET", "/v1/checks", f"runId={run_id}")
    assert_headers(first)
    assert_headers(second)

    script = record.script
    async with await raw_client(sim) as client:
        served = (await client.get("/v1/checks", params={"runId": run_id})).json()
    assert all(set(c) == {"id", "checkId", "runId", "result", "createdAt"}
               for c in served["checks"])
    assert detail.id == run_id
    assert detail.status is RunStatus.PASSED
    assert detail.provider_status == "completed"
    assert detail.title.startswith(f"{record.spec_id}: ")
    assert detail.content.startswith(f"# {detail.title.partition(': ')[2]}\n")
    assert detail.created_at == stamp(script.created_at)
    assert detail.finished_at == stamp(script.planned_end)
    # Steps are named by checkId and timed by createdAt, the moment each was recorded.
    assert [s.name for s in detail.steps] == [c["checkId"] for c in served["checks"]]
    assert [s.name for s in detail.steps] == [f"{run_id}-{n}" for n in sim_conduct.CHECK_NAMES]
    assert [s.id for s in detail.steps] == [s.name for s in detail.steps]
    assert [s.order for s in detail.steps] == [0, 1, 2, 3, 4]
    assert {s.status for s in detail.steps} == {RunStatus.PASSED}
    warned = [s for s in detail.steps if s.provider_status == "warn"]
    assert [s.order for s in warned] == sorted(record.warns)
    step = detail.steps[0]
    recorded = stamp(script.started_at + script.steps[0].end_s)
    assert (step.started_at, step.finished_at) == (recorded, recorded)
    assert detail.started_at == recorded  # the first check stands in for a start
    assert step.log_available is True


async def test_a_failed_check_fails_its_step_and_stops_the_rest(sim):
    now = sim.sim.now()
    record = next(r for n in range(23, 0, -1)
                  if (r := api(sim).record(f"RUN-{n:03d}")).status_at(now) == "failed")
    detail = await sim.provider("conduct").get_run(record.run_id)

    failing = next(i for i, s in enumerate(record.script.steps) if s.fails)
    assert detail.status is RunStatus.FAILED
    assert len(detail.steps) == failing + 1  # later checks never started
    assert detail.steps[-1].status is RunStatus.FAILED
    assert detail.steps[-1].provider_status == "fail"


async def test_opening_a_check_fetches_its_text(sim):
    now = sim.sim.now()
    record = next(r for n in range(23, 0, -1)
                  if (r := api(sim).record(f"RUN-{n:03d}")).status_at(now) == "failed")
    provider = sim.provider("conduct")
    detail = await provider.get_run(record.run_id)
    assert provider.has_logs
    sim.sim.requests.clear()

    text = await provider.get_log(record.run_id, detail.steps[-1])

    [request] = requests(sim)
    assert (request.method, request.path, request.query) == (
        "GET", f"/v1/checks/{detail.steps[-1].id}", "")
    assert_headers(request)
    failing = sim_conduct.CHECK_NAMES[len(detail.steps) - 1]
    assert text.startswith(f"# {failing}\n\nResult: fail\n")
    assert "assertion 1 failed" in text
    async with await raw_client(sim) as client:
        body = (await client.get(f"/v1/checks/{detail.steps[-1].id}")).json()
    assert set(body["check"]) == {"id", "checkId", "runId", "result", "createdAt", "content"}
    assert body["check"]["content"] == text


async def test_unknown_run_is_not_found_with_the_apis_message(sim):
    with pytest.raises(NotFound) as caught:
        await sim.provider("conduct").get_run("RUN-999")
    assert "RUN-999" in str(caught.value)
    assert "Run not found" in str(caught.value)
    assert len(requests(sim)) == 1  # no checks asked for a run that is not there


async def test_run_ids_are_quoted_into_the_path(sim):
    with pytest.raises(NotFound) as caught:
        await sim.provider("conduct").get_run("../checks?runId=RUN-001")
    assert "/v1/runs/..%2Fchecks%3FrunId%3DRUN-001" in str(caught.value)
    [request] = requests(sim)  # one path segment, decoded by the server: not /v1/checks
    assert (request.path, request.query) == ("/v1/runs/../checks?runId=RUN-001", "")


# -- actions ---------------------------------------------------------------------------------


async def test_delete_sends_delete_and_the_run_is_gone(sim):
    provider = sim.provider("conduct")
    await provider.delete("RUN-020")

    [request] = requests(sim, "DELETE")
    assert request.path == "/v1/runs/RUN-020"
    assert request.body == b""
    assert_headers(request)
    assert "RUN-020" not in [r.id for r in await provider.list_runs()]
    with pytest.raises(NotFound):
        await provider.get_run("RUN-020")


async def test_deleting_an_unknown_run_is_not_found(sim):
    with pytest.raises(NotFound, match="Run not found"):
        await sim.provider("conduct").delete("RUN-404")


async def test_cancel_and_rerun_are_unsupported_and_send_nothing(sim):
    provider = sim.provider("conduct")
    assert provider.actions == frozenset({RunAction.DELETE})
    session = Session({"conduct": provider})
    assert session.refusal(RunAction.CANCEL, source="conduct") == "conduct has no cancel"
    assert session.refusal(RunAction.RERUN, source="conduct") == "conduct has no rerun"
    assert session.refusal(RunAction.DELETE, source="conduct") is None
    with pytest.raises(Unsupported):
        await provider.cancel("RUN-024")
    with pytest.raises(Unsupported):
        await provider.rerun("RUN-024")
    assert requests(sim) == []


async def test_read_only_refuses_delete_before_any_request(sim):
    provider = sim.provider("conduct", read_only=True)
    assert Session({"conduct": provider}).refusal(RunAction.DELETE, source="conduct") == (
        "conduct is read-only")
    with pytest.raises(ReadOnlyError):
        await provider.delete("RUN-020")
    assert requests(sim) == []
    assert api(sim).record("RUN-020").script.deleted is False


# -- X-Project-ID ----------------------------------------------------------------------------


async def test_a_project_id_goes_in_x_project_id_on_every_request(sim):
    sim.sim.settings.conduct_project = "proj-7"
    provider = sim.provider("conduct", project_id="proj-7")
    runs = await provider.list_runs()
    detail = await provider.get_run(runs[3].id)
    await provider.get_log(runs[3].id, detail.steps[0])
    await provider.delete(runs[3].id)

    sent = requests(sim)
    assert [(r.method, r.path) for r in sent] == [
        ("GET", "/v1/runs"), ("GET", f"/v1/runs/{runs[3].id}"), ("GET", "/v1/checks"),
        ("GET", f"/v1/checks/{detail.steps[0].id}"), ("DELETE", f"/v1/runs/{runs[3].id}")]
    assert {r.headers.get("x-project-id") for r in sent} == {"proj-7"}


async def test_without_a_project_id_no_header_is_sent(sim):
    await sim.provider("conduct").list_runs()
    assert "x-project-id" not in requests(sim)[0].headers


async def test_the_simulator_wants_the_project_it_was_given(sim):
    sim.sim.settings.conduct_project = "proj-7"
    with pytest.raises(ApiError, match="X-Project-ID header is required") as missing:
        await sim.provider("conduct").list_runs()
    assert missing.value.status_code == 400
    with pytest.raises(NotFound, match="Project not found"):
        await sim.provider("conduct", project_id="proj-8").list_runs()
    async with await raw_client(sim) as client:
        answer = await client.get("/v1/runs", headers={"X-Project-ID": "proj-8"})
    assert answer.json() == {"error": "Project not found", "code": "NOT_FOUND"}


@pytest.mark.parametrize("project", ["prój", "a\r\nX-Evil: 1"])
async def test_a_project_id_that_cannot_be_a_header_is_a_config_error_before_any_request(
        sim, project):
    provider = sim.provider("conduct", project_id=project)
    with pytest.raises(ConfigError, match=r"conduct: project_id .* cannot be sent"):
        await provider.list_runs()
    assert requests(sim) == []


# -- odd bodies (mock transport) ---------------------------------------------------------------

MOCK_URL = "https://conduct.example.com/conduct"

Handler = Callable[[httpx.Request], httpx.Response]


def mock_provider(handler: Handler, *, limit: int = 50) -> tuple[ConductProvider, list]:
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    source = SourceConfig(name="mock", provider="conduct", base_url=MOCK_URL)
    client = SourceClient(source="mock", base_url=MOCK_URL, token="sk_test",
                          transport=httpx.MockTransport(record), retry=RetryPolicy.none())
    return ConductProvider(source, client, limit=limit), calls


def answering(body: Any, status: int = 200) -> Handler:
    content = json.dumps(body).encode()  # `json=None` would send an empty body, not null
    return lambda _request: httpx.Response(status, content=content)


def item(n: int, **extra: Any) -> dict[str, Any]:
    created = f"2026-01-01T00:{n % 60:02d}:00.000Z"
    return {"id": n, "runId": f"RUN-{n:03d}", "specId": "AUTH-001", "status": "completed",
            "createdAt": created, **extra}


async def test_the_data_envelope_is_accepted_too():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/checks"):
            return httpx.Response(200, json={"data": [{"id": 1, "checkId": "unit",
                                                       "result": "pass"}]})
        if request.url.path.endswith("/RUN-001"):
            return httpx.Response(200, json={"data": item(1, content="# Log\n")})
        return httpx.Response(200, json={"data": [item(1)], "meta": {"hasMore": False}})

    provider, _ = mock_provider(handler)
    assert [r.id for r in await provider.list_runs()] == ["RUN-001"]
    detail = await provider.get_run("RUN-001")
    assert detail.title == "AUTH-001: Log"
    assert [(s.name, s.status) for s in detail.steps] == [("unit", RunStatus.PASSED)]


@pytest.mark.parametrize(
    ("raw", "status"),
    [("pending", RunStatus.QUEUED), ("in_progress", RunStatus.RUNNING),
     ("completed", RunStatus.PASSED), ("failed", RunStatus.FAILED),
     ("COMPLETED", RunStatus.PASSED), ("archived", RunStatus.UNKNOWN)],
)
async def test_status_mapping(raw, status):
    provider, _ = mock_provider(answering({"runs": [item(1, status=raw, updatedAt=
                                                        "2026-01-01T00:05:00Z")]}))
    [run] = await provider.list_runs()
    assert run.status is status
    assert run.provider_status == raw
    # updatedAt stands in for the end of a finished run only
    assert (run.finished_at is not None) is status.is_terminal


async def test_missing_optional_fields_and_extra_fields_are_fine():
    body = {"runs": [{"runId": "RUN-1"}, {"id": 7, "agent": {"name": "claude"}, "status": None,
                                          "createdAt": "2025-12-08T..."}],
            "meta": {"hasMore": False, "total": 2}}
    provider, _ = mock_provider(answering(body))
    first, second = await provider.list_runs()
    assert (first.id, first.status, first.provider_status) == ("RUN-1", RunStatus.UNKNOWN, "")
    assert (first.title, first.created_at, first.url) == (None, None, f"{MOCK_URL}/v1/runs/RUN-1")
    assert second.id == "7"  # no runId: the numeric id stands in
    assert second.created_at is None  # the docs' own "2025-12-08T..." does not parse


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"runs": {"id": 1}}, "runs"),
        ({"runs": [None]}, "runs.0"),
        ({"runs": [{"specId": "AUTH-001"}]}, "without runId or id"),
        ({"meta": {"hasMore": False}}, "expected 'runs'"),
        ([item(1)], "body"),
        ({"runs": [], "meta": "none"}, "meta"),
    ],
)
async def test_a_list_of_the_wrong_shape_is_a_bad_response(body, words):
    provider, _ = mock_provider(answering(body))
    with pytest.raises(BadResponse) as caught:
        await provider.list_runs()
    message = str(caught.value)
    assert message.startswith("mock: /v1/runs returned an unexpected shape")
    assert words in message


@pytest.mark.parametrize("body", [{"run": None}, {"run": []}, None, "RUN-001"])
async def test_a_run_of_the_wrong_shape_is_a_bad_response(body):
    provider, _ = mock_provider(answering(body))
    with pytest.raises(BadResponse, match=r"^mock: /v1/runs/RUN-001 returned an unexpected"):
        await provider.get_run("RUN-001")


async def test_checks_of_the_wrong_shape_are_a_bad_response():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/checks"):
            return httpx.Response(200, json={"checks": [None]})
        return httpx.Response(200, json={"run": item(1)})

    provider, _ = mock_provider(handler)
    with pytest.raises(BadResponse, match=r"^mock: /v1/checks returned an unexpected"):
        await provider.get_run("RUN-001")


async def test_checks_in_the_real_shape_map_and_order_by_when_they_were_recorded():
    checks = [
        {"id": 3, "checkId": "CHK-3", "runId": "RUN-001", "result": "fail",
         "createdAt": "2026-01-01T00:00:30Z"},
        {"id": 1, "checkId": "CHK-1", "runId": "RUN-001", "result": "warn",
         "createdAt": "2026-01-01T00:00:10Z"},
        {"id": 4, "checkId": "CHK-4", "runId": "RUN-001", "result": "skipped",
         "createdAt": "2025-12-08T..."},  # the docs' own placeholder: costs the time only
        {"id": 2, "runId": "RUN-001", "result": "PASS", "createdAt": "2026-01-01T00:00:20"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/checks"):
            return httpx.Response(200, json={"checks": checks})
        return httpx.Response(200, json={"run": item(1, status="in_progress")})

    provider, _ = mock_provider(handler)
    detail = await provider.get_run("RUN-001")
    assert [(s.id, s.name, s.status, s.provider_status, s.log_available)
            for s in detail.steps] == [
        ("CHK-1", "CHK-1", RunStatus.PASSED, "warn", True),
        ("2", "check 2", RunStatus.PASSED, "PASS", False),  # no checkId: no text to fetch
        ("CHK-3", "CHK-3", RunStatus.FAILED, "fail", True),
        ("CHK-4", "CHK-4", RunStatus.UNKNOWN, "skipped", True),
    ]
    at = datetime(2026, 1, 1, 0, 0, 20, tzinfo=UTC)  # naive: taken as UTC
    assert (detail.steps[1].started_at, detail.steps[1].finished_at) == (at, at)
    assert detail.steps[3].started_at is None
    assert detail.started_at == datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert detail.finished_at is None


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"check": {"checkId": "CHK-1", "result": "pass", "content": "# lint\n\nok\n"}},
         "# lint\n\nok\n"),
        ({"data": {"checkId": "CHK-1", "content": "via data"}}, "via data"),
        ({"check": {"checkId": "CHK-1"}}, ""),
        ("plain text", "plain text"),
    ],
)
async def test_a_checks_text_in_its_shapes(body, text):
    provider, calls = mock_provider(answering(body))
    step = Step(id="CHK/1 x", name="CHK/1 x", order=0, status=RunStatus.PASSED)
    assert await provider.get_log("RUN-001", step) == text
    assert calls[0].url.raw_path == b"/conduct/v1/checks/CHK%2F1%20x"


async def test_a_checks_text_of_the_wrong_shape_is_a_bad_response():
    provider, _ = mock_provider(answering({"checks": []}))
    step = Step(id="CHK-1", name="CHK-1", order=0, status=RunStatus.PASSED)
    with pytest.raises(BadResponse, match=r"^mock: /v1/checks/CHK-1 returned an unexpected"):
        await provider.get_log("RUN-001", step)


async def test_a_server_without_checks_still_shows_the_run():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/checks"):
            return httpx.Response(404, json={"error": "Cannot GET /v1/checks"})
        return httpx.Response(200, json={"run": item(1, content="## Done")})

    provider, _ = mock_provider(handler)
    detail = await provider.get_run("RUN-001")
    assert detail.steps == []
    assert detail.content == "## Done"


async def test_a_cursor_that_never_ends_stops_at_the_limit():
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("cursor", "0"))
        runs = [item(page * 3 + k + 1) for k in range(3)]
        return httpx.Response(200, json={"runs": runs,
                                         "meta": {"hasMore": True, "nextCursor": str(page + 1)}})

    provider, calls = mock_provider(handler, limit=7)
    provider.page_size = 3
    runs = await provider.list_runs()
    assert [c.url.params.get("limit") for c in calls] == ["3", "3", "1"]
    assert len(runs) == 7
    assert len({r.id for r in runs}) == 7


async def test_a_cursor_that_repeats_or_pages_that_add_nothing_end_the_walk():
    repeated = {"runs": [item(1)], "meta": {"hasMore": True, "nextCursor": "same"}}
    provider, calls = mock_provider(answering(repeated))
    assert [r.id for r in await provider.list_runs()] == ["RUN-001"]
    assert len(calls) == 2  # the first page, then "same" once: it adds nothing new

    def fresh_cursor_same_runs(request: httpx.Request) -> httpx.Response:
        cursor = int(request.url.params.get("cursor", "0"))
        return httpx.Response(200, json={"runs": [item(1), item(2)],
                                         "meta": {"hasMore": True, "nextCursor": str(cursor + 1)}})

    provider, calls = mock_provider(fresh_cursor_same_runs)
    assert [r.id for r in await provider.list_runs()] == ["RUN-002", "RUN-001"]
    assert len(calls) == 2


async def test_has_more_without_a_cursor_is_the_last_page():
    provider, calls = mock_provider(answering({"runs": [item(1)], "meta": {"hasMore": True}}))
    assert len(await provider.list_runs()) == 1
    assert len(calls) == 1


async def test_duplicate_ids_across_pages_count_once():
    pages = {
        None: {"runs": [item(5), item(4)], "meta": {"hasMore": True, "nextCursor": "b"}},
        # a run arrived between the pages and pushed RUN-004 onto the second one
        "b": {"runs": [item(4), item(3)], "meta": {"hasMore": False}},
    }
    provider, _ = mock_provider(
        lambda r: httpx.Response(200, json=pages[r.url.params.get("cursor")])
    )
    assert [r.id for r in await provider.list_runs()] == ["RUN-005", "RUN-004", "RUN-003"]


async def test_the_apis_error_body_becomes_the_message():
    provider, _ = mock_provider(answering({"error": "limit must be at most 100"}, status=400))
    with pytest.raises(ApiError, match="limit must be at most 100") as caught:
        await provider.list_runs()
    assert caught.value.status_code == 400


def test_titles_come_from_the_spec_and_the_first_heading():
    assert first_heading("intro\n\n## Run Log ##\n# Later") == "Run Log"
    assert first_heading("    # indented code, not a heading") is None
    assert first_heading(None) is None
    assert run_title("AUTH-001", "# Implementation\n\nDone.") == "AUTH-001: Implementation"
    assert run_title("AUTH-001", "no heading") == "AUTH-001"
    assert run_title(None, "# Only a heading") == "Only a heading"
    assert run_title(None, None) is None


# -- the simulator's own endpoints -------------------------------------------------------------


async def test_create_then_update_then_link_features(sim):
    provider = sim.provider("conduct")
    async with await raw_client(sim) as client:
        created = await client.post("/v1/runs", json={
            "runId": "RUN-900", "specId": "AUTH-001", "status": "in_progress",
            "content": "# Implementation\n\nStarted."})
        assert created.status_code == 201
        now = iso(sim.sim.now())
        assert created.json() == {"run": {"id": 31, "runId": "RUN-900", "specId": "AUTH-001",
                                          "status": "in_progress", "createdAt": now,
                                          "updatedAt": now}}
        runs = await provider.list_runs()
        assert (runs[0].id, runs[0].status) == ("RUN-900", RunStatus.RUNNING)

        sim.sim.clock.advance(30)
        patched = await client.patch("/v1/runs/RUN-900", json={
            "status": "completed", "content": "# Authentication done\n"})
        assert patched.json() == {"run": {"id": 31, "runId": "RUN-900", "status": "completed",
                                          "updatedAt": iso(sim.sim.now())}}
        detail = await provider.get_run("RUN-900")
        assert detail.status is RunStatus.PASSED
        assert detail.title == "AUTH-001: Authentication done"
        assert detail.finished_at == stamp(sim.sim.now())
        assert detail.steps == []  # a recorded run has no checks of its own

        linked = await client.post("/v1/runs/RUN-900/features", json={"featureIds": [42, 43]})
        assert linked.json() == {"message": "Features linked successfully", "count": 2}
        assert api(sim).record("RUN-900").feature_ids == [42, 43]


async def test_patch_on_a_scripted_run_wins_over_its_script(sim):
    async with await raw_client(sim) as client:
        response = await client.patch("/v1/runs/RUN-024", json={"status": "failed"})
    assert response.status_code == 200
    sim.sim.clock.advance(900)
    assert (await sim.provider("conduct").get_run("RUN-024")).status is RunStatus.FAILED


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/v1/runs", {"specId": "AUTH-001"}, 400, "runId is required"),
        ("POST", "/v1/runs", {"runId": "RUN-901"}, 400, "specId is required"),
        ("POST", "/v1/runs", {"runId": "RUN-901", "specId": "A", "status": "done"}, 400,
         "status must be one of pending, in_progress, completed, failed"),
        ("POST", "/v1/runs", {"runId": "RUN-001", "specId": "A"}, 409,
         "Run RUN-001 already exists"),
        ("POST", "/v1/runs", [1], 400, "Request body must be a JSON object"),
        ("PATCH", "/v1/runs/RUN-001", {}, 400, "Nothing to update: give status or content"),
        ("PATCH", "/v1/runs/RUN-001", {"content": 5}, 400, "content must be a string"),
        ("PATCH", "/v1/runs/RUN-999", {"status": "failed"}, 404, "Run not found"),
        ("POST", "/v1/runs/RUN-001/features", {"featureIds": []}, 400,
         "featureIds must be a non-empty array of integers"),
        ("POST", "/v1/runs/RUN-001/features", {"featureIds": [1, True]}, 400,
         "featureIds must be a non-empty array of integers"),
        ("POST", "/v1/runs/RUN-999/features", {"featureIds": [1]}, 404, "Run not found"),
        ("DELETE", "/v1/runs/RUN-999", None, 404, "Run not found"),
        ("GET", "/v1/checks", None, 400, "runId is required"),
        ("GET", "/v1/checks?runId=RUN-999", None, 404, "Run not found"),
        ("GET", "/v1/checks/RUN-999-unit", None, 404, "Check not found"),
        ("GET", "/v1/checks/RUN-024-review", None, 404, "Check not found"),  # not recorded
        ("GET", "/v1/runs?limit=0", None, 400, "limit must be an integer between 1 and 100"),
        ("GET", "/v1/runs?limit=101", None, 400, "limit must be an integer between 1 and 100"),
        ("GET", "/v1/runs?limit=ten", None, 400, "limit must be an integer between 1 and 100"),
        ("GET", "/v1/runs?status=done", None, 400,
         "status must be one of pending, in_progress, completed, failed"),
        ("GET", "/v1/runs?cursor=not-a-cursor", None, 400, "Invalid cursor"),
        ("GET", "/v1/features", None, 404, "Not Found"),
        ("PUT", "/v1/runs/RUN-001", None, 405, "Method Not Allowed"),
    ],
)
async def test_the_simulator_answers_errors_in_the_apis_shape(sim, method, path, body, status,
                                                               error):
    async with await raw_client(sim) as client:
        response = await client.request(method, path, json=body)
    code = {400: "VALIDATION_ERROR", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
            409: "CONFLICT"}[status]
    assert (response.status_code, response.json()) == (status, {"error": error, "code": code})
    assert api(sim).record("RUN-001").script.deleted is False


async def test_the_simulator_wants_the_bearer_token(sim):
    async with await raw_client(sim, token=None) as client:
        response = await client.get("/v1/runs")
    assert (response.status_code, response.json()) == (
        401, {"error": "Invalid or missing API key", "code": "UNAUTHORIZED"})


async def test_the_status_filter_and_a_frozen_clock_give_identical_bodies(sim):
    async with await raw_client(sim) as client:
        failed = await client.get("/v1/runs", params={"status": "failed", "limit": 100})
        again = await client.get("/v1/runs", params={"status": "failed", "limit": 100})
    assert failed.content == again.content
    body = failed.json()
    assert body["meta"] == {"hasMore": False}
    assert body["runs"]
    assert {r["status"] for r in body["runs"]} == {"failed"}
    assert set(body["runs"][0]) == {"id", "runId", "specId", "status", "createdAt"}


async def test_a_page_among_thousands_of_runs_renders_only_that_page(monkeypatch):
    world = Simulator(SimSettings(seed=3, runs=3_000), SimClock(frozen=True))
    rendered: list[int] = []
    summary = sim_conduct._summary
    monkeypatch.setattr(sim_conduct, "_summary",
                        lambda run, now: rendered.append(run.id) or summary(run, now))
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim/conduct") as client:
        first = (await client.get("/v1/runs", params={"limit": 100})).json()
        second = (await client.get("/v1/runs", params={
            "limit": 100, "cursor": first["meta"]["nextCursor"]})).json()
    assert len(rendered) == 200
    assert [r["id"] for r in first["runs"] + second["runs"]] == list(range(3_000, 2_800, -1))
    assert second["meta"]["hasMore"] is True
