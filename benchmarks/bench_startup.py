"""Start-up, each figure beside its baseline measured in the same run (DESIGN section 10):

- `runwatch --version` and `--help` vs `python -c pass` (budget: within 4x);
- `runwatch list --json` on five sources vs a plain-Python client (urllib) making the same
  requests, read back from the simulator's request log (budget: within 2.5x);
- start to all five sources' runs on screen (the newest run of each, in a 160x45 pty) vs a
  minimal Textual app showing a 100-row DataTable (budget: within 2.0x), in a live world and
  a settled one; `runwatch demo` (its simulator in-process) beside it, without a budget;
- beside each budget, without one, what its libraries alone cost: the plain client importing
  `list`'s libraries first, and the minimal app importing pydantic first.

The simulator is the installed `runwatch sim` in another process. Wall-clock times, median
of interleaved runs (A, B, A, B, ...), each command run once untimed first; each timed
program runs once with bytecode writing on (which compiles exactly what it imports), every
module it imported is checked for a fresh `.pyc`, and PYTHONDONTWRITEBYTECODE is unset for
the timed runs (`.pyc` warm, checked: the first line says so).

    .venv/bin/python benchmarks/bench_startup.py [--samples 5] [--other /path/.venv/bin/runwatch]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _harness import (
    BIN,
    HERE,
    MINIMAL_NEEDLE,
    TOKENS,
    PtyApp,
    SimProcess,
    header,
    interleaved,
    minimal_app_argv,
    ms,
    newest_ids,
    note,
    row,
    wall_s,
    warm_pyc,
    write_config,
)
from libraries import DASHBOARD_LIBRARIES, LIST_LIBRARIES, named

RUNWATCH = str(BIN / "runwatch")
OTHER: str | None = None  # --other: another install's runwatch, timed in the same interleave


def ratio_row(figure: str, value: float, base: float, base_name: str, budget: float) -> None:
    ratio = value / base
    row(figure, ms(value), f"{base_name} {ms(base)}", f"{ratio:.1f}x", f"within {budget:g}x",
        ratio <= budget)


def installs() -> dict[str, str]:
    """This install's runwatch, and --other's (labelled "other")."""
    return {"": RUNWATCH, **({" (other install)": OTHER} if OTHER else {})}


def cli_starts(samples: int) -> None:
    runs: dict[str, Callable[[], float]] = {
        "python": lambda: wall_s([sys.executable, "-c", "pass"])}
    for label, exe in installs().items():
        runs[f"version{label}"] = lambda exe=exe: wall_s([exe, "--version"])
        runs[f"help{label}"] = lambda exe=exe: wall_s([exe, "--help"])
    t = interleaved(samples * 2, **runs)
    for label in installs():
        ratio_row(f"`runwatch --version`{label}", t[f"version{label}"], t["python"],
                  "`python -c pass`", 4)
        ratio_row(f"`runwatch --help`{label}", t[f"help{label}"], t["python"],
                  "`python -c pass`", 4)


def list_json(sim: SimProcess, samples: int) -> None:
    config, env = write_config(sim)
    argv = [RUNWATCH, "--config", str(config), "list", "--json"]
    before = sim.request_count()
    wall_s(argv, env)
    plan = {"url": sim.url, "tokens": TOKENS, "requests": sim.requests_since(before)}
    path = Path(tempfile.mkdtemp(prefix="runwatch-bench-")) / "requests.json"
    path.write_text(json.dumps(plan))
    plain = [sys.executable, str(HERE / "plain_client.py"), str(path)]
    runs: dict[str, Callable[[], float]] = {
        "plain": lambda: wall_s(plain),
        "libraries": lambda: wall_s([*plain, "--with-libraries"])}
    for label, exe in installs().items():
        runs[label] = lambda exe=exe: wall_s([exe, *argv[1:]], env)
    t = interleaved(samples, **runs)
    for label in installs():
        ratio_row(f"`list --json`, five sources ({len(plan['requests'])} requests){label}",
                  t[label], t["plain"], "plain-Python client", 2.5)
    # What the libraries alone take of the budget: the rest is runwatch's own.
    row(f"the plain client importing `list`'s libraries first ({named(LIST_LIBRARIES)}; "
        "no budget)", ms(t["libraries"]),
        f"plain-Python client {ms(t['plain'])}", f"{t['libraries'] / t['plain']:.1f}x")


def screen_start(argv: list[str], env: dict[str, str] | None, needles: list[bytes]) -> float:
    app = PtyApp(argv, env)
    try:
        return app.wait_for(needles)
    finally:
        app.stop()


def demo_needles() -> list[bytes]:
    """The newest run of each source as `runwatch demo` shows it: its simulator is seeded, so
    one built here (not measured) has the same runs."""
    import asyncio

    import httpx

    from runwatch.demo import demo_config
    from runwatch.providers import build_providers
    from runwatch.sim.demo import DEMO_URL, demo_simulator

    async def fetch() -> list[bytes]:
        transport = httpx.ASGITransport(app=demo_simulator().app)
        providers = build_providers(demo_config(DEMO_URL), transport=transport)
        try:
            return [(await p.list_runs())[0].id[:6].encode() for p in providers.values()]
        finally:
            for p in providers.values():
                await p.aclose()

    return asyncio.run(fetch())


def screen_starts(sim: SimProcess, samples: int, world: str) -> None:
    config, env = write_config(sim, interval=30.0)
    needles = list(newest_ids(sim).values())
    runs: dict[str, Callable[[], float]] = {
        "minimal": lambda: screen_start(minimal_app_argv(), None, [MINIMAL_NEEDLE]),
        "minimal+pydantic": lambda: screen_start([*minimal_app_argv(), "--with-pydantic"],
                                                 None, [MINIMAL_NEEDLE])}
    for label, exe in installs().items():
        runs[label] = lambda exe=exe: screen_start(
            [exe, "--config", str(config)], env, needles)
    if world == "live":
        demo = demo_needles()
        runs["demo"] = lambda: screen_start([RUNWATCH, "demo"], env, demo)
    t = interleaved(samples, **runs)
    for label in installs():
        ratio_row(f"start to all five sources' runs on screen, {world} world{label}",
                  t[label], t["minimal"], "minimal Textual app", 2.0)
    row(f"the minimal Textual app importing {named(DASHBOARD_LIBRARIES)} first, {world} "
        "world (no budget)", ms(t["minimal+pydantic"]), f"minimal Textual app {ms(t['minimal'])}",
        f"{t['minimal+pydantic'] / t['minimal']:.1f}x")
    if "demo" in t:
        row("`runwatch demo` to all five sources' runs on screen (no budget)", ms(t["demo"]),
            f"minimal Textual app {ms(t['minimal'])}", f"{t['demo'] / t['minimal']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=5, help="timed runs of each (median)")
    parser.add_argument("--other", metavar="RUNWATCH",
                        help="another install's runwatch (e.g. main's), timed in the same "
                        "interleaved runs: before and after in one run")
    args = parser.parse_args()
    global OTHER
    OTHER = args.other
    note(f"bench_startup: wall clock, median of interleaved runs; {warm_pyc()}")
    header()
    cli_starts(args.samples)
    with SimProcess() as sim:
        list_json(sim, args.samples)
        screen_starts(sim, args.samples, "live")
        sim.settle()
        screen_starts(sim, args.samples, "settled")


if __name__ == "__main__":
    main()
