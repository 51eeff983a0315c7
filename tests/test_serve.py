"""`runwatch serve`: the read-only kiosk in a web browser.

The end-to-end test starts `runwatch serve` on the demo and loads the page in headless
Chromium. textual-serve's front end draws with xterm.js on a canvas, so the text is not in
the DOM: the test reads xterm.js's screen buffer over the Chrome DevTools protocol.
Chromium is required (`.ci/run` installs it); without it the test fails, it never skips.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from runwatch.cli import main
from runwatch.serve import kiosk_command, public_url
from runwatch.sim import PROVIDERS

STARTUP_S = 10.0  # for the server to answer, and for Chromium's DevTools endpoint
SCREEN_S = 15.0  # for the kiosk in the page to show every source's runs
# textual.js keeps its xterm.js Terminal in a closure, as `this.terminal = new Terminal()`:
# an inherited setter for that one property hands it to the test before the page runs.
HOOK_JS = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal",
                          {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer) window.__runwatchTerminal = value;
  },
});
"""
# The visible rows of the terminal as text; null while there is no terminal yet.
SCREEN_JS = """(() => {
  const term = window.__runwatchTerminal;
  if (!term) return null;
  const buffer = term.buffer.active, rows = [];
  for (let i = 0; i < term.rows; i++) {
    const line = buffer.getLine(buffer.viewportY + i);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
})()"""
# a run id as the kiosk shows it: services (first in the rotation) has UUIDs, conduct RUN-nnn
RUN_ID = re.compile(r"\b[0-9a-f]{8}-|\bRUN-\d+\b")


# -- the kiosk's command line and the server's settings (in-process) -----------------------


def test_kiosk_command_is_always_read_only(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    demo = kiosk_command(None)
    assert demo[:3] == [sys.executable, "-m", "runwatch"]
    assert demo[3:] == ["demo", "--kiosk", "--read-only"]
    on_config = kiosk_command(config, sources=["wercker"], interval=2.5, theme="dark")
    assert on_config[3:] == ["--kiosk", "--read-only", "--config", str(config.resolve()),
                             "--source", "wercker", "--interval", "2.5", "--theme", "dark"]
    # dashboard options go before `demo`, where the top-level parser takes them
    assert kiosk_command(None, sources=["conduct"])[3:] == [
        "--source", "conduct", "demo", "--kiosk", "--read-only"]


def test_public_url() -> None:
    assert public_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert public_url("::1", 8000) == "http://[::1]:8000"
    assert public_url("0.0.0.0", 80) == f"http://{socket.gethostname()}:80"


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """textual-serve's Server replaced by a recorder; no config anywhere (the demo)."""
    calls: list[dict[str, Any]] = []

    class Server:
        def __init__(self, command: str, **kwargs: Any) -> None:
            calls.append({"command": command, **kwargs})

        def serve(self) -> None:
            calls[-1]["served"] = True

    module = types.ModuleType("textual_serve.server")
    module.Server = Server  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "textual_serve.server", module)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("RUNWATCH_CONFIG", raising=False)
    return calls


def test_serve_binds_only_the_given_host(fake_server: list[dict[str, Any]],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "8123"]) == 0
    (call,) = fake_server
    assert call["served"] and call["host"] == "127.0.0.1" and call["port"] == 8123
    assert call["public_url"] == "http://127.0.0.1:8123"
    assert shlex.split(call["command"]) == kiosk_command(None)
    assert "serving the demo kiosk" in capsys.readouterr().err
    assert main(["serve", "--host", "::1", "--public-url", "https://wall.example"]) == 0
    call = fake_server[1]
    assert call["host"] == "::1" and call["port"] == 8000
    assert call["public_url"] == "https://wall.example"
    assert main(["serve", "--port", "0"]) == 0  # 0: a free port, named in the page's URLs
    call = fake_server[2]
    assert call["port"] > 0 and call["public_url"] == f"http://127.0.0.1:{call['port']}"


def test_serve_on_a_config_checks_it_first(fake_server: list[dict[str, Any]],
                                           tmp_path: Path) -> None:
    config = tmp_path / "runwatch.toml"
    config.write_text('[[sources]]\nname = "ci"\nprovider = "wercker"\n'
                      'base_url = "http://127.0.0.1:9"\npipeline_id = "p"\n')
    assert main(["serve", "--config", str(config), "--source", "ci", "--interval", "3"]) == 0
    assert shlex.split(fake_server[0]["command"])[3:] == [
        "--kiosk", "--read-only", "--config", str(config), "--source", "ci", "--interval", "3.0"]
    assert main(["serve", "--config", str(config), "--source", "nope"]) == 3
    config.write_text("not toml [")
    assert main(["serve", "--config", str(config)]) == 3
    assert len(fake_server) == 1


