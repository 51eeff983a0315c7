"""The runs screen against the simulator of all five APIs: what it shows, how the keys move,
filter, sort and switch sources, how polls update it in place, and how it looks."""

from __future__ import annotations

from textual.pilot import Pilot

from runwatch.models import RunStatus
from runwatch.poll_events import RunTransition
from runwatch.sim import Fault
from runwatch.state import load_state
from runwatch.tui.app import NO_CONFIG_NOTICE
from runwatch.tui.dialogs import ConfirmDialog
from runwatch.tui.runs_view import fit_columns, row_key
from runwatch.tui.screens.runs import RunsScreen
from runwatch.tui.widgets.source_bar import SourceBar
from tui_helpers import PROVIDERS, loaded, make_app, messages, shown_runs, until

# -- what is shown -------------------------------------------------------------------


async def test_runs_of_all_five_sources_newest_first(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        runs = shown_runs(table)
        assert {r.source for r in runs} == set(PROVIDERS)
        expected = sum(len(app.poller.runs(p)) for p in PROVIDERS)
        assert len(runs) == table.row_count == expected
        times = [r.sort_time for r in runs]
        assert times == sorted(times, reverse=True)
        # Every column fits at 160 columns; status is glyph and word.
        assert table.columns_shown == ("source", "status", "id", "title", "branch", "author",
                                       "progress", "tests", "started", "duration")
        failed = next(r for r in runs if r.status is RunStatus.FAILED)
        assert table.get_cell(row_key(failed.source, failed.id), "status").plain == "✗ failed"


async def test_columns_drop_by_priority_at_80x24(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        assert table.columns_shown == ("source", "status", "id", "title", "started")
        await pilot.press("tab")  # one source: its column goes, the title gets the room
        assert "source" not in table.columns_shown
        assert "progress" in table.columns_shown


def test_fit_columns_keeps_priority_order_and_the_sorted_on_column() -> None:
    # The sorted-on column ("started" for newest first) comes before every other.
    assert [c for c, _ in fit_columns(50)] == ["status", "title", "started"]
    assert [c for c, _ in fit_columns(62)] == ["status", "id", "title", "started"]
    assert [c for c, _ in fit_columns(50, sort="duration")] == ["status", "title", "duration"]
    widths = dict(fit_columns(200))
    assert len(widths) == 10 and widths["title"] > 24
    assert sum(w + 2 for w in widths.values()) == 200


def test_fit_columns_give_each_column_its_longest_value_and_drop_empty_ones() -> None:
    natural = {"source": 9, "status": 11, "id": 36, "title": 60, "branch": 30, "author": 14,
               "progress": 0, "tests": 0, "started": 7, "duration": 8}
    widths = dict(fit_columns(200, natural))
    assert "progress" not in widths and "tests" not in widths  # empty on every row
    assert (widths["id"], widths["branch"], widths["author"]) == (36, 30, 14)
    assert sum(w + 2 for w in widths.values()) == 200  # the title takes the rest
    # An empty column still comes when the sort orders by it.
    assert "duration" in dict(fit_columns(200, {**natural, "duration": 0}, sort="duration"))


async def test_header_badges_and_demo_notice(sim) -> None:
    app = make_app(sim, read_only=True, demo=True, no_config=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        assert app.screen.query_one("#badge-read-only").display
        assert app.screen.query_one("#badge-demo").display
        assert not app.screen.query_one("#badge-paused").display
        assert any(NO_CONFIG_NOTICE in m for m in messages(app))


async def test_plain_app_has_no_badges(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        for badge in ("read-only", "demo", "kiosk", "paused"):
            assert not app.screen.query_one(f"#badge-{badge}").display


# -- keys -----------------------------------------------------------------------------


async def test_j_k_and_arrows_move_and_the_selection_follows(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        screen = app.runs_screen
        assert table.cursor_row == 0
        await pilot.press("j", "j", "down")
        assert table.cursor_row == 3
        assert screen.selected == shown_runs(table)[3]
        await pilot.press("k", "up")
        assert table.cursor_row == 1
        assert screen.selected == shown_runs(table)[1]


async def test_filter_enter_puts_cursor_on_first_match_and_escape_clears(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        total = table.row_count
        await pilot.press("j", "j", "j", "j", "j")
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#filter")
        await pilot.press(*"dark mode", "enter")
        runs = shown_runs(table)
        assert runs and all("dark mode" in (r.title or "") for r in runs)
        assert len(runs) < total
        assert table.cursor_row == 0 and app.focused is table
        assert not app.screen.query_one("#filter").display
        assert "/dark mode" in str(app.screen.query_one("#view-state").render())
        # Matches the branch and the author too, case-insensitively.
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"RELEASE/", "enter")
        assert shown_runs(table) and all(r.branch == "release/2.4" for r in shown_runs(table))
        await pilot.press("escape")
        assert table.row_count == total and table.view.text == ""


async def test_escape_in_the_filter_input_clears_and_closes_it(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        total = table.row_count
        await pilot.press("slash", *"RUN-02")
        assert 0 < table.row_count < total  # it narrows as you type
        await pilot.press("escape")
        field = app.screen.query_one("#filter")
        assert not field.display and app.focused is table
        assert table.row_count == total and table.view.text == ""


async def test_s_cycles_the_status_filter(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        total = table.row_count
        await pilot.press("s")
        assert table.view.status == "active"
        assert shown_runs(table) and all(r.status.is_active for r in shown_runs(table))
        await pilot.press("s")
        assert table.view.status == "failed"
        assert shown_runs(table) and all(
            r.status in (RunStatus.FAILED, RunStatus.TIMED_OUT) for r in shown_runs(table))
        await pilot.press("s")
        assert table.view.status == "all" and table.row_count == total


async def test_o_cycles_the_sort_and_keeps_the_cursor_on_its_run(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        await pilot.press("j", "j")
        selected = app.runs_screen.selected
        await pilot.press("o")
        assert table.view.sort == "status"
        ranks = [r.status for r in shown_runs(table)]
        assert ranks[0] is RunStatus.FAILED and ranks[-1] is RunStatus.PASSED
        assert app.runs_screen.selected == selected
        await pilot.press("o")
        assert table.view.sort == "source"
        sources = [r.source for r in shown_runs(table)]
        assert sources == sorted(sources)
        await pilot.press("o")
        assert table.view.sort == "duration"
        await pilot.press("o")
        assert table.view.sort == "newest"
        assert "sort: newest" in str(app.screen.query_one("#view-state").render())


async def test_tab_cycles_the_source_shown(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        seen = []
        for _ in PROVIDERS:
            await pilot.press("tab")
            seen.append(table.view.source)
            assert {r.source for r in shown_runs(table)} == {table.view.source}
        assert seen == list(PROVIDERS)
        await pilot.press("tab")
        assert table.view.source is None
        await pilot.press("shift+tab")
        assert table.view.source == "scheduler"
        await pilot.press("escape")  # escape clears every filter, the source too
        assert table.view.source is None


async def test_enter_opens_the_run_and_escape_comes_back(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        index = next(i for i, r in enumerate(shown_runs(table)) if r.source == "services")
        await pilot.press(*["j"] * index)  # services' newest run
        run = app.runs_screen.selected
        assert run is not None and run.source == "services"
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, RunsScreen), "the run screen")
        path = f"/api/runs/{run.id}"
        await until(pilot, lambda: any(r.path == path for r in sim.sim.requests_to("services")),
                    "the run's detail")
        assert getattr(app.screen, "run", None) is not None and app.screen.run.id == run.id
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen), "the runs screen")
        assert table.cursor_row == index
        # Detail polling stopped: a refresh asks for lists only.
        sim.sim.requests.clear()
        app.poller.refresh()
        await until(pilot, lambda: len(sim.sim.requests_to("services")) >= 1, "a list poll")
        await pilot.pause(0.2)
        assert not any(r.path == path for r in sim.sim.requests)


# -- live updates -------------------------------------------------------------------------


async def test_a_poll_updates_rows_in_place_and_keeps_the_cursor(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        await pilot.press("j", "j", "j", "j")
        selected = app.runs_screen.selected
        assert selected is not None
        before = table.row_count
        running = [r for r in shown_runs(table) if r.status is RunStatus.RUNNING]
        sim.sim.clock.advance(600)  # new runs arrive, running ones finish
        app.poller.refresh()
        await until(pilot, lambda: table.row_count > before, "new runs")
        await pilot.pause(0.2)
        assert app.runs_screen.selected is not None
        assert app.runs_screen.selected.key == selected.key  # the same run, wherever it is
        assert table.cursor_row > 4
        for run in running:
            cell = table.get_cell(row_key(run.source, run.id), "status").plain
            assert cell != "● running"
        times = [r.sort_time for r in shown_runs(table)]
        assert times == sorted(times, reverse=True)


async def test_a_failing_source_is_shown_stale_and_keeps_its_runs(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        before = table.row_count
        sim.sim.inject("wercker", Fault(kind="500"))
        app.poller.refresh("wercker")
        await until(pilot, lambda: app.poller.health("wercker").state == "stale", "stale")
        await pilot.pause()
        line = str(app.screen.query_one("#health-wercker").render())
        assert "wercker  stale since" in line
        assert "simulated internal error" in line
        assert "next try in" in line
        assert table.row_count == before
        assert "services  ok · 24 runs" in str(app.screen.query_one("#health-services").render())


async def test_a_run_that_fails_notifies_and_rings_the_bell(sim, monkeypatch) -> None:
    app = make_app(sim)
    app.config = app.config.model_copy(update={
        "runwatch": app.config.runwatch.model_copy(update={"bell": True})})
    bells: list[bool] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(True))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        table = await loaded(pilot)
        run = next(r for r in shown_runs(table) if r.status is RunStatus.FAILED)
        app.poll_event(RunTransition(run, RunStatus.RUNNING))
        passed = next(r for r in shown_runs(table) if r.status is RunStatus.PASSED)
        app.poll_event(RunTransition(passed, RunStatus.RUNNING))
        await pilot.pause()
        failures = [n for n in app._notifications if n.severity == "error"]
        assert len(failures) == 1 and run.id in failures[0].message
        assert bells == [True]


async def test_p_pauses_and_resumes_polling(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.screen.active_bindings["p"].binding.description == "pause"
        await pilot.press("p")
        assert app.poller.paused
        assert app.screen.query_one("#badge-paused").display
        assert app.screen.active_bindings["p"].binding.description == "resume"
        assert "paused" in str(app.screen.query_one("#health-services").render())
        await pilot.press("p")
        assert not app.poller.paused


async def test_r_polls_now(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        polls = app.poller.poll_count("currents")
        await pilot.press("r")
        await until(pilot, lambda: app.poller.poll_count("currents") > polls, "a new poll")


async def test_y_copies_the_url_or_id(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        table = await loaded(pilot)
        run = shown_runs(table)[0]
        await pilot.press("y")
        assert app.clipboard == (run.url or run.id)
        assert any("copied" in m for m in messages(app))


async def test_theme_from_the_palette_is_remembered(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.theme == "runwatch-dark"
        app.theme = "runwatch-light"
        await pilot.pause()
        assert load_state()["theme"] == "runwatch-light"
    # ... and picked up next time
    again = make_app(sim)
    assert again.theme == "runwatch-light"
    assert make_app(sim, theme="runwatch-ansi").theme == "runwatch-ansi"


async def test_an_unknown_theme_falls_back_with_a_warning(sim) -> None:
    app = make_app(sim, theme="no-such-theme")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        assert app.theme == "runwatch-dark"
        assert any("no-such-theme" in m for m in messages(app))


async def test_source_lines_name_each_source(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        lines = [str(s.render()) for s in app.screen.query_one(SourceBar).query(".source-health")]
        assert [line.split()[1] for line in lines] == list(PROVIDERS)
        # no ticking "updated N s ago" outside the kiosk: an idle screen redraws nothing
        assert all(line.endswith((" ok · 24 runs", " ok · 19 runs")) for line in lines), lines


# -- snapshots ----------------------------------------------------------------------------


async def _settle(pilot: Pilot) -> None:
    await loaded(pilot)
    await pilot.pause(0.1)


def test_snapshot_runs_80x24(sim, snap_compare) -> None:
    assert snap_compare(make_app(sim), terminal_size=(80, 24), run_before=_settle)


def test_snapshot_runs_160x45(sim, snap_compare) -> None:
    assert snap_compare(make_app(sim, demo=True), terminal_size=(160, 45), run_before=_settle)


def test_snapshot_runs_ansi_read_only(sim, snap_compare) -> None:
    app = make_app(sim, theme="runwatch-ansi", read_only=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


def test_snapshot_help(sim, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(sim), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_confirm_dialog(sim, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmDialog)

    assert snap_compare(make_app(sim), terminal_size=(80, 24), run_before=run_before)
