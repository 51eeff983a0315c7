"""The Currents provider: a project's runs paged on their cursor, a run's groups and spec
files, an instance's tests, cancel and delete."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import quote

from runwatch.config import SourceConfig
from runwatch.errors import ApiError, BadResponse, ConfigError, Conflict
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus, Spec, TestResult
from runwatch.models import progress_of as run_progress
from runwatch.providers.base import Provider, RunAction
from runwatch.providers.currents.mapping import (
    cancellation_of,
    pipeline_of,
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
    RunPageHead,
    RunWire,
)
from runwatch.providers.kit import ClientKit, Page, run_path

PAGE_SIZE = 50  # the API's largest `limit`
# Paging stops after this many pages beyond what `limit` needs, whatever `has_more` says.
SPARE_PAGES = 2
RUNS_PATH = "/v1/runs"


class CurrentsProvider(Provider):
    """A Currents project's runs: groups, spec files and per-test results; cancel, delete."""

    name = "currents"
    actions = frozenset({RunAction.CANCEL, RunAction.DELETE})
    has_spec_results = True

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        self.kit = ClientKit(source.name, client)
        self._listing: tuple[str, str] | None = None  # (project id, its runs path)

    @property
    def project_id(self) -> str:
        if not self.source.project_id:
            raise ConfigError(f"source {self.source.name!r}: key 'project_id': required")
        return self.source.project_id

    # -- reading -----------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        return await self.kit.paginate(self._page, limit=self.limit, page_size=PAGE_SIZE,
                                       spare_pages=SPARE_PAGES,
                                       on_partial=self.on_partial)

    async def get_run(self, run_id: str) -> RunDetail:
        path = run_path(RUNS_PATH, run_id)
        return await self.kit.get_mapped(
            path, None, lambda body: self._to_detail(self._parse(RunEnvelope, body, path).data))

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
            await self.client.send("PUT", run_path(RUNS_PATH, run_id) + "/cancel")
        except Conflict as exc:
            # The API's one documented refusal is 422 "Run already cancelled"; say so plainly,
            # unless the server gave another reason.
            said = exc.detail  # the server's own words, if it said any
            if not said or "cancel" in said.lower():
                message = f"{self.source.name}: run {run_id} is already cancelled"
            else:
                message = f"{self.source.name}: run {run_id} cannot be cancelled: {said}"
            raise Conflict(message, status_code=exc.status_code) from exc

    async def _delete(self, run_id: str) -> None:
        await self.client.send("DELETE", run_path(RUNS_PATH, run_id))

    # -- internals ---------------------------------------------------------------------------

    async def _page(self, cursor: str | None, size: int) -> Page[str]:
        path = self._runs_path()

        def mapped(body: Any) -> Page[str]:
            page = self._parse(RunPageHead, body, path)
            try:
                # An item whose JSON did not change keeps its Run (not validated again).
                runs = [self.kit.item_run(item, "runId",
                                          partial(self._item_run, item, path))
                        for item in page.data]
                last = self._item(page.data[-1], path) if page.data else None
            except BadResponse:
                self._parse(RunPage, body, path)  # the list's own words: `data.3.runId: ...`
                raise
            # The API's items carry a `cursor`; the run id stands in where one does not.
            more = (last.cursor or last.runId) if last and page.has_more else None
            return Page(runs, more)

        return await self.kit.get_mapped(path, {"limit": size, "starting_after": cursor}, mapped)

    def _runs_path(self) -> str:
        """The project's runs, its id one path segment (quoted once, not every poll)."""
        project = self.project_id
        if self._listing is None or self._listing[0] != project:
            self._listing = (project, f"/v1/projects/{_seg(project)}/runs")
        return self._listing[1]

    def _item_run(self, item: Any, path: str) -> Run:
        return self._to_run(self._item(item, path))

    def _item(self, item: Any, path: str) -> RunWire:
        wire: RunWire = self.kit.parse(RunWire, item, path)
        return wire

    def _parse(self, envelope: type[E], body: Any, path: str) -> E:
        """Validate an envelope; a wrong shape is the kit's BadResponse."""
        if isinstance(body, dict) and str(body.get("status")).upper() == "FAILED":
            # Currents' error envelope, though the HTTP status said all was well.
            said = body.get("error") or "the API answered FAILED"
            raise ApiError(f"{self.source.name}: {path}: {said}")
        result: E = self.kit.parse(envelope, body, path)
        return result

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
            # The run's own figure, in list rows and details alike.
            "duration_s": run.durationMs / 1000 if run.durationMs is not None else None,
            # The model's rule: complete specs (skipped ones too) are no "how far" for a run
            # that ended short of passing (models.progress_of).
            "progress": run_progress(status, (), progress_of(groups)),
            "tests": total_counts(groups),
            "pipeline": pipeline_of(self.source.project_id, groups),
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
        detail = RunDetail(
            **fields,
            # A run has no start time of its own: its first spec file claimed is the start.
            started_at=min((s.claimedAt for s in specs if s.claimedAt), default=None),
            groups=[to_group(g, n) for n, g in enumerate(run.groups or [])],
            specs=[to_spec(s, fields["status"]) for s in specs],
            cancellation=cancellation_of(run.cancellation),
        )
        if fields["duration_s"] is not None:
            # The API's `durationMs` is in the list row too: the run screen and `show` say
            # what the table says, not a figure from the spec times the list cannot have.
            detail = detail.model_copy(update={"duration_s": fields["duration_s"]})
        return detail

    def _url(self, run_id: str) -> str:
        """The run in the API (its dashboard page is `web_url`: runwatch.weblinks)."""
        return self.source.base_url + run_path(RUNS_PATH, run_id)


def _seg(value: str) -> str:
    """One URL path segment: an id with a slash must not reach another endpoint."""
    return quote(value, safe="")
