"""Start to first runs on screen, two installs compared in one run (issue 11, step 7).

Each install's `runwatch` runs in a pseudo-terminal (160x45) in two ways: `runwatch demo` (its
own simulator, seed 7) and `runwatch --config` on a config for a simulator in this process
(frozen clock). A start is timed from process start until the newest run of every one of the
five sources is on screen. Runs are interleaved (A, B, A, B, ...) so that load on the machine
falls on both alike; the figure is the median.

    .venv/bin/python benchmarks/bench_startup.py --other /work/wt/w5-baseline/.venv/bin/runwatch
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from _harness import BIN, PtyApp, row, start_sim, write_config
from bench_terminal import PROVIDERS, newest_ids

from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.server import ThreadedServer


def demo_ids() -> list[bytes]:
    """The newest run of each source as `runwatch demo` shows it at start: its simulator is
    seeded (7, 24 runs), so one built here has the same runs. Wercker's ids start with their
    creation time in hex, so only the first 6 characters are compared (256 s apart)."""
    sim = Simulator(SimSettings(seed=7, runs=24, tokens=dict(demo_tokens())), SimClock())
    server = ThreadedServer(sim.app).start()
    try:
        return [i[:6].encode() for i in newest_ids(server.url).values()]
    finally:
        server.stop()


def time_start(exe: Path, args: list[str], env: dict[str, str], needles: list[bytes]) -> float:
    app = PtyApp(args, env, exe=exe)
    try:
        return max(app.wait_for(needle) for needle in needles)
    finally:
        app.stop()


def time_version(exe: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(exe), "--version"], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", type=Path, help="another install's runwatch to compare")
    parser.add_argument("--runs", type=int, default=7, help="starts per install and mode")
    args = parser.parse_args()
    installs = {"this": BIN / "runwatch"}
    if args.other:
        installs["other"] = args.other
    _, server = start_sim()
    try:
        config, env = write_config(server.url, providers=PROVIDERS, interval=5.0)
        config_ids = [i.encode() for i in newest_ids(server.url).values()]
        modes = {
            "runwatch --config (sim in another process)":
                (["--config", str(config)], config_ids),
            "runwatch demo": (["demo"], []),
        }
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for label, exe in installs.items():
                for mode, (argv, needles) in modes.items():
                    needles = needles or demo_ids()
                    times.setdefault((label, mode), []).append(
                        time_start(exe, argv, env, needles))
                times.setdefault((label, "runwatch --version"), []).append(time_version(exe))
    finally:
        server.stop()
    print(f"median of {args.runs} interleaved starts; this = {installs['this']}"
          + (f", other = {args.other}" if args.other else ""))
    for mode in [*modes, "runwatch --version"]:
        medians = {label: statistics.median(times[label, mode]) for label in installs}
        text = "  ".join(f"{label} {ms * 1000:.0f} ms" for label, ms in medians.items())
        if args.other:
            text += f"  (this is {(medians['other'] - medians['this']) * 1000:.0f} ms faster)"
        row(mode, text)


if __name__ == "__main__":
    main()
