"""The real app in a pseudo-terminal (160x45) against the simulator on loopback:

- start to first runs on screen, five sources (budget < 1.0 s);
- bytes written to the terminal per idle poll and per idle minute (budget: 0 per idle poll);
- bytes written per changed row;
- idle CPU at 1 s and 5 s intervals (budget < 1% of a core at 5 s);
- requests per source per minute (budget: one list request per poll; a paged API needs
  one request per page: Wercker serves 20 runs a page, so 50 runs take 3).

The simulator's clock is frozen, so nothing changes unless the benchmark changes it.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from _harness import PtyApp, judge, row, start_sim, write_config

from runwatch.providers import build_provider
from runwatch.sim import demo_tokens

PROVIDERS = ("services", "wercker", "currents", "conduct", "scheduler")


def newest_ids(url: str) -> dict[str, str]:
    """The id of each source's newest run, as the table will show it (first 8 chars)."""
    from runwatch.demo import demo_config

    async def fetch() -> dict[str, str]:
        out = {}
        for source in demo_config(url).sources:
            provider = build_provider(source, token=demo_tokens()[source.provider])
            runs = await provider.list_runs()
            out[source.name] = runs[0].id[:8]
            await provider.aclose()
        return out

    return asyncio.run(fetch())


def startup(window_s: float) -> None:
    _, server = start_sim()
    ids = newest_ids(server.url)
    config, env = write_config(server.url, providers=PROVIDERS, interval=5.0)
    app = PtyApp(["--config", str(config)], env)
    try:
        seconds = max(app.wait_for(needle.encode()) for needle in ids.values())
    finally:
        app.stop()
        server.stop()
    row("start to first runs on screen (5 sources)", f"{seconds:.2f} s", "< 1.0 s",
        judge(seconds < 1.0))


def idle(interval: float, window_s: float, *, settled: bool, kiosk: bool = False) -> None:
    """Bytes, CPU and requests while polls bring nothing new. `settled`: every run has
    finished, so nothing on screen moves by itself (no spinner, no running duration);
    otherwise the simulator's active runs keep their spinners and durations ticking."""
    sim, server = start_sim()
    if settled:
        sim.clock.advance(86_400.0)  # a day later: every run has finished
    config, env = write_config(server.url, providers=PROVIDERS, interval=interval)
    app = PtyApp(["--config", str(config), *(["--kiosk"] if kiosk else [])], env)
    world = ("kiosk " if kiosk else "") + ("settled" if settled else "live")
    try:
        app.wait_for(b"runs")
        time.sleep(max(3.0, interval * 2))  # let every source settle
        app.keep_output = False
        bytes0, cpu0, requests0 = app.bytes, app.cpu_s(), len(sim.requests)
        time.sleep(window_s)
        written, cpu = app.bytes - bytes0, app.cpu_s() - cpu0
        requests = sim.requests[requests0:]
    finally:
        app.stop()
        server.stop()
    per_min = 60.0 / window_s
    polls = window_s / interval
    label = f"idle {world}, interval {interval:g} s"
    row(f"{label}: bytes written per minute", f"{written * per_min:,.0f}")
    if settled and not kiosk:
        row(f"{label}: bytes per idle poll", f"{written / polls:,.0f}", "0",
            judge(written == 0))
    share = 100.0 * cpu / window_s
    budgeted = kiosk and interval >= 5
    row(f"{label}: CPU", f"{share:.2f} %", "< 1%" if budgeted else "",
        judge(share < 1.0) if budgeted else "")
    counts = {p: sum(1 for r in requests if r.provider == p) * per_min for p in PROVIDERS}
    row(f"{label}: requests per minute per source",
        " ".join(f"{p[:4]}={n:.0f}" for p, n in counts.items()), f"{60 / interval:.0f} polls/min")


def changed_rows(window_s: float) -> None:
    """Change 10 services runs (PATCH their committer) and count the bytes of the next poll."""
    _, server = start_sim()
    config, env = write_config(server.url, providers=("services",), interval=1.0)
    app = PtyApp(["--config", str(config)], env)
    try:
        ids = newest_ids_of(server.url)
        app.wait_for(ids[0][:8].encode())
        time.sleep(3.0)
        app.keep_output = False
        bytes0 = app.bytes
        time.sleep(window_s)
        idle_bytes = app.bytes - bytes0
        headers = {"Authorization": f"Bearer {demo_tokens()['services']}"}
        with httpx.Client(base_url=f"{server.url}/services", headers=headers) as http:
            for i, run_id in enumerate(ids[:10]):
                http.patch(f"/api/runs/{run_id}", json={"committer": f"bench{i}"})
        bytes0 = app.bytes
        time.sleep(window_s)
        change_bytes = app.bytes - bytes0 - idle_bytes
    finally:
        app.stop()
        server.stop()
    row("bytes written per changed row (10 rows, author cell)", f"{change_bytes / 10:,.0f}")


def newest_ids_of(url: str) -> list[str]:
    headers = {"Authorization": f"Bearer {demo_tokens()['services']}"}
    runs = httpx.get(f"{url}/services/api/runs", params={"serviceId": "svc-web"},
                     headers=headers).json()
    runs.sort(key=lambda r: r["createdAt"], reverse=True)
    return [r["id"] for r in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--window", type=float, default=30.0, help="seconds per idle window")
    args = parser.parse_args()
    print("The app in a pseudo-terminal, 160x45, simulator on loopback (frozen clock)")
    startup(args.window)
    idle(5.0, args.window, settled=True)
    idle(1.0, args.window, settled=True)
    idle(5.0, args.window, settled=False)
    idle(5.0, args.window, settled=True, kiosk=True)
    idle(5.0, args.window, settled=False, kiosk=True)
    changed_rows(5.0)


if __name__ == "__main__":
    main()
