"""Conduct API v1 (`conduct-v1.md`, corrected by DESIGN section 3).

Conduct records spec-driven runs rather than executing them: a run has a spec, a status and a
markdown log (`content`), and no branch, commit or author. Paths use the string `runId`
("RUN-001"), which is also the normalized id; the numeric `id` is the server's row id.

Checks are not in the seed document. As conduct.sh serves them (DESIGN section 3),
GET /v1/checks?runId= is `{"checks": [{"id", "checkId", "runId", "result", "createdAt"}]}`
with `result` pass, fail or warn: a step per check, named by `checkId` and timed by
`createdAt` (when it was recorded). A check's text, GET /v1/checks/{checkId}, is fetched only
when the check is opened, the way a step's log is. Errors are `{"error", "code"}`. The newer
backend wants `X-Project-ID` on every request: a source's optional `project_id`.
"""

import re
from functools import partial
from typing import Any, Self
from urllib.parse import quote

from pydantic import model_validator

from runwatch.config import SourceConfig
from runwatch.errors import BadResponse, ConfigError, NotFound
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus, Step, map_status, utc
from runwatch.providers.base import Provider, RunAction
from runwatch.providers.kit import ClientKit, Page, run_path
from runwatch.providers.wire import CamelWireModel, LenientTimestamp, parse

RUN_STATUSES: dict[str, RunStatus] = {
    "pending": RunStatus.QUEUED,
    "in_progress": RunStatus.RUNNING,
    "completed": RunStatus.PASSED,
    "failed": RunStatus.FAILED,
}
# A warning does not fail a check; its provider_status keeps the "warn".
CHECK_RESULTS: dict[str, RunStatus] = {
    "pass": RunStatus.PASSED,
    "fail": RunStatus.FAILED,
    "warn": RunStatus.PASSED,
}
PAGE_SIZE = 100
# Pages beyond ceil(limit / page size) before the walk stops, whatever the cursor says.
SPARE_PAGES = 1
# What an HTTP header value may hold here: printable ASCII, no line breaks.
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{1,200}")

# -- wire models ---------------------------------------------------------------------------

class ConductRun(CamelWireModel):
    """A run as GET /v1/runs and GET /v1/runs/{runId} return it (lists omit `content`)."""

    id: int | str | None = None
    run_id: str | None = None
    spec_id: str | None = None
    content: str | None = None
    status: str | None = None
    created_at: LenientTimestamp = None
    updated_at: LenientTimestamp = None

    @model_validator(mode="after")
    def _has_an_id(self) -> Self:
        if not self.run_id and self.id is None:
            raise ValueError("a run without runId or id")
        return self

    @property
    def key(self) -> str:
        return self.run_id or str(self.id)


class ConductMeta(CamelWireModel):
    has_more: bool | None = None
    next_cursor: str | None = None


