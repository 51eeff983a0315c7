"""Alerts through the whole dashboard (issue 16, DESIGN section 14): the real `runwatch`
in a pseudo-terminal, one Wercker source polled every 0.5 s from the simulator in this
process, whose frozen clock the test moves. Runs that fail on that clock must reach the
terminal as exactly the OSC 9 and OSC 777 sequences (wrapped for tmux passthrough when
`$TMUX` is set, and only then; ASCII only in the C locale, as the screen), two failures of
one poll as one message, and a second failure on a track within `quiet` as nothing at all.

Every step waits on a condition with a deadline, never a fixed sleep: after the clock moves,
on the simulator's request log for the dashboard's next list polls; then on the bytes.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fcntl import ioctl
from itertools import chain
from pathlib import Path
from typing import Any

import pytest

from conftest import SimHandle
from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.core import RunScript
from runwatch.sim.server import ThreadedServer

SOURCE = "builds"  # the config's name for the source: what the alert says
DEADLINE_S = 20.0  # for each wait: generous for a loaded 2-core machine
START_DEADLINE_S = 30.0  # the first poll also waits for Python, Textual and the config
LIST_PATH = "/api/v3/runs"
ACTIVE = ("queued", "running")
TMUX_VALUE = "/tmp/tmux-1000/default,4242,0"


# -- the simulated world: which runs fail when -------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Clock stops (seconds after the simulator's start) and the failures they bring.

    At stops[1] `pair` fail in one poll (one coalesced message); at stops[3] `again`
    fails on the track of one of them, within `quiet` (no message); at stops[5] `other`
    fails on a third track (its own message). No other run fails while it is watched."""

    sim: Simulator  # its world, at the clock's start
    stops: tuple[float, ...]
    pair: tuple[RunScript, RunScript]  # newest first, as the API lists them
    again: RunScript
    other: RunScript
    run_id: Callable[[RunScript], str]


def _world(seed: int) -> tuple[Simulator, float]:
    # 12 runs still to come (not 6): time enough for two failures to overlap
    settings = SimSettings(seed=seed, future_runs=12, tokens=dict(demo_tokens()))
    sim = Simulator(settings, SimClock(frozen=True))
    return sim, sim.now()


def _failing(scripts: Iterable[RunScript], t0: float, p: float, q: float) -> set[int]:
    """The runs that a poll at t0+p shows active and a poll at t0+q shows failed."""
    return {s.index for s in scripts
            if s.visible(t0 + p) and s.phase(t0 + p) in ACTIVE and s.phase(t0 + q) == "failed"}


def _plan_for(seed: int) -> Plan | None:
    sim, t0 = _world(seed)
    api = sim.apis["wercker"]
    scripts: list[RunScript] = api.scripts
    fails = sorted((s for s in scripts if s.fails and s.planned_end > t0 + 2),
                   key=lambda s: s.planned_end)
    for i, a in enumerate(fails):
        for b in fails[i + 1:]:
            both_on = max(a.created_at, b.created_at) + 1 - t0
            both_off = max(a.planned_end, b.planned_end) + 1 - t0
            if a.branch == b.branch or both_on >= min(a.planned_end, b.planned_end) - 1 - t0:
                continue
            later = [c for c in fails if c.created_at - t0 > both_off]
            again = next((c for c in later if c.branch in (a.branch, b.branch)), None)
            if again is None:
                continue
            other = next((c for c in later if c.branch not in (a.branch, b.branch)
                          and c.created_at > again.planned_end + 1), None)
            if other is None:
                continue
            stops = (both_on, both_off, again.created_at + 1 - t0, again.planned_end + 1 - t0,
                     other.created_at + 1 - t0, other.planned_end + 1 - t0)
            expect = [set(), {a.index, b.index}, set(), {again.index}, set(), {other.index}]
            steps = zip((0.0, *stops[:-1]), stops, strict=True)
            got = [_failing(scripts, t0, p, q) for p, q in steps]
            if got == expect:
                pair = (a, b) if a.created_at > b.created_at else (b, a)
                return Plan(sim, stops, pair, again, other, api.run_id)
    return None