def test_serve_without_textual_serve_exits_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # import fails
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("RUNWATCH_CONFIG", raising=False)
    assert main(["serve", "--port", "0"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert "runwatch[serve]" in err[-1] and "Traceback" not in "".join(err)


# -- end to end: `runwatch serve` and headless Chromium -------------------------------------


def _without_config(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without $RUNWATCH_CONFIG, so that an empty XDG_CONFIG_HOME means the demo."""
    return {k: v for k, v in env.items() if k != "RUNWATCH_CONFIG"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End a process started in its own session, and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def test_serve_on_a_busy_port_exits_3(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "runwatch", "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=30,
            env={**_without_config(os.environ), "XDG_CONFIG_HOME": str(tmp_path)},
        )
    assert result.returncode == 3, result.stderr
    assert f"cannot serve on 127.0.0.1 port {port}" in result.stderr.splitlines()[-1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`runwatch serve` on a free loopback port with no config (the demo): (URL, its log)."""
    port = _free_port()
    home = tmp_path / "xdg"
    env = {**_without_config(os.environ), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache")}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:  # a file, not a pipe nobody reads: the server logs every request
        proc = subprocess.Popen(
            [sys.executable, "-m", "runwatch", "serve", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"runwatch serve exited {proc.returncode}:\n{log.read_text()}")
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"runwatch serve did not answer in {STARTUP_S:g} s:\n"
                                + log.read_text())
                time.sleep(0.1)
        yield url, log
        # Ctrl-C or SIGTERM is the way a server is stopped: it must end cleanly.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, log.read_text()
    finally:
        _stop_group(proc)


def test_browser_shows_the_read_only_kiosk(served: tuple[str, Path], tmp_path: Path) -> None:
    url, log = served
    page = httpx.get(url, timeout=5)
    assert page.status_code == 200
    assert "runwatch kiosk" in page.text
    assert f'data-session-websocket-url="ws://127.0.0.1:{url.rsplit(":", 1)[1]}/ws"' in page.text
    # bound to 127.0.0.1 only: another loopback address of this machine gets no answer
    with pytest.raises(httpx.ConnectError):
        httpx.get(url.replace("127.0.0.1", "127.0.0.2"), timeout=2)

    screen = _browse(url, tmp_path)
    assert "read-only" in screen.lower(), screen
    for name in PROVIDERS:
        assert name in screen, f"source {name} not on the page:\n{screen}"
    assert RUN_ID.search(screen), screen
    assert "Application failed to start" not in log.read_text()


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed; this test needs it: "
                    "`apt-get install chromium` (.ci/run installs it when missing)")
    return path


def _browse(url: str, tmp_path: Path) -> str:
    """Load `url` in headless Chromium until the kiosk shows runs; the terminal's text."""
    profile = tmp_path / "chromium"
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,800",
        # nothing leaves the machine (the page asks Google Fonts for its font)
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--remote-debugging-port=0", "about:blank",
    ]
    env = {**os.environ, "HOME": str(tmp_path / "home")}  # Chromium writes below $HOME too
    browser = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env, start_new_session=True)
    try:
        endpoint = _devtools_page(profile / "DevToolsActivePort", browser)
        screen, png = asyncio.run(_watch_page(endpoint, url))
    finally:
        _stop_group(browser)
    if png is None:
        assert screen is not None
        return screen
    shot = tmp_path / "page.png"
    shot.write_bytes(png)
    if screen is None:
        pytest.fail(f"no xterm.js terminal found in the page (did textual-serve's front end "
                    f"change?); screenshot: {shot}")
    pytest.fail(f"the page did not show every source's runs in {SCREEN_S:g} s; "
                f"screenshot: {shot}; the terminal said:\n{screen}")


def _devtools_page(port_file: Path, browser: subprocess.Popen[bytes]) -> str:
    """The DevTools websocket of Chromium's page (it writes its port to `port_file`)."""
    deadline = time.monotonic() + STARTUP_S
    while not (port_file.is_file() and "\n" in port_file.read_text()):
        if browser.poll() is not None:
            pytest.fail(f"chromium exited {browser.returncode} on start")
        if time.monotonic() > deadline:
            pytest.fail(f"chromium's DevTools endpoint did not start in {STARTUP_S:g} s")
        time.sleep(0.05)
    port = port_file.read_text().split()[0]
    targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


async def _watch_page(endpoint: str, url: str) -> tuple[str | None, bytes | None]:
    """Open `url` and poll the terminal's text until every source's runs are on it.

    (text, None) once they are; (the last text or None, a screenshot) when time runs out.
    """
    async with aiohttp.ClientSession() as session, session.ws_connect(
        endpoint, max_msg_size=0
    ) as ws:
        cdp = _Cdp(ws)
        await cdp.call("Page.enable")
        await cdp.call("Page.addScriptToEvaluateOnNewDocument", source=HOOK_JS)
        await cdp.call("Page.navigate", url=url)
        deadline = time.monotonic() + SCREEN_S
        screen: str | None = None
        while time.monotonic() < deadline:
            result = await cdp.call("Runtime.evaluate", expression=SCREEN_JS,
                                    returnByValue=True)
            screen = result["result"].get("value")
            if screen and RUN_ID.search(screen) and all(p in screen for p in PROVIDERS):
                return screen, None
            await asyncio.sleep(0.25)
        png = await cdp.call("Page.captureScreenshot")
        return screen, base64.b64decode(png["data"])


class _Cdp:
    """The few Chrome DevTools protocol calls the test makes, one at a time."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.last_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        await self.ws.send_json({"id": self.last_id, "method": method, "params": params})
        async with asyncio.timeout(SCREEN_S):
            async for message in self.ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                reply = message.json()
                if reply.get("id") != self.last_id:
                    continue  # an event (Page.enable asks for them)
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]
        raise AssertionError(f"{method}: the DevTools connection closed")
