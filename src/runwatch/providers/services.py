"""The services API: the Seamless CI/CD backend (services-api.md, corrected by DESIGN section 3).

Bare JSON under `/api`. The runs list has no paging and no order, so the newest `limit` runs
are picked here; a run's stages come unordered too and are put in pipeline order. An unknown
run id answers 200 with `null`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from pydantic import BeforeValidator, TypeAdapter, ValidationError

from runwatch.config import SourceConfig
from runwatch.errors import BadResponse, NotFound
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus, Step, map_status, utc
from runwatch.providers.base import Action, Provider
from runwatch.providers.wire import LenientTimestamp, WireModel, first_problem, validate

RUNS_PATH = "/api/runs"
STAGES_PATH = "/api/stages"
LOGS_PATH = "/api/logs"

STATUSES: dict[str, RunStatus] = {
    "idle": RunStatus.QUEUED,
    "in_progress": RunStatus.RUNNING,
    "awaiting_approval": RunStatus.WAITING,
    "success": RunStatus.PASSED,
    "failure": RunStatus.FAILED,
}
STAGE_ORDER = (
    "PREPARE",
    "CODE_QUALITY",
    "UNIT_TEST",
    "BUILD",
    "INTEGRATION_TEST",
    "DEPLOY_STAGING",
    "DEPLOY_PROD",
)
_STAGE_RANK = {name: rank for rank, name in enumerate(STAGE_ORDER)}
_NEVER = datetime.min.replace(tzinfo=UTC)


def _as_text(value: Any) -> Any:
    # Ids are UUID strings, but a numeric id is still an id.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


WireId = Annotated[str, BeforeValidator(_as_text)]


class WireRun(WireModel):
    """A run as GET /api/runs and /api/runs/{id} return it; `pullNumber` may come extra."""

    id: WireId
    createdAt: LenientTimestamp = None
    updatedAt: LenientTimestamp = None
    startedAt: LenientTimestamp = None
    endedAt: LenientTimestamp = None
    duration: float | None = None  # whole seconds
    commitHash: str | None = None
    commitMessage: str | None = None
    committer: str | None = None
    status: str | None = None
    triggerType: str | None = None
    serviceId: WireId | None = None


class WireStage(WireModel):
    """A stage as GET /api/stages?runId= returns it (not in the seed document)."""

    id: WireId
    runId: WireId | None = None
    type: str | None = None
    name: str | None = None  # accepted in place of `type`
    status: str | None = None
    startedAt: LenientTimestamp = None
    endedAt: LenientTimestamp = None
    duration: float | None = None  # whole seconds

    @property
    def label(self) -> str:
        return self.type or self.name or self.id


class WireLogLine(WireModel):
    """A log line as GET /api/logs?stageId= returns it (not in the seed document)."""

    timestamp: LenientTimestamp = None
    level: str | None = None
    message: str | None = None


T = TypeVar("T")

_RUN = TypeAdapter(WireRun)
_STAGES = TypeAdapter(list[WireStage])
_LOG_LINES = TypeAdapter(list[WireLogLine])


class ServicesProvider(Provider):
    """Runs of one service (or of all, without `service_id`) on a Seamless CI/CD server."""

    name = "services"
    actions = frozenset({Action.CANCEL, Action.RERUN, Action.DELETE})
    has_logs = True

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        super().__init__(source, client, limit=limit)
        # The client hands back the very same object for an unchanged body, so the last
        # mapping is reused by identity instead of being rebuilt every poll.
        self._detailed: tuple[object, object, RunDetail] | None = None

    # -- reading -------------------------------------------------------------------------

    async def list_runs(self) -> list[Run]:
        # The list is not paged: picking the newest runs goes with the parsing (on a thread
        # for a large body), and only they are kept; an unchanged body is not mapped again.
        runs = await self.client.get_json(
            RUNS_PATH, {"serviceId": self.source.service_id}, reduce=self._newest_runs
        )
        return list(runs)

    async def get_run(self, run_id: str) -> RunDetail:
        path = _run_path(run_id)
        body = await self._run_body(run_id, path)
        stages = await self.client.get_json(STAGES_PATH, {"runId": run_id})
        memo = self._detailed
        if memo is not None and memo[0] is body and memo[1] is stages:
            return memo[2]
        wire = self._parse(_RUN, body, path)
        steps = self._steps(stages)
        detail = RunDetail(**self._run_fields(wire), steps=steps, progress=_progress(wire, steps))
        self._detailed = (body, stages, detail)
        return detail

    async def get_log(self, run_id: str, step: Step) -> str:
        body = await self.client.get_json(LOGS_PATH, {"stageId": step.id})
        if isinstance(body, str):  # a plain log, should a server send one
            return body
        lines = self._parse(_LOG_LINES, body, LOGS_PATH)
        # Stable: lines without a timestamp, or with equal ones, keep the server's order.
        lines.sort(key=lambda line: utc(line.timestamp) or _NEVER)
        return "\n".join(_log_text(line) for line in lines)

    # -- acting --------------------------------------------------------------------------

    async def _cancel(self, run_id: str) -> None:
        await self.client.send("POST", f"{_run_path(run_id)}/stop")

    async def _rerun(self, run_id: str) -> Run | None:
        # The server wants the run back exactly as it sent it.
        path = _run_path(run_id)
        raw = await self._run_body(run_id, path)
        created = await self.client.send("POST", f"{path}/rerun", json_body={"data": raw})
        try:
            return Run(**self._run_fields(_RUN.validate_python(created)))
        except ValidationError:
            return None  # the rerun happened; the answer just does not say which run it is

    async def _delete(self, run_id: str) -> None:
        await self.client.send("DELETE", _run_path(run_id))

    # -- mapping -------------------------------------------------------------------------

    async def _run_body(self, run_id: str, path: str) -> dict[str, Any]:
        """GET a run as the server sent it; its `null` for an unknown id is a NotFound."""
        body = await self.client.get_json(path)
        if body is None:
            raise NotFound(f"{self.source.name}: run {run_id} not found", status_code=404)
        if not isinstance(body, dict):
            raise self._bad(path, f"{_kind(body)}, not a run")
        return body

    def _newest_runs(self, body: Any) -> list[Run]:
        """The newest `limit` runs, newest first, each id once. Only those are validated and
        mapped: without paging the list may hold thousands of runs."""
        if not isinstance(body, list):
            raise self._bad(RUNS_PATH, f"{_kind(body)}, not a list of runs")
        if not all(isinstance(item, dict) for item in body):
            odd = next(item for item in body if not isinstance(item, dict))
            raise self._bad(RUNS_PATH, f"a list holding {_kind(odd)} where a run belongs")
        runs: list[Run] = []
        seen: set[str] = set()
        for item in self._newest_first(body):
            wire = self._parse(_RUN, item, RUNS_PATH)
            if wire.id in seen:
                continue
            seen.add(wire.id)
            runs.append(Run(**self._run_fields(wire)))
            if len(runs) >= self.limit:
                break
        return runs

    def _newest_first(self, body: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """`body` as sorted(newest first) would give it, ordered only as far as it is read:
        sorting a million runs would hold the GIL (and the event loop) for most of a second."""
        done, want = 0, self.limit
        while done < len(body):
            yield from heapq.nlargest(want, body, key=self._created_key)[done:]
            done, want = want, want * 4

    def _created_key(self, item: dict[str, Any]) -> datetime:
        value = item.get("createdAt")
        if value is None:
            return _NEVER
        try:
            return utc(datetime.fromisoformat(value)) or _NEVER
        except (TypeError, ValueError):
            return _NEVER  # sorted last: a bad timestamp costs that field, not the list

    def _run_fields(self, wire: WireRun) -> dict[str, Any]:
        return {
            "source": self.source.name,
            "provider": self.name,
            "id": wire.id,
            "status": map_status(wire.status, STATUSES),
            "provider_status": wire.status or "",
            "title": wire.commitMessage,
            "commit": wire.commitHash,
            "author": wire.committer,
            "created_at": wire.createdAt,
            "started_at": wire.startedAt,
            "finished_at": wire.endedAt,
            "duration_s": wire.duration,
            "url": f"{self.source.base_url}{_run_path(wire.id)}",
        }

    def _steps(self, body: Any) -> list[Step]:
        stages = sorted(self._parse(_STAGES, body, STAGES_PATH), key=_stage_key)
        return [
            Step(
                id=stage.id,
                name=stage.label,
                order=order,
                status=map_status(stage.status, STATUSES),
                provider_status=stage.status,
                started_at=stage.startedAt,
                finished_at=stage.endedAt,
                duration_s=stage.duration,  # timestamps, where both are known, win
                log_available=stage.startedAt is not None,
            )
            for order, stage in enumerate(stages)
        ]

    # -- shape checks --------------------------------------------------------------------

    def _parse(self, adapter: TypeAdapter[T], data: Any, path: str) -> T:
        """`data` as the adapter's type, or BadResponse naming the source, the path and the
        first field that is wrong: a pydantic error never leaks out."""
        try:
            return validate(adapter, data)
        except ValidationError as exc:
            raise self._bad(path, first_problem(exc)) from None

    def _bad(self, path: str, problem: str) -> BadResponse:
        return BadResponse(f"{self.source.name}: {path} returned an unexpected body: {problem}")


def _run_path(run_id: str) -> str:
    return f"{RUNS_PATH}/{quote(run_id, safe='')}"


def _stage_key(stage: WireStage) -> tuple[int, datetime, str]:
    # Unknown stage types go after the known ones, in the order they started.
    rank = _STAGE_RANK.get(stage.label.upper(), len(STAGE_ORDER))
    return rank, utc(stage.startedAt) or _NEVER, stage.label


def _progress(wire: WireRun, steps: list[Step]) -> float | None:
    """100 once the run has ended; else the share of stages that have ended."""
    if map_status(wire.status, STATUSES).is_terminal:
        return 100.0
    if not steps:
        return None
    done = sum(1 for step in steps if step.status.is_terminal)
    return round(100.0 * done / len(steps), 1)


def _log_text(line: WireLogLine) -> str:
    when = utc(line.timestamp)
    stamp = when.strftime("%H:%M:%S") if when else None
    level = f"{line.level.upper():<5}" if line.level else None
    return " ".join(part for part in (stamp, level, line.message or "") if part is not None)


_JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
               int: "a number", float: "a number"}


def _kind(value: Any) -> str:
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)
