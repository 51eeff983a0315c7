"""What a source's last request was, and the rate-limit window its API announced: the facts
the dashboard's sources view shows beside a source's health (no token, no header, no body).

Plain frozen data built from an answer's status and headers; the numbers a server sends are
checked here (whole, finite, bounded), like every other value an API sends."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from runwatch.http_answers import retry_after_s
from runwatch.http_lean_head import LeanHeaders

if TYPE_CHECKING:
    import httpx

MAX_PATH = 200  # characters of a path kept (with its query)
MAX_COUNT = 10**9  # a larger "limit" or "remaining" is not a number a server means


@dataclass(frozen=True)
class RequestRecord:
    """One request: its method, its path (with the query, percent-encoded as sent) and what
    came back: a status, or why nothing did."""

    method: str
    path: str
    status: int | None = None
    failure: str | None = None  # no answer: "timed out", "cannot reach"…

    def describe(self) -> str:
        """"GET /api/v3/runs?limit=50 → 200 OK"."""
        if self.status is not None:
            try:
                phrase = HTTPStatus(self.status).phrase
            except ValueError:
                phrase = ""
            answer = f"{self.status} {phrase}".rstrip()
            if self.failure:
                answer += f", {self.failure}"
        else:
            answer = f"no answer ({self.failure or 'failed'})"
        return f"{self.method} {self.path} → {answer}"


@dataclass(frozen=True)
class RateLimit:
    """What the API said of its rate limit in its last answer that said anything: the
    requests allowed per window, how many are left, the seconds until the window resets, and
    the wait a 429 or 503 asked for (Retry-After)."""

    limit: int | None = None
    remaining: int | None = None
    reset_s: float | None = None
    retry_after_s: float | None = None

    def describe(self) -> str:
        parts: list[str] = []
        if self.remaining is not None and self.limit is not None:
            parts.append(f"{self.remaining} of {self.limit} requests left")
        elif self.remaining is not None:
            parts.append(f"{self.remaining} requests left")
        elif self.limit is not None:
            parts.append(f"{self.limit} requests per window")
        if self.reset_s is not None:
            parts.append(f"window resets {round(self.reset_s)} s after the last request")
        if self.retry_after_s is not None:
            parts.append(f"asked to wait {round(self.retry_after_s)} s (Retry-After)")
        return " · ".join(parts) or "none announced"


def rate_limit_after(current: RateLimit | None, status: int,
                     headers: httpx.Headers | LeanHeaders, now: float) -> RateLimit | None:
    """The rate limit known after an answer: what it announces, else `current`, less a
    Retry-After wait once an answer comes back fine (the wait that was asked for is over).
    The usual answer announces nothing: one pass over its raw header names, nothing built."""
    mentions = headers.mentions_ratelimit if isinstance(headers, LeanHeaders) else any(
        b"ratelimit" in key.lower() for key, _ in headers.raw)
    if status not in (429, 503) and not mentions:
        announced = None
    else:
        announced = rate_limit_of(status, headers, now)
    if announced is not None:
        return announced
    if status < 400 and current is not None and current.retry_after_s:
        return None if current.limit is None else RateLimit(
            current.limit, current.remaining, current.reset_s)
    return current


def path_of(raw_path: bytes) -> str:
    """A request's path as sent (ASCII: httpx percent-encodes it), cut to MAX_PATH."""
    path = raw_path.decode("ascii", "replace")
    return path if len(path) <= MAX_PATH else path[: MAX_PATH - 1] + "…"


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0 or number > MAX_COUNT:
        return None
    return int(number)


def rate_limit_of(status: int, headers: Mapping[str, str], now: float) -> RateLimit | None:
    """The rate limit an answer announces (X-RateLimit-* or RateLimit-* headers, and
    Retry-After on a 429 or 503); None when it says nothing of one."""
    if status not in (429, 503) and not any("ratelimit" in key for key in headers):
        return None  # the usual answer: one pass over its header names, nothing parsed

    def header(name: str) -> str | None:
        return headers.get(f"x-ratelimit-{name}") or headers.get(f"ratelimit-{name}")

    limit, remaining = _count(header("limit")), _count(header("remaining"))
    reset = retry_after_s({"x-ratelimit-reset": header("reset") or ""}, now)
    asked = retry_after_s({"retry-after": headers.get("retry-after") or ""}, now) \
        if status in (429, 503) else None
    if limit is None and remaining is None and reset is None and asked is None:
        return None
    return RateLimit(limit, remaining, reset, asked)
