"""The URLs a source's client builds once and keeps: each (path, params) its own, exactly."""

from __future__ import annotations

from runwatch.http import RetryPolicy, SourceClient
from runwatch.sim import demo_tokens


async def test_params_that_join_to_the_same_text_are_two_different_requests(sim):
    c = SourceClient(source="conduct", base_url=sim.base_url("conduct"),
                     token=demo_tokens()["conduct"], retry=RetryPolicy.none())
    try:
        # Joined unescaped, both were "actor=ann&branch=main": the second GET was sent to the
        # first one's URL (and could be answered with its cached body).
        await c.get_json("/v1/runs", {"actor": "ann&branch=main"})
        await c.get_json("/v1/runs", {"branch": "main", "actor": "ann"})
        # Both were "page=True"; True is sent as "true".
        await c.get_json("/v1/runs", {"page": "True"})
        await c.get_json("/v1/runs", {"page": True})
    finally:
        await c.aclose()
    assert [r.query for r in sim.sim.requests] == [
        "actor=ann%26branch%3Dmain", "branch=main&actor=ann", "page=True", "page=true"]
