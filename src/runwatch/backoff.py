"""How long a source waits after a failed poll: the interval doubled per failure up to a
minute, a server's Retry-After honoured up to that, a rejected or missing token waited on
longer (DESIGN section 4)."""

from __future__ import annotations

import math

from runwatch.errors import AuthError, RateLimited, RunwatchError, ServerError
from runwatch.tokens import SecretResolver, TokenError

MAX_BACKOFF_S = 60.0
AUTH_RETRY_S = 300.0  # a rejected token will not fix itself soon: stop hammering
# A token not available yet (a variable not set, a password manager still locked) is tried
# again this often; its source polls as soon as it comes.
TOKEN_RETRY_S = 30.0


def backoff_s(
    exc: RunwatchError,
    failures: int,
    *,
    base_interval: float,
    token_source: SecretResolver | None,
    token_retry_s: float = TOKEN_RETRY_S,
) -> float:
    """Seconds until the next poll of a source that has now failed `failures` times in a
    row, the last time with `exc`."""
    if isinstance(exc, TokenError):
        return token_retry_s
    if isinstance(exc, AuthError):
        # A token_cmd may give a new token once a minute; anything else will not change.
        wait = token_source.renew_wait() if token_source is not None else None
        return AUTH_RETRY_S if wait is None else min(
            AUTH_RETRY_S, max(wait, base_interval)
        )
    doubled = min(MAX_BACKOFF_S, base_interval * 2.0 ** min(failures, 32))
    asked = exc.retry_after if isinstance(exc, RateLimited | ServerError) else None
    if asked is None or math.isnan(asked):
        return doubled
    # A server's wish is honoured up to the backoff maximum: Retry-After: 999999999
    # must not park a source (a kiosk has no key to wake it) for 29 years.
    return min(MAX_BACKOFF_S, max(doubled, asked))
