"""The contract every provider keeps, one test per kind of behaviour, parametrized over the five
APIs: the list, the detail, each mutating action (on a LIVE simulator clock, over real HTTP),
each API's real error envelope, and each fault, with the exact requests asserted.

Provider-specific behaviour (paging, shapes, status tables) stays in test_provider_<api>.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from conftest import SCOPES, SimHandle
from runwatch.config import SourceConfig
from runwatch.errors import (
    ApiError,
    AuthError,
    BadResponse,
    Conflict,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    Unreachable,
)
from runwatch.http import RetryPolicy
from runwatch.models import Run, RunStatus
from runwatch.providers import Provider, RunAction, build_provider
from runwatch.session import Refused, Session
from runwatch.sim import Fault, SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.core import RecordedRequest

PROVIDERS = ("services", "wercker", "currents", "conduct", "scheduler")
Request = tuple[str, str, str]  # method, path below the provider's prefix, query


@dataclass(frozen=True)
class Api:
    """What one API's provider sends, as the real server wants it."""

    list_requests: list[Request]  # of a list of 24 runs
    detail_requests: Callable[[str], list[Request]]
    # action -> the requests it sends for run `id` (after a list)
    actions: dict[RunAction, Callable[[str], list[Request]]]
    # action -> the JSON body of its last request (None: no body)
    bodies: dict[RunAction, Callable[[dict[str, Any]], object]] = field(default_factory=dict)
    # What a canceled run reads afterwards (services has no canceled status).
    canceled: RunStatus = RunStatus.CANCELED
    verbs: dict[RunAction, str] = field(default_factory=dict)


def _get(path: str, query: str = "") -> Request:
    return ("GET", path, query)


APIS: dict[str, Api] = {
    "services": Api(
        list_requests=[_get("/api/runs")],
        detail_requests=lambda i: [_get(f"/api/runs/{i}"), _get("/api/stages", f"runId={i}")],
        actions={
            RunAction.CANCEL: lambda i: [("POST", f"/api/runs/{i}/stop", "")],
            RunAction.RERUN: lambda i: [_get(f"/api/runs/{i}"),
                                     ("POST", f"/api/runs/{i}/rerun", "")],
            RunAction.DELETE: lambda i: [("DELETE", f"/api/runs/{i}", "")],
        },
        # The run back exactly as the server sent it.
        bodies={RunAction.RERUN: lambda served: {"data": served}},
        canceled=RunStatus.FAILED,
    ),
    "wercker": Api(
        # At most 20 a page: the second, short page is the last. The pages after the first
        # go together (`skip` says where each starts), so the third is asked for too.
        list_requests=[_get("/api/v3/runs", "pipelineId=pipeline-1&limit=20"),
                       _get("/api/v3/runs", "pipelineId=pipeline-1&limit=20&skip=20"),
                       _get("/api/v3/runs", "pipelineId=pipeline-1&limit=10&skip=40")],
        detail_requests=lambda i: [_get(f"/api/v3/runs/{i}"), _get(f"/api/v3/runs/{i}/steps")],
        actions={
            RunAction.CANCEL: lambda i: [("PUT", f"/api/v3/runs/{i}/abort", "")],
            RunAction.RERUN: lambda i: [_get(f"/api/v3/runs/{i}"), ("POST", "/api/v3/runs", "")],
        },
        bodies={RunAction.CANCEL: lambda _served: {},
                RunAction.RERUN: lambda served: {
                    "pipelineId": served["pipeline"]["id"], "branch": served["branch"],
                    "commitHash": served["commitHash"], "message": served["message"]}},
        verbs={RunAction.CANCEL: "abort"},
    ),
    "currents": Api(
        list_requests=[_get("/v1/projects/proj-1/runs", "limit=50")],
        detail_requests=lambda i: [_get(f"/v1/runs/{i}")],
        actions={
            RunAction.CANCEL: lambda i: [("PUT", f"/v1/runs/{i}/cancel", "")],
            RunAction.DELETE: lambda i: [("DELETE", f"/v1/runs/{i}", "")],
        },
    ),
    "conduct": Api(
        list_requests=[_get("/v1/runs", "limit=50")],
        detail_requests=lambda i: [_get(f"/v1/runs/{i}"), _get("/v1/checks", f"runId={i}")],
        actions={RunAction.DELETE: lambda i: [("DELETE", f"/v1/runs/{i}", "")]},
    ),
    "scheduler": Api(
        # The list, then each workflow definition once (they are cached by hash).
        list_requests=[_get("/api/v1/runs", "limit=200")],
        bodies={RunAction.RERUN: lambda served: {"workflow": served["workflow"],
                                              "clientId": served["clientId"]}},
        detail_requests=lambda i: [_get(f"/api/v1/runs/{i}")],
        actions={
            RunAction.CANCEL: lambda i: [("POST", f"/api/v1/runs/{i}/cancel", "")],
            RunAction.RERUN: lambda i: [("POST", "/api/v1/runs", "")],
        },
    ),
}


def sent(sim: Simulator, provider: str) -> list[Request]:
    return [(r.method, r.path, r.query) for r in sim.requests_to(provider)]


def assert_headers(request: RecordedRequest, provider: str) -> None:
    assert request.headers["authorization"] == f"Bearer {demo_tokens()[provider]}"
    assert request.headers["accept"] == "application/json"


def without_definitions(requests: list[Request]) -> list[Request]:
    """The scheduler also fetches each workflow's definition, once per hash: not what a
    list or an action is about, and asserted by test_provider_scheduler.py."""
    return [r for r in requests if not r[1].endswith("/definition")]


@pytest.fixture
def live(sim_server) -> Iterator[SimHandle]:
    """A simulator whose clock runs (as in `runwatch demo` and `runwatch sim`), not frozen."""
    server, switch = sim_server
    simulator = Simulator(SimSettings(seed=7, tokens=dict(demo_tokens())), SimClock())
    switch.target = simulator
    yield SimHandle(simulator, server)
    switch.target = None


# -- list and detail ---------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_list_sends_the_documented_requests_and_maps_every_run(sim, provider):
    runs = await sim.provider(provider).list_runs()

    requests, expected = without_definitions(sent(sim.sim, provider)), APIS[provider].list_requests
    # Requests sent together arrive in either order; a cursor's pages come one after another.
    assert requests[0] == expected[0] and sorted(requests[1:]) == sorted(expected[1:])
    for request in sim.sim.requests_to(provider):
        assert_headers(request, provider)
    assert len(runs) == 24
    assert {(r.source, r.provider) for r in runs} == {(provider, provider)}
    assert [r.sort_time for r in runs] == sorted((r.sort_time for r in runs), reverse=True)
    assert {r.status for r in runs} & {RunStatus.PASSED, RunStatus.FAILED}
    assert any(r.status.is_active for r in runs)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_detail_sends_the_documented_requests(sim, provider):
    client = sim.provider(provider)
    run = next(r for r in await client.list_runs() if r.status is RunStatus.FAILED)
    sim.sim.requests.clear()

    detail = await client.get_run(run.id)

    assert without_definitions(sent(sim.sim, provider)) == APIS[provider].detail_requests(run.id)
    assert (detail.id, detail.source, detail.status) == (run.id, provider, RunStatus.FAILED)
    assert detail.steps or detail.specs


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_unknown_run_is_not_found(sim, provider):
    with pytest.raises(NotFound):
        await sim.provider(provider).get_run("no-such-run")


# -- every mutating action, on a live clock -------------------------------------------------------

ACTIONS = [(p, a) for p in PROVIDERS for a in APIS[p].actions]


async def _served(sim: SimHandle, provider: str, run_id: str) -> dict[str, Any]:
    """The run as the server sends it (for the scheduler: what a rerun is made of)."""
    path = APIS[provider].detail_requests(run_id)[0][1]
    headers = {"Authorization": f"Bearer {demo_tokens()[provider]}"}
    async with httpx.AsyncClient(base_url=sim.base_url(provider), headers=headers) as raw:
        body = (await raw.get(path)).json()
        if provider == "scheduler":
            definition = (await raw.get(f"{path}/definition")).json()
            return {"workflow": definition, "clientId": body.get("clientId")}
    return body


def _target(runs: list[Run], action: RunAction) -> Run:
    """The newest active run to cancel; the newest finished one to rerun or delete."""
    wanted = (lambda r: r.status.is_active) if action is RunAction.CANCEL else (
        lambda r: r.status.is_terminal)
    return next(r for r in runs if wanted(r))


