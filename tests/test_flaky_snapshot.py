"""Snapshots of the Currents spec results screen with a test marked "flaky 1 in 5" (issue
16): at 80x24 and 200x50, without colour (NO_COLOR) and in ASCII, on the frozen simulator
(seed 7) and a history file holding four earlier runs of the spec."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from textual.pilot import Pilot

from runwatch.demo import demo_config
from runwatch.history import HistoryStore
from runwatch.history.flaky_tests import TestsSeen
from runwatch.models import Run, RunStatus, Spec, TestResult
from runwatch.tui.app import RunwatchApp
from runwatch.tui.screens.spec_results import SpecResultsScreen
from test_tui_run_screen import open_failed_spec, open_run
from tui_helpers import make_app, until


def opened_spec(sim) -> tuple[Run, Spec, list[TestResult]]:  # type: ignore[no-untyped-def]
    """The run and spec the snapshots open (the newest failed Currents run, its first failed
    spec, as `open_run` and the cursor below pick them), and the spec's tests now."""
    async def fetch() -> tuple[Run, Spec, list[TestResult]]:
        provider = sim.provider("currents")
        try:
            runs = sorted(await provider.list_runs(), key=lambda r: r.sort_time, reverse=True)
            run = next(r for r in runs if r.status is RunStatus.FAILED)
            detail = await provider.get_run(run.id)
            spec = next(s for s in detail.specs if s.status is RunStatus.FAILED)
            return run, spec, await provider.get_spec_results(run.id, spec)
        finally:
            await provider.aclose()
    return asyncio.run(fetch())


def remember_four_earlier_runs(sim) -> str:  # type: ignore[no-untyped-def]
    """Four earlier runs of the spec in the history file: with the run on screen, its first
    passed test failed once in five (or, when none passed, its failed test once in five).
    The test's title."""
    run, spec, results = opened_spec(sim)
    marked = next((r for r in results if r.status is RunStatus.PASSED), results[0])
    store = HistoryStore()
    for n in range(1, 5):
        earlier = run.model_copy(update={
            "id": f"earlier-{n}", "created_at": run.created_at - timedelta(hours=n),
            "started_at": None, "finished_at": None})
        failed = marked.status is RunStatus.PASSED and n == 2
        status = RunStatus.FAILED if failed else RunStatus.PASSED
        store.upsert([earlier])
        store.upsert_tests(TestsSeen(earlier, spec, (TestResult(title=marked.title,
                                                                status=status),)))
    store.close()
    return marked.title


def on_the_spec(title: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        screen, detail = await open_run(pilot, "currents")
        await open_failed_spec(pilot, screen, detail)
        app = pilot.app

        def marked() -> bool:
            results = app.screen
            return (isinstance(results, SpecResultsScreen) and results.past is not None
                    and results.results is not None and title in results.flaky)

        await until(pilot, marked, "the spec's tests and their history")
        assert app.screen.flaky[title].mark == "flaky 1 in 5"
        await pilot.pause()
    return run_before


def app_with_history(sim, **options: object) -> RunwatchApp:  # type: ignore[no-untyped-def]
    app = make_app(sim, **options)
    app.session.remember(demo_config(sim.url, interval=60.0))
    return app


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_snapshot_flaky_test_on_spec_results(sim, snap_compare, size) -> None:
    title = remember_four_earlier_runs(sim)
    assert snap_compare(app_with_history(sim), terminal_size=size,
                        run_before=on_the_spec(title))


def test_snapshot_flaky_test_on_spec_results_80x24_no_color(sim, snap_compare,
                                                            monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    title = remember_four_earlier_runs(sim)
    assert snap_compare(app_with_history(sim), terminal_size=(80, 24),
                        run_before=on_the_spec(title))


def test_snapshot_flaky_test_on_spec_results_200x50_ascii(sim, snap_compare) -> None:
    title = remember_four_earlier_runs(sim)
    assert snap_compare(app_with_history(sim, ascii=True), terminal_size=(200, 50),
                        run_before=on_the_spec(title))
