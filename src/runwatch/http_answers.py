"""What an HTTP answer says, in words and numbers: the human part of an error body, how long
`Retry-After` asks to wait (bounded), an origin, the root cause of a transport error."""

from __future__ import annotations

import json
import math
import socket
import ssl
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from runwatch.http_lean_head import PlainURL

# The longest Retry-After taken at its word; callers cap it further (the poller at 60 s).
MAX_RETRY_AFTER_S = 3600.0


def error_detail(status: int, reason: str, text: str) -> str:
    """The most human part of an error response: `error`, `message` or `detail` of a JSON
    body (Currents, the scheduler, FastAPI, services), else the status line, plus any plain text.
    """
    status_line = f"HTTP {status} {reason}".strip()
    said = server_words(text)
    if said is None and text.strip().startswith("<"):
        return f"{status_line} (an HTML page)"
    return f"{status_line}: {said}" if said else status_line


def server_words(text: str) -> str | None:
    """What the server said in an error body, in its own words: the message of a JSON body,
    the first line of a plain one; None for an empty body, an HTML page or a JSON body
    without a message (ApiError.detail)."""
    text = text.strip()
    if not text:
        return None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return None if text.startswith("<") else first_line(text)
    return _find_message(body)


def _find_message(body: Any, depth: int = 0) -> str | None:
    if isinstance(body, str):
        return body or None
    if not isinstance(body, dict) or depth > 5:
        return None
    for key in ("message", "error", "detail", "msg"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            nested = _find_message(value, depth + 1)
            if nested:
                return nested
        if isinstance(value, list) and value:
            # FastAPI validation errors: [{"loc": [...], "msg": "..."}]
            parts = [_find_message(v, depth + 1) or first_line(str(v)) for v in value[:3]]
            return "; ".join(parts)
    return None


def retry_after_s(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset`
    (epoch seconds, or seconds from now when small), at most MAX_RETRY_AFTER_S. A value
    that does not parse (`soon`, `NaN`) is ignored: None, as if the server said nothing."""
    now = time.time() if now is None else now
    value = (headers.get("retry-after") or "").strip()
    if value:
        seconds = _number(value)
        if seconds is None:
            import email.utils  # here: an HTTP-date Retry-After is rare; email costs ~2 ms at start

            try:
                when = email.utils.parsedate_to_datetime(value)
                seconds = when.timestamp() - now
            except (TypeError, ValueError, IndexError, OverflowError):
                seconds = None
        if seconds is not None:
            return _bounded_wait(seconds)
    number = _number((headers.get("x-ratelimit-reset") or "").strip())
    if number is not None:
        # Large numbers are epoch seconds; small ones are a delay.
        return _bounded_wait(number - now if number > 1e9 else number)
    return None


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def _bounded_wait(seconds: float) -> float:
    # inf (1e309) and 999999999 alike: a server cannot park a source for years.
    return min(max(0.0, seconds), MAX_RETRY_AFTER_S)


def origin(url: httpx.URL | PlainURL) -> str:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return f"{url.scheme}://{url.host}:{port}"


def decode_text(body: bytes | bytearray, encoding: str) -> str:
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def first_line(text: str, limit: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "empty body"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def reason(exc: Exception) -> str:
    """The root cause in a few words: httpx wraps the OS error several levels deep."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {first_line(str(cause), 50)}"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    return "connection refused" if "refused" in text.lower() else first_line(text, 60)
