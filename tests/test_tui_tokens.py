"""The dashboard and the kiosk with one unset token_env and one hanging token_cmd, built the way
`runwatch` builds them (from the config, tokens resolved in the background): every other source
on screen at once, the failing lines in words, and recovery once the token comes."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shlex
import signal
import struct
import subprocess
import sys
import termios
import time
from fcntl import ioctl
from pathlib import Path

import pytest

from runwatch.config import Config, parse
from runwatch.poller import engine as poller_engine
from runwatch.sim import demo_tokens
from runwatch.sim.demo import DEMO_SCOPES
from runwatch.tui.app import RunwatchApp
from tui_helpers import PROVIDERS, until

VAR = "RW_TEST_CURRENTS_KEY"
HEALTHY = ("services", "wercker", "scheduler")


def gated_command(tmp_path: Path) -> tuple[str, Path]:
    """A token_cmd that hangs (a locked password manager) until `gate` exists, then prints
    conduct's token."""
    gate = tmp_path / "gate"
    script = tmp_path / "unlock.py"
    script.write_text("import os, time\n"
                      f"while not os.path.exists({str(gate)!r}): time.sleep(0.02)\n"
                      f"print({demo_tokens()['conduct']!r})\n", encoding="utf-8")
    # Run from tmp_path (the test's cwd), so the command is short enough to be seen whole.
    return f"{shlex.quote(sys.executable)} unlock.py", gate


def broken_config(sim, conduct_cmd: str, **general: object) -> Config:
    """The simulator's five sources: currents' variable unset, conduct's command hanging."""
    tokens = demo_tokens()
    sources = []
    for p in PROVIDERS:
        source = {"name": p, "provider": p, "base_url": sim.base_url(p), **DEMO_SCOPES[p]}
        source.update({"currents": {"token_env": VAR}, "conduct": {"token_cmd": conduct_cmd}}
                      .get(p, {"token": tokens[p]}))
        sources.append(source)
    return parse({"runwatch": {"interval": 60.0, **general}, "sources": sources})


def line(app: RunwatchApp, source: str) -> str:
    return str(app.screen.query_one(f"#health-{source}").render())


def healthy_ok(app: RunwatchApp) -> bool:
    return all(app.poller.health(s).state == "ok" for s in HEALTHY)


@pytest.fixture
def fast_token_retry(monkeypatch: pytest.MonkeyPatch) -> float:
    """A missing token tried again every 0.4 s instead of 30 s (the app builds its poller)."""
    monkeypatch.delenv(VAR, raising=False)
    monkeypatch.setattr(poller_engine, "TOKEN_RETRY_S", 0.4)
    return 0.4


@pytest.mark.parametrize("kiosk", [False, True], ids=["dashboard", "kiosk"])
async def test_one_broken_credential_never_holds_up_the_others(
    sim, tmp_path, fast_token_retry, kiosk, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cmd, gate = gated_command(tmp_path)
    app = RunwatchApp(broken_config(sim, cmd), kiosk=kiosk, now=sim.sim.clock.now)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: healthy_ok(app), "the healthy sources' first poll")
        # They did not wait for conduct's command, which is still running (a wall-clock
        # bound would say less and fail under load).
        conduct_token = app.session.providers["conduct"].client.token_source
        assert conduct_token is not None and conduct_token.pending() is not None
        assert app.poller.health("conduct").state in ("starting", "error")
        await pilot.pause()
        if not kiosk:
            shown = {run.source for run in app.runs_screen.table.runs.values()}
            assert set(HEALTHY) <= shown
        for source in HEALTHY:
            assert "error" not in line(app, source)

        # The unset variable, in words, on its own line; tried again slowly.
        await until(pilot, lambda: app.poller.health("currents").state == "error", "currents")
        await pilot.pause()
        assert f"currents  error · token: env {VAR} is not set · next try in" in \
            line(app, "currents")
        assert app.poller.health("currents").interval_s == fast_token_retry

        # The hanging command: how long it has been running, and no "next try" (it is the try).
        await until(pilot, lambda: "still running, 1 s" in line(app, "conduct"), "1 s")
        assert f"conduct  error · token_cmd `{cmd}` still running, 1 s" in \
            line(app, "conduct")
        assert "next try" not in line(app, "conduct")

        # The password manager is unlocked, the variable appears: both recover by themselves.
        gate.touch()
        monkeypatch.setenv(VAR, demo_tokens()["currents"])
        for source in ("conduct", "currents"):
            await until(pilot, lambda s=source: app.poller.health(s).state == "ok", source)
            assert app.poller.runs(source)
        await pilot.pause()
        for source in PROVIDERS:
            assert "error" not in line(app, source)
        if not kiosk:
            await until(pilot, lambda: {"currents", "conduct"} <= {
                run.source for run in app.runs_screen.table.runs.values()}, "their runs")


