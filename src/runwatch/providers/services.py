"""The services API: the Seamless CI/CD backend (services-api.md, corrected by DESIGN section 3).

Bare JSON under `/api`. The runs list has no paging and no order, so the newest `limit` runs
are picked here; a run's stages come unordered too and are put in pipeline order. An unknown
run id answers 200 with `null`. What the real server does beyond the document: rerun answers
the new run's id as plain text; stop answers `{"executionsStopped": N}` (or nothing) and does
not say what became of the run; every stage exists from the run's creation, `startedAt`
already set while it is still IDLE; log lines say whether they went to stdout or stderr.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from operator import attrgetter
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, TypeAdapter, ValidationError

from runwatch.config import SourceConfig
from runwatch.errors import BadResponse, NotFound
from runwatch.http import SourceClient
from runwatch.http_body import parse_body, parse_object, split_objects
from runwatch.http_cache import RAW_KEPT_MAX
from runwatch.models import STDERR_MARK, Run, RunDetail, RunStatus, Step, map_status, utc
from runwatch.providers.base import Provider, RunAction
from runwatch.providers.kit import ClientKit, run_path, same_runs
from runwatch.providers.wire import LenientTimestamp, WireModel

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
# Unknown stage types go after the known ones, and OTHER after those.
_STAGE_RANK = {name: rank for rank, name in enumerate(STAGE_ORDER)} | {
    "OTHER": len(STAGE_ORDER) + 1
}
_NEVER = datetime.min.replace(tzinfo=UTC)
# What a rerun's plain-text answer may be to count as a run id: short, printable, no spaces
# (UUIDs, cuids, numbers). Anything else (an HTML page, a paragraph) is not an id.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def _as_text(value: Any) -> Any:
    # Ids are UUID strings, but a numeric id is still an id.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _as_number(value: Any) -> float | None:
    # A log line's score orders the log; one that is not a number costs that field only.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


WireId = Annotated[str, BeforeValidator(_as_text)]
Score = Annotated[float | None, BeforeValidator(_as_number)]


class WireRun(WireModel):
    """A run as GET /api/runs and /api/runs/{id} return it; `pullNumber` may come extra.
    `triggerType` is MAIN, PR_OPEN or PR_SYNC."""

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
    """A stage as GET /api/stages?runId= returns it (not in the seed document). Every stage
    is created with its run, `startedAt` set while still IDLE."""

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

    @property
    def idle(self) -> bool:
        """Not started, whatever `startedAt` says."""
        return (self.status or "").strip().upper() == "IDLE"


class WireLogLine(WireModel):
    """A log line as GET /api/logs?stageId= returns it: `{id (a ULID), message, timestamp,
    score, type: stdout | stderr, stageId}`, in `score` order."""

    id: WireId | None = None
    message: str | None = None
    timestamp: LenientTimestamp = None
    score: Score = None
    type: str | None = None
    stageId: WireId | None = None

    @property
    def stderr(self) -> bool:
        return isinstance(self.type, str) and self.type.strip().lower() == "stderr"


class WireStopped(WireModel):
    """What POST /api/runs/{id}/stop answers when it stopped something."""

    executionsStopped: int | None = None


T = TypeVar("T")


@dataclass(slots=True)
class _Item:
    """One item of the last runs body: its sort key, its text (parsed again only should it
    make the list later) and its Run once it made the list."""

    created: datetime
    piece: bytes
    run: Run | None = None
    generation: int = 0  # of the last body that held it


_item_key = attrgetter("created")

_RUN = TypeAdapter(WireRun)
_STAGES = TypeAdapter(list[WireStage])
_LOG_LINES = TypeAdapter(list[WireLogLine])


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
        self._pieces: dict[bytes, _Item] = {}  # the last body's items, by their text
        self._order: list[_Item] = []  # the same, newest first
        self._generation = 0

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
        wire = self._parse(_RUN, body, path)
        steps = self._steps(stages)
        # Progress from the stages: the model's one rule (runwatch.models.progress_of).
        detail = RunDetail(**self._run_fields(wire), steps=steps)
        self._detailed = (body, stages, detail)
        return detail

    async def get_log(self, run_id: str, step: Step) -> str:
        body = await self.client.get_json(LOGS_PATH, {"stageId": step.id})
        if isinstance(body, str):  # a plain log, should a server send one
            return body
        lines = self._parse(_LOG_LINES, body, LOGS_PATH)
        # The server orders by score; so does this, stably, in case it ever does not (lines
        # without a score keep their place after the scored ones).
        lines.sort(key=lambda line: (line.score is None, line.score or 0.0))
        return "\n".join(_log_text(line) for line in lines)

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
        new_id = _plain_run_id(answer)
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
            raise self._bad(path, f"{_kind(body)}, not a run")
        return body

    def _newest_from_bytes(self, body: bytes | bytearray) -> list[Run]:
        """The newest `limit` runs of the raw body. A compact array is cut into its items'
        texts (http_body.split_objects): an item seen in the last body is not parsed again,
        its sort key and Run are the ones it had. Anything else is parsed whole."""
        pieces = split_objects(bytes(body)) if len(body) <= RAW_KEPT_MAX else None
        if pieces is None:
            self._pieces = {}
            return self._same_or(self._newest_runs(parse_body(body)))
        known: dict[bytes, _Item] = self._pieces
        fresh: dict[bytes, _Item] = {}
        added: list[_Item] = []
        self._generation += 1
        for piece in pieces:
            item = known.get(piece) or fresh.get(piece)
            if item is None:
                raw = parse_object(piece)
                if raw is None:  # a cut inside a string or a nested array: read it all
                    self._pieces, self._order = {}, []
                    return self._same_or(self._newest_runs(parse_body(body)))
                item = _Item(self._created_key(raw), piece)
                added.append(item)
            item.generation = self._generation
            fresh[piece] = item
        # Last time's order with this body's new items after it: nearly sorted, which is
        # what timsort sorts in a few comparisons per item.
        order = [i for i in self._order if i.generation == self._generation] + added
        order.sort(key=_item_key, reverse=True)
        self._order = order
        runs: list[Run] = []
        seen: set[str] = set()
        for item in order:
            if item.run is None:
                item.run = self._run_of(parse_object(item.piece))
            if item.run.id in seen:
                continue
            seen.add(item.run.id)
            runs.append(item.run)
            if len(runs) >= self.limit:
                break
        # Only the latest body's items are remembered (a kiosk runs for weeks).
        self._pieces = fresh
        return self._same_or(runs)

    def _same_or(self, runs: list[Run]) -> list[Run]:
        """The last list itself when `runs` holds the very same objects."""
        return self._listed if same_runs(runs, self._listed) else runs

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
        for item in self._newest_first(body, self._created_key):
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
        return Run(**self._run_fields(self._parse(_RUN, item, RUNS_PATH)))

    def _newest_first(self, body: list[T], key: Callable[[T], datetime]) -> Iterator[T]:
        """`body` as sorted(newest first) would give it, ordered only as far as it is read:
        sorting a million runs would hold the GIL (and the event loop) for most of a second."""
        done, want = 0, self.limit
        while done < len(body):
            yield from heapq.nlargest(want, body, key=key)[done:]
            done, want = want, want * 4

    def _created_key(self, item: dict[str, Any]) -> datetime:
        value = item.get("createdAt")
        if not isinstance(value, str):
            return _NEVER
        try:
            return utc(datetime.fromisoformat(value)) or _NEVER
        except (TypeError, ValueError):
            return _NEVER  # sorted last: a bad timestamp costs that field, not the list

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
        parsed: list[WireStage] = self._parse(_STAGES, body, STAGES_PATH)
        stages = sorted(parsed, key=_stage_key)
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


def _stage_key(stage: WireStage) -> tuple[int, datetime, str]:
    # Unknown stage types go after the known ones, in the order they started; OTHER last.
    rank = _STAGE_RANK.get(stage.label.upper(), len(STAGE_ORDER))
    started = None if stage.idle else utc(stage.startedAt)
    return rank, started or _NEVER, stage.label


def _log_text(line: WireLogLine) -> str:
    """`HH:MM:SS message`; a stderr line starts with STDERR_MARK and a stdout line with as
    many spaces, so the times line up and no message can pass for the mark."""
    when = utc(line.timestamp)
    stamp = when.strftime("%H:%M:%S") if when else "--:--:--"
    stream = STDERR_MARK if line.stderr else " " * len(STDERR_MARK)
    return f"{stream}{stamp} {line.message or ''}"


def _plain_run_id(answer: str) -> str | None:
    """The run id in a plain-text answer (a JSON string or object with `id` is taken too),
    or None when the answer is not one."""
    text = answer.strip()
    if text.startswith("{") or text.startswith('"'):
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        parsed = parsed.get("id") if isinstance(parsed, dict) else parsed
        text = _as_text(parsed) if isinstance(parsed, str | int) else ""
    return text if isinstance(text, str) and _RUN_ID.fullmatch(text) else None


_JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
               int: "a number", float: "a number"}


def _kind(value: Any) -> str:
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)
