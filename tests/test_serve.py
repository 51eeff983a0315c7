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
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from runwatch import kiosk_server
from runwatch.cli import main
from runwatch.serve import Audience, kiosk_command, public_url
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
    """The kiosk server replaced by a recorder; no config anywhere (the demo)."""
    calls: list[dict[str, Any]] = []

    class Recorder:
        def __init__(self, command: str, **kwargs: Any) -> None:
            # The viewers' config exists while the server runs: read it now.
            viewers = Path(shlex.split(command)[shlex.split(command).index("--config") + 1])
            calls.append({"command": command, "viewers": tomllib.loads(viewers.read_text()),
                          "viewers_path": viewers, **kwargs})

        def serve(self) -> None:
            calls[-1]["served"] = True

    monkeypatch.setattr(kiosk_server, "KioskServer", Recorder)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("RUNWATCH_CONFIG", raising=False)
    return calls


def test_serve_binds_only_the_given_host(fake_server: list[dict[str, Any]],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "8123"]) == 0
    (call,) = fake_server
    assert call["served"] and call["host"] == "127.0.0.1" and call["port"] == 8123
    assert call["public_url"] == "http://127.0.0.1:8123"
    assert call["max_viewers"] == 20
    assert call["audience"] == Audience.of("127.0.0.1", 8123, "http://127.0.0.1:8123")
    # each viewer's kiosk reads this hub's feed: one runwatch source per hub source
    assert shlex.split(call["command"]) == kiosk_command(call["viewers_path"])
    assert not call["viewers_path"].exists()  # removed once the server stopped
    assert [s["name"] for s in call["viewers"]["sources"]] == list(PROVIDERS)
    assert {(s["provider"], s["base_url"]) for s in call["viewers"]["sources"]} == {
        ("runwatch", "http://127.0.0.1:8123")}
    assert [s["hub_source"] for s in call["viewers"]["sources"]] == list(PROVIDERS)
    assert list(call["hub"].session) == list(PROVIDERS) and call["token"] is None
    assert "serving the demo kiosk" in capsys.readouterr().err
    assert main(["serve", "--port", "8123", "--max-viewers", "3"]) == 0
    assert fake_server[1]["max_viewers"] == 3
    del fake_server[1]
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
    (call,) = fake_server
    assert shlex.split(call["command"])[3:] == [
        "--kiosk", "--read-only", "--config", str(call["viewers_path"])]
    assert list(call["hub"].session) == ["ci"]  # the hub polls the --source ones, every 3 s
    assert call["hub"].session.poller.health("ci").interval_s == 3.0
    (viewer,) = call["viewers"]["sources"]
    assert viewer["name"] == viewer["hub_source"] == "ci" and viewer["interval"] == 3.0
    assert main(["serve", "--config", str(config), "--source", "nope"]) == 3
    config.write_text("not toml [")
    assert main(["serve", "--config", str(config)]) == 3
    assert len(fake_server) == 1


