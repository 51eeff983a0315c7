"""How long a huge runs list blocks the event loop (issue 8, point 9).

A loopback server answers GET /api/runs with N services runs (a million by default, ~300 MB
of JSON); one `ServicesProvider.list_runs()` is timed while a probe task measures how late
the event loop wakes it (the UI would be frozen for that long), and the client's peak RSS.
The server runs in its own process.

    .venv/bin/python benchmarks/bench_large_list.py [--runs 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import threading
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runwatch.config import SourceConfig
from runwatch.http import RetryPolicy
from runwatch.providers import build_provider
from runwatch.sim.server import ThreadedServer


def runs_body(count: int) -> bytes:
    runs = [
        {
            "id": f"run-{i:08d}",
            "createdAt": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "startedAt": "2026-11-22T12:00:05Z",
            "endedAt": "2026-11-22T12:03:05Z",
            "duration": 180,
            "commitHash": f"{i:040x}",
            "commitMessage": "feat: add notification feature",
            "committer": "ana",
            "status": "success",
            "triggerType": "push",
            "serviceId": "svc-1",
        }
        for i in range(count)
    ]
    return json.dumps(runs).encode()


async def measure(url: str, max_body: int) -> tuple[float, float]:
    source = SourceConfig(name="services", provider="services", base_url=url)
    kwargs = {"max_body": max_body} if _takes_max_body() else {}
    provider = build_provider(source, timeout_s=120.0, retry=RetryPolicy.none(), token="t",
                              **kwargs)
    lag = 0.0
    stop = False

    async def probe() -> None:
        nonlocal lag
        loop = asyncio.get_running_loop()
        while not stop:
            before = loop.time()
            await asyncio.sleep(0.005)
            lag = max(lag, loop.time() - before - 0.005)

    probe_task = asyncio.create_task(probe())
    started = time.perf_counter()
    runs = await provider.list_runs()
    took = time.perf_counter() - started
    stop = True
    await probe_task
    await provider.aclose()
    assert len(runs) == 50, len(runs)
    return took, lag


def _takes_max_body() -> bool:
    import inspect

    return "max_body" in inspect.signature(build_provider).parameters


def serve(count: int, ports: multiprocessing.Queue) -> None:
    """The server, in its own process: its sending must not count as the client's lag."""
    body = runs_body(count)

    async def endpoint(_: Request) -> Response:
        return Response(body, media_type="application/json")

    server = ThreadedServer(Starlette(routes=[Route("/api/runs", endpoint)])).start()
    ports.put((server.url, len(body)))
    threading.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.runs, ports), daemon=True)
    server.start()
    try:
        url, size = ports.get(timeout=600)
        took, lag = asyncio.run(measure(url, max_body=size + 1))
    finally:
        server.terminate()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.runs} runs, {size / 2**20:.0f} MiB body: list_runs {took:.2f} s, "
          f"event loop blocked at most {lag * 1000:.0f} ms, client peak RSS {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()
