"""The TLS context and the transport of a source's client: one verifying context shared by
every https source, one that trusts nothing for an http:// source (it never speaks TLS),
and httpx's transport built at the first request that needs it.

A plain http:// GET goes through the lean reader (runwatch.http_lean), never through
httpx's transport: building one imports httpcore, h11 and anyio (~35 ms of a start whose
every source may be lean), so `LazyClient` builds it when httpx first carries a request
(https, a proxy, a method other than GET, an auth flow such as the scheduler's login)."""

from __future__ import annotations

import ssl
from types import TracebackType

import httpx

_SSL_CONTEXT: ssl.SSLContext | None = None


def verified_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every https client: building one costs 60-90 ms (loading
    the CA bundle), and five sources would pay it five times at start."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT


def ssl_context_for(base_url: str) -> ssl.SSLContext:
    """The verifying context for an https source; for an http:// one (redirects stay within
    its origin, so it never speaks TLS) a context that trusts no CA at all, which costs ~1 ms
    instead of loading the bundle: should a TLS handshake ever happen on it, it fails."""
    if httpx.URL(base_url).scheme != "http":
        return verified_ssl_context()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname; no CA


class LazyTransport(httpx.AsyncBaseTransport):
    """httpx's own transport (`AsyncHTTPTransport`, with the settings the client would give
    it), built at the first request it carries; closing one never built does nothing."""

    def __init__(self, **settings: object) -> None:
        self._settings = settings
        self.built: httpx.AsyncHTTPTransport | None = None

    def _real(self) -> httpx.AsyncHTTPTransport:
        if self.built is None:
            self.built = httpx.AsyncHTTPTransport(**self._settings)  # type: ignore[arg-type]
        return self.built

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._real().handle_async_request(request)

    async def __aenter__(self) -> LazyTransport:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None,
                        exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self.built is not None:
            await self.built.aclose()


class LazyClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` whose default transport is a `LazyTransport`. Only the default
    one: a transport given to it is used as given, and the proxies httpx takes from the
    environment keep their own transports (passing a transport in would turn those off)."""

    def _init_transport(self, verify: ssl.SSLContext | str | bool = True,
                        cert: object = None, trust_env: bool = True, http1: bool = True,
                        http2: bool = False, limits: httpx.Limits | None = None,
                        transport: httpx.AsyncBaseTransport | None = None,
                        ) -> httpx.AsyncBaseTransport:
        if transport is not None:
            return transport
        # AsyncClient passes every setting; `limits` unset keeps httpx's default.
        settings = {"verify": verify, "cert": cert, "trust_env": trust_env, "http1": http1,
                    "http2": http2, **({} if limits is None else {"limits": limits})}
        return LazyTransport(**settings)
