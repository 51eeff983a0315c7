"""Shared pieces of the benchmarks (DESIGN section 10): the installed `runwatch sim` in
another process, a config pointing at it, the real app in a pseudo-terminal whose output
bytes, CPU time and RSS we read, and the one table every benchmark prints into.

Every figure runs the real providers over real HTTP against that simulator process; nothing
of the simulator runs in the measured process.

`.pyc` warm is made true, not assumed: importing this module drops PYTHONDONTWRITEBYTECODE
from the environment every measured child inherits (with it set, each run recompiles every
runwatch module: ~65 ms of a start-up figure), and `warm_pyc()` runs the programs that are
timed once each, bytecode writing on, which compiles exactly what they import (not the
venv's other 2,000 modules), then checks that every source module in each one's
`sys.modules` has a fresh `.pyc`.
"""

from __future__ import annotations

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
# The older pages each paged API reads again every REREAD_EVERY-th poll (providers.kit) when
# nothing else asks for them: wercker at limit 50, two pages of 20 after the first.
OLDER_PAGES = {"wercker": 2}
# The measured children write and read .pyc like a user's install does (see the docstring).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


# Run in a child: the program `argv[2:]` as `python SCRIPT ARGS` would run it, then, at its
# exit, the source files of its modules (those a .pyc stands for) into the file `argv[1]`.
_LIST_IMPORTS = """
import atexit, importlib.machinery, json, os, runpy, sys
into = sys.argv[1]
def listed():
    specs = [getattr(m, "__spec__", None) for m in list(sys.modules.values())]
    files = sorted({s.origin for s in specs if s is not None and s.origin
                    and isinstance(s.loader, importlib.machinery.SourceFileLoader)})
    with open(into, "w") as out:
        json.dump(files, out)
atexit.register(listed)
script, sys.argv = sys.argv[2], sys.argv[2:]
sys.path[0] = os.path.dirname(os.path.abspath(script))
runpy.run_path(script, run_name="__main__")
"""


def listing_imports(argv: list[str], into: Path) -> list[str]:
    """`argv` (a Python script, or `python SCRIPT ...`) run so that at exit it writes the
    source files of the modules it imported to `into`."""
    program = argv[1:] if argv[0] == sys.executable else argv
    return [sys.executable, "-c", _LIST_IMPORTS, str(into), *program]


def stale_imports(dumps: Iterable[Path]) -> tuple[list[str], list[str]]:
    """The source modules listed in `dumps`, and those of them without a fresh .pyc (a
    program that left no list counts as one stale entry: nothing says what it loaded)."""
    modules: set[str] = set()
    stale: list[str] = []
    for dump in dumps:
        try:
            modules.update(json.loads(dump.read_text()))
        except (OSError, ValueError):
            stale.append(f"{dump.stem}: no module list (it did not exit cleanly)")
    stale += sorted(m for m in modules if not _fresh_pyc(Path(m)))
    return sorted(modules), stale


def warm_pyc() -> str:
    """Run each program bench_startup times once, bytecode writing on: `runwatch --version`,
    `--help`, `list --json` and the dashboard on five simulated sources (in a pty, until
    their runs are on screen), and the minimal Textual app. That compiles what they import
    and nothing else; then say whether every source module each one imported has a fresh
    `.pyc` (`runwatch demo` and the plain client are warmed by their untimed first run)."""
    started = time.perf_counter()
    runwatch = str(BIN / "runwatch")
    with tempfile.TemporaryDirectory(prefix="runwatch-warm-") as tmp, SimProcess() as sim:
        config, env = write_config(sim, interval=30.0)
        dumps = []
        for name, args in (("version", ["--version"]), ("help", ["--help"]),
                           ("list", ["--config", str(config), "list", "--json"])):
            dumps.append(Path(tmp) / f"{name}.json")
            subprocess.run(listing_imports([runwatch, *args], dumps[-1]), env=env, check=True,
                           stdout=subprocess.DEVNULL)
        on_screen = (("dashboard", [runwatch, "--config", str(config)], env,
                      list(newest_ids(sim).values())),
                     ("minimal", minimal_app_argv(), None, [MINIMAL_NEEDLE]))
        for name, argv, app_env, needles in on_screen:
            dumps.append(Path(tmp) / f"{name}.json")
            app = PtyApp(listing_imports(argv, dumps[-1]), app_env)
            try:
                app.wait_for(needles)
            finally:
                app.stop()
        modules, stale = stale_imports(dumps)
    took = time.perf_counter() - started
    if stale:
        return (f".pyc NOT warm: {len(stale)} of the {len(modules)} modules the timed programs "
                f"import have no fresh .pyc (e.g. {stale[0]})")
    return (f".pyc warm: the timed programs run once first ({took:.1f} s), each of the "
            f"{len(modules)} source modules they import checked fresh, PYTHONDONTWRITEBYTECODE "
            "unset for the timed runs")


def _fresh_pyc(source: Path) -> bool:
    """Whether Python would load `source`'s .pyc: its header names the source's mtime and
    size, or (a hash-based .pyc) its hash, or says not to check it."""
    try:
        header = Path(importlib.util.cache_from_source(str(source))).read_bytes()[:16]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            return False
        flags = int.from_bytes(header[4:8], "little")
        if flags & 0b01:  # hash-based: checked against the source only with 0b10 set
            return not flags & 0b10 or header[8:16] == importlib.util.source_hash(
                source.read_bytes())
        stat = source.stat()
    except OSError:
        return False
    return header[8:16] == struct.pack("<II", int(stat.st_mtime) & 0xFFFF_FFFF,
                                       stat.st_size & 0xFFFF_FFFF)


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
