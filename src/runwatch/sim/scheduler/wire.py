"""The simulated scheduler's fixed data and body helpers: workflow snapshots, the FastAPI
error shapes (`detail` as a string, an `{error, message}` object or a validation list)."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from runwatch.sim.core import StepPhase
from runwatch.sim.kit import fastapi_error

PROVIDER = "scheduler"
LOGIN_USERNAME = "runwatch"
LOGIN_PASSWORD = "sim-scheduler-password"
TOKEN_LIFETIME_S = 3600
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_IDEMPOTENCY_KEY = 64
SKIPPING_EVERY = 3  # every third run that succeeds skips its last node (notify on failure)

CLIENT_IDS = ("cron", "web-console")
# (label, node type) of each workflow node, in run order.
NODES = (
    ("Fetch orders", "http.fetch"),
    ("Validate schema", "schema.validate"),
    ("Transform", "python.transform"),
    ("Load warehouse", "sql.load"),
    ("Notify", "slack.notify"),
)
WORKFLOWS = (
    ("orders-etl", "Nightly import of the orders feed into the warehouse."),
    ("orders-backfill", "Re-imports a day of orders after a feed correction."),
)

RUN_STATUS = {
    "queued": "queued",
    "running": "running",
    "passed": "succeeded",
    "failed": "failed",
    "canceled": "cancelled",
}
# Nodes downstream of a failed one are cancelled by the scheduler, so a finished run has
# every node in a terminal state.
NODE_STATUS: dict[StepPhase, str] = {
    "pending": "queued",
    "running": "running",
    "passed": "succeeded",
    "failed": "failed",
    "skipped": "cancelled",
    "canceled": "cancelled",
}


@dataclass(frozen=True)
class Definition:
    """An immutable workflow snapshot, rendered once: its body never changes."""

    hash: str
    body: bytes
    node_ids: tuple[str, ...]

    @property
    def etag(self) -> str:
        return f'W/"{self.hash}"'

    @classmethod
    def of(cls, workflow: dict[str, Any]) -> Definition:
        body = canonical(workflow)
        node_ids = tuple(str(node["id"]) for node in workflow["nodes"])
        return cls(hashlib.sha256(body).hexdigest(), body, node_ids)



def workflow_snapshot(name: str, description: str) -> dict[str, Any]:
    """A workflow snapshot in the document's `Workflow` shape, ids derived from its name."""
    node_ids = [name_uuid(f"{name}/{label}") for label, _ in NODES]
    return {
        "id": name_uuid(name),
        "schemaVersion": "2025-10",
        "metadata": {"name": name, "description": description, "namespace": "default",
                     "ownerName": "data-platform"},
        "nodes": [
            {"id": node_id, "type": kind, "package": {"name": "etl-kit", "version": "1.4.0"},
             "status": "published", "category": "etl", "label": label,
             "position": {"x": 240 * i, "y": 0}}
            for i, (node_id, (label, kind)) in enumerate(zip(node_ids, NODES, strict=True))
        ],
        "edges": [
            {"id": f"e{i + 1}", "source": {"node": a, "port": "out"},
             "target": {"node": b, "port": "in"}}
            for i, (a, b) in enumerate(itertools.pairwise(node_ids))
        ],
    }


def start_problem(body: Any) -> Response | None:
    """What is wrong with a startRun body: FastAPI's 422 for its shape, the API's own 400
    for a workflow it cannot run."""
    if not isinstance(body, dict):
        return validation_error([("body",)], "Input should be a valid dictionary", "dict_type")
    missing = [f for f in ("workflow", "clientId") if f not in body]
    if missing:
        return validation_error([("body", f) for f in missing], "Field required", "missing")
    if not isinstance(body["clientId"], str):
        return validation_error([("body", "clientId")], "Input should be a valid string",
                                 "string_type")
    nodes = body["workflow"].get("nodes") if isinstance(body["workflow"], dict) else None
    if not nodes or not all(isinstance(n, dict) and isinstance(n.get("id"), str) for n in nodes):
        return api_error(400, "bad_request", "Workflow must contain at least one node with an id")
    return None


def api_error(status: int, error: str, message: str) -> JSONResponse:
    """FastAPI's HTTPException with an object detail, as the server raises its own errors."""
    return fastapi_error(status, {"error": error, "message": message})


def not_found(run_id: str) -> JSONResponse:
    return api_error(404, "not_found", f"Run {run_id} not found")


def validation_error(locs: list[tuple[str, ...]], msg: str, kind: str) -> JSONResponse:
    detail = [{"type": kind, "loc": list(loc), "msg": msg, "input": None} for loc in locs]
    return fastapi_error(422, detail)


def int_param(raw: str | None, default: int) -> int | Response:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return validation_error(
            [("query", "limit")],
            "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
        )
    if value < 1:
        return validation_error([("query", "limit")], "Input should be greater than or equal to 1",
                                 "greater_than_equal")
    if value > MAX_LIMIT:
        return validation_error([("query", "limit")],
                                 f"Input should be less than or equal to {MAX_LIMIT}",
                                 "less_than_equal")
    return value


def etags(header: str | None) -> set[str]:
    return {tag.strip() for tag in (header or "").split(",") if tag.strip()}


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def new_uuid(rng: random.Random) -> str:
    return format_uuid(rng.getrandbits(128))


def name_uuid(name: str) -> str:
    return format_uuid(int.from_bytes(hashlib.sha256(name.encode()).digest()[:16], "big"))


def format_uuid(bits: int) -> str:
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
