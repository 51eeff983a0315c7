"""The simulated Wercker API's fixed data, its validation errors and its list query."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import QueryParams

from runwatch.sim.core import StepPhase
from runwatch.sim.kit import AUTHORS, ApiError

PROVIDER = "wercker"
APPLICATION_ID = "application-1"
PIPELINE_ID = "pipeline-1"
PIPELINE_NAME = "build-and-push"
STEP_NAMES = ["get code", "setup environment", "npm install", "npm test", "build", "push image"]
MAX_LIMIT = 20
SETUP_STEPS = 2  # "get code" and "setup environment" are Wercker's own setup phase
# What a step says of itself, by phase; an empty message until it has something to say.
STEP_MESSAGES: dict[StepPhase, str] = {
    "passed": "Step passed",
    "failed": "Step failed: exit code 1",
    "canceled": "Step aborted",
    "skipped": "Step skipped: an earlier step failed",
}
# A run says "started" for its first seconds, then "running": both are documented statuses.
STARTED_S = 3.0
# Counters per run: the run's own, then one per step (the document's steps follow the run's
# id at +2, +3, ...), so a step id leads back to its run without a lookup table.
COUNTER_STRIDE = 16
RUN_STATUSES = ("notstarted", "started", "finished", "running")
RUN_RESULTS = ("aborted", "unknown", "passed", "failed")
SORTS = ("creationDateAsc", "creationDateDesc")
TOKEN_OWNER = AUTHORS[0]  # who the simulator's token belongs to: the author of triggered runs

STEP_WIRE: dict[StepPhase, tuple[str, str]] = {
    "pending": ("notstarted", "unknown"),
    "skipped": ("notstarted", "unknown"),  # never started: the run stopped at a failure
    "running": ("running", "unknown"),
    "passed": ("finished", "passed"),
    "failed": ("finished", "failed"),
    "canceled": ("finished", "aborted"),
}


def invalid(key: str, reason: str) -> ApiError:
    """A Joi validation failure, worded as hapi words it."""
    return ApiError(400, f'child "{key}" fails because ["{key}" {reason}]')


def object_id(ts: float, machine: int, counter: int) -> str:
    return f"{int(ts) & 0xFFFFFFFF:08x}{machine:010x}{counter & 0xFFFFFF:06x}"


@dataclass(frozen=True)
class RunsQuery:
    """The validated query of GET /api/v3/runs."""

    limit: int
    skip: int
    newest_first: bool
    status: str | None
    result: str | None
    branch: str | None
    commit: str | None
    author: str | None

    @classmethod
    def parse(cls, params: QueryParams) -> RunsQuery:
        if not params.get("applicationId") and not params.get("pipelineId"):
            raise ApiError(400, "Either applicationId or pipelineId must be specified")
        return cls(
            limit=int_param(params, "limit", default=MAX_LIMIT, low=1, high=MAX_LIMIT),
            skip=int_param(params, "skip", default=0, low=0, high=None),
            newest_first=choice(params, "sort", SORTS) != "creationDateAsc",
            status=choice(params, "status", RUN_STATUSES),
            result=choice(params, "result", RUN_RESULTS),
            branch=params.get("branch"),
            commit=params.get("commit"),
            author=params.get("author"),
        )


def int_param(params: QueryParams, key: str, *, default: int, low: int, high: int | None) -> int:
    raw = params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(key, "must be a number") from None
    if value < low:
        raise invalid(key, f"must be larger than or equal to {low}")
    if high is not None and value > high:
        raise invalid(key, f"must be less than or equal to {high}")
    return value


def choice(params: QueryParams, key: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(key)
    if value is not None and value not in allowed:
        raise invalid(key, f"must be one of [{', '.join(allowed)}]")
    return value
