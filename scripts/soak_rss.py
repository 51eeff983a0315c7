"""RSS of runwatch's own process over many polls of a changing world: the five real
providers over real HTTP to `runwatch sim` in another process (its clock advanced and runs
rerun as the polls go, so the world keeps changing).

    runwatch sim --port 18933 &
    python scripts/soak_rss.py --port 18933 [--polls 10000]

Prints RSS after poll 100 and after the last, and the growth between them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource

import httpx

from runwatch.config import SourceConfig
from runwatch.http import RetryPolicy
from runwatch.poller import Poller
from runwatch.providers import build_provider

SCOPES = {"services": {"service_id": "svc-web"}, "wercker": {"pipeline_id": "pipeline-1"},
          "currents": {"project_id": "proj-1"}, "conduct": {}, "scheduler": {}}


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / (1 << 20)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--polls", type=int, default=10_000)
    args = parser.parse_args()
    root = f"http://127.0.0.1:{args.port}"
    providers = {
        name: build_provider(
            SourceConfig.model_validate({"name": name, "provider": name,
                                         "base_url": f"{root}/{name}", **scope}),
            token=f"sim-{name}-token", retry=RetryPolicy(attempts=1))
        for name, scope in SCOPES.items()
    }
    poller = Poller(providers, intervals={n: 5.0 for n in providers}, on_event=lambda e: None)
    marks: dict[int, float] = {}
    async with httpx.AsyncClient(base_url=root) as control:
        for poll in range(1, args.polls + 1):
            await control.post("/_sim/clock/advance", json={"seconds": 20})
            if poll % 25 == 0:  # a new run now and then: the world never settles
                for name in ("services", "wercker", "scheduler"):
                    runs = list(poller.runs(name).values())
                    if runs:
                        try:
                            await providers[name].rerun(runs[-1].id)
                        except Exception:  # noqa: BLE001 - a refused rerun is no matter here
                            pass
            for name in providers:
                await poller.poll_once(name)
            if poll in (100, args.polls) or poll % 1000 == 0:
                gc.collect()
                marks[poll] = rss_mib()
                print(f"poll {poll}: {marks[poll]:.1f} MiB", flush=True)
    await poller.aclose()
    first, last = marks[100], marks[args.polls]
    print(f"RSS after 100 polls {first:.1f} MiB, after {args.polls} {last:.1f} MiB: "
          f"{100 * (last - first) / first:+.1f} %")


if __name__ == "__main__":
    asyncio.run(main())
