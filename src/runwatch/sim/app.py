"""The simulator: all five APIs under their own path prefixes in one ASGI app.

    /services/api/runs ...      /wercker/api/v3/runs ...     /currents/v1/projects/...
    /conduct/v1/runs ...        /scheduler/api/v1/runs ...

A source's `base_url` is the server root plus the prefix, e.g. `http://127.0.0.1:8765/wercker`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runwatch.sim import hostile
from runwatch.sim.core import (
    Fault,
    FaultKind,
    RecordedRequest,
    RunScript,
    SimClock,
    SimSettings,
)
from runwatch.sim.hostile import HOSTILE_KINDS
from runwatch.sim.hostile_http import HTTP_ATTACKS, attack
from runwatch.sim.kit import capture, send_answer

PROVIDERS = ("services", "wercker", "currents", "conduct", "scheduler")
FAULT_KINDS: tuple[str, ...] = ("none", "500", "429", "html", "truncated", "hang", "refuse",
                                *HOSTILE_KINDS)
FAULT_KINDS += HTTP_ATTACKS
# How far `settle` moves the clock by default: every run's script has ended by then.
SETTLE_S = 3 * 86_400.0
# The most one settle may move it: a decade is far past any script, and far short of the
# year 9999 where the APIs' timestamps stop rendering (a 500 on every later request).
SETTLE_MAX_S = 3650 * 86_400.0


class SimApi(Protocol):
    """What the simulator asks of each simulated API, beyond its constructor (which takes
    the Simulator): its routes and its run scripts. The rest of each API's state is its own
    (tests reach into it by its concrete class)."""

    @property
    def app(self) -> ASGIApp: ...

    def run_scripts(self) -> list[RunScript]:
        """Every run script, deleted ones too."""
        ...


def _api_types() -> dict[str, Callable[[Simulator], SimApi]]:
    """Each provider's simulated API, by the name it is mounted under. Imported when a world
    is made, not with this module: `runwatch.sim` is imported for its clock and settings
    alone by code that never serves an API."""
    from runwatch.sim import conduct, currents, scheduler, services, wercker

    return {
        "services": services.SimulatedApi,
        "wercker": wercker.SimulatedApi,
        "currents": currents.SimulatedApi,
        "conduct": conduct.SimulatedApi,
        "scheduler": scheduler.SimulatedApi,
    }


class Simulator:
    """One simulated world: settings, a clock, each API's state, faults, requests seen."""

    def __init__(
        self, settings: SimSettings | None = None, clock: SimClock | None = None
    ) -> None:
        self.settings = settings or SimSettings()
        self.clock = clock or SimClock()
        self.faults: dict[str, Fault] = {p: Fault() for p in PROVIDERS}
        self.requests: list[RecordedRequest] = []
        self.record_requests = True
        # Typed as the protocol: `apis["x"].runs` and the like are the tests' business.
        self.apis: dict[str, SimApi] = {}
        routes = []
        types = _api_types()
        for name in PROVIDERS:
            api = types[name](self)
            self.apis[name] = api
            routes.append(Mount(f"/{name}", app=api.app))
        routes.append(Mount("/_sim", routes=self._control_routes()))
        self.app: ASGIApp = _Recorder(self, Starlette(routes=routes))

    def now(self) -> float:
        return self.clock.now()

    def token_for(self, provider: str) -> str | None:
        return self.settings.tokens.get(provider)

    def inject(self, provider: str, fault: Fault) -> None:
        self.faults[provider] = fault

    def clear_faults(self) -> None:
        self.faults = {p: Fault() for p in PROVIDERS}

    def _control_routes(self) -> list[Route]:
        """`/_sim/...`: inject and clear faults, move the clock, read the requests seen, from
        outside the process (e.g. `curl -X PUT localhost:8765/_sim/faults/wercker -d
        '{"kind": "500"}'`; the benchmarks drive `runwatch sim` in another process so)."""

        async def faults(request: Request) -> JSONResponse:
            if request.method == "DELETE":
                self.clear_faults()
            return JSONResponse({p: vars(f) for p, f in self.faults.items()})

        async def fault(request: Request) -> JSONResponse:
            provider = request.path_params["provider"]
            if provider not in self.faults:
                return JSONResponse({"error": f"no provider {provider!r}"}, status_code=404)
            body: Any = await request.json() if request.method == "PUT" else {"kind": "none"}
            kind: FaultKind = body.get("kind", "none")
            if kind not in FAULT_KINDS:
                return JSONResponse({"error": f"kind must be one of {FAULT_KINDS}"}, 422)
            self.inject(provider, Fault(kind=kind, retry_after=body.get("retry_after"),
                                        hang_s=float(body.get("hang_s", 30.0)),
                                        times=body.get("times"),
                                        location=body.get("location")))
            return JSONResponse(vars(self.faults[provider]))

        async def advance(request: Request) -> JSONResponse:
            self.clock.advance(float((await request.json()).get("seconds", 0)))
            return JSONResponse({"now": self.now()})

        async def settle(request: Request) -> JSONResponse:
            seconds = _settle_seconds(await request.body())
            if isinstance(seconds, str):
                return JSONResponse({"error": seconds}, status_code=400)
            gone = self.settle(seconds)
            return JSONResponse({"now": self.now(), "deleted": gone})

        async def requests(request: Request) -> JSONResponse:
            # `?since=N`: the requests after the first N (the log only grows); headers are
            # left out (they carry the tokens).
            since = int(request.query_params.get("since", "0") or 0)
            seen = [{"provider": r.provider, "method": r.method, "path": r.path,
                     "query": r.query, "body": r.body.decode("utf-8", "replace")}
                    for r in self.requests[max(0, since):]]
            return JSONResponse({"count": len(self.requests), "requests": seen})

        return [
            Route("/requests", requests, methods=["GET"]),
            Route("/faults", faults, methods=["GET", "DELETE"]),
            Route("/faults/{provider}", fault, methods=["PUT", "DELETE"]),
            Route("/clock/advance", advance, methods=["POST"]),
            Route("/settle", settle, methods=["POST"]),
        ]

    def settle(self, seconds: float | None = None) -> int:
        """A settled world: the clock moved on `seconds` (by default SETTLE_S, far enough
        that every run has finished; 0 moves it not at all), and the runs created after the
        clients' wall clock deleted, so no run is dated in the future of whoever reads the
        APIs (an "in 20m" would count down on their screens). The number of runs deleted."""
        self.clock.advance(SETTLE_S if seconds is None else seconds)
        wall = self.clock.wall()
        gone = 0
        for api in self.apis.values():
            for script in api.run_scripts():
                if script.created_at > wall and not script.deleted:
                    script.deleted = True
                    gone += 1
        return gone

    def requests_to(self, provider: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r for r in self.requests
            if r.provider == provider and (method is None or r.method == method)
        ]

    def mutating_requests(self) -> list[RecordedRequest]:
        """Every request that could change something (login excluded)."""
        return [
            r for r in self.requests
            if r.method not in ("GET", "HEAD", "OPTIONS") and not r.path.endswith("/auth/login")
        ]


