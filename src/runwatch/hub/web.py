"""The hub's HTTP side on aiohttp (textual-serve's server library, so one server serves the
page, the kiosk websockets, the feed and the metrics): the `/api/v1/` feed, `/cctray.xml`,
`/metrics`, and the token rule every request passes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from runwatch.hub.cctray import cctray_xml
from runwatch.hub.feed import Feed
from runwatch.hub.metrics import CONTENT_TYPE, HubMetrics

log = logging.getLogger("runwatch.serve")

JSON = "application/json"
KEEPALIVE_S = 15.0  # a comment line on an idle event stream, so proxies and clients know it lives
REALM = 'Basic realm="runwatch", charset="UTF-8"'


def token_guard(token: str) -> Middleware:
    """A middleware that lets through only requests that carry `token`: as a Bearer token,
    or as the password of HTTP basic auth (what browsers and CCTray clients send)."""
    expected = token.encode()

    def carried(header: str) -> bytes | None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "bearer":
            return value.strip().encode()
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                return None
            return decoded.partition(b":")[2]
        return None

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = carried(request.headers.get(hdrs.AUTHORIZATION, ""))
        # compare_digest: the time taken does not tell how much of a guess was right.
        if given is None or not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="runwatch serve: this needs the token "
                                "(Authorization: Bearer, or as the basic-auth password)\n",
                                headers={hdrs.WWW_AUTHENTICATE: REALM})
        return await handler(request)

    return guard


class FeedRoutes:
    """The read-only handlers over one feed."""

    def __init__(self, feed: Feed, metrics: HubMetrics, page_url: str) -> None:
        self.feed = feed
        self.metrics = metrics
        self.page_url = page_url

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/runs", self.runs),
            web.get("/api/v1/runs/{source}/{run_id}", self.run),
            web.get("/api/v1/sources", self.sources),
            web.get("/api/v1/events", self.events),
            web.get("/cctray.xml", self.cctray),
            web.get("/metrics", self.prometheus),
        ]

    def _source(self, request: web.Request) -> str | None:
        name = request.query.get("source")
        if name is not None and name not in self.feed.session.sources:
            raise web.HTTPNotFound(text=json.dumps({"error": f"no source named {name!r}"}),
                                   content_type=JSON)
        return name

    async def runs(self, request: web.Request) -> web.Response:
        source = self._source(request)
        etag = self.feed.etag(source)
        if etag in _etags(request.headers.get(hdrs.IF_NONE_MATCH, "")):
            return web.Response(status=304, headers={hdrs.ETAG: etag})
        body = self.feed.runs_body(source)
        return web.Response(body=body.data, content_type=JSON, headers={hdrs.ETAG: body.etag})

    async def run(self, request: web.Request) -> web.Response:
        source, run_id = request.match_info["source"], request.match_info["run_id"]
        if source not in self.feed.session.sources:
            return web.Response(status=404, content_type=JSON,
                                text=json.dumps({"error": f"no source named {source!r}"}))
        status, data = await self.feed.detail(source, run_id)
        return web.Response(status=status, body=data, content_type=JSON)

    async def sources(self, request: web.Request) -> web.Response:
        return web.Response(body=self.feed.sources_body(), content_type=JSON)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: `runs` (changed runs and removed ids of one source, with the
        feed's version) and `source` (a source's health), as they happen."""
        response = web.StreamResponse(headers={
            hdrs.CONTENT_TYPE: "text/event-stream", hdrs.CACHE_CONTROL: "no-cache",
            "X-Accel-Buffering": "no"})
        await response.prepare(request)
        subscriber = self.feed.subscribe()
        try:
            await response.write(f"event: hello\ndata: {json.dumps({'version': self.feed.version})}"
                                 "\n\n".encode())
            while True:
                try:  # not wait_for: on 3.11 it may drop the cancel of a closing server
                    async with asyncio.timeout(KEEPALIVE_S):
                        event = await subscriber.queue.get()
                except TimeoutError:
                    event = b": keep-alive\n\n"
                if not event or (subscriber.dropped and subscriber.queue.empty()):
                    break  # the server stops, or this client fell too far behind
                await response.write(event)
        except ConnectionResetError:
            pass  # the client went away
        finally:
            self.feed.unsubscribe(subscriber)
        return response

    async def cctray(self, request: web.Request) -> web.Response:
        failing = {name: self.feed.health(name).state in ("error", "stale")
                   for name in self.feed.session}
        body = cctray_xml(self.feed.runs(), failing, self.page_url)
        return web.Response(body=body, content_type="application/xml", charset="utf-8")

    async def prometheus(self, request: web.Request) -> web.Response:
        response = web.Response(body=self.metrics.render())
        response.headers[hdrs.CONTENT_TYPE] = CONTENT_TYPE
        return response


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
