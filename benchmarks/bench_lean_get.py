"""One unchanged `SourceClient.get_json` (the body the same as last time: nothing parsed)
on the lean path (runwatch.http_lean) and on httpx (`lean=False`), beside a plain
`http.client` GET of the same URL on a kept-alive connection: CPU of this process
(`time.process_time`) per request over `--polls` requests, interleaved runs, the simulator
in another process.

    .venv/bin/python benchmarks/bench_lean_get.py [--polls 2000] [--rounds 2]

For instruction counts (reproducible under load), run one side under callgrind against a
running `runwatch sim --port P` twice, with N=0 and N=300, and divide the difference by 300:

    valgrind --tool=callgrind .venv/bin/python benchmarks/bench_lean_get.py \\
        --url http://127.0.0.1:P/conduct --lean 1 --polls N
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import time
from urllib.parse import urlsplit

from _harness import TOKENS, SimProcess, header, row

from runwatch.http import RetryPolicy, SourceClient

PATH = "/v1/runs"


async def client_cpu(url: str, lean: bool, polls: int) -> float:
    c = SourceClient(source="conduct", base_url=url, token=TOKENS["conduct"], lean=lean,
                     retry=RetryPolicy.none())
    try:
        for _ in range(20):  # connection, URL and body remembered
            await c.get_json(PATH)
        started = time.process_time()
        for _ in range(polls):
            await c.get_json(PATH)
        return (time.process_time() - started) / max(polls, 1)
    finally:
        await c.aclose()


def plain_cpu(url: str, polls: int) -> float:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=60)
    headers = {"Authorization": f"Bearer {TOKENS['conduct']}", "Accept": "application/json"}
    try:
        for _ in range(20):
            conn.request("GET", parts.path + PATH, headers=headers)
            conn.getresponse().read()
        started = time.process_time()
        for _ in range(polls):
            conn.request("GET", parts.path + PATH, headers=headers)
            conn.getresponse().read()
        return (time.process_time() - started) / max(polls, 1)
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--url", help="a running simulator's conduct base URL (callgrind)")
    parser.add_argument("--lean", choices=("0", "1"), default="1")
    args = parser.parse_args()
    if args.url:
        asyncio.run(client_cpu(args.url, args.lean == "1", args.polls))
        return
    header()
    with SimProcess() as sim:
        sim.settle()
        url = sim.base_url("conduct")
        for _ in range(args.rounds):
            plain = plain_cpu(url, args.polls)
            lean = asyncio.run(client_cpu(url, True, args.polls))
            httpx = asyncio.run(client_cpu(url, False, args.polls))
            row("unchanged get_json, lean path, CPU over a plain request",
                f"{(lean - plain) * 1e3:.3f} ms", f"plain request {plain * 1e3:.3f} ms")
            row("unchanged get_json, httpx, CPU over a plain request",
                f"{(httpx - plain) * 1e3:.3f} ms", f"lean {lean * 1e3:.3f} ms",
                f"{httpx / lean:.1f}x")


if __name__ == "__main__":
    main()
