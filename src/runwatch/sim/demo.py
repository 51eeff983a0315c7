"""The demo world: a live simulator (in-process, or on a loopback port) and the scope ids its
runs belong to (the demo's config, which the client builds from them, is `runwatch.demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runwatch.sim.app import Simulator
from runwatch.sim.core import SimClock, SimSettings, demo_tokens

if TYPE_CHECKING:
    from runwatch.sim.server import ThreadedServer

# The base of the in-process demo's URLs (`runwatch demo`): requests go to the simulator over
# httpx.ASGITransport, never to a network (.invalid is reserved: it resolves nowhere).
DEMO_URL = "http://demo.runwatch.invalid"

DEMO_SCOPES: dict[str, dict[str, str]] = {
    "services": {"service_id": "svc-web"},
    "wercker": {"pipeline_id": "pipeline-1"},
    "currents": {"project_id": "proj-1"},
    "conduct": {},
    "scheduler": {},
}


def demo_simulator(
    *, seed: int = 7, runs: int = 24, clock: SimClock | None = None
) -> Simulator:
    """The demo's live simulator (real clock unless given), with the demo's tokens."""
    return Simulator(SimSettings(seed=seed, runs=runs, tokens=dict(demo_tokens())), clock)


def start_demo_server(
    *, seed: int = 7, runs: int = 24, clock: SimClock | None = None
) -> tuple[Simulator, ThreadedServer]:
    """A live simulator (real clock unless given) served on a free loopback port."""
    from runwatch.sim.server import ThreadedServer  # uvicorn: only when a socket is wanted

    sim = demo_simulator(seed=seed, runs=runs, clock=clock)
    return sim, ThreadedServer(sim.app).start()
