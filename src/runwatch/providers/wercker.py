"""Wercker API v3 runs (`wercker-v3.md`, with DESIGN section 3's corrections).

The source's `base_url` is the root before `/api/v3`. Runs are scoped by `pipeline_id` or
`application_id`; the list comes 20 at a time at most, newest first, paged with `skip`.
"""

import math
from functools import partial
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ConfigDict, TypeAdapter

from runwatch.catalog import CATALOG
from runwatch.config import SourceConfig
from runwatch.errors import BadResponse
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus, Step, map_status, progress_of
from runwatch.providers.base import Provider, RunAction
from runwatch.providers.kit import ClientKit, Page, run_path
from runwatch.providers.wire import LAZY, CamelWireModel, LenientTimestamp, parse

RUNS_PATH = "/api/v3/runs"
PAGE_SIZE = 20  # the API's largest `limit`
# Pages allowed beyond ceil(limit / PAGE_SIZE): runs created between two page requests push
# the list down, so a page can repeat ids already seen. Also the bound on a server whose
# paging never ends.
SPARE_PAGES = 1

STATUSES: dict[str, RunStatus] = {
    "notstarted": RunStatus.QUEUED,
    "started": RunStatus.RUNNING,
    "running": RunStatus.RUNNING,
}
# What a `finished` run's `result` means; `unknown` (and anything new) stays unknown.
RESULTS: dict[str, RunStatus] = {
    "passed": RunStatus.PASSED,
    "failed": RunStatus.FAILED,
    "aborted": RunStatus.CANCELED,
}
FINISHED = "finished"
NO_RESULT = "unknown"  # the placeholder `result` of a run that has not finished


# -- wire models -------------------------------------------------------------------------


class _Wire(CamelWireModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)


class WireUserMeta(_Wire):
    username: str | None = None


class WireUser(_Wire):
    name: str | None = None
    meta: WireUserMeta | None = None


class WirePipeline(_Wire):
    id: str | None = None
    name: str | None = None


class WireRun(_Wire):
    """A `run` object, as the list, the detail, a trigger and an abort return it."""

    id: str
    url: str | None = None
    branch: str | None = None
    commit_hash: str | None = None
    message: str | None = None
    status: str | None = None
    result: str | None = None
    progress: float | None = None
    # One timestamp that does not parse costs that field, not the list.
    created_at: LenientTimestamp = None
    started_at: LenientTimestamp = None
    finished_at: LenientTimestamp = None
    user: WireUser | None = None
    pipeline: WirePipeline | None = None


class WireStep(_Wire):
    """A `step` object of GET /api/v3/runs/{id}/steps."""

    id: str
    step: str | None = None
    order: int | None = None
    status: str | None = None
    result: str | None = None
    started_at: LenientTimestamp = None
    finished_at: LenientTimestamp = None
    log_url: str | None = None
    message: str | None = None  # what the step says of itself: its note on the run screen
    phase: str | None = None


RUN = TypeAdapter(WireRun)
RUN_LIST = TypeAdapter(list[WireRun], config=LAZY)
STEP_LIST = TypeAdapter(list[WireStep], config=LAZY)


# -- mapping -----------------------------------------------------------------------------


def wercker_status(status: str | None, result: str | None) -> RunStatus:
    """A run's (or step's) normalized status: a finished one is what its result says."""
    if (status or "").strip().lower() == FINISHED:
        return map_status(result, RESULTS)
    return map_status(status, STATUSES)


def wercker_provider_status(status: str | None, result: str | None) -> str:
    """`status/result` where there is a result ("finished/aborted"); the `unknown` that
    stands in for "no result yet" is left off an unfinished run ("running")."""
    finished = (status or "").strip().lower() == FINISHED
    if result and (finished or result.strip().lower() != NO_RESULT):
        return f"{status}/{result}" if status else result
    return status or ""


