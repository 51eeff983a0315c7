"""The web server of `runwatch serve`: textual-serve's Server, guarded.

Imported only when serving (it needs the optional textual-serve package). Every request must
name this server in its `Host` header, a request that carries an `Origin` must come from one
of this server's pages, and the websocket (which starts a kiosk process) must carry one. At
most `max_viewers` websockets run a kiosk at once; the next one is turned away with words on
its terminal, and the page itself says so while the server is full.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from textual_serve.server import Server

from runwatch.serve import Audience

log = logging.getLogger("runwatch.serve")

TRY_AGAIN_LATER = 1013  # the websocket close code for "server overloaded, come back later"


class KioskServer(Server):
    """textual-serve's Server with the Host/Origin checks and the viewer cap."""

    def __init__(self, command: str, *, audience: Audience, max_viewers: int,
                 **options: Any) -> None:
        super().__init__(command, **options)
        self.audience = audience
        self.max_viewers = max_viewers
        self.viewers = 0  # websockets with a kiosk process behind them, now

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._only_our_pages)
        return app

    @web.middleware
    async def _only_our_pages(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get(hdrs.HOST, "")
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None and request.path == "/ws":
            # Browsers always send Origin on a websocket: one without is no page of ours.
            return self._refuse(request, "a websocket without an Origin")
        if not self.audience.allows_host(host):
            return self._refuse(request, f"Host {host!r}")
        if origin is not None and not self.audience.allows_origin(origin):
            return self._refuse(request, f"Origin {origin!r}")
        return await handler(request)

    def _refuse(self, request: web.Request, what: str) -> web.Response:
        # repr() in the log: the header is the requester's text, escapes included.
        log.warning("refused %s %s: %s is not this server", request.method, request.path, what)
        return web.Response(
            status=403,
            text=f"runwatch serve answers only to its own address ({self.public_url}); "
            "another name needs --public-url\n",
        )

    def _full(self) -> str:
        return (f"runwatch serve: {self.viewers} viewers are watching already, the most this "
                f"server allows (--max-viewers {self.max_viewers}); try again later.")

    async def handle_index(self, request: web.Request) -> Any:
        if self.viewers >= self.max_viewers:
            return web.Response(status=503, text=self._full() + "\n",
                                headers={hdrs.RETRY_AFTER: "30"})
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if self.viewers >= self.max_viewers:
            return await self._turn_away(request)
        self.viewers += 1  # before the first await: two at the cap cannot both get in
        try:
            return await super().handle_websocket(request)
        finally:
            self.viewers -= 1

    async def _turn_away(self, request: web.Request) -> web.WebSocketResponse:
        """A websocket over the cap: the reason on its terminal, then closed; no process."""
        log.warning("turned a viewer away: %d are watching (--max-viewers %d)",
                    self.viewers, self.max_viewers)
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        await websocket.send_bytes(f"\r\n  {self._full()}\r\n".encode())
        await websocket.close(code=TRY_AGAIN_LATER, message=b"too many viewers")
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        # One line instead of textual-serve's banner: what is served, where, to how many.
        print(f"runwatch serve: the read-only kiosk at {self.public_url} for up to "
              f"{self.max_viewers} viewers; Ctrl-C stops it", flush=True)
