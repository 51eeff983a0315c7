"""Cancel, rerun and delete from the runs screen: the confirmation, the one request each sends
to the simulator, and everything that must send nothing (n, escape, read-only, a finished run,
a provider without the action). The kiosk, which has no action keys, is test_tui_kiosk.py's."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from runwatch.config import parse
from runwatch.demo import demo_config
from runwatch.models import Run, RunStatus
from runwatch.sim import Fault
from runwatch.tui.app import RunwatchApp
from runwatch.tui.dialogs import ConfirmDialog
from runwatch.tui.runs_view import row_key
from runwatch.tui.screens.runs import RunsScreen
from runwatch.tui.widgets.runs_table import RunsTable
from tui_helpers import loaded, make_app, said, until


async def select(pilot: Pilot, source: str, *, active: bool) -> Run:
    """Put the cursor on the newest (active or finished) run of `source`."""
    table: RunsTable = pilot.app.runs_screen.table  # type: ignore[attr-defined]
    for index, key in enumerate(table.shown_keys):
        run = table.runs[key]
        if run.source == source and run.status.is_active == active:
            table.move_cursor(row=index)
            await pilot.pause()
            assert pilot.app.runs_screen.selected == run  # type: ignore[attr-defined]
            return run
    raise AssertionError(f"no {'active' if active else 'finished'} run of {source}")


def mutations(sim) -> list[tuple[str, str, str, object]]:
    return [(r.provider, r.method, r.path, r.json()) for r in sim.sim.mutating_requests()]


def notes(app: RunwatchApp) -> list[tuple[str, str]]:
    return [(n.severity, said(n)) for n in app._notifications]


def footer_state(app: RunwatchApp, key: str) -> tuple[str, bool]:
    """The footer's label for `key` and whether it is enabled (else dimmed)."""
    active = app.screen.active_bindings[key]
    return active.binding.description, active.enabled


CANCELS = {  # services says what its stop answered: never "canceled", which it did not say
    "services": ("POST", "/api/runs/{id}/stop", "cancel",
                 "stop sent for run {id}: 1 execution stopped"),
    "wercker": ("PUT", "/api/v3/runs/{id}/abort", "abort", "aborted run {id}"),
    "currents": ("PUT", "/v1/runs/{id}/cancel", "cancel", "canceled run {id}"),
    "scheduler": ("POST", "/api/v1/runs/{id}/cancel", "cancel", "canceled run {id}"),
}