class _Recorder:
    """ASGI middleware: records each request and applies the provider's injected fault."""

    def __init__(self, sim: Simulator, app: ASGIApp) -> None:
        self.sim = sim
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        provider, _, rest = path.lstrip("/").partition("/")
        body = await _read_body(receive)
        if self.sim.record_requests and provider != "_sim":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            self.sim.requests.append(
                RecordedRequest(
                    provider=provider,
                    method=scope["method"],
                    path="/" + rest,
                    query=scope.get("query_string", b"").decode(),
                    headers=headers,
                    body=body,
                )
            )
        replay = _replay(body)
        fault = self.sim.faults.get(provider)
        if fault is not None and fault.consume():
            if fault.kind in HTTP_ATTACKS:
                await attack(fault, self.app, scope, replay, receive, send)
                return
            await _apply_fault(fault, self.app, scope, replay, send)
            return
        await self.app(scope, replay, send)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # like a client that keeps the connection open
        return {"type": "http.disconnect"}  # pragma: no cover

    return receive


async def _respond(send: Send, status: int, body: bytes, content_type: str,
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await send_answer(send, status, [(b"content-type", content_type.encode()), *(extra or [])],
                      body)


async def _apply_fault(fault: Fault, app: ASGIApp, scope: Scope, receive: Receive,
                       send: Send) -> None:
    if fault.kind == "500":
        await _respond(send, 500, b'{"error": "simulated internal error"}', "application/json")
    elif fault.kind == "429":
        asked = fault.retry_after
        value = asked if isinstance(asked, str) else f"{asked or 1:g}"
        extra = [(b"retry-after", value.encode())]
        await _respond(send, 429, b'{"error": "rate limit exceeded"}', "application/json", extra)
    elif fault.kind == "html":
        page = b"<!DOCTYPE html><html><body><h1>Sign in to continue</h1></body></html>"
        await _respond(send, 200, page, "text/html; charset=utf-8")
    elif fault.kind == "truncated":
        await _truncated(app, scope, receive, send)
    elif fault.kind == "hang":
        await asyncio.sleep(fault.hang_s)
        await app(scope, receive, send)
    elif fault.kind in HOSTILE_KINDS:
        await hostile.apply(fault.kind, app, scope, receive, send)
    elif fault.kind == "refuse":
        # Headers promising a body, then the connection drops: the client sees the server
        # go away mid-answer (a whole server that stops is ThreadedServer.stop()).
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"1000")]})
        raise ConnectionAbortedError("simulated: connection dropped")


async def _truncated(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    answer = await capture(app, scope, receive)
    await send_answer(send, answer.status, answer.headers,
                      answer.body[: max(1, len(answer.body) // 2)])


def _settle_seconds(body: bytes) -> float | str:
    """The `seconds` of a settle request's body (none, `{}` or `{"seconds": null}`: SETTLE_S),
    or what is wrong with it."""
    try:
        parsed: Any = json.loads(body) if body.strip() else {}
    except ValueError:
        return "the body must be JSON: {} or {\"seconds\": N}"
    if not isinstance(parsed, dict):
        return "the body must be a JSON object: {} or {\"seconds\": N}"
    seconds = parsed.get("seconds")
    if seconds is None:
        return SETTLE_S
    shown = json.dumps(seconds)[:40]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return f"seconds must be a number, not {shown}"
    if not 0 <= seconds <= SETTLE_MAX_S:  # NaN compares false: refused too
        return f"seconds must be from 0 to {SETTLE_MAX_S:.0f} (a decade), not {shown}"
    return float(seconds)


def create_app(settings: SimSettings | None = None, clock: SimClock | None = None) -> Simulator:
    return Simulator(settings, clock)
