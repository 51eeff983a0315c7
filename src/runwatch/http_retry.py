"""When a request is tried again, and how long it waits in between."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from runwatch.errors import RateLimited, RequestTimeout, ServerError, SlowAnswer, Unreachable

# What a retry may wait at most, whatever a server asks: a poll must come back to the
# poller, which has its own (longer) backoff.
MAX_RETRY_WAIT_S = 30.0

if TYPE_CHECKING:
    from tenacity import RetryCallState

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry 429, 5xx, timeouts and connection errors."""

    attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    total_s: float = 30.0

    @classmethod
    def none(cls) -> RetryPolicy:
        return cls(attempts=1)


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, SlowAnswer):
        return False  # a body dripping in will drip again
    return isinstance(exc, RateLimited | ServerError | Unreachable | RequestTimeout)


def wait_s(policy: RetryPolicy, exc: BaseException | None, attempt: int) -> float:
    """The wait after failed attempt number `attempt`: what a server asked (Retry-After,
    capped), else exponential backoff with jitter."""
    asked = getattr(exc, "retry_after", None)
    if asked is not None:
        return min(max(0.0, float(asked)), MAX_RETRY_WAIT_S)
    backoff = min(policy.max_delay_s, policy.base_delay_s * 2.0 ** (attempt - 1))
    return backoff * random.uniform(0.5, 1.0)  # full jitter keeps clients apart


async def retry_after_first(
    policy: RetryPolicy, attempt: Callable[[], Awaitable[T]], failure: BaseException,
    started: float, sleep: Callable[[float], Any] | None,
) -> T:
    """The attempts after a first one that failed with `failure` at `started`
    (time.monotonic), by the one retry policy below: tenacity runs all of them, the first
    replayed (it raises `failure` again at once), so the rules (what is retried, how many
    times, for how long, with which waits) live here only, and the usual request (the first
    attempt succeeds) never builds a retrying object, nor a failure that is not retried."""
    if policy.attempts <= 1 or not retryable(failure):
        raise failure
    # Imported on the first retry: tenacity's import (~35M instructions, ~3 % of `list`)
    # is otherwise paid by every start, though most never retry.
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay

    replay = [failure]

    async def again() -> T:
        if replay:
            raise replay.pop()
        return await attempt()

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return wait_s(policy, exc, state.attempt_number)

    # tenacity counts time from here: what the first attempt took is already gone.
    left = max(0.0, policy.total_s - (time.monotonic() - started))
    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts) | stop_after_delay(left),
        wait=wait, retry=retry_if_exception(retryable), reraise=True,
        sleep=sleep or asyncio.sleep,
    )
    async for tried in retrying:
        with tried:
            return await again()
    raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises
