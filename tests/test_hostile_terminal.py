"""Issue 8, point 1 on the wire: the bytes runwatch writes to a pseudo-terminal over the hostile
world (sim/hostile.py) hold none of the escapes the APIs sent — from the dashboard and its run
screen, the kiosk, and every plain-text CLI command (`list` on a TTY and piped, `show`, `watch`,
`config check`, stderr error lines) — while the words of the payload still show. runwatch's own
control sequences are allowed; what is checked is each sequence only an API could have sent.

And point 11: `--debug` writes its log lines to $XDG_STATE_HOME/runwatch/debug.log, not over
the screen."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fcntl import ioctl
from pathlib import Path

import pytest

from runwatch.sim import Fault, SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.demo import DEMO_SCOPES
from runwatch.sim.server import ThreadedServer
from test_hostile_text import FORBIDDEN, forbidden_in
from tui_helpers import PROVIDERS

ERROR_SOURCE = "conduct"  # answers every request with a long hostile error


@dataclass
class World:
    server: ThreadedServer
    root: Path
    config: Path

    def env(self, home_name: str = "home") -> dict[str, str]:
        home = self.root / home_name
        home.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color",
            "COLORTERM": "truecolor", "LANG": "C.UTF-8", "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".local/state"),
            "XDG_DATA_HOME": str(home / ".local/share"), "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update({f"RW_{p.upper()}_TOKEN": token for p, token in demo_tokens().items()})
        return env


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sim = Simulator(SimSettings(seed=7, tokens=dict(demo_tokens())), SimClock(frozen=True))
    for name in PROVIDERS:
        sim.inject(name, Fault(kind="hostile_error" if name == ERROR_SOURCE else "hostile_text"))
    server = ThreadedServer(sim.app).start()
    root = tmp_path_factory.mktemp("hostile")
    (root / "home").mkdir()
    sources = []
    for name in PROVIDERS:
        fields = {"name": name, "provider": name, "base_url": f"{server.url}/{name}",
                  "token_env": f"RW_{name.upper()}_TOKEN", **DEMO_SCOPES[name]}
        sources.append("[[sources]]\n" + "\n".join(f"{k} = {json.dumps(v)}"
                                                    for k, v in fields.items()))
    config = root / "config.toml"
    config.write_text('[runwatch]\ninterval = 2.0\n\n[kiosk]\nrotate = 0\n\n'
                      + "\n\n".join(sources) + "\n")
    try:
        yield World(server, root, config)
    finally:
        server.stop()


@dataclass
class Ran:
    output: bytes  # everything written to the terminal (stdout and stderr)
    stdout: bytes  # stdout alone when it was a pipe
    returncode: int | None


def run_in_pty(
    argv: Sequence[str], env: dict[str, str], *, keys: Sequence[tuple[bytes, bytes]] = (),
    pipe_stdout: bool = False, timeout: float = 30.0,
) -> Ran:
    """Run `runwatch ARGV` on a 120x30 pseudo-terminal; each (marker, keys) pair types `keys`
    a second after `marker` was first written."""
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "runwatch", *argv], stdin=slave,
        stdout=subprocess.PIPE if pipe_stdout else slave, stderr=slave, env=env,
        cwd=env["HOME"], start_new_session=True,
    )
    os.close(slave)
    output = b""
    pending = list(keys)
    seen_at: float | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the process is gone and the pty closed
                    chunk = b""
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
            if pending and seen_at is None and pending[0][0] in output:
                seen_at = time.monotonic()
            if pending and seen_at is not None and time.monotonic() - seen_at > 1.0:
                os.write(master, pending.pop(0)[1])
                seen_at = None
        stdout = process.stdout.read() if process.stdout else b""
        process.wait(10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)
    assert not pending, f"never saw {pending[0][0]!r}: {output[-2000:]!r}"
    return Ran(output, stdout, process.returncode)


def assert_clean(stream: bytes, *, words: bool = True) -> None:
    assert forbidden_in(stream) == [], [(n, stream.count(FORBIDDEN[n])) for n in
                                        forbidden_in(stream)]
    if words:
        assert b"evil-link" in stream  # the payload's words arrived, cleaned


def cli(world: World, *argv: str, pipe_stdout: bool = False) -> Ran:
    return run_in_pty(["--config", str(world.config), *argv], world.env(),
                      pipe_stdout=pipe_stdout)


@pytest.fixture(scope="module")
def wercker_run(world: World) -> str:
    """A finished Wercker run's id, from `list --json` (itself clean JSON)."""
    ran = cli(world, "list", "--json", "--source", "wercker", pipe_stdout=True)
    assert ran.returncode == 0, ran.output
    assert b"\x1b" not in ran.stdout and b"\\u001b" not in ran.stdout
    runs = json.loads(ran.stdout)
    assert any("[@click=app.quit]" in r["title"] for r in runs)  # text, not markup
    return next(r["id"] for r in runs if r["status"] in ("passed", "failed"))


