"""The services provider: reading and acting on a Seamless CI/CD backend.

Bare JSON under `/api`. The runs list has no paging and no order, so the newest `limit` runs
are picked here; a run's stages come unordered too and are put in pipeline order. An unknown
run id answers 200 with `null`. What the real server does beyond the document: rerun answers
the new run's id as plain text; stop answers `{"executionsStopped": N}` (or nothing) and does
not say what became of the run; every stage exists from the run's creation, `startedAt`
already set while it is still IDLE; log lines say whether they went to stdout or stderr.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from runwatch.config import SourceConfig
from runwatch.errors import BadResponse, NotFound
from runwatch.http import SourceClient
from runwatch.http_body import parse_body
from runwatch.http_cache import RAW_KEPT_MAX
from runwatch.models import Run, RunDetail, RunStatus, Step, map_status
from runwatch.providers.base import Provider, RunAction
from runwatch.providers.kit import ClientKit, run_path, same_runs
from runwatch.providers.services.newest import NewestItems
from runwatch.providers.services.wire import (
    LOG_LINES,
    LOGS_PATH,
    RUN,
    RUNS_PATH,
    STAGES,
    STAGES_PATH,
    STATUSES,
    WireRun,
    WireStage,
    WireStopped,
    kind_of,
    list_key,
    log_text,
    plain_run_id,
    stage_key,
)

T = TypeVar("T")

class ServicesProvider(Provider):
    """Runs of one service (or of all, without `service_id`) on a Seamless CI/CD server."""

    name = "services"
    actions = frozenset({RunAction.CANCEL, RunAction.RERUN, RunAction.DELETE})
    has_logs = True
    marks_stderr = True
    stop_reads_as_failure = True  # a stopped run is FAILURE: no CANCELED status exists

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        # The client hands back the very same object for an unchanged body, so the last
        # mapping is reused by identity instead of being rebuilt every poll.
        self._detailed: tuple[object, object, RunDetail] | None = None
        self.kit = ClientKit(source.name, client)
        self._listed: list[Run] = []
        # The last body's items, so that the next one costs what changed.
        self._newest = NewestItems(list_key, self._run_of, limit)

    # -- reading -------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        # The list is not paged: picking the newest runs goes with reading the body (on a
        # thread for a large one). The same list for the same body (the poller skips it);
        # an item whose bytes did not change keeps its Run, not parsed or validated again.
        self._listed = await self.client.get_raw_reduced(
            RUNS_PATH, {"serviceId": self.source.service_id}, self._newest_from_bytes)
        return self._listed

    async def get_run(self, run_id: str) -> RunDetail:
        path = _run_path(run_id)
        body = await self._run_body(run_id, path)
        stages = await self.client.get_json(STAGES_PATH, {"runId": run_id})
        memo = self._detailed
        if memo is not None and memo[0] is body and memo[1] is stages:
            return memo[2]
        wire = self._parse(RUN, body, path)
        steps = self._steps(stages)
        # Progress from the stages: the model's one rule (runwatch.models.progress_of).
        detail = RunDetail(**self._run_fields(wire), steps=steps)
        self._detailed = (body, stages, detail)
        return detail

    async def get_log(self, run_id: str, step: Step) -> str:
        body = await self.client.get_json(LOGS_PATH, {"stageId": step.id})
        if isinstance(body, str):  # a plain log, should a server send one
            return body
        lines = self._parse(LOG_LINES, body, LOGS_PATH)
        # The server orders by score; so does this, stably, in case it ever does not (lines
        # without a score keep their place after the scored ones).
        lines.sort(key=lambda line: (line.score is None, line.score or 0.0))
        return "\n".join(log_text(line) for line in lines)

    # -- acting --------------------------------------------------------------------------

    async def _cancel(self, run_id: str) -> str:
        # The answer counts the executions stopped (or is empty when nothing ran); it says
        # nothing of the run's status, so neither does the message: the next poll will.
        answer = await self.client.send("POST", f"{_run_path(run_id)}/stop")
        said = "stop sent for run " + run_id
        if answer is None:
            return f"{said}: nothing was running"
        try:
            stopped = WireStopped.model_validate(answer).executionsStopped
        except ValidationError:
            stopped = None
        if stopped is None:
            return said  # an answer in words this client does not know
        if stopped <= 0:
            return f"{said}: nothing was running"
        return f"{said}: {stopped} execution{'s' if stopped != 1 else ''} stopped"

    async def _rerun(self, run_id: str) -> Run | None:
        # The server wants the run back exactly as it sent it, and answers the new run's id
        # as plain text; the run itself shows up on the next poll.
        path = _run_path(run_id)
        raw = await self._run_body(run_id, path)
        answer = await self.client.send_text("POST", f"{path}/rerun", json_body={"data": raw})
        new_id = plain_run_id(answer)
        if new_id is None:
            return None  # the rerun happened; the answer just does not say which run it is
        return Run(source=self.source.name, provider=self.name, id=new_id,
                   status=RunStatus.UNKNOWN, provider_status="",
                   url=f"{self.source.base_url}{_run_path(new_id)}")

    async def _delete(self, run_id: str) -> None:
        # The deleted run comes back; an empty answer means there was no such run.
        if await self.client.send("DELETE", _run_path(run_id)) is None:
            raise NotFound(f"{self.source.name}: run {run_id} not found", status_code=404)

    # -- mapping -------------------------------------------------------------------------

    async def _run_body(self, run_id: str, path: str) -> dict[str, Any]:
        """GET a run as the server sent it; its `null` for an unknown id is a NotFound."""
        body = await self.client.get_json(path)
        if body is None:
            raise NotFound(f"{self.source.name}: run {run_id} not found", status_code=404)
        if not isinstance(body, dict):
            raise self._bad(path, f"{kind_of(body)}, not a run")
        return body

    def _newest_from_bytes(self, body: bytes | bytearray) -> list[Run]:
        """The newest `limit` runs of the raw body. A compact array is cut into its items'
        texts (from the last body's cut where the two pair up item for item) and only the
        texts new since the last body are parsed (NewestItems); anything else is parsed
        whole."""
        newest = self._newest
        newest.limit = self.limit
        runs = None
        if len(body) <= RAW_KEPT_MAX:
            # bytes.strip() is the very object when there is nothing to strip (no copy).
            runs = newest.update_text((body if isinstance(body, bytes) else bytes(body)).strip())
        if runs is None:  # not a compact array, or cut inside a string: read it all
            newest.clear()
            return self._same_or(self._newest_runs(parse_body(body)))
        return runs

    def _same_or(self, runs: list[Run]) -> list[Run]:
        """The last list itself when `runs` holds the very same objects."""
        return self._listed if same_runs(runs, self._listed) else runs

    def _newest_runs(self, body: Any) -> list[Run]:
        """The newest `limit` runs, newest first, each id once. Only those are validated and
        mapped: without paging the list may hold thousands of runs."""
        if not isinstance(body, list):
            raise self._bad(RUNS_PATH, f"{kind_of(body)}, not a list of runs")
        if not all(isinstance(item, dict) for item in body):
            odd = next(item for item in body if not isinstance(item, dict))
            raise self._bad(RUNS_PATH, f"a list holding {kind_of(odd)} where a run belongs")
        runs: list[Run] = []
        seen: set[str] = set()
        for item in self._newest_first(body, list_key):
            run = self.kit.item_run(item, "id", partial(self._run_of, item))
            if run.id in seen:
                continue
            seen.add(run.id)
            runs.append(run)
            if len(runs) >= self.limit:
                break
        self.kit.items.keep(runs)
        return runs

    def _run_of(self, item: dict[str, Any] | None) -> Run:
        return Run(**self._run_fields(self._parse(RUN, item, RUNS_PATH)))

    def _newest_first(self, body: list[T], key: Callable[[T], tuple[datetime, str]]
                      ) -> Iterator[T]:
        """`body` as sorted(newest first) would give it, ordered only as far as it is read:
        sorting a million runs would hold the GIL (and the event loop) for most of a second."""
        done, want = 0, self.limit
        while done < len(body):
            yield from heapq.nlargest(want, body, key=key)[done:]
            done, want = want, want * 4

    def _run_fields(self, wire: WireRun) -> dict[str, Any]:
        status = map_status(wire.status, STATUSES)
        return {
            "source": self.source.name,
            "provider": self.name,
            "id": wire.id,
            "status": status,
            "provider_status": wire.status or "",
            "title": wire.commitMessage,
            "commit": wire.commitHash,
            "author": wire.committer,
            "created_at": wire.createdAt,
            # A new run carries startedAt from its creation, while still IDLE.
            "started_at": None if status is RunStatus.QUEUED else wire.startedAt,
            "finished_at": wire.endedAt,
            "duration_s": wire.duration,
            "url": f"{self.source.base_url}{_run_path(wire.id)}",
            "pipeline": wire.serviceId,
        }

    def _steps(self, body: Any) -> list[Step]:
        parsed: list[WireStage] = self._parse(STAGES, body, STAGES_PATH)
        stages = sorted(parsed, key=stage_key)
        return [
            Step(
                id=stage.id,
                name=stage.label,
                order=order,
                status=map_status(stage.status, STATUSES),
                provider_status=stage.status,
                # An IDLE stage has not started (nor ended), and has no log yet.
                started_at=None if stage.idle else stage.startedAt,
                finished_at=None if stage.idle else stage.endedAt,
                duration_s=None if stage.idle else stage.duration,  # timestamps win
                log_available=not stage.idle and stage.startedAt is not None,
            )
            for order, stage in enumerate(stages)
        ]

    # -- shape checks --------------------------------------------------------------------

    def _parse(self, adapter: TypeAdapter[T], data: Any, path: str) -> T:
        """`data` as the adapter's type, or the kit's BadResponse naming the source, the path
        and the first field that is wrong: a pydantic error never leaks out."""
        parsed: T = self.kit.parse(adapter, data, path)
        return parsed

    def _bad(self, path: str, problem: str) -> BadResponse:
        return self.kit.bad(path, problem)


def _run_path(run_id: str) -> str:
    return run_path(RUNS_PATH, run_id)

