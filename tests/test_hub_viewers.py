"""What a wall of screens costs the APIs: browser viewers and `runwatch` readers of one hub
cost each API what the hub alone costs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub_helpers import STARTUP_S, Hub, hub_config
from runwatch.sim import PROVIDERS
from test_serve import _stop_group

VIEWERS = 3


def _open_pages(url: str, count: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    """Headless Chromium with `count` tabs on `url` (each tab one viewer, one kiosk)."""
    from test_serve import _chromium

    profile = tmp_path / "chromium"
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1280,800",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--remote-debugging-port=0", "about:blank",
    ]
    browser = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "HOME": str(tmp_path / "home")},
                               start_new_session=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + STARTUP_S
    while not (port_file.is_file() and "\n" in port_file.read_text()):
        if browser.poll() is not None or time.monotonic() > deadline:
            _stop_group(browser)
            pytest.fail("chromium's DevTools endpoint did not start")
        time.sleep(0.05)
    devtools = f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    for _ in range(count):  # headless Chromium opens one tab per /json/new
        httpx.put(f"{devtools}/json/new?{url}/", timeout=5).raise_for_status()
    return browser


def _api_counts(sim: Any, hub: Hub) -> tuple[dict[str, int], dict[str, float], dict[str, float]]:
    """(requests the simulator saw, requests the hub says it sent, the hub's polls), by API."""
    metrics = hub.metrics()
    seen = {p: len(sim.sim.requests_to(p)) for p in PROVIDERS}
    sent = {p: metrics[("runwatch_api_requests_total", (("source", p),))] for p in PROVIDERS}
    polls = {p: metrics[("runwatch_polls_total", (("outcome", "ok"), ("source", p)))]
             for p in PROVIDERS}
    return seen, sent, polls


async def test_viewers_and_readers_cost_each_api_what_the_hub_alone_costs(
        sim: Any, start_hub: Callable[..., Hub], tmp_path: Path) -> None:
    from runwatch.cli.common import expand_hubs
    from runwatch.config import load
    from runwatch.session import Session

    interval = 1.0
    hub = await asyncio.to_thread(start_hub, interval=interval)
    # two `runwatch` sources (a and b) reading the hub, in this process
    config = expand_hubs(load(hub_config(tmp_path, ("a", hub.url, {}), ("b", hub.url, {}))))
    assert len(config.sources) == 2 * len(PROVIDERS)
    readers = Session.from_config(config, kiosk=True)
    readers.poller.start()
    browser = await asyncio.to_thread(_open_pages, hub.url, VIEWERS, tmp_path)
    try:
        # Each viewer's kiosk follows the hub's events once its first read of each source
        # succeeded, as each reader source does: then every screen is live.
        streams = VIEWERS * len(PROVIDERS) + len(config.sources)
        deadline = time.monotonic() + 60
        while (now := (await asyncio.to_thread(hub.metrics))[
                ("runwatch_event_streams", ())]) < streams:
            assert time.monotonic() < deadline, f"{now} of {streams} event streams"
            await asyncio.sleep(0.2)
        assert all(len(readers.poller.runs(s.name)) > 0 for s in config.sources)
        seen0, sent0, polls0 = await asyncio.to_thread(_api_counts, sim, hub)
        window = 5.0
        await asyncio.sleep(window)
        seen1, sent1, polls1 = await asyncio.to_thread(_api_counts, sim, hub)
    finally:
        _stop_group(browser)
        await readers.aclose()
    for p in PROVIDERS:
        seen, sent, polls = seen1[p] - seen0[p], sent1[p] - sent0[p], polls1[p] - polls0[p]
        # every request the API saw is one the hub sent (a poll may be in flight at an edge)
        assert abs(seen - sent) <= 3, (p, seen, sent)
        # and the hub polled at most once per (jittered) interval, whoever watched (fewer
        # on a starved machine: each wait starts when the poll ends)
        assert 1 <= polls <= window / (interval * 0.9) + 1, (p, polls)
        assert seen <= polls * 3 + 3, (p, seen, polls)  # one list (paged: 3 pages at most)
