"""The scheduler provider: an incremental oldest-first list, details labelled from cached
workflow snapshots, cancel, and rerun with an Idempotency-Key. See the package docstring."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from runwatch.config import SourceConfig
from runwatch.errors import ApiError, Conflict
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus
from runwatch.providers.base import Provider, RunAction
from runwatch.providers.kit import run_path
from runwatch.providers.scheduler.definitions import Definitions
from runwatch.providers.scheduler.mapping import Definition, content, idempotency_key, steps
from runwatch.providers.scheduler.refresh import Refreshes, _same
from runwatch.providers.scheduler.wire import (
    RUNS_PATH,
    WireRun,
    WireRunList,
    WireRunRef,
    node_progress,
    scheduler_status,
)
from runwatch.providers.wire import parse

PAGE_SIZE = 200  # the API's largest `limit`: an oldest-first list is read to its end
MAX_PAGES = 50  # per call; a longer backlog (or a cursor that never ends) goes on next call
DEFINITIONS_KEPT = 64  # workflow snapshots cached by definitionHash, beyond the list's own
MAX_NEW_DEFINITIONS_PER_POLL = 3  # snapshots a list call may fetch; the rest come on later calls
# Unfinished runs refreshed by id per list call, and how many of those requests are in flight
# at once: a scheduler with 500 runs queued costs 25 polls to go round, not 500 requests each.
# The ones refreshed longest ago go first.
REFRESH_PER_POLL = 20
REFRESH_AT_ONCE = 4


@dataclass
class _Held:
    """A run the list holds: the body it came from, parsed, and mapped once it is listed
    (a first walk reads many runs that never make the newest `limit`)."""

    raw: object
    wire: WireRun
    run: Run | None = None


class SchedulerProvider(Refreshes, Definitions, Provider):
    """Runs of a workflow scheduler, optionally of one `client_id`."""

    name: ClassVar[str] = "scheduler"
    actions: ClassVar[frozenset[RunAction]] = frozenset({RunAction.CANCEL, RunAction.RERUN})

    page_size: int = PAGE_SIZE
    max_pages: int = MAX_PAGES
    max_new_definitions: int = MAX_NEW_DEFINITIONS_PER_POLL
    refresh_per_poll: int = REFRESH_PER_POLL
    refresh_at_once: int = REFRESH_AT_ONCE

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        # The newest `limit` runs, oldest first as the API lists them, and where to resume.
        self._held: OrderedDict[str, _Held] = OrderedDict()
        self._cursor: str | None = None
        self._last_page: tuple[object, WireRunList] | None = None  # parsed once per body
        # Edits of `_held` so far, and the last one-page read: its body, the edit count
        # after holding it and the ids on it. The same body again with no edit between
        # leaves nothing to hold (see _fetch_new).
        self._edits = 0
        self._quiet: tuple[object, int, frozenset[str]] | None = None
        self._was_quiet = False  # the last _fetch_new read that very page, nothing to hold
        # Run screen reads and reruns so far (they change what a list call would do), and the
        # (edits, those) after the last list call that had nothing to refresh or fetch: the
        # same again after a quiet page, and that call's work would change nothing.
        self._side = 0
        self._steady: tuple[int, int] | None = None
        self._created: dict[str, datetime] = {}  # createdAt from RunRefs: the Run lacks it
        # Least recently used last out; room for every held run's snapshot (they are at most
        # `limit` distinct), so naming the list never evicts what it needs.
        self._definitions: OrderedDict[str, Definition] = OrderedDict()
        self._definitions_kept = DEFINITIONS_KEPT + limit
        self._gone: set[str] = set()  # hashes whose snapshot answered 404: not retried by the list
        self._last_list: list[Run] = []  # handed back as is when no run changed
        # Run bodies by id shared between the list's refresh and the run screen's detail:
        # the list call each was last read in, and who read it; in-flight reads are shared.
        self._calls = 0
        # id -> (the call, "list" / "detail" / "shared", the body)
        self._read_in: dict[str, tuple[int, str, Any]] = {}
        self._reading: dict[str, asyncio.Future[Any]] = {}
        self._definition_urls: set[str] = set()  # runs whose snapshot URL the client holds
        # An unconfirmed rerun's Idempotency-Key, kept so that trying again cannot start two.
        self._rerun_keys: dict[str, str] = {}
        self.clock: Callable[[], float] = time.monotonic  # injectable for token expiry
        # A configured token wins; otherwise a username means "log in for one", which the
        # client's auth flow does (and again on a 401 or at expiry).
        if source.username and not client.token_configured:
            # imported here: the login is an httpx.Auth flow, and httpx loads with it
            from runwatch.providers.scheduler.auth import LoginAuth

            client.auth = LoginAuth(source, lambda: self.clock())

    # -- reading ---------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        self._calls += 1
        first = not self._last_list
        fetched = await self._fetch_new()
        if self._was_quiet and self._steady == (self._edits, self._side):
            # The one page as last time, and the last call found nothing to refresh, fetch or
            # let go: neither would this one (an unchanged poll: no walk of the held runs).
            return self._last_list
        if first and self.on_partial is not None and self._held:
            # On screen before their titles (the snapshots) and refreshes come in.
            self.on_partial([self._mapped(held) for held in reversed(self._held.values())])
        # The two need nothing of each other: they go together. Usually there is nothing
        # to do for either (a settled list): then no task is started at all.
        pending = self._unfinished(fetched)
        stale, wanted = self._stale(pending), self._wanted_definitions()
        if stale and wanted:
            await asyncio.gather(self._refresh_unfinished(stale),
                                 self._fetch_new_definitions(wanted))
        elif stale:
            await self._refresh_unfinished(stale)
        elif wanted:
            await self._fetch_new_definitions(wanted)
        self._bound()
        self._steady = None if pending or wanted else (self._edits, self._side)
        runs = [self._mapped(held) for held in reversed(self._held.values())]
        last = self._last_list
        if len(runs) == len(last) and all(a is b for a, b in zip(runs, last, strict=True)):
            return last  # the poller skips diffing the very same list
        self._last_list = runs
        return runs

    async def get_run(self, run_id: str) -> RunDetail:
        self._side += 1
        try:
            return await self._detail(run_id)
        finally:
            self._side += 1  # what it read and kept came after the start

    async def _detail(self, run_id: str) -> RunDetail:
        path = self._run_path(run_id)
        raw = await self._run_body(run_id, detail=True)
        wire = parse(WireRun, raw, source=self.source.name, path=path)
        definition = await self._definition_or_none(run_id, wire.definition_hash)
        if run_id in self._held:  # the row on the list is as fresh as the detail
            self._hold(raw, wire)
        return RunDetail(
            **self._run_fields(wire),
            steps=steps(wire.nodes or [], definition),
            content=content(wire, definition),
        )

    # -- acting ----------------------------------------------------------------------------

    async def _cancel(self, run_id: str) -> None:
        path = f"{self._run_path(run_id)}/cancel"
        answer = await self._send("POST", path)
        if answer is None:
            return
        ref = parse(WireRunRef, answer, source=self.source.name, path=path)
        status = scheduler_status(ref.status)
        if status.is_terminal and status is not RunStatus.CANCELED:
            raise Conflict(f"{self.source.name}: run {run_id} had already {ref.status}")

    async def _rerun(self, run_id: str) -> Run | None:
        """Start the run's workflow snapshot again for the same client.

        The Idempotency-Key is derived from the run id and a nonce drawn once per attempt.
        An attempt whose outcome is unknown (5xx, timeout, connection lost) keeps its key,
        so trying again cannot start a second run; any answer that settles it drops the key.
        """
        self._side += 1  # it may fetch a snapshot and keep a createdAt
        wire = await self._run_for_rerun(run_id)
        definition = await self._definition(run_id, wire.definition_hash)
        body = {
            "workflow": definition.raw,
            "clientId": wire.client_id or self.source.client_id or "runwatch",
        }
        key = self._rerun_keys.get(run_id) or idempotency_key(run_id)
        self._rerun_keys[run_id] = key
        try:
            answer = await self._send(
                "POST", RUNS_PATH, json_body=body, headers={"Idempotency-Key": key}
            )
        except ApiError as exc:
            if exc.status_code is not None and 400 <= exc.status_code < 500:
                self._rerun_keys.pop(run_id, None)
            raise
        self._rerun_keys.pop(run_id, None)
        if answer is None:
            return None
        ref = parse(WireRunRef, answer, source=self.source.name, path=RUNS_PATH)
        if ref.created_at is not None:
            self._created[ref.run_id] = ref.created_at
        return Run(
            source=self.source.name, provider=self.name, id=ref.run_id,
            status=scheduler_status(ref.status), provider_status=ref.status or "",
            title=definition.name, author=definition.owner, created_at=ref.created_at,
            url=self._run_url(ref.run_id),
        )

    # -- the incremental list --------------------------------------------------------------

    async def _fetch_new(self) -> set[str]:
        """Read pages from the remembered cursor to the end; the ids read come back.

        The last page has `nextCursor: null`, so the cursor stays the one that page was
        read from, and the next call reads it again (with whatever came since). A server
        that restarted does not know that cursor and starts again from the oldest run: each
        page's runs are put in the order the pages give them, so once the walk reaches the
        end the held runs are the newest again, each once."""
        fetched: set[str] = set()
        read_from: list[str | None] = []
        cursor = self._cursor
        self._was_quiet = False
        for _ in range(self.max_pages):
            params = {"clientId": self.source.client_id, "limit": self.page_size,
                      "cursor": cursor}
            read_from.append(cursor)
            raw = await self._get(RUNS_PATH, params)
            quiet = self._quiet
            if quiet is not None and not read_from[1:] and quiet[0] is raw \
                    and quiet[1] == self._edits:
                # The one page as last time, nothing held changed since: holding its items
                # again would change nothing (an unchanged poll: one request, no loop).
                self._was_quiet = True
                return set(quiet[2])
            page = self._page(raw)
            for item, wire in zip(raw["items"], page.items, strict=True):
                self._hold(item, wire)
                self._held.move_to_end(wire.run_id)  # the pages' order is the list's
                fetched.add(wire.run_id)
            self._trim()
            sent, cursor = cursor, page.next_cursor or cursor
            # The end: a short page, or no new cursor (the last page's is null).
            if len(page.items) < self.page_size or cursor == sent:
                self._quiet = (raw, self._edits, frozenset(fetched)) if cursor == sent \
                    and not read_from[1:] else None
                break
            self._quiet = None
        if cursor != self._cursor:
            # Pages behind the cursor are never asked for again: their bodies go.
            for behind in read_from:
                if behind != cursor:
                    self.client.forget(RUNS_PATH, {"clientId": self.source.client_id,
                                                   "limit": self.page_size, "cursor": behind})
        self._cursor = cursor
        return fetched

    def _page(self, raw: object) -> WireRunList:
        if self._last_page is not None and self._last_page[0] is raw:
            return self._last_page[1]
        page = parse(WireRunList, raw, source=self.source.name, path=RUNS_PATH)
        self._last_page = (raw, page)
        return page

    def _bound(self) -> None:
        """Hold only what the latest list shows: bodies read by id, createdAt of reruns,
        snapshots and gone hashes of runs no longer held; the client forgets the run URLs
        that the list no longer reads (finished or gone runs)."""
        held = self._held
        for run_id in [r for r in self._read_in if r not in held
                       or scheduler_status(held[r].wire.status).is_terminal]:
            del self._read_in[run_id]
            self.client.forget(self._run_path(run_id))
        for run_id in [r for r in self._definition_urls if r not in held]:
            self._definition_urls.discard(run_id)
            self.client.forget(f"{self._run_path(run_id)}/definition")
        if any(run_id not in held for run_id in self._created):
            self._created = {k: v for k, v in self._created.items() if k in held}
        used = {h.wire.definition_hash for h in held.values()}
        for stale in [h for h in self._definitions if h not in used]:
            del self._definitions[stale]
        self._gone = {h for h in self._gone if h in used}

    def _hold(self, raw: object, wire: WireRun) -> None:
        held = self._held.get(wire.run_id)
        if held is None:
            self._held[wire.run_id] = _Held(raw, wire)
            self._edits += 1
        elif not _same(held.raw, raw):  # an update keeps its place in the list
            held.raw, held.wire, held.run = raw, wire, None
            self._edits += 1

    def _mapped(self, held: _Held) -> Run:
        if held.run is None:
            held.run = Run(**self._run_fields(held.wire))
        return held.run

    def _trim(self) -> None:
        while len(self._held) > self.limit:
            self._held.popitem(last=False)
            self._edits += 1
        # createdAt of reruns that never showed up here (another client's scope) goes too.
        if len(self._created) > self.limit:
            self._created = {k: v for k, v in self._created.items() if k in self._held}

    async def _run_for_rerun(self, run_id: str) -> WireRun:
        # A run's definition and client never change, so a held copy is as good as new.
        held = self._held.get(run_id)
        if held is not None:
            return held.wire
        path = self._run_path(run_id)
        raw = await self._get(path)
        self.client.forget(path)  # a one-off read: not a body the list will compare with
        return parse(WireRun, raw, source=self.source.name, path=path)

    # -- mapping ---------------------------------------------------------------------------

    def _run_fields(self, wire: WireRun) -> dict[str, Any]:
        # Title and author come from the workflow snapshot once it is known (the list fetches
        # a few new ones a call, the detail its own).
        definition = self._definitions.get(wire.definition_hash or "")
        return {
            "source": self.source.name,
            "provider": self.name,
            "id": wire.run_id,
            "status": scheduler_status(wire.status),
            "provider_status": wire.status or "",
            "title": definition.name if definition else None,
            "pipeline": definition.name if definition else None,
            "author": definition.owner if definition else None,
            "created_at": self._created.get(wire.run_id) or wire.started_at,
            "started_at": wire.started_at,
            "finished_at": wire.finished_at,
            "progress": node_progress(wire.status, wire.nodes),
            "url": self._run_url(wire.run_id),
        }

    def _run_url(self, run_id: str) -> str:
        return f"{self.source.base_url}{self._run_path(run_id)}"

    @staticmethod
    def _run_path(run_id: str) -> str:
        return run_path(RUNS_PATH, run_id)

    # -- requests ------------------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self.client.get_json(path, params)

    async def _send(self, method: str, path: str, *, json_body: Any = None,
                    headers: dict[str, str] | None = None) -> Any:
        # (A token no header can carry is refused by the client before any I/O.)
        return await self.client.send(method, path, json_body=json_body, headers=headers)
