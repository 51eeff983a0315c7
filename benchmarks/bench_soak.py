"""Memory over a long run: runwatch's poller (the session and its real providers, in this
process; with `--tui`, through the dashboard running headless) polls the installed
`runwatch sim` in another process 10,000 times over HTTP, round-robin over the five sources,
in a world that keeps changing to the end: every services poll creates a run and deletes the
oldest of those it created (`POST`/`DELETE /api/runs`, so new ids keep arriving and old ones
leave the list), and the simulator's clock moves on 20 s every 25 polls (runs progress and
finish). RSS is this process's only: the simulator's memory never counts. Budget (DESIGN
section 10): RSS after 10,000 polls within 5% of after 100.

    .venv/bin/python benchmarks/bench_soak.py [--polls 10000] [--tui]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from collections import deque
from typing import Any

from _harness import PROVIDERS, SimProcess, header, note, row, rss_kib, write_config

KEEP_CREATED = 20


async def soak(sim: SimProcess, total: int, tui: bool) -> dict[int, int]:
    from runwatch.config import load

    path, env = write_config(sim, interval=3600.0)
    os.environ.update({k: v for k, v in env.items() if k.startswith("BENCH_")})
    if not tui:
        from runwatch.session import Session

        session = Session.from_config(load(path))
        try:
            return await polls(sim, session.poller, total, None)
        finally:
            await session.aclose()
    from runwatch import collector
    from runwatch.tui.app import RunwatchApp

    # As `runwatch` starts it: the collector paused, so the app resumes it START_S after its
    # mount, collecting once and freezing the survivors (runwatch.collector).
    collector.pause()
    # The app's own loops poll once at start, then not for an hour: the benchmark polls.
    app = RunwatchApp(load(path), interval=3600.0)
    async with app.run_test(size=(160, 45)) as pilot:
        return await polls(sim, app.poller, total, pilot)


async def polls(sim: SimProcess, poller: Any, total: int, pilot: Any) -> dict[int, int]:
    created: deque[str] = deque()
    marks = {100, total, *range(total // 10, total + 1, total // 10)}
    rss: dict[int, int] = {}
    for i in range(1, total + 1):
        name = PROVIDERS[i % len(PROVIDERS)]
        if name == "services":
            made = sim.api("services", "POST", "/api/runs/svc-web", {})
            created.append(made["id"])
            if len(created) > KEEP_CREATED:
                sim.api("services", "DELETE", f"/api/runs/{created.popleft()}")
        if i % 25 == 0:
            sim.control("POST", "/clock/advance", {"seconds": 20})
        await poller.poll_once(name)
        if pilot is not None:
            await pilot.pause()  # the screen takes in the change, as between real polls
        if i in marks:
            gc.collect()
            rss[i] = rss_kib()
            note(f"  poll {i:,}: RSS {rss[i] / 1024:.1f} MiB")
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--polls", type=int, default=10_000)
    parser.add_argument("--tui", action="store_true",
                        help="poll through the dashboard (headless, 160x45), not the poller alone")
    args = parser.parse_args()
    total = args.polls
    what = "the dashboard (headless)" if args.tui else "the poller alone"
    note(f"bench_soak: {total:,} polls of a changing world by {what}, the simulator in "
         "another process")
    header()
    started = time.perf_counter()
    with SimProcess() as sim:
        rss = asyncio.run(soak(sim, total, args.tui))
    growth = 100.0 * (rss[total] - rss[100]) / rss[100]
    row(f"RSS after {total:,} polls of a changing world vs after 100, {what}",
        f"{rss[total] / 1024:.1f} MiB", f"after 100 polls {rss[100] / 1024:.1f} MiB",
        f"{growth:+.1f} %", "within 5 %", abs(growth) <= 5)
    curve = "  ".join(f"{k:,}: {v / 1024:.1f}" for k, v in sorted(rss.items()))
    note(f"  RSS curve (polls: MiB) {curve}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