def test_serve_without_textual_serve_exits_3_and_says_only_that(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # import fails
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("RUNWATCH_CONFIG", raising=False)
    assert main(["serve", "--port", "0"]) == 3
    captured = capsys.readouterr()
    # one line, and no "serving the demo kiosk" before it: it is not serving anything
    assert captured.err == ("runwatch: `runwatch serve` needs the optional textual-serve "
                            "package: pip install 'runwatch[serve]'\n")
    assert captured.out == ""


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


# -- who may watch: Host, Origin and the viewer cap ---------------------------------------


def test_audience_of_a_loopback_bind() -> None:
    audience = Audience.of("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert audience.allows_host("127.0.0.1:8000") and audience.allows_host("localhost:8000")
    assert audience.allows_origin("http://127.0.0.1:8000")
    assert audience.allows_origin("http://LOCALHOST:8000")
    for host in ("evil.example:8000", "127.0.0.1:8001", "127.0.0.2:8000", "evil.example",
                 "", "127.0.0.1:port", "[::1", "localhost.:9"):
        assert not audience.allows_host(host), host
    for origin in ("http://evil.example:8000", "https://127.0.0.1:8000", "null",
                   "http://127.0.0.1:8001", "file://", "ws://127.0.0.1:8000", ""):
        assert not audience.allows_origin(origin), origin


def test_audience_with_a_public_url() -> None:
    audience = Audience.of("127.0.0.1", 8000, "https://wall.example")
    assert audience.allows_host("wall.example")  # a proxy that keeps the Host, port 443
    assert audience.allows_host("wall.example:443")
    assert audience.allows_host("127.0.0.1:8000")  # a proxy that rewrites it to ours
    assert audience.allows_origin("https://wall.example")
    assert audience.allows_origin("https://wall.example:443")
    assert not audience.allows_origin("http://wall.example")  # port 80: another origin
    assert not audience.allows_origin("https://wall.example.evil.example")


def test_audience_of_a_wildcard_bind_takes_addresses_not_foreign_names() -> None:
    audience = Audience.of("0.0.0.0", 8000, public_url("0.0.0.0", 8000))
    assert audience.allows_host(f"{socket.gethostname()}:8000")
    assert audience.allows_host("192.168.1.20:8000") and audience.allows_host("[fe80::1]:8000")
    assert audience.allows_origin("http://10.0.0.5:8000")
    # a DNS-rebinding page has its own name in Host and Origin, whatever address it resolves to
    assert not audience.allows_host("rebind.evil.example:8000")
    assert not audience.allows_origin("http://rebind.evil.example:8000")
    assert not audience.allows_host("192.168.1.20:9000")


def test_audience_of_an_ipv6_loopback_bind() -> None:
    audience = Audience.of("::1", 8000, public_url("::1", 8000))
    assert audience.allows_host("[::1]:8000") and audience.allows_host("localhost:8000")
    assert audience.allows_origin("http://[::1]:8000")
    assert not audience.allows_host("[::2]:8000")


class Guarded:
    """KioskServer in this process on a loopback port, with a command that costs nothing:
    it notes each start in a file, then waits for the quit message textual-serve sends."""

    def __init__(self, tmp_path: Path, max_viewers: int) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = tmp_path / "started"
        command = (f"echo started >> {shlex.quote(str(self.started))}; echo __GANGLION__; "
                   "head -c 1 > /dev/null")
        self.server = kiosk_server.KioskServer(
            command, host="127.0.0.1", port=self.port, title="t", public_url=self.url,
            audience=Audience.of("127.0.0.1", self.port, self.url), max_viewers=max_viewers,
        )

    def starts(self) -> int:
        """How many kiosk processes were started."""
        return len(self.started.read_text().splitlines()) if self.started.exists() else 0

    async def until(self, condition: Any, what: str) -> None:
        deadline = time.monotonic() + STARTUP_S
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def guarded(tmp_path: Path, max_viewers: int = 20) -> Any:
    from aiohttp import web

    served = Guarded(tmp_path, max_viewers)
    runner = web.AppRunner(await served.server._make_app(), shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", served.port).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield served, session
    finally:
        await runner.cleanup()


async def test_a_websocket_from_another_origin_is_refused(tmp_path: Path) -> None:
    async with guarded(tmp_path) as (served, session):
        for origin in ("http://evil.example", f"http://evil.example:{served.port}", "null"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await session.ws_connect(f"{served.url}/ws", origin=origin)
            assert info.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:  # no Origin at all
            await session.ws_connect(f"{served.url}/ws")
        assert info.value.status == 403
        # a page request that carries a foreign Origin is refused too
        async with session.get(served.url, headers={"Origin": "http://evil.example"}) as page:
            assert page.status == 403
            assert "another name needs --public-url" in await page.text()
        assert served.starts() == 0  # no kiosk process for any of them


async def test_a_page_for_another_host_is_refused(tmp_path: Path) -> None:
    async with guarded(tmp_path) as (served, session):
        # DNS rebinding: the attacker's name resolves to 127.0.0.1, so the Host is theirs
        for host in (f"rebind.evil.example:{served.port}", "evil.example"):
            async with session.get(served.url, headers={"Host": host}) as page:
                assert page.status == 403, host
                assert "runwatch kiosk" not in await page.text()
        async with session.get(f"{served.url}/static/css/xterm.css",
                               headers={"Host": "evil.example"}) as page:
            assert page.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(f"{served.url}/ws", origin=served.url,
                                     headers={"Host": f"evil.example:{served.port}"})
        assert info.value.status == 403
        assert served.starts() == 0


async def test_the_right_host_and_origin_are_served(tmp_path: Path) -> None:
    async with guarded(tmp_path) as (served, session):
        for host in (f"127.0.0.1:{served.port}", f"localhost:{served.port}"):
            async with session.get(served.url, headers={"Host": host}) as page:
                assert page.status == 200
                assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in (
                    await page.text())
        async with session.get(served.url, headers={"Origin": served.url}) as page:
            assert page.status == 200
        ws = await session.ws_connect(f"{served.url}/ws", origin=served.url)
        await served.until(lambda: served.starts() == 1, "the kiosk process")
        await ws.close()


async def test_the_viewer_over_the_cap_is_turned_away_without_a_process(
    tmp_path: Path,
) -> None:
    async with guarded(tmp_path, max_viewers=2) as (served, session):
        viewers = [await session.ws_connect(f"{served.url}/ws", origin=served.url)
                   for _ in range(2)]
        await served.until(lambda: served.starts() == 2, "two kiosk processes")
        refused = await session.ws_connect(f"{served.url}/ws", origin=served.url)
        message = await refused.receive(timeout=STARTUP_S)
        assert message.type is aiohttp.WSMsgType.BINARY  # shown on the page's terminal
        words = ("runwatch serve: 2 viewers are watching already, the most this server "
                 "allows (--max-viewers 2); try again later.")
        assert words in message.data.decode()
        closing = await refused.receive(timeout=STARTUP_S)
        assert closing.type is aiohttp.WSMsgType.CLOSE
        assert refused.close_code == kiosk_server.TRY_AGAIN_LATER
        async with session.get(served.url, headers={"Origin": served.url}) as page:
            assert page.status == 503 and words in await page.text()
        assert served.starts() == 2  # the third viewer started nothing
        # one viewer leaves: there is room again
        await viewers[0].close()
        await served.until(lambda: served.server.viewers == 1, "the first viewer to leave")
        async with session.get(served.url) as page:
            assert page.status == 200
        again = await session.ws_connect(f"{served.url}/ws", origin=served.url)
        await served.until(lambda: served.starts() == 3, "a kiosk for the new viewer")
        for ws in (viewers[1], again):
            await ws.close()


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


def test_runwatch_serve_refuses_other_sites_and_says_so(served: tuple[str, Path]) -> None:
    url, log = served
    port = url.rsplit(":", 1)[1]
    assert httpx.get(url, headers={"Host": f"rebind.evil.example:{port}"}).status_code == 403
    refused = httpx.get(f"{url}/ws", headers={
        "Origin": "https://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert refused.status_code == 403
    text = log.read_text()
    assert f"runwatch serve: the read-only kiosk at {url} for up to 20 viewers" in text
    assert "refused GET /ws: Origin 'https://evil.example' is not this server" in text


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
        # nothing leaves the machine: a page that asked for anything outside would show it
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
