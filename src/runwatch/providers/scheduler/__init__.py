"""Workflow scheduler API v1 (`scheduler-v1.md`, corrected by DESIGN sections 3 and 4).

The source's `base_url` is the server root. The list is oldest first, so this provider is
incremental: the first `list_runs` walks the pages to the end and remembers where it stopped;
later calls ask only for what came after, and refresh the unfinished runs they hold by id.
A run's `nodes[]` are its steps, labelled from the run's workflow snapshot, which is cached
by `definitionHash` because many runs share one. The snapshot also names the run (title and
author), so the list fetches the snapshots it lacks: one request per new `definitionHash`, a
few a call, the rest on later calls.

Auth is a JWT: a configured token, or one from POST /api/v1/auth/login when the source has
`username` and `password_env` / `password_cmd` (an `httpx.Auth` flow that logs in again on a
401 or at expiry). Modules: `wire` (bodies and statuses), `mapping` (to the normalized model),
`auth` (the login), `definitions` (the snapshots), `refresh` (unfinished runs read again by
id), `provider` (the list, details and actions).
"""

from runwatch.providers.scheduler.provider import (
    MAX_NEW_DEFINITIONS_PER_POLL,
    SchedulerProvider,
)
from runwatch.providers.scheduler.wire import (
    LOGIN_PATH,
    RUNS_PATH,
    STATUSES,
    WireNode,
    WireRun,
    node_progress,
    scheduler_status,
)

__all__ = [
    "LOGIN_PATH",
    "MAX_NEW_DEFINITIONS_PER_POLL",
    "RUNS_PATH",
    "STATUSES",
    "SchedulerProvider",
    "WireNode",
    "WireRun",
    "node_progress",
    "scheduler_status",
]
