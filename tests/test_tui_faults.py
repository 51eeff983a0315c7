"""The dashboard through every fault the simulator can inject: each is survived, reported on
the source's line in words a person understands, and recovered from by itself."""

from __future__ import annotations

import pytest

from runwatch.demo import demo_config
from runwatch.http import RetryPolicy
from runwatch.providers import build_provider
from runwatch.sim import Fault, demo_tokens
from runwatch.sim.server import ThreadedServer
from runwatch.tui.app import RunwatchApp
from tui_helpers import PROVIDERS, app_on, loaded, until


def fault_app(sim, base_url: str | None = None, timeout_s: float = 2.0,
              **source_extra: object) -> RunwatchApp:
    """Every source on the simulator; wercker (the one we break) with a 2 s timeout so a
    hanging server is noticed quickly (the timeout is the whole request's budget, so less
    fails a first poll on a loaded machine), and optionally at another address."""
    config = demo_config(sim.url, interval=60.0)
    providers = {p: sim.provider(p) for p in PROVIDERS}
    wercker = sim.source("wercker", **source_extra)
    if base_url:
        wercker = wercker.model_copy(update={"base_url": base_url})
    providers["wercker"] = build_provider(
        wercker, retry=RetryPolicy(attempts=1), timeout_s=timeout_s,
        token=None if source_extra else demo_tokens()["wercker"],
    )
    return app_on(sim, config, providers)


def health_line(app: RunwatchApp, source: str) -> str:
    return str(app.screen.query_one(f"#health-{source}").render())


async def poll_until(pilot, app: RunwatchApp, state: str) -> None:
    app.poller.refresh("wercker")
    await until(pilot, lambda: app.poller.health("wercker").state == state, state)
    await pilot.pause()


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault(kind="500"), "simulated internal error"),
        (Fault(kind="429", retry_after=30), "rate limit exceeded"),
        (Fault(kind="html"), "returned text/html, not the expected JSON"),
        (Fault(kind="truncated"), "not the expected JSON"),
        (Fault(kind="refuse"), "cannot reach 127.0.0.1"),
        (Fault(kind="hang", hang_s=5.0), "no answer from 127.0.0.1"),
    ],
    ids=["500", "429", "html", "truncated", "refuse", "hang"],
)
async def test_each_fault_is_reported_keeps_the_runs_and_recovers(sim, fault, words) -> None:
    # Only a hang needs the short budget; with it, a loaded machine's slow first poll of
    # wercker read as a timeout, and its backoff outlasted the wait for the first poll.
    app = fault_app(sim, timeout_s=2.0 if fault.kind == "hang" else 10.0)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        runs_before = table.row_count
        sim.sim.inject("wercker", fault)
        await poll_until(pilot, app, "stale")

        line = health_line(app, "wercker")
        assert "wercker  stale since" in line
        assert words in line
        assert "next try in" in line
        assert "Traceback" not in line
        assert table.row_count == runs_before  # the last good data stays
        assert "ok" in health_line(app, "services")  # the others are untouched
        if fault.kind == "429":
            assert app.poller.health("wercker").interval_s >= 30  # Retry-After honoured

        sim.sim.clear_faults()
        await poll_until(pilot, app, "ok")
        assert "stale" not in health_line(app, "wercker")
        assert app.is_running


async def test_a_rejected_token_names_where_it_came_from_never_the_token(
    sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WERCKER_TOKEN", "wrong-secret-value")
    # Nothing here hangs: a generous budget keeps a loaded machine's slow first answer from
    # reading as a timeout instead of the 401 this test is about.
    app = fault_app(sim, timeout_s=10.0, token_env="WERCKER_TOKEN")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.poller.health("wercker").state == "error", "401")
        await pilot.pause()
        line = health_line(app, "wercker")
        assert "token rejected (token from env WERCKER_TOKEN)" in line
        assert "wrong-secret-value" not in line
        assert app.poller.health("wercker").interval_s == 300  # no hammering


async def test_a_server_that_goes_away_and_comes_back(sim) -> None:
    own = ThreadedServer(sim.sim.app).start()
    port = own.port
    app = fault_app(sim, base_url=f"{own.url}/wercker")
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await loaded(pilot)
            own.stop()
            await poll_until(pilot, app, "stale")
            assert "connection refused" in health_line(app, "wercker")

            own = ThreadedServer(sim.sim.app, port=port).start()
            await poll_until(pilot, app, "ok")
            assert "stale" not in health_line(app, "wercker")
    finally:
        own.stop()
