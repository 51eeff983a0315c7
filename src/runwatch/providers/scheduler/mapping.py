"""From the scheduler's bodies to the normalized model: a run's nodes are its steps,
labelled from the workflow snapshot the run executes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from runwatch.models import Step
from runwatch.providers.scheduler.wire import WireNode, WireRun, WireWorkflow, scheduler_status

IDEMPOTENCY_KEY_MAX = 64  # the server refuses longer keys with a 422


@dataclass(frozen=True)
class Definition:
    """A workflow snapshot: the body as served (what a rerun sends back) and its parse."""

    raw: dict[str, Any]
    workflow: WireWorkflow

    @property
    def name(self) -> str | None:
        return self.workflow.metadata.name if self.workflow.metadata else None

    @property
    def owner(self) -> str | None:
        meta = self.workflow.metadata
        return (meta.owner_name or meta.created_by) if meta else None

    def label(self, node_id: str | None) -> str | None:
        for node in self.workflow.nodes or ():
            if node.id is not None and node.id == node_id:
                return node.label or node.type
        return None


def steps(nodes: list[WireNode], definition: Definition | None) -> list[Step]:
    """The run's nodes in the order the run lists them, named by the snapshot's labels."""
    mapped = []
    for order, node in enumerate(nodes, start=1):
        label = definition.label(node.node_id) if definition else None
        mapped.append(Step(
            id=node.node_id or node.task_id or str(order),
            name=label or node.task_id or node.node_id or f"node {order}",
            order=order,
            status=scheduler_status(node.status),
            provider_status=node.status,
            started_at=node.started_at,
            finished_at=node.finished_at,
            message=node.error.message if node.error else None,
        ))
    return mapped


def content(wire: WireRun, definition: Definition | None) -> str | None:
    """Markdown for the run screen: the workflow's description and the run's error."""
    parts = []
    if definition and definition.workflow.metadata and definition.workflow.metadata.description:
        parts.append(definition.workflow.metadata.description)
    if wire.error and (wire.error.message or wire.error.code):
        code = f"`{wire.error.code}` " if wire.error.code else ""
        parts.append(f"**Error** {code}{wire.error.message or ''}".rstrip())
    return "\n\n".join(parts) or None


def idempotency_key(run_id: str) -> str:
    """A fresh key for one rerun attempt; hashed so that any run id fits the server's 64."""
    digest = hashlib.sha256(f"{run_id}:{secrets.token_hex(8)}".encode()).hexdigest()
    return f"runwatch-rerun-{digest[:IDEMPOTENCY_KEY_MAX - 24]}"  # 55 characters
