"""The hub's read side: what the one session knows, as the bodies `/api/v1/` serves.

The session's poller tells the feed of every change (runs changed or removed, a source's
health); the feed bumps a version, forgets the bodies that version made stale, and pushes the
change to every event-stream subscriber at once. Bodies are built when asked for, once per
version: ten viewers asking for an unchanged list cost one `json.dumps`, and a 304 costs none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from runwatch.errors import NotFound, RunwatchError
from runwatch.models import Run
from runwatch.poller import HealthChanged, PollEvent, RunsChanged, SourceHealth
from runwatch.session import Refused, Session

log = logging.getLogger(__name__)

RUN_FIELDS = frozenset(Run.model_fields)
SUBSCRIBER_QUEUE = 256  # events a slow event-stream client may fall behind before it is dropped
DETAILS_KEPT = 256


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def newest_first(runs: Iterable[Run]) -> list[Run]:
    return sorted(runs, key=lambda r: r.sort_time, reverse=True)


@dataclass
class Body:
    etag: str
    data: bytes


@dataclass
class _Detail:
    expires: float
    status: int
    data: bytes


@dataclass(eq=False)  # each one is itself: kept in a set
class Subscriber:
    """One event-stream client: its queue of encoded events; `dropped` once it fell behind."""

    queue: asyncio.Queue[bytes] = field(
        default_factory=lambda: asyncio.Queue(maxsize=SUBSCRIBER_QUEUE))
    dropped: bool = False


class Feed:
    """The session's runs and health as JSON bodies and server-sent events."""

    def __init__(self, session: Session, *, now: Callable[[], float] = time.time,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self._now = now
        self._clock = clock
        # An ETag names this process too: a restarted hub's version 1 is not the old one's.
        self._boot = secrets.token_hex(4)
        self.version = 0
        self._versions = {name: 0 for name in session}
        self._bodies: dict[str | None, Body] = {}
        self._dumped: dict[tuple[str, str], tuple[Run, dict[str, Any], bytes]] = {}
        self._details: dict[tuple[str, str], _Detail] = {}
        self._fetching: dict[tuple[str, str], asyncio.Task[_Detail]] = {}
        self.subscribers: set[Subscriber] = set()
        self.listeners: list[Callable[[PollEvent], None]] = []
        session.on_event = self._on_event

    # -- what changed ----------------------------------------------------------------------

    def _on_event(self, event: PollEvent) -> None:
        for listener in self.listeners:
            listener(event)
        if isinstance(event, RunsChanged):
            self.version += 1
            self._versions[event.source] = self.version
            self._bodies.pop(None, None)
            self._bodies.pop(event.source, None)
            for run_id in event.removed:
                self._dumped.pop((event.source, run_id), None)
            self._publish("runs", {
                "source": event.source,
                "version": self.version,
                "changed": [self._dump(r) for r in event.changed],
                "removed": list(event.removed),
            })
        elif isinstance(event, HealthChanged):
            self._publish("source", {"source": event.source,
                                     **self._health(event.source, event.health)})

    def _publish(self, kind: str, payload: dict[str, Any]) -> None:
        if not self.subscribers:
            return
        encoded = f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()
        for subscriber in list(self.subscribers):
            try:
                subscriber.queue.put_nowait(encoded)
            except asyncio.QueueFull:
                # It reconnects and reads `runs` again; a stalled client must not hold memory.
                subscriber.dropped = True
                self.subscribers.discard(subscriber)

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def close_streams(self) -> None:
        """End every event stream (the server is stopping): each gets an empty event."""
        for subscriber in list(self.subscribers):
            subscriber.dropped = True
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(b"")
        self.subscribers.clear()

    # -- bodies ------------------------------------------------------------------------------

    def runs(self, source: str | None = None) -> list[Run]:
        """Every run (or `source`'s), newest first, as `runwatch list` orders them."""
        names = [source] if source is not None else list(self.session)
        return newest_first(r for n in names for r in self.session.poller.runs(n).values())

    def etag(self, source: str | None = None) -> str:
        version = self.version if source is None else self._versions[source]
        return f'"{self._boot}.{version}"'

    def runs_body(self, source: str | None = None) -> Body:
        """The `list --json` objects; built once per version."""
        body = self._bodies.get(source)
        if body is None:
            # Each run's JSON is kept while the run is the same object (providers keep
            # unchanged runs' objects): a list of 10,000 with 10 changed encodes 10.
            data = b"[" + b", ".join(self._encoded(r) for r in self.runs(source)) + b"]"
            body = self._bodies[source] = Body(self.etag(source), data)
        return body

    def _dump(self, run: Run) -> dict[str, Any]:
        return self._known(run)[1]

    def _encoded(self, run: Run) -> bytes:
        return self._known(run)[2]

    def _known(self, run: Run) -> tuple[Run, dict[str, Any], bytes]:
        known = self._dumped.get(run.key)
        if known is not None and known[0] is run:
            return known
        dumped = run.model_dump(mode="json", include=set(RUN_FIELDS))
        known = self._dumped[run.key] = (run, dumped, json.dumps(dumped).encode())
        return known

    def _health(self, name: str, health: SourceHealth) -> dict[str, Any]:
        facts = self.session.sources[name]
        return {
            "name": name,
            "provider": facts.api,
            "state": health.state,
            "error": health.error,
            "last_success": iso(health.last_success),
            "next_poll": iso(health.next_poll),
            "interval_s": round(health.interval_s, 3),
            "failures": health.failures,
            "runs": len(self.session.poller.runs(name)),
        }

    def health(self, name: str) -> SourceHealth:
        return self.session.poller.health(name)

    def sources(self) -> list[dict[str, Any]]:
        """Each source's health: never its config (the token, the token's origin)."""
        return [self._health(name, self.health(name)) for name in self.session]

    def sources_body(self) -> bytes:
        return json.dumps(self.sources()).encode()

    # -- one run's detail, read on demand ---------------------------------------------------

    async def detail(self, source: str, run_id: str) -> tuple[int, bytes]:
        """(HTTP status, body) of one run's `show --json` object: read from its API when
        first asked, then served from memory for one poll interval; requests for the same
        run while it is read share the one request."""
        key = (source, run_id)
        known = self._details.get(key)
        if known is not None and known.expires > self._clock():
            return known.status, known.data
        task = self._fetching.get(key)
        if task is None:
            task = self._fetching[key] = asyncio.ensure_future(self._read_detail(source, run_id))
            task.add_done_callback(lambda _: self._fetching.pop(key, None))
        got = await asyncio.shield(task)
        self._details[key] = got
        while len(self._details) > DETAILS_KEPT:
            self._details.pop(next(iter(self._details)))
        return got.status, got.data

    async def _read_detail(self, source: str, run_id: str) -> _Detail:
        expires = self._clock() + self.health(source).interval_s
        try:
            detail = await self.session.get_run(source, run_id)
        except (NotFound, Refused) as exc:
            return _Detail(expires, 404, _error(str(exc)))
        except RunwatchError as exc:
            return _Detail(self._clock(), 502, _error(str(exc)))  # not cached: try again
        return _Detail(expires, 200, json.dumps(detail.model_dump(mode="json")).encode())


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()