@pytest.mark.parametrize("source", list(CANCELS))
async def test_c_then_y_sends_exactly_the_cancel_request(sim, source: str) -> None:
    method, path, verb, done = CANCELS[source]
    app = make_app(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        run = await select(pilot, source, active=True)
        assert footer_state(app, "c") == (verb, True)
        await pilot.press("c")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        shown = str(dialog.query_one("#confirm-details").render())
        assert run.id in shown and source in shown
        assert verb.capitalize() in str(dialog.query_one("#confirm-question").render())
        assert mutations(sim) == []
        await pilot.press("y")
        done = done.format(id=run.id)
        await until(pilot, lambda: any(done in m for _, m in notes(app)), "the outcome")
        sent = mutations(sim)
        assert [(p, m, pa) for p, m, pa, _ in sent] == [(source, method, path.format(id=run.id))]
        if source == "wercker":
            assert sent[0][3] == {}
        assert ("information", f"{source}: {done}") in notes(app)
        assert isinstance(app.screen, RunsScreen)
        # ... and the source is polled again at once, so the row shows the outcome.
        after = sim.sim.requests.index(next(r for r in sim.sim.requests if r.method == method))
        await until(pilot, lambda: any(r.provider == source and r.method == "GET"
                                       for r in sim.sim.requests[after:]), "a poll")


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_n_and_escape_send_nothing(sim, key: str) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await select(pilot, "services", active=True)
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(key)
        await pilot.pause(0.2)
        assert isinstance(app.screen, RunsScreen)
        assert mutations(sim) == []


async def test_rerun_and_delete_send_their_requests(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        run = await select(pilot, "services", active=False)
        assert footer_state(app, "R") == ("rerun", True)
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: len(mutations(sim)) == 1, "the rerun")
        assert mutations(sim)[0][:3] == ("services", "POST", f"/api/runs/{run.id}/rerun")
        await until(pilot, lambda: any("rerun" in m for _, m in notes(app)), "the outcome")
        run = await select(pilot, "conduct", active=False)
        await pilot.press("D", "y")
        await until(pilot, lambda: len(mutations(sim)) == 2, "the delete")
        assert mutations(sim)[1][:3] == ("conduct", "DELETE", f"/v1/runs/{run.id}")
        await until(pilot, lambda: any(f"deleted run {run.id}" in m for _, m in notes(app)),
                    "the outcome")


async def test_read_only_app_sends_nothing_and_dims_the_keys(sim) -> None:
    app = make_app(sim, read_only=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await select(pilot, "services", active=True)
        assert footer_state(app, "c") == ("cancel", False)
        assert footer_state(app, "R") == ("rerun", False)
        assert footer_state(app, "D") == ("delete", False)
        await pilot.press("c", "y", "R", "y", "D", "y")
        await pilot.pause(0.2)
        assert isinstance(app.screen, RunsScreen)
        assert mutations(sim) == []
        assert ("warning", "cannot cancel: read-only mode: cancel is disabled") in notes(app)


async def test_read_only_source_sends_nothing(sim) -> None:
    app = make_app(sim, read_only_sources=("wercker",))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await select(pilot, "wercker", active=True)
        assert footer_state(app, "c") == ("abort", False)
        await pilot.press("c", "y")
        await pilot.pause(0.2)
        assert mutations(sim) == []
        assert any("wercker is read-only" in m for _, m in notes(app))
        # Another source is not affected.
        await select(pilot, "services", active=True)
        assert footer_state(app, "c") == ("cancel", True)


async def test_a_finished_run_says_why(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        run = await select(pilot, "currents", active=False)
        assert footer_state(app, "c") == ("cancel", False)
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert ("warning", f"cannot cancel: run {run.id} has already finished") in notes(app)
        assert mutations(sim) == []


async def test_a_provider_without_the_action_says_why(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await select(pilot, "conduct", active=True)
        assert footer_state(app, "c") == ("cancel", False)
        await pilot.press("c")
        await pilot.pause()
        assert ("warning", "cannot cancel: conduct has no cancel") in notes(app)
        await select(pilot, "wercker", active=False)
        await pilot.press("D")
        await pilot.pause()
        assert ("warning", "cannot delete: wercker has no delete") in notes(app)
        assert mutations(sim) == []


async def test_an_api_error_is_a_notification_and_the_app_goes_on(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        table = await loaded(pilot)
        await select(pilot, "services", active=True)
        sim.sim.inject("services", Fault(kind="500", times=1))
        await pilot.press("c", "y")
        await until(pilot, lambda: any(s == "error" for s, _ in notes(app)), "the error")
        error = next(m for s, m in notes(app) if s == "error")
        assert error.startswith("cancel failed: ") and "simulated internal error" in error
        assert app.is_running and isinstance(app.screen, RunsScreen)
        row = table.cursor_row
        await pilot.press("j")
        assert table.cursor_row == row + 1


async def test_the_cancel_command_in_the_palette_asks_first(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        run = await select(pilot, "scheduler", active=True)
        await pilot.press("ctrl+p")
        await pilot.press(*f"cancel run {run.id[:8]}")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the dialog")
        await pilot.press("escape")
        await pilot.pause()
        assert mutations(sim) == []


async def test_a_services_run_stopped_here_reads_canceled_and_raises_no_failure(sim) -> None:
    """The services API has no canceled state: the run it was asked to stop ends FAILURE.
    This process knows it sent the stop, so the run reads canceled (stopped here), in the
    table and on the run screen, and no failure toast is raised for it."""
    from runwatch.tui.screens.run import RunScreen

    app = make_app(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        table = await loaded(pilot)
        run = await select(pilot, "services", active=True)
        await pilot.press("c", "y")
        await until(pilot, lambda: any("stop sent" in m for _, m in notes(app)), "the outcome")

        def shown() -> Run:
            return next(r for r in table.runs.values() if r.key == run.key)

        await until(pilot, lambda: shown().status.is_terminal, "the stopped run's next poll")
        stopped = shown()
        assert (stopped.status, stopped.provider_status, stopped.stopped_here) == (
            "canceled", "FAILURE", True)
        assert app.session.stopped_here(stopped)
        # The API says FAILURE all the same: only this process knows better.
        raw = app.session.poller.runs("services")[run.id]
        assert raw.status == "failed" and app.session.stopped_here(raw)
        assert not any(sev == "error" or "failed" in m for sev, m in notes(app)), notes(app)
        # The table says so too: in full where the status column has room, else marked `*`.
        key = row_key("services", run.id)
        await until(pilot, lambda: table.get_cell(key, "status").plain
                    == "⊘ canceled (stopped here)", "the full words at 160 columns")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: table.get_cell(key, "status").plain == "⊘ canceled*",
                    "the short mark at 80 columns")
        marked = [k for k in table.shown_keys if table.get_cell(k, "status").plain.endswith("*")]
        assert marked == [key]  # the API's other failures stay failures
        await pilot.resize_terminal(160, 45)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        await until(pilot, lambda: screen.detail is not None, "the detail")
        title = str(screen.query_one("#run-title").render())
        meta = str(screen.query_one("#run-meta").render())
        assert title.startswith("⊘ canceled (stopped here)"), title
        assert "canceled by runwatch" in meta and "(stopped here)" in meta, meta
        assert screen.detail.status == "canceled" and screen.detail.stopped_here
        assert not any(sev == "error" for sev, _ in notes(app)), notes(app)


async def test_after_a_rerun_the_cursor_follows_the_new_run(sim) -> None:
    # Issue 16: `R` then `y`; once a poll lists the run it started, the cursor is on it.
    app = make_app(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        run = await select(pilot, "services", active=False)
        await pilot.press("R", "y")
        await until(pilot, lambda: any(" as run " in m for _, m in notes(app)), "the outcome")
        new_id = next(m for _, m in notes(app) if " as run " in m).rsplit(" ", 1)[-1]
        assert new_id != run.id
        app.poller.refresh("services")
        table = app.runs_screen.table
        await until(pilot, lambda: (table.selected_run or run).id == new_id, "the cursor")
        assert table.selected_run is not None and table.selected_run.source == "services"


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_snapshot_a_run_stopped_here_no_colour(
    sim, snap_compare, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    # "⊘ canceled*" at 80 columns, "⊘ canceled (stopped here)" at 200, without colour.
    monkeypatch.setenv("NO_COLOR", "1")

    async def run_before(pilot: Pilot) -> None:
        table = await loaded(pilot)
        run = await select(pilot, "services", active=True)
        await pilot.press("c", "y")
        key = row_key("services", run.id)
        await until(pilot, lambda: table.runs[key].stopped_here, "the stopped run")
        await pilot.press("g")
        pilot.app.clear_notifications()
        await pilot.pause(0.1)

    assert snap_compare(make_app(sim), terminal_size=size, run_before=run_before)


async def test_a_rerun_that_fails_raises_one_alert_by_the_notify_rules(sim) -> None:
    # Issue 16 item 6: the run `R` started is followed, and its end goes through [notify].
    notify = parse({"notify": {"on": ["failed"], "quiet": 0}}).notify
    config = demo_config(sim.url, interval=60.0).model_copy(update={"notify": notify})
    app = make_app(sim, config=config)
    alerts = app.session.alert(config)
    written: list[str] = []
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        # The terminal writer is set on mount; a headless app writes nothing, so capture.
        alerts.write, alerts.tmux, alerts.coalesce_s = written.append, False, 0.0
        run = await select(pilot, "services", active=False)
        await pilot.press("R", "y")
        await until(pilot, lambda: any(" as run " in m for _, m in notes(app)), "the outcome")
        new_id = next(m for _, m in notes(app) if " as run " in m).rsplit(" ", 1)[-1]
        app.poller.refresh("services")
        table = app.runs_screen.table
        await until(pilot, lambda: (table.selected_run or run).id == new_id, "the cursor")
        new = table.selected_run
        assert new is not None and not new.status.is_terminal and written == []
        # The simulator's new run fails at its first stage; its clock runs to that end.
        script = sim.sim.apis["services"]._by_id[new_id].script
        script.steps[0].fails = True
        sim.sim.clock.advance(script.planned_end - sim.sim.now() + 1)
        app.poller.refresh("services")
        key = row_key("services", new_id)
        await until(pilot, lambda: table.runs[key].status is RunStatus.FAILED, "the failure")
        await until(pilot, lambda: bool(written), "the alert")
        await app.poller.poll_once("services")  # it is seen failed again: no second alert
        await pilot.pause(0.05)  # past the (zero) coalescing moment
    ours = [s for s in written if new_id in s]
    assert len(ours) == 1, written
    assert f"services: run {new_id} failed" in ours[0] or f"services #{new_id}" in ours[0]
    assert [a.run.id for n in alerts.sent for a in n.alerts].count(new_id) == 1
