"""Helpers of the TUI tests (test_tui_*.py): the app on the simulator, waiting for its polls,
and what it shows. The fixture that keeps the app's state and data dirs in tmp_path is
conftest's `_isolated_dirs`."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.notifications import Notification
from textual.pilot import Pilot

from runwatch.config import Config
from runwatch.demo import demo_config
from runwatch.models import Run
from runwatch.providers import Provider
from runwatch.session import Session
from runwatch.tui.app import RunwatchApp
from runwatch.tui.widgets.runs_table import RunsTable

PROVIDERS = ("services", "wercker", "currents", "conduct", "scheduler")


def make_app(sim, *, config: Config | None = None, read_only_sources: tuple[str, ...] = (),
             **options: object) -> RunwatchApp:
    """The app on the simulator, every source, a frozen clock, polls only when asked."""
    if config is None:
        config = demo_config(sim.url, interval=60.0)
    providers = {p: sim.provider(p, read_only=p in read_only_sources) for p in PROVIDERS}
    return app_on(sim, config, providers, **options)


def app_on(sim, config: Config, providers: dict[str, Provider], **options: object) -> RunwatchApp:
    """The app on these providers (the test closes them with the simulator), a frozen clock."""
    session = Session.on(config, providers, read_only=bool(options.get("read_only")),
                         kiosk=bool(options.get("kiosk")),
                         interval=options.get("interval"),  # type: ignore[arg-type]
                         now=sim.sim.clock.now)
    return RunwatchApp(config, session=session, now=sim.sim.clock.now,
                       **options)  # type: ignore[arg-type]


# Long enough for a first poll on a loaded 2-core machine; a condition that holds returns at once.
UNTIL_S = 20.0


async def until(pilot: Pilot, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + UNTIL_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def all_polled(pilot: Pilot, pause: float | None = None) -> RunwatchApp:
    """Wait for the first poll of every source (then a pause); the app."""
    app: RunwatchApp = pilot.app  # type: ignore[assignment]
    await until(pilot, lambda: all(app.poller.health(s).state == "ok" for s in app.session.sources),
                "every source's first poll")
    await pilot.pause(pause)
    return app


async def loaded(pilot: Pilot) -> RunsTable:
    """Wait for the first poll of every source; the runs table."""
    app = await all_polled(pilot)
    return app.runs_screen.table


def shown_runs(table: RunsTable) -> list[Run]:
    return [table.runs[key] for key in table.shown_keys]


def said(notification: Notification) -> str:
    """A notification as a person reads it: "title: message" (the app writes it as one
    line with no separate title; a title is joined the same way)."""
    n = notification
    return f"{n.title}: {n.message}" if n.title else n.message


def messages(app: RunwatchApp) -> list[str]:
    return [said(n) for n in app._notifications]
