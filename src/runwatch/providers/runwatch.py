"""Another runwatch's feed (`provider = "runwatch"`, DESIGN section 12): a `runwatch serve`
hub polls the APIs once and every runwatch pointed at it reads `/api/v1/` instead.

A source with `hub_source` shows that one source of the hub; one without is expanded, when
the providers are built, into one source per hub source (`expand_hubs`), named as the hub
names them, or `<this source>/<hub source>` when two hubs are configured. The hub's
`/api/v1/events` stream only wakes the poller (a change is read within a second); the runs
themselves always come from `GET /api/v1/runs` with `If-None-Match`, so a lost stream costs
latency, never correctness. Always read-only: no action is listed, and the client refuses any
mutating request besides.
"""

import asyncio
import json
import logging
import os
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from runwatch.config import Config, SourceConfig
from runwatch.errors import RunwatchError
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus
from runwatch.providers.base import Provider
from runwatch.providers.kit import ClientKit
from runwatch.providers.wire import LAZY, WireModel, first_problem
from runwatch.sanitize import clean_text

log = logging.getLogger(__name__)

RUNS_PATH = "/api/v1/runs"
SOURCES_PATH = "/api/v1/sources"
EVENTS_PATH = "/api/v1/events"
MAX_EVENT_BYTES = 1 << 20  # one SSE event; a longer one is a broken (or hostile) hub
EVENTS_RETRY_S = 5.0  # between attempts to (re)open the event stream
# The hub says something at least every 15 s (a comment line); silence past this is a dead one.
EVENTS_READ_TIMEOUT_S = 45.0
MAX_NAME = 64  # characters of a hub's source name kept
RUN_FIELDS = frozenset(Run.model_fields)
# A bad value of one of these costs that field; of any other (the id, the API's own words for
# the status) it costs that run. Never the list.
OPTIONAL_RUN_FIELDS = frozenset(n for n, f in Run.model_fields.items() if not f.is_required())
STATUSES = frozenset(s.value for s in RunStatus)
DETAIL_FIELDS = frozenset(RunDetail.model_fields)


class WireSource(WireModel):
    """One entry of `/api/v1/sources`."""

    name: str
    provider: str | None = None
    state: str | None = None
    error: str | None = None


SOURCES = TypeAdapter(list[WireSource], config=LAZY)
ITEMS = TypeAdapter(list[Any])
OBJECT = TypeAdapter(dict[str, Any])


class RemoteStale(RunwatchError):
    """The hub's own poll of this source failed: its runs are the hub's last good ones."""


