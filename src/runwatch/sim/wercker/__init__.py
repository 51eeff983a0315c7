"""Simulated Wercker API v3 runs (`wercker-v3.md`, with DESIGN section 3's corrections).

Serves, below the `/wercker` mount:

    GET  /api/v3/runs?pipelineId=|applicationId=&limit=&skip=&sort=&status=&result=...
    POST /api/v3/runs                      trigger a run {pipelineId, branch, commitHash, message}
    GET  /api/v3/runs/{id}                 one run (with envVars and commits)
    GET  /api/v3/runs/{id}/steps           its steps (the doc's `/api/v3/{id}/steps` is a typo)
    PUT  /api/v3/runs/{id}/abort           abort a run that has not finished
    GET  /api/v3/runsteps/{id}/log         a step's log, plain text

Errors are hapi/Boom bodies, `{"statusCode", "error", "message"}`, as Wercker's API sends them.
Step objects carry `message` (what the step says of how it went) and `phase` (setup or main).
Ids are MongoDB ObjectIds, as Wercker's are: the creation second, a seeded "machine" part and
a counter; a run's steps take the counters right after the run's, as in the document.
"""

from runwatch.sim.wercker.api import SimulatedApi, run_state
from runwatch.sim.wercker.wire import (
    APPLICATION_ID,
    MAX_LIMIT,
    PIPELINE_ID,
    PIPELINE_NAME,
    PROVIDER,
    STARTED_S,
    STEP_NAMES,
    TOKEN_OWNER,
    RunsQuery,
)

__all__ = [
    "APPLICATION_ID",
    "MAX_LIMIT",
    "PIPELINE_ID",
    "PIPELINE_NAME",
    "PROVIDER",
    "STARTED_S",
    "STEP_NAMES",
    "TOKEN_OWNER",
    "RunsQuery",
    "SimulatedApi",
    "run_state",
]
