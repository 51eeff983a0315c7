"""Shared pieces of the benchmarks (DESIGN section 10): the installed `runwatch sim` in
another process, a config pointing at it, the real app in a pseudo-terminal whose output
bytes, CPU time and RSS we read, and the one table every benchmark prints into.

Every figure runs the real providers over real HTTP against that simulator process; nothing
of the simulator runs in the measured process.

`.pyc` warm is made true, not assumed: importing this module drops PYTHONDONTWRITEBYTECODE
from the environment every measured child inherits (with it set, each run recompiles every
runwatch module: ~65 ms of a start-up figure), and `warm_pyc()` compiles the package and the
venv before anything is timed.
"""

from __future__ import annotations

import compileall
import fcntl
import importlib.util
import json
import os
import pty
import socket
import statistics
import struct
import subprocess
import sys
import sysconfig
import tempfile
import termios
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROVIDERS = ("services", "wercker", "currents", "conduct", "scheduler")
# The scope ids `runwatch sim` prints (runwatch.sim.demo.DEMO_SCOPES), and its tokens.
SCOPES: dict[str, dict[str, str]] = {
    "services": {"service_id": "svc-web"},
    "wercker": {"pipeline_id": "pipeline-1"},
    "currents": {"project_id": "proj-1"},
    "conduct": {},
    "scheduler": {},
}
TOKENS = {p: f"sim-{p}-token" for p in PROVIDERS}
# Which install's `runwatch sim` serves the world: this one's, unless another is named (to
# measure an older install against the same simulator).
SIM_EXE = Path(os.environ.get("RUNWATCH_BENCH_SIM") or BIN / "runwatch")
SETTLE_S = 3 * 86_400.0  # the clock moved on this far: every run has finished
# The measured children write and read .pyc like a user's install does (see the docstring).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def warm_pyc() -> str:
    """Compile runwatch's package and the venv's site-packages (what is already compiled and
    fresh is skipped), and say what the timed runs load: every module of the package from a
    fresh `.pyc`, or how many would be compiled again."""
    spec = importlib.util.find_spec("runwatch")
    assert spec is not None and spec.submodule_search_locations, "runwatch is not installed"
    package = Path(next(iter(spec.submodule_search_locations)))
    for folder in (package, Path(sysconfig.get_paths()["purelib"])):
        compileall.compile_dir(folder, quiet=2, workers=1)
    sources = list(package.rglob("*.py"))
    stale = [p for p in sources if not _fresh_pyc(p)]
    if stale:
        return f".pyc NOT warm: {len(stale)} of {len(sources)} runwatch modules uncompiled"
    return (f".pyc warm: {len(sources)} runwatch modules and site-packages compiled before "
            "timing, PYTHONDONTWRITEBYTECODE unset for the timed runs")


