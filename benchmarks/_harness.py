"""Shared pieces of the benchmarks: a simulator on loopback, a config pointing at it, and the
real app in a pseudo-terminal whose output bytes, CPU time and RSS we can read."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.demo import DEMO_SCOPES
from runwatch.sim.server import ThreadedServer

BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def start_sim(*, runs: int = 24, frozen: bool = True) -> tuple[Simulator, ThreadedServer]:
    sim = Simulator(SimSettings(seed=7, runs=runs, future_runs=0 if frozen else 6,
                                tokens=dict(demo_tokens())), SimClock(frozen=frozen))
    return sim, ThreadedServer(sim.app).start()


def write_config(url: str, *, providers: tuple[str, ...], interval: float, limit: int = 50,
                 extra: str = "") -> tuple[Path, dict[str, str]]:
    """A config file for these providers on the simulator, and the env with their tokens."""
    lines = [f"[runwatch]\ninterval = {interval}\nlimit = {limit}\ntimeout = 30.0\n{extra}"]
    env = dict(os.environ)
    for name in providers:
        scope = "".join(f'{k} = "{v}"\n' for k, v in DEMO_SCOPES[name].items())
        var = f"BENCH_{name.upper()}_TOKEN"
        env[var] = demo_tokens()[name]
        lines.append(f'[[sources]]\nname = "{name}"\nprovider = "{name}"\n'
                     f'base_url = "{url}/{name}"\ntoken_env = "{var}"\n{scope}')
    path = Path(tempfile.mkdtemp(prefix="runwatch-bench-")) / "config.toml"
    path.write_text("\n".join(lines))
    env["XDG_STATE_HOME"] = str(path.parent / "state")
    return path, env


class PtyApp:
    """`runwatch ARGS` in a pseudo-terminal of the given size; counts what it writes. `exe`:
    another install's `runwatch` (to compare two trees in one run)."""

    def __init__(self, args: list[str], env: dict[str, str], size: tuple[int, int] = (160, 45),
                 exe: Path | None = None):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        env = {**env, "TERM": env.get("TERM", "xterm-256color"), "COLUMNS": str(size[0]),
               "LINES": str(size[1])}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([str(exe or BIN / "runwatch"), *args], stdin=slave,
                                     stdout=slave, stderr=slave, env=env, close_fds=True,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.bytes = 0
        self.output = bytearray()
        self.keep_output = True
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.bytes += len(chunk)
                if self.keep_output:
                    self.output += chunk

    def wait_for(self, needle: bytes, timeout_s: float = 30.0) -> float:
        """Seconds from start until `needle` was written to the terminal."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if needle in self.output:
                    return time.perf_counter() - self.started
            time.sleep(0.002)
        raise TimeoutError(f"{needle!r} never appeared")

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self) -> None:
        self.send(b"q")
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def row(label: str, value: str, budget: str = "", verdict: str = "") -> None:
    print(f"  {label:<58} {value:>14}  {budget:<22} {verdict}")


def judge(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"
