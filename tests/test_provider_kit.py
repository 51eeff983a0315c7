"""The shared client mechanics (providers/kit.py), as every provider uses them against the
simulator: an unchanged world gives the very same list (the poller's "same list, skip the
diff" shortcut), a changed one a new list in which unchanged runs keep their objects; and
ApiError.detail carries the server's own words."""

from __future__ import annotations

import httpx
import pytest

from runwatch.catalog import PROVIDERS
from runwatch.errors import ApiError, Conflict, NotFound, ServerError
from runwatch.http import RetryPolicy, SourceClient
from runwatch.models import Run
from runwatch.providers.kit import ClientKit, Page


@pytest.mark.parametrize("name", PROVIDERS)
async def test_an_unchanged_world_gives_the_very_same_list(sim, name: str) -> None:
    provider = sim.provider(name)
    try:
        first = await provider.list_runs()
        second = await provider.list_runs()
        assert first, "the simulator lists runs"
        assert second is first
    finally:
        await provider.client.aclose()


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_changed_world_gives_a_new_list_that_keeps_unchanged_runs(sim, name: str):
    provider = sim.provider(name)
    try:
        before = await provider.list_runs()
        sim.sim.clock.advance(900)  # runs move on and new ones arrive
        after = await provider.list_runs()
        assert after is not before
        old = {run.id: run for run in before}
        kept = [run for run in after if run.id in old and run == old[run.id]]
        changed = [run for run in after if run.id not in old or run != old[run.id]]
        assert kept and changed, "some runs changed in 15 minutes, some did not"
        assert all(run is old[run.id] for run in kept)
        assert all(run is not old.get(run.id) for run in changed)
    finally:
        await provider.client.aclose()


def _run(n: int) -> Run:
    return Run(source="s", provider="services", id=f"r{n}", status="passed",
               provider_status="passed")


async def test_paginate_stops_at_a_repeated_cursor_and_at_its_page_budget() -> None:
    kit = ClientKit("s", SourceClient(source="s", base_url="http://unused"))
    asked: list[object] = []

    async def repeating(cursor: str | None, size: int) -> Page[str]:
        asked.append(cursor)
        return Page([_run(len(asked))], "same")

    runs = await kit.paginate(repeating, limit=50, page_size=10, spare_pages=1)
    assert asked == [None, "same"]
    assert [r.id for r in runs] == ["r1", "r2"]

    asked.clear()

    async def endless(cursor: int | None, size: int) -> Page[int]:
        asked.append((cursor, size))
        n = (cursor or 0) + 1
        return Page([_run(n)], n)

    runs = await ClientKit("s", kit.client).paginate(endless, limit=25, page_size=10,
                                                      spare_pages=2)
    assert asked == [(None, 10), (1, 10), (2, 10), (3, 10), (4, 10)]  # ceil(25/10) + 2
    assert len(runs) == 5


@pytest.mark.parametrize(
    ("status", "body", "kind", "detail"),
    [
        (422, {"status": "FAILED", "error": "Run already cancelled"}, Conflict,
         "Run already cancelled"),
        (404, {"detail": "no such run"}, NotFound, "no such run"),
        (503, "busy\u001b[31m, come back later\n", ServerError, "busy, come back later"),
        (500, "<html><body>oops</body></html>", ServerError, None),
        (409, {"code": 7}, Conflict, None),
        (400, "", ApiError, None),
    ],
)
async def test_an_api_error_carries_the_servers_own_words(status, body, kind, detail) -> None:
    def answer(_: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    client = SourceClient(source="ci", base_url="http://ci.example", token="t",
                          transport=httpx.MockTransport(answer), retry=RetryPolicy.none())
    try:
        with pytest.raises(ApiError) as caught:
            await client.send("PUT", "/v1/runs/r1/cancel")
    finally:
        await client.aclose()
    assert type(caught.value) is kind
    assert caught.value.detail == detail
    assert caught.value.status_code == status
    if detail:
        assert detail in str(caught.value)
