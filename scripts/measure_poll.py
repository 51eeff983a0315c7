"""CPU of one poll on the real path: the real provider over real HTTP to `runwatch sim` in
another process, through the real Poller (list, parse, map, diff, events; no rendering).

    runwatch sim --runs 10000 --port 18931 &     # and one with --runs 100 on another port
    python scripts/measure_poll.py --port 18931 [--provider services] [--polls 20]

Prints, per figure, the median CPU (time.process_time) of:
- an unchanged poll, beside a bare httpx GET of the same URL in the same run (runwatch's own
  CPU over the request is the difference);
- a poll after 10 runs were rerun (10 new runs in the list: a changed poll);
- the requests each kind of poll made.
Run it with PYTHONPATH pointing at another checkout's src/ to measure that one (before).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time

import httpx

from runwatch.config import SourceConfig
from runwatch.http import RetryPolicy
from runwatch.poller import Poller
from runwatch.providers import build_provider

TOKENS = {p: f"sim-{p}-token" for p in ("services", "wercker", "currents", "conduct",
                                         "scheduler")}
SCOPES = {"services": {"service_id": "svc-web"}, "wercker": {"pipeline_id": "pipeline-1"},
          "currents": {"project_id": "proj-1"}, "conduct": {}, "scheduler": {}}
LIST_PATHS = {"services": "/api/runs?serviceId=svc-web"}


def cpu_ms(start: float) -> float:
    return (time.process_time() - start) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--provider", default="services")
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--polls", type=int, default=15)
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}/{args.provider}"
    source = SourceConfig.model_validate({"name": "m", "provider": args.provider,
                                          "base_url": base, **SCOPES[args.provider]})
    provider = build_provider(source, limit=args.limit, token=TOKENS[args.provider],
                              retry=RetryPolicy(attempts=1), timeout_s=30.0)
    events: list[object] = []
    poller = Poller({"m": provider}, intervals={"m": 5.0}, on_event=events.append)
    await poller.poll_once("m")  # warm: the first list
    await poller.poll_once("m")
    rows = len(poller.runs("m"))

    async def timed_poll() -> tuple[float, int, int]:
        events.clear()
        before = provider.client.request_count
        gc.collect()
        start = time.process_time()
        await poller.poll_once("m")
        spent = cpu_ms(start)
        changed = sum(len(e.changed) for e in events if hasattr(e, "changed"))
        return spent, provider.client.request_count - before, changed

    unchanged, bare, changed_polls = [], [], []
    headers = {"Authorization": f"Bearer {TOKENS[args.provider]}",
               "Accept": "application/json"}
    async with httpx.AsyncClient(headers=headers) as bare_client:
        path = LIST_PATHS.get(args.provider)
        for _ in range(args.polls):
            # An unchanged poll (a live world: skip the rare one that did change).
            spent, requests, changed = await timed_poll()
            if changed == 0:
                unchanged.append((spent, requests))
            if path:
                gc.collect()
                start = time.process_time()
                answer = await bare_client.get(base + path)
                answer.read()
                bare.append(cpu_ms(start))
            # Ten new runs (reruns), then the poll that sees them.
            if args.provider == "services":
                ids = list(poller.runs("m"))[-10:]
                for run_id in ids:
                    await bare_client.post(f"{base}/api/runs/{run_id}/rerun",
                                           json={"data": {"id": run_id}})
                changed_polls.append(await timed_poll())
    med = statistics.median
    print(f"{args.provider}: {rows} rows (limit {args.limit})")
    if not unchanged:
        print("  unchanged poll: none seen (every poll changed something)")
    if unchanged:
        print(f"  unchanged poll: {med(s for s, _ in unchanged):.2f} ms CPU, "
              f"{med(r for _, r in unchanged):g} request(s)")
    if bare and unchanged:
        print(f"  bare httpx GET of the list: {med(bare):.2f} ms CPU "
              f"(runwatch's own: {med(s for s, _ in unchanged) - med(bare):+.2f} ms)")
    if changed_polls:
        print(f"  poll with 10 new runs: {med(s for s, _, _ in changed_polls):.2f} ms CPU, "
              f"{med(c for _, _, c in changed_polls):g} changed, "
              f"{med(r for _, r, _ in changed_polls):g} request(s)")
    await poller.aclose()


if __name__ == "__main__":
    asyncio.run(main())
