"""When a request is tried again, and how long it waits in between."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState

from runwatch.errors import RateLimited, RequestTimeout, ServerError, SlowAnswer, Unreachable

# What a retry may wait at most, whatever a server asks: a poll must come back to the
# poller, which has its own (longer) backoff.
MAX_RETRY_WAIT_S = 30.0


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


def wait_for(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            return min(max(0.0, float(asked)), MAX_RETRY_WAIT_S)
        backoff = min(policy.max_delay_s, policy.base_delay_s * 2.0 ** (state.attempt_number - 1))
        return backoff * random.uniform(0.5, 1.0)  # full jitter keeps clients apart

    return wait
