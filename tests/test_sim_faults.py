"""The simulator's faults and control routes (clock, settle) over real HTTP, and what the HTTP
layer makes of the faults."""

from __future__ import annotations

import httpx
import pytest

from runwatch.errors import BadResponse, RateLimited, RequestTimeout, ServerError, Unreachable
from runwatch.http import RetryPolicy, SourceClient
from runwatch.sim import Fault, demo_tokens
from runwatch.sim.app import SETTLE_S
from runwatch.sim.core import iso

TOKENS = demo_tokens()


def client(sim, provider: str = "conduct", timeout_s: float = 5.0) -> SourceClient:
    return SourceClient(source=provider, base_url=sim.base_url(provider),
                        token=f"sim-{provider}-token", retry=RetryPolicy.none(),
                        timeout_s=timeout_s)


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        (Fault(kind="500"), ServerError, "simulated internal error"),
        (Fault(kind="429", retry_after=9), RateLimited, "rate limit exceeded"),
        (Fault(kind="html"), BadResponse, "returned text/html, not the expected JSON"),
        (Fault(kind="truncated"), BadResponse, "not the expected JSON"),
        (Fault(kind="refuse"), Unreachable, "cannot reach 127.0.0.1"),
        (Fault(kind="hang", hang_s=3.0), RequestTimeout, "no answer from 127.0.0.1"),
    ],
)
async def test_each_fault_is_a_typed_error_naming_the_source(sim, fault, error, words):
    sim.sim.inject("conduct", fault)
    c = client(sim, timeout_s=1.0)  # the whole request: not so short that load trips it
    with pytest.raises(error) as caught:
        await c.get_json("/v1/runs")
    assert words in str(caught.value)
    assert str(caught.value).startswith("conduct: ")
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 9.0
    await c.aclose()


async def test_a_fault_for_n_requests_then_recovery(sim):
    sim.sim.inject("conduct", Fault(kind="500", times=1))
    c = client(sim)
    with pytest.raises(ServerError):
        await c.get_json("/v1/runs")
    assert isinstance(await c.get_json("/v1/runs"), dict)
    await c.aclose()


async def test_faults_and_clock_are_controlled_over_http(sim):
    async with httpx.AsyncClient(base_url=sim.url) as http:
        answer = await http.put("/_sim/faults/wercker", json={"kind": "429", "retry_after": 3})
        assert answer.json()["kind"] == "429"
        assert sim.sim.faults["wercker"].retry_after == 3
        before = sim.sim.now()
        answer = await http.post("/_sim/clock/advance", json={"seconds": 60})
        assert answer.json()["now"] == before + 60
        assert (await http.put("/_sim/faults/nope", json={})).status_code == 404
        await http.delete("/_sim/faults")
    assert sim.sim.faults["wercker"].kind == "none"
    assert sim.sim.requests == []  # control requests are not API traffic


async def test_the_requests_seen_are_read_over_http_without_their_headers(sim):
    c = client(sim)
    await c.get_json("/v1/runs", {"limit": 3})
    async with httpx.AsyncClient(base_url=sim.url) as http:
        seen = (await http.get("/_sim/requests")).json()
        assert seen["count"] == 1
        assert seen["requests"] == [{"provider": "conduct", "method": "GET", "path": "/v1/runs",
                                     "query": "limit=3", "body": ""}]
        later = (await http.get("/_sim/requests", params={"since": 1})).json()
    assert later == {"count": 1, "requests": []}
    await c.aclose()


async def test_a_server_that_goes_away_and_comes_back(sim):
    from runwatch.sim.server import ThreadedServer

    server = ThreadedServer(sim.sim.app).start()
    port = server.port
    c = SourceClient(source="conduct", base_url=f"{server.url}/conduct",
                     token="sim-conduct-token", retry=RetryPolicy.none())
    assert isinstance(await c.get_json("/v1/runs"), dict)
    server.stop()
    with pytest.raises(Unreachable, match="connection refused"):
        await c.get_json("/v1/runs", {"limit": 1})
    back = ThreadedServer(sim.sim.app, port=port).start()
    try:
        assert isinstance(await c.get_json("/v1/runs", {"limit": 2}), dict)
    finally:
        await c.aclose()
        back.stop()


async def test_settle_over_http_moves_the_clock_as_asked_and_zero_means_zero(sim):
    world = sim.sim
    future = sum(1 for run in world.apis["services"].runs
                 if run.script.created_at > world.clock.wall())
    async with httpx.AsyncClient(base_url=sim.url) as http:
        before = world.now()
        zero = await http.post("/_sim/settle", json={"seconds": 0})
        assert zero.status_code == 200 and zero.json()["now"] == before
        assert zero.json()["deleted"] >= future > 0  # still settled: nothing dated ahead
        assert (await http.post("/_sim/settle", json={"seconds": 90})).json()["now"] == before + 90
        default = await http.post("/_sim/settle")
        assert default.json() == {"now": before + 90 + SETTLE_S, "deleted": 0}
        null = await http.post("/_sim/settle", json={"seconds": None})
        assert null.json()["now"] == before + 90 + 2 * SETTLE_S


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"seconds": -1}', "seconds must be from 0 to 315360000 (a decade), not -1"),
        (b'{"seconds": NaN}', "not NaN"),
        (b'{"seconds": Infinity}', "not Infinity"),
        (b'{"seconds": 1e12}', "not 1000000000000.0"),
        (b'{"seconds": "60"}', 'seconds must be a number, not "60"'),
        (b'{"seconds": true}', "seconds must be a number, not true"),
        (b"[60]", "the body must be a JSON object"),
        (b"{seconds: 60}", "the body must be JSON"),
    ],
)
async def test_settle_refuses_what_is_not_a_sensible_number_of_seconds(sim, body, words):
    before = sim.sim.now()
    async with httpx.AsyncClient(base_url=sim.url) as http:
        answer = await http.post("/_sim/settle", content=body)

    assert answer.status_code == 400
    assert words in answer.json()["error"]
    assert sim.sim.now() == before


async def test_settle_deletes_the_runs_dated_ahead_in_every_api(sim):
    world = sim.sim
    wall = world.clock.wall()
    ahead = {name: [s for s in api.run_scripts() if s.created_at > wall]
             for name, api in world.apis.items()}
    assert sorted(name for name, scripts in ahead.items() if scripts) == sorted(world.apis)

    async with httpx.AsyncClient(base_url=sim.url) as http:
        settled = (await http.post("/_sim/settle", json={"seconds": 0})).json()
        listed = (await http.get("/services/api/runs",
                                 headers={"Authorization": f"Bearer {TOKENS['services']}"})).json()

    assert settled["deleted"] == sum(map(len, ahead.values()))
    assert all(script.deleted for scripts in ahead.values() for script in scripts)
    assert listed and max(run["createdAt"] for run in listed) <= iso(wall)