def find_plan() -> Plan:
    """Seed 199's world has such runs; another seed is looked for if the generator changed."""
    for seed in chain([199], range(1, 400)):
        plan = _plan_for(seed)
        if plan is not None:
            return plan
    pytest.fail("no seed of the simulator gives two overlapping failures on two tracks, "
                "then a failure on one of those tracks and one on a third")


# -- the expected bytes -------------------------------------------------------------------


def desktop(text: str, *, tmux: bool) -> list[bytes]:
    """OSC 9 and OSC 777 for `text`, as DESIGN section 14 and the README promise them."""
    sequences = [f"\x1b]9;{text}\x07", f"\x1b]777;notify;runwatch;{text}\x07"]
    if tmux:
        sequences = ["\x1bPtmux;" + s.replace("\x1b", "\x1b\x1b") + "\x1b\\" for s in sequences]
    return [s.encode() for s in sequences]


PASSTHROUGH = re.compile(rb"\x1bPtmux;.*?\x1b\\", re.S)
NOTIFICATION = re.compile(rb"\x1b\](?:9|777);[^\x07\x1b]*(?:\x07|\x1b\\)")


def notifications(output: bytes) -> tuple[list[bytes], list[bytes]]:
    """The tmux passthrough sequences in `output`, and the bare OSC 9/777 outside them."""
    wrapped = PASSTHROUGH.findall(output)
    return wrapped, NOTIFICATION.findall(PASSTHROUGH.sub(b"", output))


# -- the dashboard in a pseudo-terminal ---------------------------------------------------


class Terminal:
    """A pty whose every byte is kept by a reader thread (a full pty would block the app)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        try:
            self.master, slave = os.openpty()
        except OSError as exc:
            pytest.fail(f"this test needs a pseudo-terminal and none could be opened: {exc}")
        ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        cwd=cwd, start_new_session=True)
        os.close(slave)
        self._output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child and every copy of the slave are gone
                return
            if not chunk:
                return
            with self._lock:
                self._output += chunk

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._output)

    def tail(self) -> str:
        text = re.sub(r"\x1b\[[0-9;?<>=]*[A-Za-z]", " ", self.output[-3000:].decode("utf-8",
                                                                                   "replace"))
        return re.sub(r"\s+", " ", text)[-800:]

    def wait_for(self, what: str, condition: Callable[[], bool],
                 deadline_s: float = DEADLINE_S) -> None:
        end = time.monotonic() + deadline_s
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"runwatch exited ({self.process.returncode}) before {what}; "
                            f"its screen: {self.tail()}")
            if time.monotonic() > end:
                pytest.fail(f"{what}: not within {deadline_s:g} s; the screen: {self.tail()}")
            time.sleep(0.02)  # a poll of the condition, not a wait for the app

    def close(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(5)
                break
            except subprocess.TimeoutExpired:
                continue
        self._reader.join(5)
        os.close(self.master)


CONFIG = """\
[history]
enabled = true

[notify]
on = ["failed"]
desktop = true
bell = false
quiet = 10

