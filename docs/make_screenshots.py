"""Regenerate the README's screenshots (`make screenshots`): the app on a frozen simulator,
so every run renders the same SVGs."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from runwatch.demo import demo_config
from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens
from runwatch.sim.server import ThreadedServer
from runwatch.tui.app import RunwatchApp

OUT = Path(__file__).parent / "screenshots"
Step = Callable[[RunwatchApp, object], Awaitable[None]]


async def settle(app: RunwatchApp, pilot) -> None:
    for _ in range(200):
        if all(app.poller.health(s).state == "ok" for s in app.session.providers):
            break
        await pilot.pause(0.02)
    await pilot.pause(0.3)


async def open_run(provider: str) -> Step:
    async def step(app: RunwatchApp, pilot) -> None:
        table = app.runs_screen.table
        keys = table.shown_keys
        key = next(k for k in keys if table.runs[k].source == provider
                   and table.runs[k].status.value == "failed")
        app.open_run(table.runs[key])
        await pilot.pause(1.0)
    return step


async def press(*keys: str, wait: float = 0.8) -> Step:
    async def step(app: RunwatchApp, pilot) -> None:
        await pilot.press(*keys)
        await pilot.pause(wait)
    return step


async def break_source(sim: Simulator, source: str) -> Step:
    """`source` answers 500 from now on (until the shot is taken): a stale line to show."""
    from runwatch.sim import Fault

    async def step(app: RunwatchApp, pilot) -> None:
        sim.inject(source, Fault(kind="500"))
        app.poller.refresh(source)
        for _ in range(200):
            if app.poller.health(source).state == "stale":
                break
            await pilot.pause(0.02)
    return step


async def shoot(name: str, size: tuple[int, int], url: str, sim: Simulator,
                steps: list[Step] = (), **options: object) -> None:
    app = RunwatchApp(demo_config(url, interval=3600.0), now=sim.now, demo=True,
                      **options)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        for step in steps:
            await step(app, pilot)
        await pilot.pause(0.3)
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    print(f"docs/screenshots/{name}.svg")


async def main() -> None:
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp()  # never the real state file
    sim = Simulator(SimSettings(seed=7, tokens=dict(demo_tokens())), SimClock(frozen=True))
    server = ThreadedServer(sim.app).start()
    try:
        await shoot("runs", (120, 34), server.url, sim)
        await shoot("runs-80x24", (80, 24), server.url, sim)
        await shoot("run-currents", (120, 34), server.url, sim, [await open_run("currents")])
        await shoot("run-wercker", (120, 34), server.url, sim, [await open_run("wercker")])
        await shoot("run-wercker-log", (120, 34), server.url, sim,
                    [await open_run("wercker"), await press("enter", wait=1.5)])
        await shoot("help", (120, 34), server.url, sim, [await press("question_mark")])
        await shoot("sources", (120, 34), server.url, sim,
                    [await break_source(sim, "services"), await press("S")])
        sim.clear_faults()
        await shoot("confirm", (120, 34), server.url, sim, [await press("j", "c")])
        await shoot("kiosk", (120, 34), server.url, sim, kiosk=True)
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
