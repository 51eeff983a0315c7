"""CPU and requests per poll on the real path: the dashboard (headless, 160x45, in this
process) polls the installed `runwatch sim` in another process over HTTP with the real
providers; each poll is timed end to end (HTTP, parse, map, diff, render) in CPU time of
this process (`time.process_time`, so the simulator's work never counts).

- per source, live world (its clock running: active runs progress) and settled (every run
  finished): requests per poll (budget: one list request; more only while older pages hold
  an active run; detail only for the run on screen) and CPU per poll;
- settled: a poll that changes nothing, runwatch's CPU over a plain `http.client` request
  for the same URLs on a kept-alive connection (budget: < 0.3 ms; the median difference of
  poll and request made in turn, each after a Textual pause), the poll timed apart from
  Textual's pause after it (an idle pause varies by about a millisecond, more than the
  budget); that pause is shown beside an idle one, to show the poll left nothing to render
  (the bytes it writes are bench_terminal's);
- a poll that changes exactly 10 runs (services, `PATCH /api/runs/{id}` of the newest 10,
  settled world, `limit = 10000`) at 10,000 runs vs at 100 runs (budget: < 40 ms, within 2x),
  beside a plain GET + `json.loads` of the same body.

    .venv/bin/python benchmarks/bench_poll.py [--samples 9] [--only sources|changed]

`RUNWATCH_LEAN_HTTP=0` puts every GET back on httpx (the figures before runwatch.http_lean).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _harness import (
    OLDER_PAGES,
    PROVIDERS,
    TOKENS,
    SimProcess,
    header,
    ms,
    note,
    row,
    write_config,
)

from runwatch.providers.kit import REREAD_EVERY

SIZE = (160, 45)
PAIRED = 3  # (poll, plain request) pairs per sample: the 0.3 ms budget is near the noise


def load_config(path: Path, env: dict[str, str]) -> Any:
    from runwatch.config import load

    os.environ.update({k: v for k, v in env.items() if k.startswith("BENCH_")})
    return load(path)


async def cpu_of(step: Callable[[], Awaitable[None]]) -> float:
    started = time.process_time()
    await step()
    return time.process_time() - started


class PlainClient:
    """The baseline: `http.client` on one kept-alive connection, the body read, not parsed
    (an unchanged poll should not parse either) unless `parse`."""

    def __init__(self, url: str) -> None:
        self.conn = http.client.HTTPConnection(urlsplit(url).netloc, timeout=60)

    def get(self, provider: str, path: str, query: str, parse: bool = False) -> None:
        target = f"/{provider}{path}" + (f"?{query}" if query else "")
        self.conn.request("GET", target, headers={"Authorization": f"Bearer {TOKENS[provider]}",
                                                  "Accept": "application/json"})
        body = self.conn.getresponse().read()
        if parse:
            json.loads(body)

    def close(self) -> None:
        self.conn.close()


async def headless(config: Any, run: Callable[[Any, Any], Awaitable[None]]) -> None:
    from runwatch.tui.app import RunwatchApp

    # The app's own loops poll once at start, then not for an hour: the benchmark polls.
    app = RunwatchApp(config, interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        names = list(app.session.providers)
        deadline = time.monotonic() + 120
        while not all(app.poller.health(n).last_success for n in names):
            assert time.monotonic() < deadline, "the first polls never finished"
            await pilot.pause(0.05)
        await pilot.pause()
        await run(app, pilot)


def per_source(sim: SimProcess, samples: int) -> None:
    path, env = write_config(sim, interval=3600.0)
    config = load_config(path, env)
    plain = PlainClient(sim.url)

    async def world(app: Any, pilot: Any, name: str) -> None:
        for source in PROVIDERS:
            before = sim.request_count()
            cpu = [await cpu_of(poll_of(app, pilot, source)) for _ in range(samples)]
            seen = sim.requests_since(before)
            per_poll = len(seen) / samples
            # A paged API's older pages are read again every REREAD_EVERY-th poll even
            # when settled; that is within its budget.
            older = OLDER_PAGES.get(source, 0)
            allowed = 1 + math.ceil(samples / REREAD_EVERY) * older / samples
            row(f"{source}: requests per poll, {name} world", f"{per_poll:.3g}", "", "",
                f"1{f' + {older} every {REREAD_EVERY}th' if older else ''}",
                per_poll <= allowed + 1e-9)
            if name == "live":
                row(f"{source}: CPU per poll, live world (no budget)",
                    ms(statistics.median(cpu)))
                continue
            # The same requests, plainly; an unchanged poll makes only GETs.
            k = round(per_poll)
            last = seen[-k:] if k else []
            warm = statistics.median([_plain_cpu(plain, last) for _ in range(samples)])
            # What Textual costs to settle with nothing to do (every frame pays it, poll or not).
            settle = statistics.median([await cpu_of(pilot.pause) for _ in range(samples)])
            # The poll alone, its pause untimed: the idle settle varies by about a
            # millisecond between samples, so subtracting it would drown a 0.3 ms budget.
            # Each poll is paired with the plain request made the same way, right after a
            # Textual pause of its own: both start with the caches a frame left (timed back
            # to back, the plain request ran warm: `warm`), and load on the machine falls on
            # both alike; the figure is the median of the pairs' differences.
            alone, base, pairs = [], [], []
            for _ in range(PAIRED * samples):
                alone.append(await cpu_of(lambda s=source: app.poller.poll_once(s)))
                await pilot.pause()
                base.append(_plain_cpu(plain, last))
                await pilot.pause()
                pairs.append(alone[-1] - base[-1])
            over = statistics.median(pairs)
            # Two decimals: at one, 0.34 ms shows as "0.3 ms" beside an OVER.
            row(f"{source}: a poll that changes nothing, CPU over the request",
                f"{over * 1e3:.2f} ms",
                f"plain request {statistics.median(base) * 1e3:.2f} ms after a pause "
                f"({warm * 1e3:.2f} back to back)", "", "< 0.3 ms", over < 0.0003)
            after = statistics.median(cpu) - statistics.median(alone)
            row(f"{source}: Textual's pause after that poll (no render: about an idle one)",
                ms(after), f"idle Textual settle {ms(settle)}", f"{after / settle:.2f}x")

    async def both(app: Any, pilot: Any) -> None:
        await world(app, pilot, "live")
        sim.settle()
        for source in PROVIDERS:  # everything finished on screen before timing
            await app.poller.poll_once(source)
            await app.poller.poll_once(source)
        await pilot.pause()
        await world(app, pilot, "settled")

    asyncio.run(headless(config, both))
    plain.close()


def poll_of(app: Any, pilot: Any, name: str) -> Callable[[], Awaitable[None]]:
    async def poll() -> None:
        await app.poller.poll_once(name)
        await pilot.pause()

    return poll


def _plain_cpu(plain: PlainClient, requests: list[dict[str, str]]) -> float:
    started = time.process_time()
    for r in requests:
        if r["method"] == "GET":
            plain.get(r["provider"], r["path"], r["query"])
    return time.process_time() - started


def changed_poll(runs: int, samples: int) -> tuple[float, float]:
    """CPU of a poll that changes exactly 10 runs of `runs` (services, settled world), and
    of a plain GET + json.loads of the same list."""
    with SimProcess(runs=runs) as sim:
        sim.settle()
        path, env = write_config(sim, providers=("services",), interval=3600.0, limit=10_000)
        config = load_config(path, env)
        listed = sim.api("services", "GET", "/api/runs?serviceId=svc-web")
        newest = [r["id"] for r in sorted(listed, key=lambda r: r["createdAt"],
                                          reverse=True)[:10]]
        note(f"  {runs:,} runs: {len(listed):,} listed for svc-web")
        plain = PlainClient(sim.url)
        times: list[float] = []

        async def measure(app: Any, pilot: Any) -> None:
            poll = poll_of(app, pilot, "services")
            for step in range(samples):
                for i, run_id in enumerate(newest):
                    sim.api("services", "PATCH", f"/api/runs/{run_id}",
                            {"committer": f"bench-{step}-{i}"})
                times.append(await cpu_of(poll))

        asyncio.run(headless(config, measure))
        base = []
        for _ in range(samples):
            started = time.process_time()
            plain.get("services", "/api/runs", "serviceId=svc-web", parse=True)
            base.append(time.process_time() - started)
        plain.close()
    return statistics.median(times), statistics.median(base)


def changed(samples: int) -> None:
    small, small_base = changed_poll(100, samples)
    big, big_base = changed_poll(10_000, samples)
    row("a poll that changes 10 of 100 runs, end to end", ms(small),
        f"plain GET + json.loads {ms(small_base)}")
    row("a poll that changes 10 of 10,000 runs, end to end", ms(big),
        f"plain GET + json.loads {ms(big_base)}", "", "< 40 ms", big < 0.040)
    row("10 changed: at 10,000 runs vs at 100", f"{big / small:.1f}x",
        "the same change at 100 runs", f"{big / small:.1f}x", "within 2x", big / small <= 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=9, help="polls timed per figure")
    parser.add_argument("--only", choices=("sources", "changed"),
                        help="only the per-source figures, or only the 10-changed ones")
    args = parser.parse_args()
    note("bench_poll: CPU of this process per poll, median; the simulator in another process")
    header()
    if args.only != "changed":
        with SimProcess() as sim:
            per_source(sim, args.samples)
    if args.only != "sources":
        changed(args.samples)


if __name__ == "__main__":
    main()
