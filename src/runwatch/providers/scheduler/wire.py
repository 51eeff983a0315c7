"""The scheduler's bodies as its OpenAPI 1.3.0 and its FastAPI server send them, and the
status mapping. Every field that can be missing is optional; one bad timestamp costs that
field, not the body."""

from pydantic import ConfigDict

from runwatch.models import RunStatus, map_status, progress_of
from runwatch.providers.wire import CamelWireModel, LenientTimestamp

RUNS_PATH = "/api/v1/runs"
LOGIN_PATH = "/api/v1/auth/login"

STATUSES: dict[str, RunStatus] = {
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "succeeded": RunStatus.PASSED,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.CANCELED,
    # Not in the OpenAPI enum, but the server sets it on nodes it did not run (and a run
    # whose nodes are all final rolls up to succeeded).
    "skipped": RunStatus.SKIPPED,
}


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
    """`RunList`: the last page has `nextCursor: null`."""

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
    """`{accessToken, tokenType: "Bearer", expiresIn, user}`."""

    access_token: str
    token_type: str | None = None
    expires_in: float | None = None


def scheduler_status(raw: str | None) -> RunStatus:
    """A run's or a node's normalized status."""
    return map_status(raw, STATUSES)


def node_progress(status: str | None, nodes: list[WireNode] | None) -> float | None:
    """The run's progress from its nodes, by the model's one rule (runwatch.models
    .progress_of): final nodes over all while it runs, those that ran once it failed."""
    statuses = [scheduler_status(n.status) for n in nodes or []]
    return progress_of(scheduler_status(status), statuses)
