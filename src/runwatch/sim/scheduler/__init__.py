"""Simulated workflow scheduler API v1 (`scheduler-v1.md`), mounted at `/scheduler`.

    POST /api/v1/auth/login              {username, password} -> {accessToken, expiresIn, ...}
    GET  /api/v1/runs                    ?limit=1..200&cursor=&status=&clientId=, oldest first
    POST /api/v1/runs                    {workflow, clientId} + Idempotency-Key -> 202 RunRef
    GET  /api/v1/runs/{runId}            Run with its nodes[]
    GET  /api/v1/runs/{runId}/definition Workflow snapshot, weak ETag from its definitionHash
    POST /api/v1/runs/{runId}/cancel     202 RunRef

Errors are FastAPI's `{"detail": ...}` in its three shapes: a string (401, as its bearer
check says it), an `{"error", "message"}` object (400, 404, 409, a refused login) and the
validation list `[{"loc", "msg", "type"}]` (422).

`nextCursor` is a keyset position, "after this page's last run", and `null` on the last page.
Cursors live in the server's memory: after `restart()` an old one is unknown and the list
starts again from the oldest run (as it does for any cursor it cannot read).

Nodes the server did not run are `skipped` (not in the OpenAPI enum): the "Notify" node of
every third succeeding run, and the run still rolls up to `succeeded`.
"""

from runwatch.sim.scheduler.api import SimRun, SimulatedApi
from runwatch.sim.scheduler.wire import (
    LOGIN_PASSWORD,
    LOGIN_USERNAME,
    MAX_LIMIT,
    NODES,
    PROVIDER,
    TOKEN_LIFETIME_S,
    WORKFLOWS,
    Definition,
)

__all__ = [
    "LOGIN_PASSWORD",
    "LOGIN_USERNAME",
    "MAX_LIMIT",
    "NODES",
    "PROVIDER",
    "TOKEN_LIFETIME_S",
    "WORKFLOWS",
    "Definition",
    "SimRun",
    "SimulatedApi",
]
