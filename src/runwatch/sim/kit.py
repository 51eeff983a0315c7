"""What every simulated API is built from: its error envelope, the bearer guard, the run
generator, JSON request bodies, and the capture of an app's answer (for the faults that
rewrite one).

Each API answers errors in its own server's shape (DESIGN section 3); the shapes live here,
one helper each, so that a provider's simulator names its envelope instead of rebuilding it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runwatch.sim.core import RunScript, StepScript

Endpoint = Callable[[Request], Awaitable[Response]]
Envelope = Callable[[int, str], Response]
"""An API's error body for a status and a message."""

# -- error envelopes, one per server ---------------------------------------------------------


def services_error(status: int, message: str) -> JSONResponse:
    """The services backend (Express): `{"message"}`."""
    return JSONResponse({"message": message}, status_code=status)


def services_unauthorized() -> PlainTextResponse:
    """The services backend's 401: plain text, not its JSON envelope."""
    return PlainTextResponse("Authentication error", 401)


def wercker_error(status: int, message: str) -> JSONResponse:
    """Wercker (hapi/Boom): `{"statusCode", "error", "message"}`."""
    body = {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}
    return JSONResponse(body, status_code=status)


def currents_error(status: int, message: str) -> JSONResponse:
    """Currents: `{"status": "FAILED", "error"}`."""
    return JSONResponse({"status": "FAILED", "error": message}, status_code=status)


_CONDUCT_CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 404: "NOT_FOUND",
                  405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 429: "RATE_LIMITED"}


def conduct_error(status: int, message: str) -> JSONResponse:
    """Conduct: `{"error", "code"}`."""
    return JSONResponse({"error": message, "code": _CONDUCT_CODES.get(status, "ERROR")},
                        status_code=status)


def fastapi_error(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """The scheduler (FastAPI): `{"detail": ...}`, detail a string, an object or a list."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class ApiError(Exception):
    """Raised in an endpoint: answered in its API's envelope (see `envelope_handlers`)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def envelope_handlers(envelope: Envelope) -> dict[Any, Any]:
    """Starlette exception handlers that answer `ApiError`s, unknown paths and wrong methods
    in `envelope`, not in Starlette's plain text."""

    async def api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return envelope(exc.status, exc.message)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return envelope(exc.status_code, exc.detail)

    return {ApiError: api_error, HTTPException: http_error}


# -- the bearer guard ------------------------------------------------------------------------


class TokenSource(Protocol):
    def token_for(self, provider: str) -> str | None: ...


@dataclass(frozen=True)
class BearerGuard:
    """One API's bearer check: a request without `Bearer <the provider's token>` gets
    `deny(its Authorization header)`; no token configured admits every request."""

    tokens: TokenSource
    provider: str
    deny: Callable[[str | None], Response]

    def admits(self, authorization: str | None) -> bool:
        expected = self.tokens.token_for(self.provider)
        return expected is None or authorization == f"Bearer {expected}"

    def refusal(self, request: Request) -> Response | None:
        """The answer to a request without the token, else None."""
        authorization = request.headers.get("authorization")
        return None if self.admits(authorization) else self.deny(authorization)

    def app(self, app: ASGIApp) -> ASGIApp:
        """`app` behind the check, unknown paths included (as servers whose auth runs
        before routing)."""

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                authorization = Headers(scope=scope).get("authorization")
                if not self.admits(authorization):
                    await self.deny(authorization)(scope, receive, send)
                    return
            await app(scope, receive, send)

        return guarded

    def endpoint(self, endpoint: Endpoint) -> Endpoint:
        """One route behind the check (as servers whose auth is per route: an unknown path
        is routing's 404 with or without a token)."""

        async def guarded(request: Request) -> Response:
            refused = self.refusal(request)
            return refused if refused is not None else await endpoint(request)

        return guarded


# -- the run generator -----------------------------------------------------------------------

AUTHORS = ["ana", "joe", "sarah", "li", "tomas", "priya", "kwame", "mei"]
BRANCHES = ["main", "main", "main", "feat/login", "fix/flaky-retry", "release/2.4", "deps/bump"]
MESSAGES = [
    "feat: add notification feature",
    "fix: retry flaky upload",
    "chore: bump dependencies",
    "refactor: split the poller",
    "feat: dark mode for the dashboard",
    "fix: null progress on queued runs",
    "test: cover the 429 path",
    "docs: explain kiosk mode",
    "perf: keyed row updates",
    "feat: abort button",
]


def new_script(
    rng: random.Random,
    *,
    index: int,
    created_at: float,
    step_names: list[str],
    author: str | None = None,
    branch: str | None = None,
    message: str | None = None,
    commit: str | None = None,
    fail_rate: float = 0.25,
    step_s: tuple[float, float] = (8.0, 45.0),
) -> RunScript:
    """One run created at `created_at`: step timings, whether and where it fails, and the
    commit facts not given, drawn from `rng` (in a fixed order, so a seed gives one world)."""
    failing = rng.random() < fail_rate
    fail_at = rng.randrange(len(step_names)) if failing else -1
    steps, offset = [], 0.0
    for i, name in enumerate(step_names):
        duration = round(rng.uniform(*step_s), 1)
        steps.append(StepScript(name, offset, duration, fails=i == fail_at))
        offset += duration + rng.uniform(0.0, 2.0)
    return RunScript(
        index=index,
        created_at=created_at,
        queue_s=round(rng.uniform(2.0, 20.0), 1),
        steps=steps,
        author=author if author is not None else rng.choice(AUTHORS),
        branch=branch if branch is not None else rng.choice(BRANCHES),
        message=message if message is not None else rng.choice(MESSAGES),
        commit=commit if commit is not None else f"{rng.getrandbits(160):040x}",
    )


def make_scripts(
    rng: random.Random,
    *,
    count: int,
    now: float,
    step_names: list[str],
    spacing_s: float = 240.0,
    future: int = 6,
    fail_rate: float = 0.25,
    step_s: tuple[float, float] = (8.0, 45.0),
) -> list[RunScript]:
    """`count` runs created before `now` (the newest still active) plus `future` runs that
    appear later, so a live demo sees new runs arrive, start and finish; newest first."""
    scripts: list[RunScript] = []
    for k in range(-future, count):
        created = now - k * spacing_s - rng.uniform(0, spacing_s * 0.3)
        scripts.append(new_script(rng, index=len(scripts), created_at=created,
                                  step_names=step_names, fail_rate=fail_rate, step_s=step_s))
    scripts.sort(key=lambda s: s.created_at, reverse=True)
    return scripts


# -- request bodies --------------------------------------------------------------------------


async def read_json(request: Request, *, blank: Any = None) -> Any:
    """The request's JSON body; `blank` for an empty one, None for one that is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return blank
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


async def read_json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, None for anything else."""
    body = await read_json(request)
    return body if isinstance(body, dict) else None


# -- answers at the ASGI level (faults) ------------------------------------------------------


@dataclass
class Answer:
    """An app's whole answer, captured so a fault can rewrite it; `headers` lack
    content-length (`send` sets it for the body it sends)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> str:
        return dict(self.headers).get(name, b"").decode("latin-1")


async def capture(app: ASGIApp, scope: Scope, receive: Receive) -> Answer:
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    return Answer(start.get("status", 200), headers, b"".join(chunks))


async def send_answer(send: Send, status: int, headers: list[tuple[bytes, bytes]],
                      body: bytes) -> None:
    """A whole answer: `headers` plus the body's content-length, then the body."""
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