def _percent(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return min(100.0, max(0.0, value))


def _author(user: WireUser | None) -> str | None:
    if user is None:
        return None
    return (user.meta.username if user.meta else None) or user.name


class WerckerProvider(Provider):
    """Runs of one Wercker pipeline or application."""

    name: ClassVar[str] = "wercker"
    actions: ClassVar[frozenset[RunAction]] = frozenset({RunAction.CANCEL, RunAction.RERUN})
    cancel_verb: ClassVar[str] = CATALOG["wercker"].verb("cancel")  # "abort"
    has_logs: ClassVar[bool] = True

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        self.kit = ClientKit(source.name, client)

    # -- reading ---------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        # `skip` paging: where each page starts is known, so older pages go together.
        return await self.kit.paginate(self._page, limit=self.limit, page_size=PAGE_SIZE,
                                       spare_pages=SPARE_PAGES, offsets=_skip,
                                       on_partial=self.on_partial)

    async def get_run(self, run_id: str) -> RunDetail:
        path = self._run_path(run_id)
        source = self.source.name
        wire = parse(RUN, await self.client.get_json(path), source=source, path=path)
        steps_path = f"{path}/steps"
        body = await self.client.get_json(steps_path)
        steps = parse(STEP_LIST, body, source=source, path=steps_path)
        return RunDetail(**self._run_fields(wire), steps=self._steps(steps))

    async def get_log(self, run_id: str, step: Step) -> str:
        return await self.client.get_text(f"/api/v3/runsteps/{quote(step.id, safe='')}/log")

    # -- acting ----------------------------------------------------------------------------

    async def _cancel(self, run_id: str) -> None:
        await self.client.send("PUT", f"{self._run_path(run_id)}/abort", json_body={})

    async def _rerun(self, run_id: str) -> Run | None:
        """Trigger a new run of the same pipeline, branch, commit and message."""
        path = self._run_path(run_id)
        raw = await self.client.get_json(path)
        old = parse(RUN, raw, source=self.source.name, path=path)
        pipeline_id = (old.pipeline.id if old.pipeline else None) or self.source.pipeline_id
        if not pipeline_id:
            raise BadResponse(f"{self.source.name}: {path} names no pipeline to run again")
        body = {
            "pipelineId": pipeline_id,
            "branch": old.branch,
            # The API takes a commit only together with its branch.
            "commitHash": old.commit_hash if old.branch else None,
            "message": old.message,
        }
        answer = await self.client.send(
            "POST", RUNS_PATH, json_body={k: v for k, v in body.items() if v is not None}
        )
        if answer is None:
            return None
        wire = parse(RUN, answer, source=self.source.name, path=RUNS_PATH)
        return Run(**self._run_fields(wire))

    # -- internals -------------------------------------------------------------------------

    async def _page(self, skip: int | None, size: int) -> Page[int]:
        """The page of `size` runs after `skip`; a short page is the last one."""
        skip = skip or 0
        params: dict[str, Any] = {
            "pipelineId": self.source.pipeline_id,
            "applicationId": self.source.application_id,
            "limit": size,
            "skip": skip or None,  # the document gives skip a minimum of 1; 0 is the default
        }

        def mapped(body: Any) -> Page[int]:
            if not isinstance(body, list):
                self.kit.parse(RUN_LIST, body, RUNS_PATH)  # raises, naming what is wrong
            try:
                # An item whose JSON did not change keeps its Run (not validated again).
                runs = [self.kit.item_run(item, "id", partial(self._run_of, item))
                        for item in body]
            except BadResponse:
                self.kit.parse(RUN_LIST, body, RUNS_PATH)  # the list's own words: `3.id: ...`
                raise
            return Page(runs, skip + len(runs) if len(runs) >= size else None)

        return await self.kit.get_mapped(RUNS_PATH, params, mapped)

    def _run_of(self, item: Any) -> Run:
        return Run(**self._run_fields(self.kit.parse(RUN, item, RUNS_PATH)))

    def _run_fields(self, wire: WireRun) -> dict[str, Any]:
        status = wercker_status(wire.status, wire.result)
        return {
            "source": self.source.name,
            "provider": self.name,
            "id": wire.id,
            "status": status,
            "provider_status": wercker_provider_status(wire.status, wire.result),
            "title": wire.message or wire.commit_hash,
            "branch": wire.branch,
            "commit": wire.commit_hash,
            "author": _author(wire.user),
            "created_at": wire.created_at,
            "started_at": wire.started_at,
            "finished_at": wire.finished_at,
            # The model's rule: a finished run's "100" is no "how far" (progress_of).
            "progress": progress_of(status, (), _percent(wire.progress)),
            "url": wire.url,
            "pipeline": (wire.pipeline.name or wire.pipeline.id) if wire.pipeline else None,
        }

    @staticmethod
    def _steps(wire: list[WireStep]) -> list[Step]:
        steps = [
            Step(
                id=s.id,
                name=s.step or f"step {s.order or n}",
                order=s.order if s.order is not None else n,
                status=wercker_status(s.status, s.result),
                provider_status=wercker_provider_status(s.status, s.result),
                started_at=s.started_at,
                finished_at=s.finished_at,
                # A step that never started has no log to show yet.
                log_available=s.log_url is not None and s.started_at is not None,
                message=(s.message or "").strip() or None,
            )
            for n, s in enumerate(wire, start=1)
        ]
        return sorted(steps, key=lambda s: s.order)

    @staticmethod
    def _run_path(run_id: str) -> str:
        return run_path(RUNS_PATH, run_id)


def _skip(page: int) -> int:
    """Where the `page`-th page (0: the first) starts."""
    return page * PAGE_SIZE
