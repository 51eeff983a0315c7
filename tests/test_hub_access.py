"""Who may read the hub: the token rule every endpoint passes (Bearer or basic auth, a
browser viewer's kiosk too), and a page that loads nothing from outside."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from hub_helpers import HUB_TOKEN, Hub
from runwatch.sim import PROVIDERS
from test_serve import _without_config


def test_with_a_token_every_endpoint_needs_it(start_hub: Callable[..., Hub]) -> None:
    hub = start_hub(token=HUB_TOKEN)
    paths = ("/", "/api/v1/runs", "/api/v1/sources", "/api/v1/events", "/cctray.xml",
             "/metrics", "/static/css/xterm.css", "/api/v1/runs/wercker/1")
    basic = base64.b64encode(f"wall:{HUB_TOKEN}".encode()).decode()
    wrong_basic = base64.b64encode(b"wall:guess").decode()
    for path in paths:
        for refused in ({}, {"Authorization": "Bearer guess"},
                        {"Authorization": f"Basic {wrong_basic}"},
                        {"Authorization": f"Bearer {HUB_TOKEN}x"}, {"Authorization": "Basic %%"}):
            answer = httpx.get(hub.url + path, headers=refused, timeout=5)
            assert answer.status_code == 401, (path, refused)
            assert answer.headers["WWW-Authenticate"].startswith('Basic realm="runwatch"')
            assert HUB_TOKEN not in answer.text
        if path == "/api/v1/events":
            continue  # a stream: its status is enough, read below
        for allowed in ({"Authorization": f"Bearer {HUB_TOKEN}"},
                        {"Authorization": f"Basic {basic}"}):
            answer = httpx.get(hub.url + path, headers=allowed, timeout=5)
            assert answer.status_code in (200, 404), (path, answer.status_code)
            assert answer.status_code == 200 or path == "/api/v1/runs/wercker/1"
    with httpx.stream("GET", hub.url + "/api/v1/events", timeout=5,
                      headers={"Authorization": f"Basic {basic}"}) as stream:
        assert stream.status_code == 200
    # a browser viewer (it sends the basic-auth password it was asked for): its kiosk reads
    # the feed with the token too, and follows each source's events
    asyncio.run(_one_viewer(hub, {"Authorization": f"Basic {basic}"}))


async def _one_viewer(hub: Hub, headers: dict[str, str]) -> None:
    import aiohttp

    async with aiohttp.ClientSession(headers=headers) as client, client.ws_connect(
            f"{hub.url}/ws?width=120&height=40", origin=hub.url) as ws:
        reading = asyncio.create_task(ws.receive())
        deadline = time.monotonic() + 30
        while (await asyncio.to_thread(hub.metrics))[("runwatch_event_streams", ())] < len(
                PROVIDERS):
            assert time.monotonic() < deadline, hub.log.read_text()[-2000:]
            await asyncio.sleep(0.2)
        reading.cancel()


def test_an_unset_token_variable_is_exit_3(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runwatch", "serve", "--port", "0", "--token-env", "RW_UNSET_X"],
        capture_output=True, text=True, timeout=30,
        env={**_without_config(os.environ), "XDG_CONFIG_HOME": str(tmp_path)})
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1] == (
        "runwatch: --token-env RW_UNSET_X: the variable is not set or empty")


def test_the_page_loads_nothing_from_outside(start_hub: Callable[..., Hub]) -> None:
    hub = start_hub()
    page = hub.get("/")
    assert page.status_code == 200
    assert "fonts.googleapis.com" not in page.text and "https://" not in page.text
    assert "fonts/RobotoMono-VariableFont_wght.ttf" in page.text
    font = hub.get("/static/fonts/RobotoMono-VariableFont_wght.ttf")
    assert font.status_code == 200 and len(font.content) > 10_000