[[sources]]
name = "{source}"
provider = "wercker"
base_url = "{base_url}"
pipeline_id = "pipeline-1"
token_env = "RUNWATCH_TEST_WERCKER_TOKEN"
interval = 0.5
"""


def runwatch_argv(config: Path) -> list[str]:
    """The installed entry point beside this Python (else its module)."""
    script = Path(sys.executable).with_name("runwatch")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "runwatch"]
    return [*head, "--config", str(config)]


@pytest.fixture
def world(sim_server: tuple[ThreadedServer, Any]) -> Iterator[tuple[SimHandle, Plan]]:
    """The plan's simulator (frozen clock) behind the session's loopback server."""
    server, switch = sim_server
    plan = find_plan()
    switch.target = plan.sim
    yield SimHandle(plan.sim, server), plan
    switch.target = None


def _dashboard(sim: SimHandle, tmp_path: Path, *, tmux: bool, lang: str) -> Terminal:
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(source=SOURCE, base_url=sim.base_url("wercker")))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color",
        "LANG": lang, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local/state"), "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"), "PYTHONDONTWRITEBYTECODE": "1",
        "RUNWATCH_TEST_WERCKER_TOKEN": demo_tokens()["wercker"],
    }
    if tmux:
        env["TMUX"] = TMUX_VALUE
    return Terminal(runwatch_argv(config), env, home)


def _list_polls(sim: Simulator) -> int:
    """The dashboard's list polls so far: their first pages (a poll asks for older pages,
    `skip=20` on, after its first; detail requests go to other paths)."""
    return sum(1 for r in list(sim.requests)
               if r.method == "GET" and r.path == LIST_PATH and "skip=" not in r.query)


def _move_clock_and_wait_for_polls(term: Terminal, sim: Simulator, to: float, t0: float) -> None:
    """Set the clock to t0+`to`, then wait for two list polls sent after it: the first
    was answered on the new clock, and the dashboard had applied it before it sent the
    second (a source's polls never overlap: the next is sent an interval after the last
    one's runs were merged and their events delivered)."""
    sim.clock.advance(t0 + to - sim.now())
    seen = _list_polls(sim)
    term.wait_for(f"two polls after the clock moved to +{to:g} s",
                  lambda: _list_polls(sim) >= seen + 2)


@pytest.mark.parametrize("terminal", ["plain", "tmux", "c_locale"])
def test_failures_on_the_sim_clock_reach_the_pty_as_osc_9_and_777(
        world: tuple[SimHandle, Plan], tmp_path: Path, terminal: str) -> None:
    sim, plan = world
    tmux, ascii = terminal == "tmux", terminal == "c_locale"
    dot = "-" if ascii else "·"  # the C locale's dashboard draws ASCII only: its alerts too
    simulator = sim.sim
    t0 = simulator.now()
    newer, older = plan.pair
    coalesced = desktop(f"2 runs failed: {SOURCE} #{plan.run_id(newer)}, "
                        f"{SOURCE} #{plan.run_id(older)}", tmux=tmux)
    other = plan.other
    assert not set(";\x1b\x07") & set(other.message)  # its title goes into the bytes as is
    alone = desktop(f"{SOURCE}: run {plan.run_id(other)} failed {dot} {other.message} {dot} "
                    f"({other.branch})", tmux=tmux)
    expected = [*coalesced, *alone]

    def seen() -> list[bytes]:
        """Every notification sequence so far, in the form wanted and the other form."""
        wrapped, bare = notifications(term.output)
        return wrapped + bare

    term = _dashboard(sim, tmp_path, tmux=tmux, lang="C" if ascii else "C.UTF-8")
    try:
        term.wait_for("the dashboard's first two polls", lambda: _list_polls(simulator) >= 2,
                      START_DEADLINE_S)
        for stop in plan.stops[:2]:
            _move_clock_and_wait_for_polls(term, simulator, stop, t0)
        term.wait_for("the two failures of one poll as one notification",
                      lambda: len(seen()) >= 2)
        assert notifications(term.output) == ((coalesced, []) if tmux else ([], coalesced))

        for stop in plan.stops[2:]:  # `again` fails on a track that alerted: quiet
            _move_clock_and_wait_for_polls(term, simulator, stop, t0)
        term.wait_for("the failure on a third track", lambda: len(seen()) >= 4)
        output = term.output
    finally:
        term.close()

    wrapped, bare = notifications(output)
    # Exactly these, in this order: nothing for `again` (within quiet), nothing else at all,
    # and the other form never (no passthrough outside tmux, no bare OSC inside it).
    assert (wrapped, bare) == ((expected, []) if tmux else ([], expected))
    assert output.isascii() == ascii  # (a UTF-8 terminal gets the Unicode screen)
