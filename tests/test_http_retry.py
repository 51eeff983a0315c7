"""The one retry policy: how many attempts, for how long, with which waits."""

from __future__ import annotations

import httpx
import pytest

from runwatch.errors import NotFound, ServerError
from runwatch.http import RetryPolicy, SourceClient


def failing(status: int, policy: RetryPolicy) -> tuple[SourceClient, list[float], list[int]]:
    waits: list[float] = []
    calls: list[int] = []

    def answer(_: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json={})

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    c = SourceClient(source="ci", base_url="http://ci.example.com", retry=policy,
                     transport=httpx.MockTransport(answer), sleep=sleep)
    return c, waits, calls


async def test_attempts_and_backoff_waits_by_the_policy():
    c, waits, calls = failing(503, RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=8.0))
    with pytest.raises(ServerError):
        await c.get_json("/runs")
    assert len(calls) == 4
    # Full jitter: each wait within [half, all] of 1, 2, 4 s.
    assert [0.5 <= w / d <= 1.0 for w, d in zip(waits, [1.0, 2.0, 4.0], strict=True)] == [
        True] * 3


async def test_no_retry_once_the_total_time_is_spent_or_for_a_404():
    c, waits, calls = failing(503, RetryPolicy(attempts=5, total_s=0.0))
    with pytest.raises(ServerError):
        await c.get_json("/runs")
    assert (len(calls), waits) == (1, [])
    c, waits, calls = failing(404, RetryPolicy(attempts=5))
    with pytest.raises(NotFound):
        await c.get_json("/runs")
    assert (len(calls), waits) == (1, [])
