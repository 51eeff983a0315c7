"""One HTTP client per source: auth, timeouts, retries, typed errors, read-only guard.

Providers call `get_json`, `get_text` and `send`; they never see httpx exceptions. Every
error message names the source (and the token's origin on 401/403), never the token.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from runwatch import __version__
from runwatch.errors import (
    ApiError,
    AuthError,
    BadResponse,
    Conflict,
    NotFound,
    RateLimited,
    ReadOnlyError,
    RequestTimeout,
    ServerError,
    Unreachable,
)

log = logging.getLogger(__name__)

USER_AGENT = f"runwatch/{__version__}"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Bodies remembered for the identical-body and ETag shortcuts; least recently used go first
# (the scheduler asks for a new cursor or run id often, and a kiosk runs for weeks).
BODY_CACHE_SIZE = 256
# What a retry may wait at most, whatever a server asks: a poll must come back to the
# poller, which has its own (longer) backoff.
MAX_RETRY_WAIT_S = 30.0


_SSL_CONTEXT: ssl.SSLContext | None = None


def _verified_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one costs ~90 ms (loading the
    CA bundle), and five sources would pay it five times at start."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT


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


@dataclass
class _CachedBody:
    etag: str | None
    content: bytes
    parsed: Any


@dataclass
class SourceClient:
    """The HTTP side of one configured source.

    `token_origin` says where the token comes from ("env CURRENTS_API_KEY") so that auth
    errors can point a person at it without revealing it.
    """

    source: str
    base_url: str
    token: str | None = None
    token_origin: str | None = None
    read_only: bool = False
    timeout_s: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    transport: httpx.AsyncBaseTransport | None = None
    # A provider's own auth flow (the scheduler's login); set before the first request.
    auth: httpx.Auth | None = field(default=None, repr=False)
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)
    _bodies: OrderedDict[str, _CachedBody] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    sleep: Callable[[float], Any] | None = field(default=None, repr=False)
    request_count: int = field(default=0, init=False)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            self._client = httpx.AsyncClient(
                base_url=self.base_url.rstrip("/"),
                headers=headers,
                timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 5.0)),
                transport=self.transport,
                auth=self.auth,
                # TLS verification stays on; one shared context (httpx builds one per client).
                verify=_verified_ssl_context(),
                follow_redirects=True,
            )
        return self._client

    def set_token(self, token: str | None) -> None:
        """Replace the bearer token (e.g. after a login); the next request uses it."""
        self.token = token
        if self._client is not None:
            if token:
                self._client.headers["Authorization"] = f"Bearer {token}"
            else:
                self._client.headers.pop("Authorization", None)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- requests ------------------------------------------------------------------------

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and parse JSON. A body byte-identical to the last one for the same URL is
        not parsed again: the same object comes back, so callers can skip work by identity.
        A stored ETag is sent as If-None-Match and a 304 returns the cached body.
        """
        params = _clean(params)
        cache_key = _cache_key(path, params)
        cached = self._bodies.get(cache_key)
        if cached is not None:
            self._bodies.move_to_end(cache_key)
        headers = {"If-None-Match": cached.etag} if cached and cached.etag else None
        response = await self._request("GET", path, params=params, headers=headers)
        if response.status_code == 304 and cached is not None:
            return cached.parsed
        content = response.content
        if cached is not None and cached.content == content:
            return cached.parsed
        parsed = self._parse_json(response, path)
        self._bodies[cache_key] = _CachedBody(response.headers.get("ETag"), content, parsed)
        self._bodies.move_to_end(cache_key)
        while len(self._bodies) > BODY_CACHE_SIZE:
            self._bodies.popitem(last=False)
        return parsed

    async def get_text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """GET a text body (logs)."""
        response = await self._request("GET", path, params=_clean(params))
        return response.text

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        allow_read_only: bool = False,
    ) -> Any:
        """A request that may change something. Refused before any I/O on a read-only
        source unless `allow_read_only` (a login, which changes nothing on the server).
        Returns the parsed JSON body, or None for an empty one.
        """
        method = method.upper()
        if self.read_only and method not in SAFE_METHODS and not allow_read_only:
            raise ReadOnlyError(f"{self.source}: read-only, {method} {path} was not sent")
        response = await self._request(
            method, path, json_body=json_body, params=_clean(params), headers=headers
        )
        if not response.content.strip():
            return None
        return self._parse_json(response, path)

    # -- internals -----------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        # Only idempotent requests are retried: a retried POST could start two runs.
        retry = self.retry if method in SAFE_METHODS | {"PUT", "DELETE"} else RetryPolicy.none()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(retry.attempts) | stop_after_delay(retry.total_s),
            wait=_wait_for(retry),
            retry=retry_if_exception_type((RateLimited, ServerError, Unreachable, RequestTimeout)),
            reraise=True,
            **({"sleep": self.sleep} if self.sleep else {}),
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, path, params, json_body, headers)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    async def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        self.request_count += 1
        try:
            response = await self.client.request(
                method, path, params=params, json=json_body, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise RequestTimeout(
                f"{self.source}: no answer from {self._where(path)} within {self.timeout_s:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise Unreachable(
                f"{self.source}: cannot reach {self._where(path)} ({_reason(exc)})"
            ) from exc
        if response.status_code >= 400:
            raise self._error_for(response, path)
        return response

    def _where(self, path: str) -> str:
        host = httpx.URL(self.base_url).host or self.base_url
        return f"{host} {path}"

    def _parse_json(self, response: httpx.Response, path: str) -> Any:
        try:
            return json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            kind = response.headers.get("content-type", "unknown type").split(";")[0]
            raise BadResponse(
                f"{self.source}: {path} returned {kind}, not the expected JSON "
                f"({_first_line(response.text)})",
                status_code=response.status_code,
            ) from exc

    def _error_for(self, response: httpx.Response, path: str) -> ApiError:
        status = response.status_code
        detail = error_detail(response)
        message = f"{self.source}: {detail}"
        if status in (401, 403):
            origin = f" (token from {self.token_origin})" if self.token_origin else ""
            hint = "token rejected" if self.token else "no token configured"
            return AuthError(f"{self.source}: {hint}{origin}: {detail}", status_code=status)
        if status == 404:
            return NotFound(f"{self.source}: not found: {path} ({detail})", status_code=status)
        if status in (409, 422):
            return Conflict(message, status_code=status)
        retry_after = retry_after_s(response.headers)
        if status == 429:
            return RateLimited(message, retry_after=retry_after)
        if status >= 500:
            return ServerError(message, status_code=status, retry_after=retry_after)
        return ApiError(message, status_code=status)


def error_detail(response: httpx.Response) -> str:
    """The most human part of an error response: `error`, `message` or `detail` of a JSON
    body (Currents, the scheduler, FastAPI, services), else the status line, plus any plain text.
    """
    status_line = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    text = response.text.strip()
    if not text:
        return status_line
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        if text.lstrip().startswith("<"):
            return f"{status_line} (an HTML page)"
        return f"{status_line}: {_first_line(text)}"
    found = _find_message(body)
    return f"{status_line}: {found}" if found else status_line


def _find_message(body: Any) -> str | None:
    if isinstance(body, str):
        return body or None
    if not isinstance(body, dict):
        return None
    for key in ("message", "error", "detail", "msg"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            nested = _find_message(value)
            if nested:
                return nested
        if isinstance(value, list) and value:
            # FastAPI validation errors: [{"loc": [...], "msg": "..."}]
            parts = [_find_message(v) or str(v) for v in value[:3]]
            return "; ".join(parts)
    return None


def retry_after_s(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset`
    (epoch seconds, or seconds from now when small)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            number = float(reset)
        except ValueError:
            return None
        # Large numbers are epoch seconds; small ones are a delay.
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    return None


def _wait_for(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            return min(float(asked), MAX_RETRY_WAIT_S)
        backoff = min(policy.max_delay_s, policy.base_delay_s * 2 ** (state.attempt_number - 1))
        return backoff * random.uniform(0.5, 1.0)  # full jitter keeps clients apart

    return wait


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not params:
        return None
    return {k: v for k, v in params.items() if v is not None}


def _cache_key(path: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return path
    return path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))


def _first_line(text: str, limit: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "empty body"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _reason(exc: Exception) -> str:
    """The root cause in a few words: httpx wraps the OS error several levels deep."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {_first_line(str(cause), 50)}"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    return "connection refused" if "refused" in text.lower() else _first_line(text, 60)