def _fresh_pyc(source: Path) -> bool:
    """Whether Python would load `source`'s .pyc: the header names its mtime and size."""
    try:
        header = Path(importlib.util.cache_from_source(str(source))).read_bytes()[:16]
    except OSError:
        return False
    stat = source.stat()
    return (header[:4] == importlib.util.MAGIC_NUMBER
            and header[8:16] == struct.pack("<II", int(stat.st_mtime) & 0xFFFF_FFFF,
                                            stat.st_size & 0xFFFF_FFFF))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SimProcess:
    """`runwatch sim --port P --runs N` (the installed command) in its own process, its clock
    running (a live world); `settle()` moves its clock on until every run has finished."""

    def __init__(self, runs: int = 24) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(SIM_EXE), "sim", "--port", str(self.port), "--runs", str(runs)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.control("GET", "/faults")
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("runwatch sim did not start") from None
                time.sleep(0.05)

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def base_url(self, provider: str) -> str:
        return f"{self.url}/{provider}"

    def control(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_sim{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())

    def api(self, provider: str, method: str, path: str, body: object = None) -> Any:
        """A request to one of the APIs, as a script would make it (to change the world)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url(provider)}{path}", data=data, method=method,
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {TOKENS[provider]}"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            raw = answer.read()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode()

    def settle(self) -> None:
        self.control("POST", "/clock/advance", {"seconds": SETTLE_S})

    def request_count(self) -> int:
        return int(self.control("GET", "/requests?since=999999999")["count"])

    def requests_since(self, since: int) -> list[dict[str, str]]:
        return list(self.control("GET", f"/requests?since={since}")["requests"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def write_config(sim: SimProcess, *, providers: Iterable[str] = PROVIDERS,
                 interval: float = 5.0, limit: int = 50) -> tuple[Path, dict[str, str]]:
    """A config for these sources on the simulator, and the env with their tokens."""
    lines = [f"[runwatch]\ninterval = {interval}\nlimit = {limit}\ntimeout = 60.0\n"]
    env = {k: v for k, v in os.environ.items() if k not in ("RUNWATCH_CONFIG", "NO_COLOR")}
    for name in providers:
        scope = "".join(f'{k} = "{v}"\n' for k, v in SCOPES[name].items())
        var = f"BENCH_{name.upper()}_TOKEN"
        env[var] = TOKENS[name]
        lines.append(f'[[sources]]\nname = "{name}"\nprovider = "{name}"\n'
                     f'base_url = "{sim.base_url(name)}"\ntoken_env = "{var}"\n{scope}')
    folder = Path(tempfile.mkdtemp(prefix="runwatch-bench-"))
    path = folder / "config.toml"
    path.write_text("\n".join(lines))
    path.chmod(0o600)
    env["XDG_STATE_HOME"] = str(folder / "state")
    env["XDG_CONFIG_HOME"] = str(folder / "xdg")
    return path, env


def newest_ids(sim: SimProcess) -> dict[str, bytes]:
    """The newest run of every source as the table shows it (its id's first 6 characters:
    Wercker's ids begin with their creation time), read by the real providers."""
    import asyncio

    from runwatch.config import load
    from runwatch.providers import build_providers

    config, env = write_config(sim)
    os.environ.update({k: v for k, v in env.items() if k.startswith("BENCH_")})

    async def fetch() -> dict[str, bytes]:
        providers = build_providers(load(config))
        try:
            return {n: (await p.list_runs())[0].id[:6].encode() for n, p in providers.items()}
        finally:
            for p in providers.values():
                await p.aclose()

    return asyncio.run(fetch())


# -- a process in a pseudo-terminal ---------------------------------------------------------


class PtyApp:
    """`argv` in a pseudo-terminal of the given size; counts what it writes."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None,
                 size: tuple[int, int] = (160, 45)) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        env = dict(os.environ if env is None else env)
        env.update(TERM="xterm-256color", COLUMNS=str(size[0]), LINES=str(size[1]))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     close_fds=True, start_new_session=True)
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

    def wait_for(self, needles: Iterable[bytes], timeout_s: float = 60.0) -> float:
        """Seconds from start until every one of `needles` was written to the terminal."""
        wanted = list(needles)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if all(n in self.output for n in wanted):
                    return time.perf_counter() - self.started
            if self.proc.poll() is not None:
                break
            time.sleep(0.002)
        missing = [n for n in wanted if n not in self.output]
        raise TimeoutError(f"{missing!r} never appeared: {bytes(self.output[-800:])!r}")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.write(self.master, b"q")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)


def minimal_app_argv() -> list[str]:
    """The baseline dashboard: a minimal Textual app showing a 100-row DataTable."""
    return [sys.executable, str(HERE / "minimal_app.py")]


MINIMAL_NEEDLE = b"row-040"  # on screen at 160x45 once the table is drawn


# -- timing -----------------------------------------------------------------------------------


def wall_s(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def interleaved(samples: int, **runs: Callable[[], float]) -> dict[str, float]:
    """The median of `samples` of each, run A, B, A, B, ... so that load on the machine falls
    on all alike; one untimed run of each first (a warm `.pyc` cache, warm disk)."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(samples):
        for name, run in runs.items():
            times[name].append(run())
    return {name: statistics.median(values) for name, values in times.items()}


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- the table ----------------------------------------------------------------------------------

HEADER = ("| figure | runwatch | baseline (same run) | ratio | budget | verdict |\n"
          "|---|---|---|---|---|---|")


def header() -> None:
    """The table's head, unless `make bench` (run_all.py) prints one table for all."""
    if not os.environ.get("RUNWATCH_BENCH_TABLE"):
        print(HEADER, flush=True)


def row(figure: str, value: str, baseline: str = "", ratio: str = "", budget: str = "",
        ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "OVER")
    print(f"| {figure} | {value} | {baseline} | {ratio} | {budget} | {verdict} |", flush=True)


def note(text: str) -> None:
    """Progress and context: on stderr, so the table stays one table."""
    print(text, file=sys.stderr, flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
