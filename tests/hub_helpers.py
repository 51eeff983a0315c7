"""Helpers of the hub's tests (test_hub_*.py): `runwatch serve` in its own process on the
test's simulator (the `start_hub` fixture, a plugin conftest loads), read over HTTP; the CLI
and a `runwatch` source reading it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from runwatch.sim import PROVIDERS, demo_tokens
from test_serve import _free_port, _stop_group, _without_config

SCOPES = {"services": {}, "wercker": {"pipeline_id": "pipeline-1"},
          "currents": {"project_id": "proj-1"}, "conduct": {}, "scheduler": {}}
STARTUP_S = 15.0
HUB_TOKEN = "hub-secret-token"


def token_var(provider: str) -> str:
    return f"RW_HUB_TEST_{provider.upper()}"


def sources_toml(sim: Any) -> str:
    parts = []
    for p in PROVIDERS:
        fields = {"name": p, "provider": p, "base_url": sim.base_url(p),
                  "token_env": token_var(p), **SCOPES[p]}
        parts.append("[[sources]]\n" + "\n".join(f"{k} = {json.dumps(v)}"
                                                for k, v in fields.items()))
    return "\n\n".join(parts) + "\n"


@dataclass
class Hub:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **options: Any) -> httpx.Response:
        headers = {**self.headers, **options.pop("headers", {})}
        return httpx.get(self.url + path, headers=headers, timeout=10, **options)

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = self.get("/metrics").text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def until(self, condition: Callable[[], bool], what: str, timeout: float = STARTUP_S
              ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                pytest.fail(f"runwatch serve exited {self.proc.returncode}:\n"
                            + self.log.read_text())
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)


def all_ok(hub: Hub) -> bool:
    try:
        sources = hub.get("/api/v1/sources").json()
    except (httpx.TransportError, ValueError):
        return False
    return all(s["state"] == "ok" for s in sources)


@pytest.fixture
def start_hub(sim: Any, tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    """Start `runwatch serve` on this test's simulator (every source, every `interval` s)."""
    started: list[Hub] = []

    def start(*options: str, interval: float = 1.0, token: str | None = None,
              config_text: str | None = None) -> Hub:
        folder = tmp_path / f"hub{len(started)}"
        folder.mkdir()
        config = folder / "config.toml"
        config.write_text(config_text if config_text is not None else sources_toml(sim))
        port = _free_port()
        env = {**_without_config(os.environ), "XDG_CONFIG_HOME": str(folder / "xdg"),
               "XDG_STATE_HOME": str(folder / "state"),
               **{token_var(p): t for p, t in demo_tokens().items()}}
        args = ["--port", str(port), "--interval", str(interval), *options]
        if token is not None:
            env["RW_HUB_TOKEN"] = token
            args += ["--token-env", "RW_HUB_TOKEN"]
        log = folder / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "runwatch", "--config", str(config), "serve", *args],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        hub = Hub(f"http://127.0.0.1:{port}", proc, log,
                  {"Authorization": f"Bearer {token}"} if token else {})
        started.append(hub)
        hub.until(lambda: all_ok(hub), "the hub's first poll of every source")
        return hub

    yield start
    for hub in started:
        try:
            hub.proc.send_signal(signal.SIGTERM)
            assert hub.proc.wait(timeout=15) == 0, hub.log.read_text()
        finally:
            _stop_group(hub.proc)


def cli(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`runwatch --config <config> <args>`, this environment without any config of its own."""
    return subprocess.run([sys.executable, "-m", "runwatch", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**_without_config(os.environ), **env})


def sse_events(stream: httpx.Response) -> Iterator[tuple[str, Any]]:
    kind, data = "message", ""
    for line in stream.iter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield kind, json.loads(data)
            kind, data = "message", ""


def hub_config(tmp_path: Path, *hubs: tuple[str, str, dict[str, str]],
               interval: float = 5.0) -> Path:
    path = tmp_path / f"reader{len(list(tmp_path.glob('reader*')))}.toml"
    path.write_text(f"[runwatch]\ninterval = {interval}\n\n" + "\n".join(
        f'[[sources]]\nname = "{name}"\nprovider = "runwatch"\nbase_url = "{url}"\n'
        + "".join(f'{k} = "{v}"\n' for k, v in extra.items())
        for name, url, extra in hubs))
    return path


async def pilot_until(pilot: Any, condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await pilot.pause(0.05)