class RunsPage(CamelWireModel):
    """`{"runs": [...], "meta": {...}}`, or the same with `data` for `runs`."""

    runs: list[ConductRun] | None = None
    data: list[ConductRun] | None = None
    meta: ConductMeta | None = None

    @model_validator(mode="after")
    def _has_runs(self) -> Self:
        if self.runs is None and self.data is None:
            raise ValueError("expected 'runs' (or 'data')")
        return self

    @property
    def items(self) -> list[ConductRun]:
        return self.runs if self.runs is not None else self.data or []

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page, or None when this is the last one."""
        if self.meta is None or not self.meta.has_more:
            return None
        return self.meta.next_cursor or None


class RunsHead(CamelWireModel):
    """A runs page without its runs (they are validated one by one, when new)."""

    meta: ConductMeta | None = None

    @property
    def next_cursor(self) -> str | None:
        if self.meta is None or not self.meta.has_more:
            return None
        return self.meta.next_cursor or None


def _raw_items(body: Any) -> list[Any] | None:
    """The `runs` (or `data`) list of a page as sent, or None when it is not there."""
    if not isinstance(body, dict):
        return None
    items = body.get("runs") if body.get("runs") is not None else body.get("data")
    return items if isinstance(items, list) else None


class RunEnvelope(CamelWireModel):
    """`{"run": {...}}`, or `{"data": {...}}`."""

    run: ConductRun | None = None
    data: ConductRun | None = None

    @model_validator(mode="after")
    def _has_run(self) -> Self:
        if self.run is None and self.data is None:
            raise ValueError("expected a 'run' object (or 'data')")
        return self

    @property
    def item(self) -> ConductRun:
        return self.run or self.data  # type: ignore[return-value]  # checked above


class ConductCheck(CamelWireModel):
    """One recorded check of a run: `checkId` names it, `createdAt` is when it was recorded."""

    id: int | str | None = None
    check_id: str | None = None
    run_id: str | None = None
    result: str | None = None
    created_at: LenientTimestamp = None
    content: str | None = None  # GET /v1/checks/{checkId} only


class CheckEnvelope(CamelWireModel):
    """`{"check": {...}}`, or `{"data": {...}}`."""

    check: ConductCheck | None = None
    data: ConductCheck | None = None

    @model_validator(mode="after")
    def _has_check(self) -> Self:
        if self.check is None and self.data is None:
            raise ValueError("expected a 'check' object (or 'data')")
        return self

    @property
    def item(self) -> ConductCheck:
        return self.check or self.data  # type: ignore[return-value]  # checked above


class ChecksEnvelope(CamelWireModel):
    """`{"checks": [...]}`, or `{"data": [...]}`."""

    checks: list[ConductCheck] | None = None
    data: list[ConductCheck] | None = None

    @model_validator(mode="after")
    def _has_checks(self) -> Self:
        if self.checks is None and self.data is None:
            raise ValueError("expected 'checks' (or 'data')")
        return self

    @property
    def items(self) -> list[ConductCheck]:
        return self.checks if self.checks is not None else self.data or []


# -- mapping -------------------------------------------------------------------------------

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def first_heading(markdown: str | None) -> str | None:
    """The text of the first ATX heading (`# Title`) of a markdown document."""
    found = _HEADING.search(markdown or "")
    return found.group(1) if found else None


def run_title(spec_id: str | None, content: str | None) -> str | None:
    """`AUTH-001: Implementation`: the spec, plus the log's first heading when there is one."""
    return ": ".join(p for p in (spec_id, first_heading(content)) if p) or None


def to_step(check: ConductCheck, order: int) -> Step:
    """A check as a step: its id is the checkId that its text is fetched by."""
    row = str(check.id) if check.id is not None else str(order)
    return Step(
        id=check.check_id or row,
        name=check.check_id or f"check {row}",
        order=order,
        status=map_status(check.result, CHECK_RESULTS),
        provider_status=check.result,
        # Recorded at one moment: the check's time on the timeline.
        started_at=check.created_at,
        finished_at=check.created_at,
        log_available=bool(check.check_id),
    )


def to_steps(checks: list[ConductCheck]) -> list[Step]:
    """Checks in the order they were recorded (no time: last), then as the API listed them."""
    ordered = sorted(checks, key=lambda c: (c.created_at is None, utc(c.created_at) or 0))
    return [to_step(check, order) for order, check in enumerate(ordered)]


# -- the provider --------------------------------------------------------------------------


