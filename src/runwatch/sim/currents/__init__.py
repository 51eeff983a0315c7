"""Simulated Currents REST API v1 (`currents-v1.md`, with DESIGN section 3's corrections).

Serves, below the `/currents` mount:

    GET    /v1/projects/{projectId}/runs?limit=&starting_after=|ending_before=
    GET    /v1/runs/{runId}                 a run with its groups and spec files
    PUT    /v1/runs/{runId}/cancel          422 when the run is already cancelled
    DELETE /v1/runs/{runId}
    GET    /v1/instances/{instanceId}       one spec file's execution, test by test

Bodies are Currents' envelopes: `{"status": "OK", "data": ...}` (lists add `has_more`, and
each item carries the `cursor` to page on) and `{"status": "FAILED", "error": ...}`.

Runs alternate between Cypress and Playwright, whose shapes differ as the documents show:
a Cypress run has one group (its CI build id), a Playwright run one group per browser
project. Each step of a run script is a spec file, executed once per group as an
*instance* that is claimed when the step starts and completed when it ends; its tests finish
one after another, so counters grow with the clock and a failing test shows as FAILING
before its spec, and then the run, completes.
"""


from runwatch.sim.currents.api import SimulatedApi, ok
from runwatch.sim.currents.plan import (
    CANCEL_ACTOR,
    CYPRESS_ERRORS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PLAYWRIGHT_ERRORS,
    PROJECT_ID,
    PROVIDER,
    SPEC_FILES,
    InstanceState,
    SimRun,
    instance_state,
    run_state,
)

__all__ = [
    "CANCEL_ACTOR",
    "CYPRESS_ERRORS",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "PLAYWRIGHT_ERRORS",
    "PROJECT_ID",
    "PROVIDER",
    "SPEC_FILES",
    "InstanceState",
    "SimRun",
    "SimulatedApi",
    "instance_state",
    "ok",
    "run_state",
]
