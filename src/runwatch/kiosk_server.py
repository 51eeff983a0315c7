"""The web server of `runwatch serve`: textual-serve's Server, guarded, and the hub's feed.

Imported only when serving (it needs the optional textual-serve package). One aiohttp
application serves the page (runwatch's copy of textual-serve's, with the font served from
here), the kiosk websockets, the `/api/v1/` feed, `/cctray.xml` and `/metrics`; the hub's
session starts and stops with it. With a token, every request must carry it. Every request must
name this server in its `Host` header, a request that carries an `Origin` must come from one
of this server's pages, and the websocket (which starts a kiosk process) must carry one. At
most `max_viewers` websockets run a kiosk at once; the next one is turned away with words on
its terminal, and the page itself says so while the server is full.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from textual_serve.server import Server

from runwatch.hub import Hub
from runwatch.hub.web import FeedRoutes, token_guard
from runwatch.serve import Audience

log = logging.getLogger("runwatch.serve")

TEMPLATES = Path(__file__).parent / "hub" / "templates"
TRY_AGAIN_LATER = 1013  # the websocket close code for "server overloaded, come back later"


class KioskServer(Server):
    """textual-serve's Server with the Host/Origin checks and the viewer cap."""

    def __init__(self, command: str, *, audience: Audience, max_viewers: int,
                 hub: Hub | None = None, token: str | None = None, **options: Any) -> None:
        super().__init__(command, templates_path=TEMPLATES, **options)
        self.audience = audience
        self.max_viewers = max_viewers
        self.viewers = 0  # websockets with a kiosk process behind them, now
        self.hub = hub
        self.token = token
        self.feed_routes = (FeedRoutes(hub.feed, hub.metrics, self.public_url)
                            if hub is not None else None)

    def initialize_logging(self) -> None:
        super().initialize_logging()
        # textual-serve logs at INFO: one line per request of the hub's poller is noise.
        logging.getLogger("httpx").setLevel(logging.WARNING)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._only_our_pages)
        if self.token:
            app.middlewares.append(token_guard(self.token))
        if self.feed_routes is not None:
            app.add_routes(self.feed_routes.routes())
        app.on_cleanup.append(self._stop_hub)
        return app

    async def _stop_hub(self, app: web.Application) -> None:
        if self.hub is not None:
            await self.hub.aclose()

    async def on_shutdown(self, app: web.Application) -> None:
        if self.hub is not None:
            self.hub.feed.close_streams()  # so that shutdown need not wait for them

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
        if self.hub is not None:
            self.hub.start()
        # One line instead of textual-serve's banner: what is served, where, to how many.
        print(f"runwatch serve: the read-only kiosk at {self.public_url} for up to "
              f"{self.max_viewers} viewers; Ctrl-C stops it", flush=True)