@pytest.mark.parametrize(("provider", "action"), ACTIONS, ids=[f"{p}-{a}" for p, a in ACTIONS])
async def test_each_action_on_a_live_clock_sends_exactly_its_requests(live, provider, action):
    client = live.provider(provider)
    runs = await client.list_runs()
    target = _target(runs, action)
    served = await _served(live, provider, target.id)
    live.sim.requests.clear()

    outcome = await getattr(client, action.value)(target.id)

    api = APIS[provider]
    assert without_definitions(sent(live.sim, provider)) == api.actions[action](target.id)
    for request in live.sim.requests_to(provider):
        assert_headers(request, provider)
    last = live.sim.requests_to(provider)[-1]
    assert last.json() == (api.bodies[action](served) if action in api.bodies else None)
    if provider == "scheduler" and action is RunAction.RERUN:
        assert 0 < len(last.headers["idempotency-key"]) <= 64
    after = await client.list_runs()
    if action is RunAction.CANCEL:
        detail = await client.get_run(target.id)
        assert detail.status is api.canceled and detail.finished_at is not None
        if provider == "services":  # it says what its stop answered, not "canceled"
            assert outcome == f"stop sent for run {target.id}: 1 execution stopped" or (
                outcome == f"stop sent for run {target.id}: nothing was running"
                and target.status is RunStatus.QUEUED)
        else:
            assert outcome is None
    elif action is RunAction.RERUN:
        assert isinstance(outcome, Run) and outcome.id != target.id
        # The new run is there at once, on the next poll (services only said its id).
        assert outcome.id in {r.id for r in after}
    else:
        assert outcome is None
        assert target.id not in {r.id for r in after}
        with pytest.raises(NotFound):
            await client.get_run(target.id)


@pytest.mark.parametrize(("provider", "action"), ACTIONS, ids=[f"{p}-{a}" for p, a in ACTIONS])
async def test_read_only_refuses_each_action_before_any_request(sim, provider, action):
    # The gate is the session's (tests/test_session.py); the client's refusal is under it.
    client = sim.provider(provider, read_only=True)
    session = Session({provider: client})
    run = Run(source=provider, provider=provider, id="any-run", status=RunStatus.RUNNING,
              provider_status="running")
    with pytest.raises(Refused, match=f"^{provider} is read-only$"):
        await session.perform(action, run)
    assert sim.sim.requests_to(provider) == []
    assert session.refusal(action, run) == f"{provider} is read-only"
    assert client.verb(action) == APIS[provider].verbs.get(action, action.value)


# -- each API's real error envelope ---------------------------------------------------------------

Body = tuple[int, str, bytes]  # status, content type, body
JSON = "application/json"


def _json(status: int, body: Any) -> Body:
    return (status, JSON, json.dumps(body).encode())


# Errors as the real servers send them (DESIGN section 3), and the words runwatch must show.
ERRORS: dict[str, list[tuple[Body, type[ApiError], str]]] = {
    "services": [
        ((401, "text/plain; charset=utf-8", b"Authentication error"), AuthError,
         "Authentication error"),
        (_json(500, {"message": "Cannot read properties of undefined"}), ServerError,
         "Cannot read properties of undefined"),
        (_json(404, {"message": "Service not found"}), NotFound, "Service not found"),
    ],
    "wercker": [
        (_json(401, {"message": "Invalid token", "statusCode": 401}), AuthError, "Invalid token"),
        (_json(404, {"message": "pipeline not found", "statusCode": 404}), NotFound,
         "pipeline not found"),
        (_json(400, {"message": "limit must be less than or equal to 20", "statusCode": 400}),
         ApiError, "limit must be less than or equal to 20"),
    ],
    "currents": [
        (_json(401, {"status": "FAILED", "error": "Invalid API key provided"}), AuthError,
         "Invalid API key provided"),
        (_json(404, {"status": "FAILED", "error": "Project not found"}), NotFound,
         "Project not found"),
        (_json(422, {"status": "FAILED", "error": "Run is already cancelled"}), Conflict,
         "Run is already cancelled"),
    ],
    "conduct": [
        (_json(401, {"error": "Invalid or missing API key", "code": "UNAUTHORIZED"}), AuthError,
         "Invalid or missing API key"),
        (_json(400, {"error": "X-Project-ID header is required", "code": "VALIDATION_ERROR"}),
         ApiError, "X-Project-ID header is required"),
        (_json(429, {"error": "Too many requests", "code": "RATE_LIMITED"}), RateLimited,
         "Too many requests"),
    ],
    "scheduler": [
        (_json(401, {"detail": "Not authenticated"}), AuthError, "Not authenticated"),
        (_json(404, {"detail": {"error": "not_found", "message": "Run r1 not found"}}), NotFound,
         "Run r1 not found"),
        (_json(422, {"detail": [{"type": "less_than_equal", "loc": ["query", "limit"],
                                 "msg": "Input should be less than or equal to 200",
                                 "input": "500"}]}),
         Conflict, "Input should be less than or equal to 200"),
        (_json(409, {"error": "conflict", "message": "Run already finished"}), Conflict,
         "Run already finished"),
    ],
}
ERROR_CASES = [(p, *case) for p in PROVIDERS for case in ERRORS[p]]