def test_the_dashboard_writes_no_api_escape(world: World) -> None:
    env = world.env()
    ran = run_in_pty(["--config", str(world.config), "--debug"], env,
                     keys=[(b"evil-link", b"\r"), (b"back", b"q")])
    assert ran.returncode == 0, ran.output[-3000:]
    assert_clean(ran.output)
    assert b"upstream exploded" in ran.output  # the error source's line
    # --debug: the log went to its file, not over the screen (point 11).
    log = Path(env["XDG_STATE_HOME"]) / "runwatch" / "debug.log"
    assert b"HTTP Request" not in ran.output and b"httpx" not in ran.output
    assert "HTTP Request: GET" in log.read_text()
    assert f"--debug: logging to {log}".encode() in ran.output
    assert forbidden_in(log.read_bytes()) == []


def test_the_kiosk_writes_no_api_escape(world: World) -> None:
    env = world.env("kiosk-home")
    ran = run_in_pty(["--config", str(world.config), "--kiosk"], env,
                     keys=[(b"upstream", b"q")])
    assert ran.returncode == 0, ran.output[-3000:]
    assert_clean(ran.output)
    # `[@click=app.screenshot(...)]` in every title: still nothing written to disk but the
    # history file (issue 16: the kiosk's one write), whose text is the cleaned text.
    files = [p for p in Path(env["HOME"]).rglob("*") if p.is_file()]
    assert {p.name for p in files} <= {"history.sqlite3", "history.sqlite3-wal",
                                       "history.sqlite3-shm"}
    assert {p.parent for p in files} <= {Path(env["XDG_STATE_HOME"]) / "runwatch"}
    assert all(forbidden_in(p.read_bytes()) == [] for p in files)


@pytest.mark.parametrize("pipe", [False, True], ids=["tty", "piped"])
def test_list_writes_no_api_escape(world: World, pipe: bool) -> None:
    ran = cli(world, "list", pipe_stdout=pipe)
    assert ran.returncode == 4  # the error source
    assert_clean(ran.output + ran.stdout)
    table = ran.stdout if pipe else ran.output
    assert b"evil-link [/] [@click=app.quit]" in table
    assert b"\x1b[" not in ran.stdout  # piped: no colour either
    errors = [line for line in ran.output.splitlines() if line.startswith(b"runwatch: ")]
    assert len(errors) == 1 and b"upstream exploded" in errors[0]  # one line, cleaned


def test_show_and_watch_write_no_api_escape(world: World, wercker_run: str) -> None:
    shown = cli(world, "show", "--source", "wercker", wercker_run)
    assert shown.returncode == 0, shown.output
    assert_clean(shown.output)
    assert f"Run {wercker_run}".encode() in shown.output
    watched = cli(world, "watch", "--source", "wercker", wercker_run)
    assert watched.returncode in (0, 1), watched.output
    assert_clean(watched.output)
    assert b"watching run" in watched.output


def test_config_check_and_error_lines_write_no_api_escape(world: World) -> None:
    checked = cli(world, "config", "check")
    assert checked.returncode == 4
    assert_clean(checked.output, words=False)
    fail = [line for line in checked.output.splitlines() if line.startswith(b"FAIL ")]
    assert len(fail) == 1 and b"upstream exploded" in fail[0] and b"evil-link" in fail[0]
    failed = cli(world, "show", "--source", ERROR_SOURCE, "RUN-001")
    assert failed.returncode == 4
    assert_clean(failed.output)
    assert failed.output.strip().count(b"\n") == 0  # one line
