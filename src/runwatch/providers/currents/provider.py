"""The Currents provider: a project's runs paged on their cursor, a run's groups and spec
files, an instance's tests, cancel and delete."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import ValidationError

from runwatch.config import SourceConfig
from runwatch.errors import ApiError, BadResponse, ConfigError, Conflict
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus, Spec, TestResult
from runwatch.providers.base import Provider, RunAction
from runwatch.providers.currents.mapping import (
    cancellation_of,
    progress_of,
    provider_status,
    run_status,
    title_of,
    to_group,
    to_spec,
    to_test_result,
    total_counts,
)
from runwatch.providers.currents.wire import (
    Commit,
    E,
    InstanceEnvelope,
    RunEnvelope,
    RunPage,
    RunWire,
)
from runwatch.providers.wire import first_problem, validate

PAGE_SIZE = 50  # the API's largest `limit`
# Paging stops after this many pages beyond what `limit` needs, whatever `has_more` says.
SPARE_PAGES = 2
DASHBOARD = "https://app.currents.dev/run/{run_id}"
PUBLIC_API_HOST = "api.currents.dev"


@dataclass(frozen=True)
class _Page:
    """One mapped page, kept with the body it came from: an identical body (the HTTP
    client hands back the same object) is not mapped again."""

    body: Any
    runs: list[Run]
    has_more: bool
    next_cursor: str | None


class CurrentsProvider(Provider):
    """A Currents project's runs: groups, spec files and per-test results; cancel, delete."""

    name = "currents"
    actions = frozenset({RunAction.CANCEL, RunAction.DELETE})
    has_spec_results = True

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        self._pages: dict[str | None, _Page] = {}
        self._detail: tuple[Any, RunDetail] | None = None

    @property
    def project_id(self) -> str:
        if not self.source.project_id:
            raise ConfigError(f"source {self.source.name!r}: key 'project_id': required")
        return self.source.project_id

    # -- reading -----------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        path = f"/v1/projects/{_seg(self.project_id)}/runs"
        runs: dict[str, Run] = {}
        pages: dict[str | None, _Page] = {}
        cursor: str | None = None
        for _ in range(math.ceil(self.limit / PAGE_SIZE) + SPARE_PAGES):
            page = await self._page(path, cursor, want=self.limit - len(runs))
            pages[cursor] = page
            for run in page.runs:
                runs.setdefault(run.id, run)  # a run that moved between pages counts once
            cursor = page.next_cursor
            if len(runs) >= self.limit or not page.has_more or cursor is None or cursor in pages:
                break
        self._pages = pages  # only this poll's pages: memory stays flat however long we run
        newest = sorted(runs.values(), key=lambda r: r.sort_time, reverse=True)
        return newest[: self.limit]

    async def get_run(self, run_id: str) -> RunDetail:
        path = f"/v1/runs/{_seg(run_id)}"
        body = await self.client.get_json(path)
        if self._detail is not None and self._detail[0] is body:
            return self._detail[1]
        detail = self._to_detail(self._parse(RunEnvelope, body, path).data)
        self._detail = (body, detail)
        return detail

    async def get_spec_results(self, run_id: str, spec: Spec) -> list[TestResult]:
        if not spec.instance_id:
            return []
        path = f"/v1/instances/{_seg(spec.instance_id)}"
        instance = self._parse(InstanceEnvelope, await self.client.get_json(path), path).data
        results = instance.results
        if results is None:  # not claimed by a runner yet
            return []
        tests = [to_test_result(t) for t in results.tests or []]
        if results.exception:
            tests.append(TestResult(title=instance.spec or spec.spec, status=RunStatus.FAILED,
                                    provider_status="exception", error=results.exception))
        return tests

    # -- acting ------------------------------------------------------------------------------

    async def _cancel(self, run_id: str) -> None:
        try:
            await self.client.send("PUT", f"/v1/runs/{_seg(run_id)}/cancel")
        except Conflict as exc:
            # The API's one documented refusal is 422 "Run already cancelled"; say so plainly,
            # unless the server gave another reason.
            detail = exc.message.removeprefix(f"{self.client.source}: ")
            said = detail.partition(": ")[2]  # the server's words after the status line
            if not said or "cancel" in said.lower():
                message = f"{self.source.name}: run {run_id} is already cancelled"
            else:
                message = f"{self.source.name}: run {run_id} cannot be cancelled: {said}"
            raise Conflict(message, status_code=exc.status_code) from exc

    async def _delete(self, run_id: str) -> None:
        await self.client.send("DELETE", f"/v1/runs/{_seg(run_id)}")

    # -- internals ---------------------------------------------------------------------------

    async def _page(self, path: str, cursor: str | None, *, want: int) -> _Page:
        params = {"limit": max(1, min(PAGE_SIZE, want)), "starting_after": cursor}
        body = await self.client.get_json(path, params)
        known = self._pages.get(cursor)
        if known is not None and known.body is body:
            return known
        page = self._parse(RunPage, body, path)
        last = page.data[-1] if page.data else None
        return _Page(
            body=body,
            runs=[self._to_run(item) for item in page.data],
            has_more=bool(page.has_more),
            # The API's items carry a `cursor`; the run id stands in where one does not.
            next_cursor=(last.cursor or last.runId) if last else None,
        )

    def _parse(self, envelope: type[E], body: Any, path: str) -> E:
        """Validate an envelope; a wrong shape is a BadResponse naming source and path."""
        if isinstance(body, dict) and str(body.get("status")).upper() == "FAILED":
            # Currents' error envelope, though the HTTP status said all was well.
            said = body.get("error") or "the API answered FAILED"
            raise ApiError(f"{self.source.name}: {path}: {said}")
        try:
            return validate(envelope, body)
        except ValidationError as exc:
            raise BadResponse(
                f"{self.source.name}: {path} returned JSON of an unexpected shape "
                f"({first_problem(exc)})"
            ) from None

    def _fields(self, run: RunWire) -> dict[str, Any]:
        """What a list row and a detail share."""
        status = run_status(run.completionState, run.status)
        groups = run.groups or []
        commit = (run.meta.commit if run.meta else None) or Commit()
        return {
            "source": self.source.name,
            "provider": self.name,
            "id": run.runId,
            "status": status,
            "provider_status": provider_status(run),
            "title": title_of(run),
            "branch": commit.branch,
            "commit": commit.sha,
            "author": commit.authorName or commit.authorEmail,
            "created_at": run.createdAt,
            "finished_at": self._ended(run, status),
            # Timestamps win where the detail has both; a list row has only this figure.
            "duration_s": run.durationMs / 1000 if run.durationMs is not None else None,
            "progress": progress_of(groups),
            "tests": total_counts(groups),
            "url": self._url(run.runId),
        }

    def _ended(self, run: RunWire, status: RunStatus) -> datetime | None:
        if status is RunStatus.CANCELED and run.cancellation:
            return run.cancellation.canceledAt
        if status in (RunStatus.PASSED, RunStatus.FAILED) and run.specs:
            # Complete when its last spec file was: the run has no end time of its own.
            return max((s.completedAt for s in run.specs if s.completedAt), default=None)
        return None  # a timeout's moment is not reported, only that it happened

    def _to_run(self, run: RunWire) -> Run:
        return Run(**self._fields(run))

    def _to_detail(self, run: RunWire) -> RunDetail:
        fields = self._fields(run)
        specs = run.specs or []
        return RunDetail(
            **fields,
            # A run has no start time of its own: its first spec file claimed is the start.
            started_at=min((s.claimedAt for s in specs if s.claimedAt), default=None),
            groups=[to_group(g, n) for n, g in enumerate(run.groups or [])],
            specs=[to_spec(s, fields["status"]) for s in specs],
            cancellation=cancellation_of(run.cancellation),
        )

    def _url(self, run_id: str) -> str:
        """The run in Currents' dashboard, or in the API for any other server."""
        if urlsplit(self.source.base_url).hostname == PUBLIC_API_HOST:
            return DASHBOARD.format(run_id=_seg(run_id))
        return f"{self.source.base_url}/v1/runs/{_seg(run_id)}"


def _seg(value: str) -> str:
    """One URL path segment: an id with a slash must not reach another endpoint."""
    return quote(value, safe="")
