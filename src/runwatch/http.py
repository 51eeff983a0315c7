"""One HTTP client per source: auth, timeouts, retries, typed errors, read-only guard.

Providers call `get_json`, `get_text` and `send`; they never see httpx exceptions. Every
error message names the source (and the token's origin on 401/403), never the token.

Every body is streamed under a cap on its decompressed size, every request has one deadline
for connect, headers and body together, and redirects are followed by hand: GETs only, and
only within the base URL's origin.

Beside it: `http_body` (reading under the cap), `http_answers` (what an answer says),
`http_errors` (which typed error a failure is), `http_redirects`, `http_retry`,
`http_cache` (the remembered bodies), `http_token` (the bearer token) and `http_lean` (the
GET of a plain http:// origin without a proxy: httpx costs ten times the poll budget).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runwatch import __version__
from runwatch.errors import (
    BadResponse,
    ReadOnlyError,
    RedirectRefused,
    RequestTimeout,
    SlowAnswer,
    Unreachable,
)
from runwatch.http_answers import (
    decode_text,
    error_detail,
    first_line,
    origin,
    reason,
    retry_after_s,
)
from runwatch.http_body import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_LOG_BODY,
    Answer,
    Progress,
    megabytes,
)
from runwatch.http_cache import BodyCache, CachedBody, Remembered, cache_key
from runwatch.http_errors import error_for
from runwatch.http_lean import LeanPool, LeanResponse, lean_enabled, pool_for
from runwatch.http_lean_head import (
    LeanHead,
    PlainURL,
    header_lines,
    plain_head,
    plain_origin,
    plain_url,
)
from runwatch.http_parse import parse_json, read_answer, reduce_raw_body
from runwatch.http_record import RateLimit, RequestRecord, path_of, rate_limit_after
from runwatch.http_redirects import MAX_REDIRECTS, check_redirect, redirect_target
from runwatch.http_retry import RetryPolicy, retry_after_first
from runwatch.http_token import BearerToken, header_safe, unsendable_token
from runwatch.tokens import SecretResolver

if TYPE_CHECKING:
    # Imported where httpx carries a request (https, a proxy, a POST, a login), or raises:
    # a plain http:// source's GETs never load it (runwatch.http_lean_head).
    import httpx

# The HTTP layer's face: providers import these from here, whichever module holds them.
__all__ = [
    "USER_AGENT",
    "RetryPolicy",
    "SourceClient",
    "error_detail",
    "retry_after_s",
]

log = logging.getLogger(__name__)

USER_AGENT = f"runwatch/{__version__}"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Only idempotent requests are retried: a retried POST could start two runs.
RETRIED_METHODS = SAFE_METHODS | {"PUT", "DELETE"}


@dataclass
class SourceClient(BearerToken):
    """The HTTP side of one configured source.

    `token_origin` says where the token comes from ("env CURRENTS_API_KEY") so that auth
    errors can point a person at it without revealing it.
    """

    source: str
    base_url: str
    token: str | None = field(default=None, repr=False)
    token_origin: str | None = None
    read_only: bool = False
    timeout_s: float = 10.0  # the whole request: connect, headers and body
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_body: int = DEFAULT_MAX_BODY  # decompressed bytes of one response
    max_log_body: int = DEFAULT_MAX_LOG_BODY  # a log over it is kept, cut, with a note
    transport: httpx.AsyncBaseTransport | None = None
    # A provider's own auth flow (the scheduler's login); set before the first request.
    auth: httpx.Auth | None = field(default=None, repr=False)
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)
    _bodies: BodyCache = field(default_factory=BodyCache, init=False, repr=False)
    sleep: Callable[[float], Any] | None = field(default=None, repr=False)
    request_count: int = field(default=0, init=False)
    # Where `token` comes from when it is fetched in the background (token_env / token_cmd):
    # the first request waits for it, a 401 may fetch it again.
    token_source: SecretResolver | None = field(default=None, repr=False)
    # For the dashboard's sources view: the last request and what it got back, and the
    # rate limit the API last announced (runwatch.http_record; never a header or a token).
    last_request: RequestRecord | None = field(default=None, init=False)
    rate_limit: RateLimit | None = field(default=None, init=False)
    _recorded_path: bytes | None = field(default=None, init=False, repr=False)
    # The URL each (path, query) builds, and its origin: built once, not on every poll.
    _urls: Remembered[tuple[httpx.URL | PlainURL, str]] = field(
        default_factory=Remembered, init=False, repr=False)
    # The lean GET (runwatch.http_lean) when it applies to base_url, decided with the client;
    # `lean=False` (or RUNWATCH_LEAN_HTTP=0) keeps every request on httpx.
    lean: bool = field(default_factory=lean_enabled)
    _lean: LeanPool | None = field(default=None, init=False, repr=False)
    _lean_decided: bool = field(default=False, init=False, repr=False)
    # base_url when the lean GET's URLs and header lines are built without httpx
    _plain: PlainURL | None = field(default=None, init=False, repr=False)
    _lean_head: LeanHead = field(default_factory=LeanHead, init=False, repr=False)
    # Every request's headers (http_token.BearerToken.set_header and set_token change them).
    _headers: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _headers_set: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._headers.update({"Accept": "application/json", "User-Agent": USER_AGENT,
                              "Accept-Encoding": ACCEPT_ENCODING})
        self.set_token(self.token)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        """httpx's client for this source, built when first needed."""
        if self._client is None:
            import httpx

            from runwatch.http_tls import LazyClient, ssl_context_for

            # httpx's transport (httpcore) is built by the first request httpx carries.
            self._client = LazyClient(
                base_url=self.base_url.rstrip("/"),
                headers=dict(self._headers),
                timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 5.0)),
                transport=self.transport,
                auth=self.auth,
                # TLS verification stays on; one shared context (httpx builds one per client),
                # built only when a source is https.
                verify=ssl_context_for(self.base_url),
                follow_redirects=False,  # each send decides (same-origin GETs only)
            )
        return self._client

    def _lean_pool(self) -> LeanPool | None:
        """The lean GET's pool, decided at the first GET: without httpx for a plain origin
        (http_lean_head.plain_origin), else by httpx's rules (http_lean.pool_for)."""
        if not self._lean_decided:
            self._lean_decided = True
            if self.lean and self.transport is None and self.auth is None:
                connect_s = min(self.timeout_s, 5.0)
                self._plain = plain_origin(self.base_url)
                self._lean = (pool_for(self.client, connect_s) if self._plain is None
                              else LeanPool(self._plain.host, self._plain.port or 80, connect_s))
        return self._lean

    def _lean_lines(self) -> bytes:
        if self._plain is not None:
            return plain_head(self._plain, self._headers)
        return header_lines(self.client)

    async def aclose(self) -> None:
        if self.token_source is not None:
            await self.token_source.aclose()
        if self._lean is not None:
            self._lean.close()
            self._lean = None
        self._lean_decided = False
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- requests ------------------------------------------------------------------------

    async def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        reduce: Callable[[Any], Any] | None = None,
    ) -> Any:
        """GET and parse JSON. A body byte-identical to the last one for the same URL is
        not parsed again: the same object comes back, so callers can skip work by identity.
        A stored ETag is sent as If-None-Match and a 304 returns the cached body.

        `reduce` (e.g. "the newest 50 runs of this list") runs on the parsed body, on the
        same thread as the parsing for a large body; only its result is kept and returned.
        """
        return await self._get_cached(path, params, reduce, raw=False)

    async def get_raw_reduced(
        self, path: str, params: Mapping[str, Any] | None,
        reduce: Callable[[bytes | bytearray], Any],
    ) -> Any:
        """`get_json`, but `reduce` gets the body's raw bytes and parses what it needs itself
        (a list whose items are mostly the same as last time: see http_body.split_objects);
        the UnicodeDecodeError, RecursionError or ValueError it raises is a BadResponse."""
        return await self._get_cached(path, params, reduce, raw=True)

    def forget(self, path: str, params: Mapping[str, Any] | None = None) -> None:
        """Let go of the body remembered for this URL (one the provider's latest list no
        longer reads: an old cursor, a run that left the list)."""
        key = cache_key(path, _clean(params))
        self._bodies.pop(key, None)
        self._urls.pop(key, None)

    async def _get_cached(
        self, path: str, params: Mapping[str, Any] | None,
        reduce: Callable[[Any], Any] | None, *, raw: bool,
    ) -> Any:
        params = _clean(params)
        key = cache_key(path, params)
        cached = self._bodies.lookup(key, reduce)
        # An ETag is the server's bytes: sent back only when a header can carry it as is.
        etag = cached.etag if cached is not None else None
        headers = {"If-None-Match": etag} if etag and header_safe(etag) else None
        answer = await self._request("GET", path, params=params, headers=headers, url_key=key)
        if answer.status_code == 304 and cached is not None:
            return cached.parsed
        if cached is not None and cached.same(answer.body):
            return cached.parsed
        entry = CachedBody.of(answer.body, answer.headers.get("ETag"), None, reduce)
        if raw and reduce is not None:
            parsed = await reduce_raw_body(self.source, answer, path, reduce)
        else:
            parsed = await parse_json(self.source, answer, path, reduce)
        entry.parsed = parsed
        self._bodies.store(key, entry)
        return parsed

    async def get_text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """GET a text body (logs). One over `max_log_body` is cut there, with a note."""
        answer = await self._request("GET", path, params=_clean(params), log=True)
        text = decode_text(answer.take(), answer.encoding)
        if answer.truncated:
            text += f"\n… log truncated at {megabytes(self.max_log_body)}"
        return text

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
        Returns the parsed JSON body, or None for an empty one. Never follows a redirect.
        """
        method = method.upper()
        if self.read_only and method not in SAFE_METHODS and not allow_read_only:
            raise ReadOnlyError(f"{self.source}: read-only, {method} {path} was not sent")
        answer = await self._request(
            method, path, json_body=json_body, params=_clean(params), headers=headers
        )
        if not answer.body.strip():
            return None
        return await parse_json(self.source, answer, path, None)

    async def send_text(self, method: str, path: str, *, json_body: Any = None) -> str:
        """`send` for an API that answers with plain text (the services rerun: a run id)."""
        method = method.upper()
        if self.read_only and method not in SAFE_METHODS:
            raise ReadOnlyError(f"{self.source}: read-only, {method} {path} was not sent")
        answer = await self._request(method, path, json_body=json_body)
        return decode_text(answer.take(), answer.encoding)

    # -- internals -----------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        log: bool = False,
        url_key: str | None = None,
    ) -> Answer:
        await self.ensure_token()
        if self.token and not header_safe(self.token):
            raise unsendable_token(self.source, self.token_origin or "the config")
        started = time.monotonic()
        attempt = functools.partial(self._once, method, path, params, json_body, headers,
                                    log, url_key)
        try:
            return await attempt()  # the usual case: no retrying object is built
        except Exception as exc:
            if method not in RETRIED_METHODS:
                raise
            failure = exc  # whether and how it is tried again: http_retry's policy alone
        return await retry_after_first(self.retry, attempt, failure, started, self.sleep)

    async def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        log: bool,
        url_key: str | None,
    ) -> Answer:
        self.request_count += 1
        progress = Progress()
        deadline = asyncio.timeout(self.timeout_s)
        try:
            async with deadline:
                return await self._exchange(
                    method, path, params, json_body, headers, log, progress, url_key
                )
        except Exception as exc:
            # No httpx error exists unless httpx was imported (it is, where it carries a
            # request or the lean GET raises one): a plain source's start never loads it.
            httpx = sys.modules.get("httpx")
            if isinstance(exc, TimeoutError) or (
                    httpx is not None and isinstance(exc, httpx.TimeoutException)):
                self._timed_out(exc, method, path, deadline, progress)
            if httpx is not None and isinstance(exc, httpx.DecodingError):
                raise BadResponse(
                    f"{self.source}: {path} sent a body that cannot be decoded "
                    f"({first_line(str(exc))})"
                ) from None
            if httpx is not None and isinstance(exc, httpx.TransportError):
                self._note_failure(method, path, "cannot reach")
                raise Unreachable(
                    f"{self.source}: cannot reach {self._where(path)} ({reason(exc)})"
                ) from exc
            raise

    def _timed_out(self, exc: Exception, method: str, path: str, deadline: asyncio.Timeout,
                   progress: Progress) -> None:
        """Raise the typed error of a request past its deadline; return for a TimeoutError
        that is not ours (someone else's timeout passing through)."""
        if isinstance(exc, TimeoutError) and not deadline.expired():
            return
        self._note_failure(method, path, "answer not finished in time"
                           if progress.answering else "timed out")
        if progress.answering:
            raise SlowAnswer(
                f"{self.source}: {self._where(path)} did not finish its answer within "
                f"{self.timeout_s:g} s (the timeout)"
            ) from None
        raise RequestTimeout(
            f"{self.source}: no answer from {self._where(path)} within {self.timeout_s:g} s"
        ) from exc

    async def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        log: bool,
        progress: Progress,
        url_key: str | None,
    ) -> Answer:
        """Send, follow same-origin GET redirects by hand, read the body under its cap."""
        lean = self._lean_pool() if method == "GET" else None
        known = self._urls.get(url_key) if url_key is not None else None
        request: httpx.Request | None = None
        url: httpx.URL | PlainURL | None
        if known is not None:
            url, start = known
        else:
            url = plain_url(self._plain, path, params) if self._plain and lean else None
            if url is None:
                request = self.client.build_request(
                    method, path, params=params, json=json_body, headers=headers
                )
                url = request.url
            start = origin(url)
            if url_key is not None:
                self._urls.store(url_key, (url, start))
        for _ in range(MAX_REDIRECTS + 1):
            response: httpx.Response | LeanResponse
            if lean is not None:
                head = self._lean_head.lines(self._headers_set,
                                             self._lean_lines, headers)
                response = await lean.get(url.raw_path, head)
            else:
                if request is None:
                    request = self.client.build_request(
                        method, str(url) if isinstance(url, PlainURL) else url,
                        headers=headers)
                response = await self.client.send(request, stream=True,
                                                  follow_redirects=False)
            self._note_answer(method, url.raw_path, response)
            try:
                progress.answering = True
                if response.has_redirect_location:
                    url = redirect_target(self.source, str(url), response.headers, path)
                    check_redirect(self.source, method, path, start, url)
                    method, request = "GET", None
                    continue
                if response.status_code >= 400:
                    raise await error_for(
                        response, path, source=self.source, token_origin=self.token_origin,
                        token_given=bool(self.token),
                    )
                return await read_answer(self.source, response, path,
                                         self.max_log_body if log else self.max_body, log)
            finally:
                await response.aclose()
        raise RedirectRefused(
            f"{self.source}: {path} redirected more than {MAX_REDIRECTS} times in a row "
            "(a redirect loop)"
        )

    def _note_answer(self, method: str, raw_path: bytes,
                     response: httpx.Response | LeanResponse) -> None:
        """Keep what the sources view shows of this exchange (the last one wins); the same
        record as last time is kept as is (an unchanged poll builds nothing)."""
        status = response.status_code
        last = self.last_request
        if last is None or last.status != status or last.failure is not None \
                or last.method != method or self._recorded_path != raw_path:
            self.last_request = RequestRecord(method, path_of(raw_path), status)
            self._recorded_path = raw_path
        self.rate_limit = rate_limit_after(self.rate_limit, status, response.headers,
                                           time.time())

    def _note_failure(self, method: str, path: str, why: str) -> None:
        before = self.last_request
        status = before.status if before is not None and before.path.startswith(path) else None
        self.last_request = RequestRecord(method, path_of(path.encode("ascii", "replace")),
                                          status, why)

    def _where(self, path: str) -> str:
        if self._plain is not None:
            return f"{self._plain.host} {path}"  # the host httpx.URL reads, to the letter
        import httpx

        host = httpx.URL(self.base_url).host or self.base_url
        return f"{host} {path}"


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not params:
        return None
    return {k: v for k, v in params.items() if v is not None}