def mocked(provider: str, body: Body) -> tuple[Provider, list[httpx.Request]]:
    calls: list[httpx.Request] = []
    status, kind, content = body

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, content=content, headers={"content-type": kind})

    source = SourceConfig(name="ci", provider=provider, base_url="https://api.example.com",
                          **SCOPES[provider])
    client = build_provider(source, token="t0k", retry=RetryPolicy.none(),
                            transport=httpx.MockTransport(answer))
    return client, calls


@pytest.mark.parametrize(("provider", "body", "error", "words"), ERROR_CASES,
                         ids=[f"{p}-{b[0]}" for p, b, _, _ in ERROR_CASES])
async def test_each_real_error_envelope_is_a_typed_error_with_the_servers_words(
        provider, body, error, words):
    client, calls = mocked(provider, body)
    with pytest.raises(error) as caught:
        await client.list_runs()
    message = str(caught.value)
    assert message.startswith("ci: ") and words in message
    assert "t0k" not in message
    assert caught.value.status_code == body[0]
    assert len(calls) == 1  # an error is not retried without a retry policy


def _words(body: bytes) -> set[str]:
    """Every string in a JSON body, or the body itself when it is text."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return {body.decode().strip()}
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(parsed)
    return found


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_simulators_own_401_is_an_auth_error_with_its_words(sim, provider):
    path = APIS[provider].list_requests[0][1]
    async with httpx.AsyncClient(base_url=sim.base_url(provider)) as raw:
        denied = await raw.get(path, headers={"Authorization": "Bearer wrong-token"})
    assert denied.status_code == 401

    with pytest.raises(AuthError) as caught:
        await sim.provider(provider, token="wrong-token").list_runs()
    message = str(caught.value)
    assert message.startswith(f"{provider}: token rejected")
    assert "wrong-token" not in message
    assert any(word in message for word in _words(denied.content) if len(word) > 8)
    assert sim.sim.requests_to(provider)[-1].headers["authorization"] == "Bearer wrong-token"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_no_token_is_an_auth_error_and_no_authorization_is_sent(sim, provider):
    with pytest.raises(AuthError, match=f"^{provider}: no token configured"):
        await sim.provider(provider, token="").list_runs()
    assert "authorization" not in sim.sim.requests_to(provider)[0].headers


# -- each fault -----------------------------------------------------------------------------------

FAULTS = [
    (Fault(kind="500"), ServerError, "simulated internal error"),
    (Fault(kind="429", retry_after=7), RateLimited, "rate limit exceeded"),
    (Fault(kind="html"), BadResponse, "returned text/html, not the expected JSON"),
    (Fault(kind="truncated"), BadResponse, "not the expected JSON"),
    (Fault(kind="hang", hang_s=2.0), RequestTimeout, "no answer from 127.0.0.1"),
    (Fault(kind="refuse"), Unreachable, "cannot reach 127.0.0.1"),
]
FAULT_CASES = [(p, *f) for p in PROVIDERS for f in FAULTS]


def fast(sim: SimHandle, provider: str, timeout_s: float = 0.3, **options: Any) -> Provider:
    """A provider that gives up on a hung request in a fraction of a second."""
    return build_provider(sim.source(provider), timeout_s=timeout_s,
                          token=demo_tokens()[provider],
                          retry=options.pop("retry", RetryPolicy(attempts=1)), **options)


@pytest.mark.parametrize(("provider", "fault", "error", "words"), FAULT_CASES,
                         ids=[f"{p}-{f.kind}" for p, f, _, _ in FAULT_CASES])
async def test_each_fault_is_a_typed_error_naming_the_source_and_path(
        sim, provider, fault, error, words):
    sim.sim.inject(provider, fault)
    # Only the hang needs the short deadline; under a loaded CI a 0.3 s deadline also ran
    # out while a refused request was still connecting (a RequestTimeout, not Unreachable).
    timeout_s = 0.3 if fault.kind == "hang" else 10.0
    with pytest.raises(error) as caught:
        await fast(sim, provider, timeout_s=timeout_s).list_runs()
    message = str(caught.value)
    assert message.startswith(f"{provider}: ") and words in message
    first = APIS[provider].list_requests[0]
    if error is BadResponse:
        assert message.startswith(f"{provider}: {first[1]} returned")
    if error is RateLimited:
        assert caught.value.retry_after == 7.0
    assert sent(sim.sim, provider) == [first]  # one try, no retry policy


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_429_is_retried_after_the_wait_the_server_asked_for(sim, provider):
    sim.sim.inject(provider, Fault(kind="429", retry_after=2, times=1))
    client = fast(sim, provider, retry=RetryPolicy(attempts=2))
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    client.client.sleep = no_sleep
    runs = await client.list_runs()

    assert waits == [2.0] and len(runs) == 24
    first = APIS[provider].list_requests[0]
    assert without_definitions(sent(sim.sim, provider))[:2] == [first, first]
