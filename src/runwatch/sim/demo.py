"""The demo world: a live simulator on a loopback port, and the scope ids its runs belong to
(the demo's config, which the client builds from them, is `runwatch.demo`)."""

from __future__ import annotations

from runwatch.sim.app import Simulator
from runwatch.sim.core import SimClock, SimSettings, demo_tokens
from runwatch.sim.server import ThreadedServer

DEMO_SCOPES: dict[str, dict[str, str]] = {
    "services": {"service_id": "svc-web"},
    "wercker": {"pipeline_id": "pipeline-1"},
    "currents": {"project_id": "proj-1"},
    "conduct": {},
    "scheduler": {},
}


def start_demo_server(
    *, seed: int = 7, runs: int = 24, clock: SimClock | None = None
) -> tuple[Simulator, ThreadedServer]:
    """A live simulator (real clock unless given) served on a free loopback port."""
    sim = Simulator(SimSettings(seed=seed, runs=runs, tokens=dict(demo_tokens())), clock)
    return sim, ThreadedServer(sim.app).start()
