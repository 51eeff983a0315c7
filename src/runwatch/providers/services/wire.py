"""The services API's bodies (services-api.md, corrected by DESIGN section 3): runs, stages,
log lines and the stop answer as the server sends them, what their statuses mean, the
pipeline order of stages, and the small readings of plain answers."""

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, TypeAdapter

from runwatch.models import STDERR_MARK, RunStatus, utc
from runwatch.providers.wire import LAZY, LenientTimestamp, WireModel

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
NEVER = datetime.min.replace(tzinfo=UTC)
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



RUN = TypeAdapter(WireRun)
STAGES = TypeAdapter(list[WireStage], config=LAZY)
LOG_LINES = TypeAdapter(list[WireLogLine], config=LAZY)


def created_of(item: dict[str, Any]) -> datetime:
    """A raw run's `createdAt`, the list's sort key; NEVER (sorted last) when it is missing
    or bad: a bad timestamp costs that field, not the list."""
    value = item.get("createdAt")
    if not isinstance(value, str):
        return NEVER
    try:
        return utc(datetime.fromisoformat(value)) or NEVER
    except (TypeError, ValueError):
        return NEVER


def id_of(item: dict[str, Any]) -> str:
    """A raw run's id as WireRun reads it (a number as its digits); "" when it is neither:
    such a run is a BadResponse once listed, and only needs a place in the order."""
    value = _as_text(item.get("id"))
    return value if isinstance(value, str) else ""


def list_key(item: dict[str, Any]) -> tuple[datetime, str]:
    """A raw run's place in the list, newest last: its `createdAt`, then its id. Equal times
    are common (whole seconds, runs of one push) and the server's order is shuffled, so the
    id, not the body's order, decides which of two tied runs makes the limit."""
    return created_of(item), id_of(item)


def stage_key(stage: WireStage) -> tuple[int, datetime, str]:
    # Unknown stage types go after the known ones, in the order they started; OTHER last.
    rank = _STAGE_RANK.get(stage.label.upper(), len(STAGE_ORDER))
    started = None if stage.idle else utc(stage.startedAt)
    return rank, started or NEVER, stage.label


def log_text(line: WireLogLine) -> str:
    """`HH:MM:SS message`; a stderr line starts with STDERR_MARK and a stdout line with as
    many spaces, so the times line up and no message can pass for the mark."""
    when = utc(line.timestamp)
    stamp = when.strftime("%H:%M:%S") if when else "--:--:--"
    stream = STDERR_MARK if line.stderr else " " * len(STDERR_MARK)
    return f"{stream}{stamp} {line.message or ''}"


def plain_run_id(answer: str) -> str | None:
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


def kind_of(value: Any) -> str:
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)
