"""The URLs a source's client builds once and keeps: each (path, params) its own, exactly."""

from __future__ import annotations

from runwatch.http import RetryPolicy, SourceClient
from runwatch.http_cache import cache_key
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


def test_a_url_key_is_built_once_and_keeps_values_of_other_types_apart():
    first = cache_key("/runs", {"page": 1, "q": "a b"})
    assert cache_key("/runs", {"page": 1, "q": "a b"}) is first  # the one built before
    # Equal in Python, hashed alike, sent differently: never one key.
    assert len({first, cache_key("/runs", {"page": True, "q": "a b"}),
                cache_key("/runs", {"page": 1.0, "q": "a b"})}) == 3
    assert cache_key("/runs", {"q": "a b", "page": 1}) != first  # sent in another order
    assert cache_key("/runs", {"ids": [1, 2]}) == "/runs?ids=!%5B1%2C%202%5D"  # unhashable
    assert cache_key("/runs", None) == cache_key("/runs", {}) == "/runs"