class ConductProvider(Provider):
    """Runs of a Conduct server, optionally of one spec (`spec_id`)."""

    name = "conduct"
    actions = frozenset({RunAction.DELETE})
    has_logs = True  # a check's text
    page_size = PAGE_SIZE

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        self.kit = ClientKit(source.name, lambda: self.http)
        self._headed = False  # the client sends the X-Project-ID header

    @property
    def http(self) -> SourceClient:
        """The client, with `X-Project-ID` on its requests when the source names a project
        (checked at the first request: a config mistake is that request's error)."""
        project = self.source.project_id
        if project and not self._headed:
            if not _HEADER_VALUE.fullmatch(project):
                raise ConfigError(f"{self.source.name}: project_id {project!r} cannot be "
                                  "sent in the X-Project-ID header (printable ASCII only)")
            self.client.set_header("X-Project-ID", project)
            self._headed = True
        return self.client

    async def list_runs(self) -> list[Run]:
        return await self.kit.paginate(self._page, limit=self.limit, page_size=self.page_size,
                                       spare_pages=SPARE_PAGES,
                                       on_partial=self.on_partial)

    async def get_run(self, run_id: str) -> RunDetail:
        path = self._run_path(run_id)
        body = await self.http.get_json(path)
        wire = parse(RunEnvelope, body, source=self.source.name, path=path).item
        steps = to_steps(await self._checks(run_id))
        fields = self._fields(wire)
        # Conduct has no start time of its own: the first check's start stands in.
        fields["started_at"] = min((s.started_at for s in steps if s.started_at), default=None)
        return RunDetail(**fields, steps=steps, content=wire.content)

    async def get_log(self, run_id: str, step: Step) -> str:
        """The check's text (markdown), fetched when the check is opened."""
        path = f"/v1/checks/{quote(step.id, safe='')}"
        body = await self.http.get_json(path)
        if isinstance(body, str):  # a plain text, should a server send one
            return body
        check = parse(CheckEnvelope, body, source=self.source.name, path=path).item
        return check.content or ""

    async def _delete(self, run_id: str) -> None:
        await self.http.send("DELETE", self._run_path(run_id))

    # -- internals -------------------------------------------------------------------------

    async def _page(self, cursor: str | None, size: int) -> Page[str]:
        path = "/v1/runs"

        def mapped(body: Any) -> Page[str]:
            items = _raw_items(body)
            if items is None:  # not the usual envelope: the models say what is wrong
                page = parse(RunsPage, body, source=self.source.name, path=path)
                return Page([Run(**self._fields(item)) for item in page.items],
                            page.next_cursor)
            head = parse(RunsHead, body, source=self.source.name, path=path)
            try:
                # An item whose JSON did not change keeps its Run (not validated again).
                runs = [self.kit.item_run(item, "runId", partial(self._run_of, item))
                        for item in items]
            except BadResponse:
                parse(RunsPage, body, source=self.source.name, path=path)  # `runs.3.id: ...`
                raise
            return Page(runs, head.next_cursor)

        params = {"specId": self.source.spec_id, "limit": size, "cursor": cursor}
        return await self.kit.get_mapped(path, params, mapped)

    async def _checks(self, run_id: str) -> list[ConductCheck]:
        path = "/v1/checks"
        try:
            body = await self.http.get_json(path, {"runId": run_id})
        except NotFound:
            # The seed document has no checks endpoint: a server without one still shows
            # its runs, only without steps.
            return []
        return parse(ChecksEnvelope, body, source=self.source.name, path=path).items

    def _run_of(self, item: Any) -> Run:
        return Run(**self._fields(parse(ConductRun, item, source=self.source.name,
                                        path="/v1/runs")))

    def _fields(self, wire: ConductRun) -> dict[str, Any]:
        status = map_status(wire.status, RUN_STATUSES)
        return {
            "source": self.source.name,
            "provider": self.name,
            "id": wire.key,
            "status": status,
            "provider_status": wire.status or "",
            "title": run_title(wire.spec_id, wire.content),
            "pipeline": wire.spec_id,
            "created_at": wire.created_at,
            # Conduct has no end time; a finished run's last update is when it finished.
            "finished_at": wire.updated_at if status.is_terminal else None,
            "url": self.client.base_url.rstrip("/") + self._run_path(wire.key),
        }

    @staticmethod
    def _run_path(run_id: str) -> str:
        return run_path("/v1/runs", run_id)