async def test_a_token_cmd_that_never_ends_times_out_on_its_line(sim, fast_token_retry) -> None:
    app = RunwatchApp(broken_config(sim, "sleep 60", token_timeout=0.5), now=sim.sim.clock.now)
    async with app.run_test(size=(160, 45)) as pilot:
        words = "conduct  error · token_cmd `sleep 60` timed out after 0.5 s · next try"
        await until(pilot, lambda: words in line(app, "conduct"), "the timeout on the line")
        assert app.poller.health("conduct").interval_s == fast_token_retry
        await until(pilot, lambda: healthy_ok(app), "the healthy sources")


def test_the_real_kiosk_draws_every_healthy_source_at_once_and_stops_the_command(
    sim, tmp_path
) -> None:
    """`runwatch --kiosk` (what `serve` runs per browser) in a pseudo-terminal: the runs are
    drawn while conduct's token_cmd still hangs, the failing lines say why, and quitting
    kills the command."""
    home = tmp_path / "home"
    home.mkdir()
    pid_file = home / "pid"
    hang = "sh -c 'echo $$ > pid; exec sleep 60'"  # short: its line must not wrap
    tokens = demo_tokens()
    lines = ["[runwatch]", "interval = 60.0"]
    for p in PROVIDERS:
        lines += ["[[sources]]", f'name = "{p}"', f'provider = "{p}"',
                  f'base_url = "{sim.base_url(p)}"',
                  *(f'{k} = "{v}"' for k, v in DEMO_SCOPES[p].items()),
                  {"currents": f'token_env = "{VAR}"', "conduct": f'token_cmd = "{hang}"'}
                  .get(p, f'token_env = "RW_TEST_{p.upper()}"')]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color",
           "LANG": "C.UTF-8", "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
           **{f"RW_TEST_{p.upper()}": tokens[p] for p in HEALTHY}}
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "runwatch", "--kiosk", "--config", str(config)],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=home, start_new_session=True,
    )
    os.close(slave)
    output, seen = b"", {}
    wanted = (b"passed", b"still running", f"env {VAR} is not set".encode())
    try:
        while time.monotonic() - started < 20 and len(seen) < len(wanted):
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                with contextlib.suppress(OSError):
                    output += os.read(master, 65536)
            for word in wanted:
                if word in output and word not in seen:
                    seen[word] = time.monotonic() - started
        assert set(seen) == set(wanted), output[-2000:]
        # Drawn as soon as Python, Textual and one poll allow (~1.5 s on a busy 2-core box),
        # not after the command's 60 s (before: a blank terminal 30 s, then exit 3).
        assert seen[b"passed"] < 10, seen
        pid = int(pid_file.read_text())
        assert Path(f"/proc/{pid}").exists()  # the runs were drawn while it still hangs
        os.write(master, b"q")
        assert process.wait(15) == 0
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(pid), "quitting left the token command running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
        os.close(master)


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
