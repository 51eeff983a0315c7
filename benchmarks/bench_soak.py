"""Memory over a long run: the dashboard (headless, kiosk mode) polls the five simulated
APIs 10,000 times over loopback, with faults mixed in (500, 429, HTML, truncated JSON,
dropped connections), and the simulated runs progressing. Prints RSS after 100 and after
10,000 polls, widgets on screen, open file descriptors and connections.
Budget (DESIGN section 10): RSS after 10,000 polls within 5% of RSS after 100.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from pathlib import Path

from _harness import judge, row, start_sim

from runwatch.demo import demo_config
from runwatch.sim import Fault
from runwatch.tui.app import RunwatchApp

FAULTS = ["500", "429", "html", "truncated", "refuse"]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def tcp_connections() -> int:
    inodes = {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
              if os.path.exists(f"/proc/self/fd/{fd}")}
    return sum(1 for i in inodes if i.startswith("socket:"))


async def soak(total: int) -> dict[str, float]:
    sim, server = start_sim(runs=24)
    sim.record_requests = False  # the simulator's request log would grow, not runwatch
    config = demo_config(server.url, interval=3600.0)
    app = RunwatchApp(config, kiosk=True, demo=True, now=sim.now)
    figures: dict[str, float] = {}
    names = [s.name for s in config.sources]
    started = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        for i in range(1, total + 1):
            name = names[i % len(names)]
            if i % 97 == 0:  # a fault for the next few polls of one source
                sim.inject(name, Fault(kind=FAULTS[i % len(FAULTS)], retry_after=1, times=2))
            if i % 50 == 0:
                sim.clock.advance(7.0)  # runs progress, finish, new ones appear
            await app.poller.poll_once(name)
            if i % 10 == 0:
                await pilot.pause()
            if i in (100, total) or i % (total // 10) == 0:
                gc.collect()
                await pilot.pause()
                figures[f"rss_{i}"] = rss_kib()
                figures[f"widgets_{i}"] = len(list(app.screen.walk_children(with_self=True)))
                figures[f"fds_{i}"] = open_fds()
                figures[f"sockets_{i}"] = tcp_connections()
    figures["seconds"] = time.perf_counter() - started
    server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--polls", type=int, default=10_000)
    total = parser.parse_args().polls
    print(f"Soak: {total:,} polls, kiosk, five simulated APIs, faults mixed in")
    f = asyncio.run(soak(total))
    growth = 100.0 * (f[f"rss_{total}"] - f["rss_100"]) / f["rss_100"]
    row("RSS after 100 polls", f"{f['rss_100'] / 1024:.1f} MiB")
    row(f"RSS after {total:,} polls", f"{f[f'rss_{total}'] / 1024:.1f} MiB", "within 5%",
        judge(abs(growth) <= 5))
    row("RSS growth", f"{growth:+.1f} %")
    curve = [f"{k[4:]}:{v / 1024:.1f}" for k, v in f.items() if k.startswith("rss_")]
    print("  RSS curve (polls:MiB) " + "  ".join(curve))
    tenth = total // 10
    late = 100.0 * (f[f"rss_{total}"] - f[f"rss_{tenth * 2}"]) / f[f"rss_{tenth * 2}"]
    row(f"RSS growth from {tenth * 2:,} to {total:,} polls (after warm-up)", f"{late:+.1f} %")
    row("widgets on screen after 100 / after all", f"{f['widgets_100']:.0f} / "
        f"{f[f'widgets_{total}']:.0f}")
    row("open file descriptors after 100 / after all", f"{f['fds_100']:.0f} / "
        f"{f[f'fds_{total}']:.0f}")
    row("open sockets after 100 / after all", f"{f['sockets_100']:.0f} / "
        f"{f[f'sockets_{total}']:.0f}")
    row("wall time", f"{f['seconds']:.0f} s")


if __name__ == "__main__":
    main()