class RunwatchProvider(Provider):
    """The runs of one hub source (or of all, under this source's name), read-only."""

    name: ClassVar[str] = "runwatch"

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        client.read_only = True  # always: a hub is for watching
        self.remote = source.hub_source
        self.kit = ClientKit(source.name, client)
        self._wake: Callable[[], None] | None = None
        self._events: asyncio.Task[None] | None = None
        self._origin: dict[str, str] = {}  # run id -> the hub's source, without hub_source

    # -- reading -------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        await self._check_remote_health()
        params = {"source": self.remote} if self.remote else None
        runs: list[Run] = await self.kit.get_mapped(RUNS_PATH, params, self._map_runs)
        if self._wake is not None and self._events is None:
            # After a first good answer: the token is known and the hub is there.
            self._events = asyncio.create_task(self._follow_events(),
                                               name=f"events:{self.source.name}")
        return runs

    async def get_run(self, run_id: str) -> RunDetail:
        remote = self.remote or self._origin.get(run_id, "")
        path = f"{RUNS_PATH}/{quote(remote, safe='')}/{quote(run_id, safe='')}"
        body = self.kit.parse(OBJECT, await self.client.get_json(path), path)
        detail = RunDetail.model_validate(self._local(body, DETAIL_FIELDS))
        return detail

    async def _check_remote_health(self) -> None:
        if self.remote is None:
            return
        body = await self.client.get_json(SOURCES_PATH)
        sources = self.kit.parse(SOURCES, body, SOURCES_PATH)
        mine = next((s for s in sources if s.name == self.remote), None)
        if mine is None:
            raise self.kit.bad(SOURCES_PATH, f"the hub has no source named {self.remote!r}")
        if mine.state in ("stale", "error") and mine.error:
            raise RemoteStale(f"{self.source.name}: at the hub: {mine.error}")

    def _map_runs(self, body: Any) -> list[Run]:
        # Only a body that is no list at all costs the list; each run stands on its own.
        items = self.kit.parse(ITEMS, body, RUNS_PATH)
        runs: list[Run] = []
        origin: dict[str, str] = {}
        problem = ""
        for index, item in enumerate(items):
            run = self._run(item)
            if isinstance(run, str):
                problem = problem or f"run {index}: {run}"
                continue
            runs.append(run)
            origin[run.id] = str(item.get("source"))
        if problem and not runs:  # not one run fits: a broken hub, said as such
            raise self.kit.bad(RUNS_PATH, problem)
        if problem:
            log.info("%s: %s: %d of %d runs left out (%s)", self.source.name, RUNS_PATH,
                     len(items) - len(runs), len(items), problem)
        if self.remote is None:  # all of the hub's runs under one name: where each is from
            self._origin = origin
        return runs[: self.limit]

    def _run(self, item: Any) -> Run | str:
        """One of the hub's runs: a bad optional value is left out, a status this runwatch
        does not know is `unknown`; what is wrong when the rest still does not fit."""
        if not isinstance(item, dict):
            return "not an object"
        fields = self._local(item, RUN_FIELDS)
        status = fields.get("status")
        if not isinstance(status, str) or status not in STATUSES:  # a newer hub's, or none
            fields["status"] = RunStatus.UNKNOWN
        try:
            return Run.model_validate(fields)
        except ValidationError as exc:
            wrong = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            problem = first_problem(exc)
        if not wrong or not wrong <= OPTIONAL_RUN_FIELDS:
            return problem
        try:
            return Run.model_validate({k: v for k, v in fields.items() if k not in wrong})
        except ValidationError as exc:
            return first_problem(exc)

    def _local(self, obj: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
        """The hub's object with only the fields this runwatch knows (a newer hub may send
        more), under this source's name."""
        kept = {k: v for k, v in obj.items() if k in fields}
        kept["source"] = self.source.name
        return kept

    # -- the event stream: a wake-up, never the data ----------------------------------------

    def push_to(self, wake: Callable[[], None] | None) -> None:
        """Call `wake` whenever the hub says this source changed (None: stop listening)."""
        self._wake = wake
        if wake is None and self._events is not None:
            self._events.cancel()
            self._events = None

    async def _follow_events(self) -> None:
        while self._wake is not None:
            try:
                await self._read_events()
            except asyncio.CancelledError:
                raise
            except (httpx.HTTPError, RunwatchError, ValueError) as exc:
                log.info("%s: event stream: %s", self.source.name, type(exc).__name__)
            await asyncio.sleep(EVENTS_RETRY_S)  # meanwhile the poller polls `runs` as ever

    async def _read_events(self) -> None:
        timeout = httpx.Timeout(5.0, read=EVENTS_READ_TIMEOUT_S)
        headers = {"Accept": "text/event-stream"}
        async with self.client.client.stream("GET", EVENTS_PATH, headers=headers,
                                             timeout=timeout) as response:
            if response.status_code != 200:
                raise RunwatchError(f"events: HTTP {response.status_code}")
            buffer = b""
            async for chunk in response.aiter_bytes():
                buffer += chunk
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    self._on_event(event)
                if len(buffer) > MAX_EVENT_BYTES:
                    raise ValueError("an event over 1 MiB")

    def _on_event(self, raw: bytes) -> None:
        kind, data = "message", b""
        for line in raw.splitlines():
            if line.startswith(b"event:"):
                kind = line[6:].strip().decode("ascii", "replace")
            elif line.startswith(b"data:"):
                data += line[5:].strip()
        if self._wake is None:
            return
        if kind == "hello":
            # A change the hub saw before this stream opened (between the first list and
            # the connect, or while reconnecting) was pushed to nobody: read the runs once
            # (a 304 when nothing moved; a restarted hub's versions start again, so its
            # hello's version proves nothing).
            self._wake()
            return
        if kind not in ("runs", "source"):
            return
        if self.remote is not None:
            try:
                named = json.loads(data).get("source")
            except (ValueError, AttributeError):
                return
            if named != self.remote:
                return
        self._wake()

    async def aclose(self) -> None:
        self.push_to(None)
        await super().aclose()


# -- a hub without `hub_source`: one source per hub source ---------------------------------


def expand_hubs(config: Config) -> Config:
    """`config` with each `runwatch` source that names no `hub_source` replaced by one per
    source of its hub (asked now, once, within the config's timeout and at most 5 s). A hub
    that does not answer stays one source: it then shows every hub run under its own name,
    and its error on its line."""
    sources = config.sources
    hubs = [s for s in sources if s.provider == "runwatch" and s.hub_source is None]
    if not hubs:
        return config
    timeout_s = min(config.runwatch.timeout, 5.0)
    taken = {s.name for s in sources if s not in hubs}
    expanded: list[SourceConfig] = []
    for source in sources:
        names = _hub_sources(source, timeout_s) if source in hubs else []
        if not names:
            expanded.append(source)
            continue
        for remote in names:
            name = remote if len(hubs) == 1 and remote not in taken else f"{source.name}/{remote}"
            taken.add(name)
            expanded.append(source.model_copy(update={"name": name, "hub_source": remote}))
    return config.model_copy(update={"sources": expanded})


def _hub_sources(source: SourceConfig, timeout_s: float) -> list[str]:
    token = source.token
    if source.token_env:
        token = os.environ.get(source.token_env)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        answer = httpx.get(f"{source.base_url}{SOURCES_PATH}", headers=headers,
                           timeout=timeout_s, follow_redirects=False)
        answer.raise_for_status()
        # The hub's words become source names on screen: cleaned, and each once.
        names = (clean_text(s.name)[:MAX_NAME] for s in SOURCES.validate_json(answer.content))
        return list(dict.fromkeys(n for n in names if n))
    except (httpx.HTTPError, ValueError):
        return []

