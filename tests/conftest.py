"""Shared fixtures: the simulator served by uvicorn on a loopback port, one fresh simulated
world per test, and providers pointed at it; every test's state and data dirs in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.types import Receive, Scope, Send

from runwatch.config import SourceConfig
from runwatch.http import RetryPolicy
from runwatch.providers import Provider, build_provider
from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.server import ThreadedServer

# The hub's tests' `start_hub` fixture (test_hub_*.py).
pytest_plugins = ("hub_helpers",)

SCOPES = {
    "services": {},
    "wercker": {"pipeline_id": "pipeline-1"},
    "currents": {"project_id": "proj-1"},
    "conduct": {},
    "scheduler": {},
}


class _Switch:
    """An ASGI app that forwards to whichever simulator the current test made."""

    def __init__(self) -> None:
        self.target: Simulator | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.target is not None, "no simulator for this request"
        await self.target.app(scope, receive, send)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app reads and writes the state file and reads user themes: never the real ones.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def sim_server() -> Iterator[tuple[ThreadedServer, _Switch]]:
    switch = _Switch()
    server = ThreadedServer(switch).start()
    yield server, switch
    server.stop()


@dataclass
class SimHandle:
    """The running simulator of one test."""

    sim: Simulator
    server: ThreadedServer

    @property
    def url(self) -> str:
        return self.server.url

    def base_url(self, provider: str) -> str:
        return f"{self.server.url}/{provider}"

    def source(self, provider: str, name: str | None = None, **extra: object) -> SourceConfig:
        fields = {"name": name or provider, "provider": provider,
                  "base_url": self.base_url(provider), **SCOPES[provider], **extra}
        return SourceConfig.model_validate(fields)

    def provider(self, provider: str, *, read_only: bool = False, token: str | None = None,
                 retry: RetryPolicy | None = None, limit: int = 50, **extra: object) -> Provider:
        return build_provider(
            self.source(provider, **extra), read_only=read_only, limit=limit,
            retry=retry or RetryPolicy(attempts=1), timeout_s=5.0,
            token=token if token is not None else demo_tokens()[provider],
        )


@pytest.fixture
def sim(sim_server: tuple[ThreadedServer, _Switch]) -> Iterator[SimHandle]:
    """A frozen-clock simulator (seed 7) behind the session's loopback server."""
    server, switch = sim_server
    simulator = Simulator(SimSettings(seed=7, tokens=dict(demo_tokens())),
                          SimClock(frozen=True))
    switch.target = simulator
    yield SimHandle(simulator, server)
    switch.target = None
