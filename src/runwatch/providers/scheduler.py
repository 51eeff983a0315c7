"""Workflow scheduler API v1 (`scheduler-v1.md`, corrected by DESIGN sections 3 and 4).

The source's `base_url` is the server root. The list is oldest first, so this provider is
incremental: the first `list_runs` walks the pages to the end and remembers where it stopped;
later calls ask only for what came after, and refresh the unfinished runs they hold by id.
A run's `nodes[]` are its steps, labelled from the run's workflow snapshot, which is cached
by `definitionHash` because many runs share one. The snapshot also names the run (title and
author), so the list fetches the snapshots it lacks: one request per new `definitionHash`, a
few a call, the rest on later calls.

Auth is a JWT: a configured token, or one from POST /api/v1/auth/login when the source has
`username` and `password_env` / `password_cmd` (logging in again on a 401 or at expiry).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ConfigDict

from runwatch.config import SourceConfig
from runwatch.errors import ApiError, AuthError, ConfigError, Conflict, NotFound
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus, Step, map_status
from runwatch.providers.base import Action, Provider
from runwatch.providers.wire import CamelWireModel, LenientTimestamp, parse
from runwatch.tokens import password_resolver

RUNS_PATH = "/api/v1/runs"
LOGIN_PATH = "/api/v1/auth/login"

STATUSES: dict[str, RunStatus] = {
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "succeeded": RunStatus.PASSED,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.CANCELED,
}
PAGE_SIZE = 200  # the API's largest `limit`: an oldest-first list is read to its end
MAX_PAGES = 50  # per call; a longer backlog (or a cursor that never ends) goes on next call
DEFINITIONS_KEPT = 64  # workflow snapshots cached by definitionHash, beyond the list's own
MAX_NEW_DEFINITIONS_PER_POLL = 3  # snapshots a list call may fetch; the rest come on later calls
TOKEN_RENEW_MARGIN_S = 30.0

# -- wire models -------------------------------------------------------------------------


class _Wire(CamelWireModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)


class WireError(_Wire):
    """`ResultError`: what went wrong with a run or a node."""

    code: str | None = None
    message: str | None = None


class WireNode(_Wire):
    """`RunNodeStatus`: one node of a run."""

    node_id: str | None = None
    task_id: str | None = None
    status: str | None = None
    worker_name: str | None = None
    started_at: LenientTimestamp = None
    finished_at: LenientTimestamp = None
    seq: int | None = None
    error: WireError | None = None


class WireRun(_Wire):
    """`Run`, as the list, the detail and nothing else return it (it has no createdAt)."""

    run_id: str
    status: str | None = None
    definition_hash: str | None = None
    client_id: str | None = None
    started_at: LenientTimestamp = None
    finished_at: LenientTimestamp = None
    error: WireError | None = None
    nodes: list[WireNode] | None = None


class WireRunList(_Wire):
    items: list[WireRun]
    next_cursor: str | None = None


class WireRunRef(_Wire):
    """`RunRef`: what startRun and cancelRun answer."""

    run_id: str
    status: str | None = None
    definition_hash: str | None = None
    client_id: str | None = None
    created_at: LenientTimestamp = None


class WireWorkflowNode(_Wire):
    id: str | None = None
    type: str | None = None
    label: str | None = None


class WireWorkflowMetadata(_Wire):
    name: str | None = None
    description: str | None = None
    owner_name: str | None = None
    created_by: str | None = None


class WireWorkflow(_Wire):
    """`Workflow`: the snapshot a run executes."""

    id: str | None = None
    metadata: WireWorkflowMetadata | None = None
    nodes: list[WireWorkflowNode] | None = None


class WireLogin(_Wire):
    access_token: str
    expires_in: float | None = None


# -- mapping -----------------------------------------------------------------------------


def scheduler_status(raw: str | None) -> RunStatus:
    """A run's or a node's normalized status."""
    return map_status(raw, STATUSES)


def node_progress(nodes: list[WireNode] | None) -> float | None:
    """Terminal nodes over all nodes, in percent; None for a run without nodes."""
    if not nodes:
        return None
    done = sum(1 for n in nodes if scheduler_status(n.status).is_terminal)
    return round(100.0 * done / len(nodes), 1)


@dataclass(frozen=True)
class _Definition:
    """A workflow snapshot: the body as served (what a rerun sends back) and its parse."""

    raw: dict[str, Any]
    workflow: WireWorkflow

    @property
    def name(self) -> str | None:
        return self.workflow.metadata.name if self.workflow.metadata else None

    @property
    def owner(self) -> str | None:
        meta = self.workflow.metadata
        return (meta.owner_name or meta.created_by) if meta else None

    def label(self, node_id: str | None) -> str | None:
        for node in self.workflow.nodes or ():
            if node.id is not None and node.id == node_id:
                return node.label or node.type
        return None


@dataclass
class _Held:
    """A run the list holds: the body it came from, parsed, and mapped once it is listed
    (a first walk reads many runs that never make the newest `limit`)."""

    raw: object
    wire: WireRun
    run: Run | None = None


class SchedulerProvider(Provider):
    """Runs of a workflow scheduler, optionally of one `client_id`."""

    name: ClassVar[str] = "scheduler"
    actions: ClassVar[frozenset[Action]] = frozenset({Action.CANCEL, Action.RERUN})

    page_size: int = PAGE_SIZE
    max_pages: int = MAX_PAGES
    max_new_definitions: int = MAX_NEW_DEFINITIONS_PER_POLL

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        # The newest `limit` runs, oldest first as the API lists them, and where to resume.
        self._held: OrderedDict[str, _Held] = OrderedDict()
        self._cursor: str | None = None
        self._last_page: tuple[object, WireRunList] | None = None  # parsed once per body
        self._created: dict[str, datetime] = {}  # createdAt from RunRefs: the Run lacks it
        # Least recently used last out; room for every held run's snapshot (they are at most
        # `limit` distinct), so naming the list never evicts what it needs.
        self._definitions: OrderedDict[str, _Definition] = OrderedDict()
        self._definitions_kept = DEFINITIONS_KEPT + limit
        self._gone: set[str] = set()  # hashes whose snapshot answered 404: not retried by the list
        self._last_list: list[Run] = []  # handed back as is when no run changed
        # An unconfirmed rerun's Idempotency-Key, kept so that trying again cannot start two.
        self._rerun_keys: dict[str, str] = {}
        # A configured token wins; otherwise a username means "log in for one".
        self._logs_in = bool(source.username) and not client.token_configured
        self._token_expires: float | None = None
        self._login_lock = asyncio.Lock()
        self.clock: Callable[[], float] = time.monotonic  # injectable for token expiry

    # -- reading ---------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        fetched = await self._fetch_new()
        await self._refresh_unfinished(exclude=fetched)
        await self._fetch_new_definitions()
        runs = [self._mapped(held) for held in reversed(self._held.values())]
        last = self._last_list
        if len(runs) == len(last) and all(a is b for a, b in zip(runs, last, strict=True)):
            return last  # the poller skips diffing the very same list
        self._last_list = runs
        return runs

    async def get_run(self, run_id: str) -> RunDetail:
        path = self._run_path(run_id)
        raw = await self._get(path)
        wire = parse(WireRun, raw, source=self.source.name, path=path)
        definition = await self._definition_or_none(run_id, wire.definition_hash)
        if run_id in self._held:  # the row on the list is as fresh as the detail
            self._hold(raw, wire)
        return RunDetail(
            **self._run_fields(wire),
            steps=self._steps(wire.nodes or [], definition),
            content=_content(wire, definition),
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
        wire = await self._run_for_rerun(run_id)
        definition = await self._definition(run_id, wire.definition_hash)
        body = {
            "workflow": definition.raw,
            "clientId": wire.client_id or self.source.client_id or "runwatch",
        }
        key = self._rerun_keys.get(run_id) or _idempotency_key(run_id)
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
        """Read pages from the remembered cursor to the end; the ids read come back."""
        fetched: set[str] = set()
        cursor = self._cursor
        for _ in range(self.max_pages):
            params = {"clientId": self.source.client_id, "limit": self.page_size,
                      "cursor": cursor}
            raw = await self._get(RUNS_PATH, params)
            page = self._page(raw)
            for item, wire in zip(raw["items"], page.items, strict=True):
                self._hold(item, wire)
                fetched.add(wire.run_id)
            self._trim()
            sent, cursor = cursor, page.next_cursor or cursor
            # The end: a short page, or no new cursor. A server that gives no cursor with
            # its last page has that page read again next time, from the cursor sent for it.
            if len(page.items) < self.page_size or cursor == sent:
                break
        self._cursor = cursor
        return fetched

    def _page(self, raw: object) -> WireRunList:
        if self._last_page is not None and self._last_page[0] is raw:
            return self._last_page[1]
        page = parse(WireRunList, raw, source=self.source.name, path=RUNS_PATH)
        self._last_page = (raw, page)
        return page

    async def _refresh_unfinished(self, exclude: set[str]) -> None:
        """GET each held run that has not finished and was not on a page just read."""
        stale = [
            run_id for run_id, held in self._held.items()
            if run_id not in exclude and not scheduler_status(held.wire.status).is_terminal
        ]
        for run_id in stale:
            path = self._run_path(run_id)
            try:
                raw = await self._get(path)
            except NotFound:
                self._held.pop(run_id, None)
                continue
            held = self._held.get(run_id)
            if held is None or not _same(held.raw, raw):
                self._hold(raw, parse(WireRun, raw, source=self.source.name, path=path))

    def _hold(self, raw: object, wire: WireRun) -> None:
        held = self._held.get(wire.run_id)
        if held is None:
            self._held[wire.run_id] = _Held(raw, wire)
        elif not _same(held.raw, raw):  # an update keeps its place in the list
            held.raw, held.wire, held.run = raw, wire, None

    def _mapped(self, held: _Held) -> Run:
        if held.run is None:
            held.run = Run(**self._run_fields(held.wire))
        return held.run

    def _trim(self) -> None:
        while len(self._held) > self.limit:
            self._held.popitem(last=False)
        # createdAt of reruns that never showed up here (another client's scope) goes too.
        if len(self._created) > self.limit:
            self._created = {k: v for k, v in self._created.items() if k in self._held}

    async def _run_for_rerun(self, run_id: str) -> WireRun:
        # A run's definition and client never change, so a held copy is as good as new.
        held = self._held.get(run_id)
        if held is not None:
            return held.wire
        path = self._run_path(run_id)
        return parse(WireRun, await self._get(path), source=self.source.name, path=path)

    # -- definitions -----------------------------------------------------------------------

    async def _fetch_new_definitions(self) -> None:
        """Fetch the snapshots that name held runs and are not cached yet: one request per
        `definitionHash` (through the newest run that has it), at most `max_new_definitions`
        a call, so a first list of many workflows fans out over several polls. A failure
        leaves those runs untitled and does not fail the list: a 404 is not asked again by
        the list (the run screen still tries), anything else ends this call's fetching."""
        wanted: dict[str, str] = {}  # hash -> run id, newest runs first
        for held in reversed(self._held.values()):
            definition_hash = held.wire.definition_hash
            if definition_hash is None or definition_hash in wanted:
                continue
            if definition_hash in self._definitions:
                self._definitions.move_to_end(definition_hash)  # in use: recently used
            elif definition_hash not in self._gone:
                wanted[definition_hash] = held.wire.run_id
        for definition_hash, run_id in list(wanted.items())[:self.max_new_definitions]:
            try:
                await self._definition(run_id, definition_hash)
            except NotFound:
                if len(self._gone) >= self._definitions_kept:
                    self._gone.clear()
                self._gone.add(definition_hash)
            except ApiError:
                return  # a 5xx, 429 or timeout: try again on the next call

    async def _definition(self, run_id: str, definition_hash: str | None) -> _Definition:
        """The run's workflow snapshot, fetched once per definitionHash."""
        if definition_hash is not None and definition_hash in self._definitions:
            self._definitions.move_to_end(definition_hash)
            return self._definitions[definition_hash]
        path = f"{self._run_path(run_id)}/definition"
        raw = await self._get(path)
        definition = _Definition(raw, parse(WireWorkflow, raw, source=self.source.name, path=path))
        if definition_hash is not None:
            self._definitions[definition_hash] = definition
            self._gone.discard(definition_hash)
            if len(self._definitions) > self._definitions_kept:
                self._definitions.popitem(last=False)
            self._relabel(definition_hash)
        return definition

    async def _definition_or_none(self, run_id: str, definition_hash: str | None
                                  ) -> _Definition | None:
        # A run whose snapshot is gone is still worth showing, with unlabelled steps.
        try:
            return await self._definition(run_id, definition_hash)
        except NotFound:
            return None

    def _relabel(self, definition_hash: str) -> None:
        """Have held runs of a newly known workflow mapped again, with its name."""
        for held in self._held.values():
            if held.wire.definition_hash == definition_hash:
                held.run = None

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
            "author": definition.owner if definition else None,
            "created_at": self._created.get(wire.run_id) or wire.started_at,
            "started_at": wire.started_at,
            "finished_at": wire.finished_at,
            "progress": node_progress(wire.nodes),
            "url": self._run_url(wire.run_id),
        }

    @staticmethod
    def _steps(nodes: list[WireNode], definition: _Definition | None) -> list[Step]:
        steps = []
        for order, node in enumerate(nodes, start=1):
            label = definition.label(node.node_id) if definition else None
            steps.append(Step(
                id=node.node_id or node.task_id or str(order),
                name=label or node.task_id or node.node_id or f"node {order}",
                order=order,
                status=scheduler_status(node.status),
                provider_status=node.status,
                started_at=node.started_at,
                finished_at=node.finished_at,
                message=node.error.message if node.error else None,
            ))
        return steps

    def _run_url(self, run_id: str) -> str:
        return f"{self.source.base_url}{self._run_path(run_id)}"

    @staticmethod
    def _run_path(run_id: str) -> str:
        return f"{RUNS_PATH}/{quote(run_id, safe='')}"

    # -- auth ------------------------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._authorized(lambda: self.client.get_json(path, params))

    async def _send(self, method: str, path: str, *, json_body: Any = None,
                    headers: dict[str, str] | None = None) -> Any:
        return await self._authorized(
            lambda: self.client.send(method, path, json_body=json_body, headers=headers)
        )

    async def _authorized(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """Make a request with a valid token, logging in first or after a 401 when the
        source logs in. A 401 means the server did nothing, so one retry is safe."""
        if self._logs_in and (not self.client.token or self._token_expired()):
            await self._log_in(stale=self.client.token)
        token = self.client.token
        try:
            return await call()
        except AuthError:
            if not self._logs_in:
                raise
            await self._log_in(stale=token)
            return await call()

    def _token_expired(self) -> bool:
        return self._token_expires is not None and self.clock() >= self._token_expires

    async def _log_in(self, *, stale: str | None) -> None:
        async with self._login_lock:
            if self.client.token and self.client.token != stale and not self._token_expired():
                return  # another request logged in while this one waited
            self.client.set_token(None)
            source = self.source
            password = await password_resolver(source).get()  # never blocks the loop
            if not password:
                raise ConfigError(
                    f"source {source.name!r}: key 'username': a login needs password_env or "
                    "password_cmd"
                )
            body = {"username": source.username, "password": password}
            try:
                # A login changes nothing on the server: allowed on a read-only source.
                answer = await self.client.send(
                    "POST", LOGIN_PATH, json_body=body, allow_read_only=True
                )
            except AuthError as exc:
                raise AuthError(
                    f"{source.name}: login as {source.username!r} refused "
                    f"(password from {_password_origin(source)}): {_detail(exc)}",
                    status_code=exc.status_code,
                ) from None
            login = parse(WireLogin, answer, source=self.source.name, path=LOGIN_PATH)
            self.client.set_token(login.access_token)
            self._token_expires = _expiry(self.clock(), login.expires_in)


# -- helpers -------------------------------------------------------------------------------


def _same(held: object, raw: object) -> bool:
    """Whether a body is the one already mapped: the very object (the HTTP layer hands an
    unchanged body back as is), or an equal one (a page's item, then the run by id)."""
    return held is raw or held == raw


def _content(wire: WireRun, definition: _Definition | None) -> str | None:
    """Markdown for the run screen: the workflow's description and the run's error."""
    parts = []
    if definition and definition.workflow.metadata and definition.workflow.metadata.description:
        parts.append(definition.workflow.metadata.description)
    if wire.error and (wire.error.message or wire.error.code):
        code = f"`{wire.error.code}` " if wire.error.code else ""
        parts.append(f"**Error** {code}{wire.error.message or ''}".rstrip())
    return "\n\n".join(parts) or None


def _idempotency_key(run_id: str) -> str:
    # Hashed so that any run id fits the API's 64 characters.
    digest = hashlib.sha256(f"{run_id}:{secrets.token_hex(8)}".encode()).hexdigest()
    return f"runwatch-rerun-{digest[:40]}"


def _expiry(now: float, expires_in: float | None) -> float | None:
    """When to log in again: a little before the token runs out."""
    if expires_in is None or expires_in <= 0:
        return None
    return now + expires_in - min(TOKEN_RENEW_MARGIN_S, expires_in / 10)


def _password_origin(source: SourceConfig) -> str:
    if source.password_env:
        return f"env {source.password_env}"
    return f"command `{source.password_cmd}`"


def _detail(exc: ApiError) -> str:
    # The HTTP layer's message is "<source>: <hint>: HTTP 401 ...": keep the server's part.
    _, found, rest = exc.message.partition("HTTP ")
    return found + rest if found else exc.message
