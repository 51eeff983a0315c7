"""The scheduler's JWT login as an `httpx.Auth` flow: log in before the first request and
when the token runs out, and once more on a 401 (which means the server did nothing, so
the retry is safe). Every failure is a typed error naming the source, never the password
or the token; a token that cannot go into a header (not ASCII) is one of them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable

import httpx

from runwatch.config import SourceConfig
from runwatch.errors import (
    ApiError,
    AuthError,
    BadResponse,
    ConfigError,
    RateLimited,
    RedirectRefused,
    ServerError,
)
from runwatch.http import USER_AGENT
from runwatch.http_answers import error_detail, retry_after_s
from runwatch.http_body import BodyOverLimit, UndecodableBody, read_capped
from runwatch.http_token import header_safe, unsendable_token
from runwatch.providers.scheduler.wire import LOGIN_PATH, WireLogin
from runwatch.providers.wire import parse
from runwatch.tokens import password_resolver

TOKEN_RENEW_MARGIN_S = 30.0


MAX_LOGIN_BODY = 64 * 1024


class LoginAuth(httpx.Auth):
    """Bearer auth with a token from POST /api/v1/auth/login `{username, password}`.

    Async only (the SourceClient is async). `clock` is monotonic seconds, injectable so
    tests can let a token expire.
    """

    def __init__(self, source: SourceConfig, clock: Callable[[], float]) -> None:
        self.source = source
        self.clock = clock
        self.token: str | None = None
        self.expires: float | None = None
        self._lock = asyncio.Lock()
        self._passwords = password_resolver(source)

    def expired(self) -> bool:
        return self.expires is not None and self.clock() >= self.expires

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.token is None or self.expired():
            stale = self.token
            async with self._lock:
                if self.token == stale or self.expired():  # nobody logged in meanwhile
                    await self._accept((yield await self._login_request(request)))
        self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        stale = self.token
        async with self._lock:
            if self.token == stale:
                await self._accept((yield await self._login_request(request)))
        self._authorize(request)
        response = yield request
        if response.status_code == 401:
            text = (await _read_capped(response, self.source.name)).decode("utf-8", "replace")
            raise AuthError(
                f"{self.source.name}: the token from login as {self.source.username!r} was "
                f"refused right after logging in: {_detail(response, text)}",
                status_code=401,
            )

    def sync_auth_flow(self, request: httpx.Request) -> None:  # type: ignore[override]
        raise TypeError("the scheduler login is async only")

    # -- the login -----------------------------------------------------------------------

    async def _password(self) -> str | None:
        """The login password from password_env / password_cmd, read at each login."""
        return await self._passwords.get()  # never blocks the loop

    async def _login_request(self, request: httpx.Request) -> httpx.Request:
        source = self.source
        password = await self._password()
        if not password:
            raise ConfigError(
                f"source {source.name!r}: key 'username': a login needs password_env or "
                "password_cmd"
            )
        # Sent through the same client and transport, with the request's own timeouts.
        return httpx.Request(
            "POST", httpx.URL(source.base_url.rstrip("/") + LOGIN_PATH),
            json={"username": source.username, "password": password},
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            extensions=dict(request.extensions),
        )

    async def _accept(self, response: httpx.Response) -> None:
        """Take the token from a login answer, or raise the typed error it amounts to."""
        name = self.source.name
        status = response.status_code
        if 300 <= status < 400:
            # The password must never be replayed to where a redirect points.
            shown = response.headers.get("location", "elsewhere")
            raise RedirectRefused(
                f"{name}: POST {LOGIN_PATH} was redirected to {shown}; runwatch follows "
                "no redirect of a POST (is base_url the final address?)"
            )
        raw = await _read_capped(response, name)
        text = raw.decode("utf-8", "replace")
        who = f"login as {self.source.username!r}"
        if status in (401, 403):
            raise AuthError(
                f"{name}: {who} refused (password from {password_origin(self.source)}): "
                f"{_detail(response, text)}",
                status_code=status,
            )
        if status == 429:
            raise RateLimited(f"{name}: {who}: {_detail(response, text)}",
                              retry_after=retry_after_s(response.headers))
        if status >= 500:
            raise ServerError(f"{name}: {who}: {_detail(response, text)}", status_code=status,
                              retry_after=retry_after_s(response.headers))
        if status >= 400:
            raise ApiError(f"{name}: {who}: {_detail(response, text)}", status_code=status)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "unknown type").split(";")[0]
            raise BadResponse(f"{name}: {LOGIN_PATH} returned {kind}, not the expected JSON",
                              status_code=status) from None
        login = parse(WireLogin, body, source=name, path=LOGIN_PATH)
        if not header_safe(login.access_token):
            raise unsendable_token(name, who)
        self.token = login.access_token
        self.expires = expiry(self.clock(), login.expires_in)

    def _authorize(self, request: httpx.Request) -> None:
        if self.token is not None:
            request.headers["Authorization"] = f"Bearer {self.token}"


async def _read_capped(response: httpx.Response, source: str) -> bytes:
    """A login answer is a few hundred bytes: a server sending far more (or a bomb that
    inflates to more) is refused, through the same capped reader as every other body."""
    try:
        body, _ = await read_capped(response, MAX_LOGIN_BODY)
    except BodyOverLimit:
        raise BadResponse(
            f"{source}: {LOGIN_PATH} answered more than {MAX_LOGIN_BODY} bytes"
        ) from None
    except UndecodableBody:
        raise BadResponse(f"{source}: {LOGIN_PATH} sent a body that cannot be decoded") from None
    # httpx's auth loop calls response.aread() on this response after the flow resumes;
    # aread() returns what `_content` holds, so the capped body is the one it keeps.
    response._content = bytes(body)
    return response._content


def _detail(response: httpx.Response, text: str) -> str:
    return error_detail(response.status_code, response.reason_phrase, text)


def expiry(now: float, expires_in: float | None) -> float | None:
    """When to log in again: a little before the token runs out."""
    if expires_in is None or expires_in <= 0:
        return None
    return now + expires_in - min(TOKEN_RENEW_MARGIN_S, expires_in / 10)


def password_origin(source: SourceConfig) -> str:
    if source.password_env:
        return f"env {source.password_env}"
    return f"command `{source.password_cmd}`"
