"""The run screen against the simulator of all five APIs: what it shows for each, how it
updates in place, its keys, a step's log with search, a spec's test results, its layout at
80x24 and 160x45, and how it looks (snapshots, dark and 16-colour themes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Markdown, Static

from runwatch.models import Group, RunDetail, RunStatus, Spec, Step, TestCounts
from runwatch.sim import Fault
from runwatch.tui.app import RunwatchApp
from runwatch.tui.dialogs import ConfirmDialog
from runwatch.tui.look import status_look
from runwatch.tui.screens.log import LogScreen
from runwatch.tui.screens.run import RunScreen
from runwatch.tui.screens.runs import RunsScreen
from runwatch.tui.screens.spec_results import SpecResultsScreen
from runwatch.tui.widgets.groups import GroupBars, RunProgress
from runwatch.tui.widgets.log_view import LogLines, LogView, find_matches, split_log
from runwatch.tui.widgets.specs import SpecsTable, fit_columns, shorten_path, spec_key
from runwatch.tui.widgets.timeline import Axis, Span, Timeline, shared_axis, step_span
from tui_helpers import PROVIDERS, make_app, messages, until

SECTIONS = ("steps", "groups", "specs", "content")
# What a failed run of each simulated API shows.
EXPECTED_SECTIONS = {
    "services": {"steps"},
    "wercker": {"steps"},
    "currents": {"groups", "specs"},
    "conduct": {"steps", "content"},
    "scheduler": {"steps", "content"},
}
STEP_TITLES = {"services": "Stages", "wercker": "Steps", "conduct": "Checks",
               "scheduler": "Nodes"}


async def open_run(
    pilot: Pilot, source: str, status: RunStatus = RunStatus.FAILED
) -> tuple[RunScreen, RunDetail]:
    """Open the newest run of `source` in `status` the way enter does; wait for its detail."""
    app: RunwatchApp = pilot.app  # type: ignore[assignment]
    await until(pilot, lambda: app.poller.health(source).state == "ok", f"{source}'s list")
    runs = sorted(app.poller.runs(source).values(), key=lambda r: r.sort_time, reverse=True)
    run = next(r for r in runs if r.status is status)
    app.open_run(run)
    await until(pilot, lambda: isinstance(app.screen, RunScreen)
                and app.screen.detail is not None, f"{source} run {run.id}'s detail")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunScreen) and screen.detail is not None
    return screen, screen.detail


async def open_failed_spec(pilot: Pilot, screen: RunScreen, detail: RunDetail) -> Spec:
    """Enter on the run's first failed spec; wait for its results screen's tests."""
    app = pilot.app
    table = screen.query_one(SpecsTable)
    failed = next(s for s in detail.specs if s.status is RunStatus.FAILED)
    table.focus()
    table.move_cursor(row=table.get_row_index(spec_key(failed)))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, SpecResultsScreen)
                and app.screen.results is not None, "the spec's tests")
    return failed


def text_of(widget: Static) -> str:
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


def timeline_rows(timeline: Timeline) -> list[str]:
    return [timeline.render_line(y).text for y in range(timeline.size.height)]


def shown_sections(screen: RunScreen) -> set[str]:
    return {s for s in SECTIONS if screen.query_one(f"#{s}-section").has_class("-shown")}


# -- what each API's run shows --------------------------------------------------------


@pytest.mark.parametrize("source", PROVIDERS)
async def test_a_failed_run_shows_its_parts(sim, source: str) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, detail = await open_run(pilot, source)
        title = text_of(screen.query_one("#run-title", Static))
        assert title.startswith("✗ failed") and (detail.title or detail.id) in title
        meta = text_of(screen.query_one("#run-meta", Static))
        assert f"{source} run {detail.id}" in meta
        if detail.branch:
            assert f"branch {detail.branch}" in meta
        if detail.commit:
            assert f"commit {detail.commit[:7]}" in meta
        assert shown_sections(screen) == EXPECTED_SECTIONS[source]

        if detail.steps:
            assert text_of(screen.query_one("#steps-title", Static)).startswith(
                STEP_TITLES[source])
            timeline = screen.query_one(Timeline)
            assert [s.id for s in timeline.steps] == [
                s.id for s in sorted(detail.steps, key=lambda s: s.order)]
            rows = timeline_rows(timeline)
            assert rows[0].split()[:2] == ["step", "status"]
            for step, row in zip(timeline.steps, rows[1:], strict=False):
                look = status_look(step.status)
                # Glyph and word, never colour alone; the name; a duration or a dash.
                assert f"{look.glyph} {step.name[:8]}" in row
                assert look.word in row
                assert row.rstrip().endswith(("s", "–"))
            assert any(s.status is RunStatus.FAILED for s in timeline.steps)
        if detail.groups:
            rendered = screen.query_one(GroupBars).render().plain
            for group in detail.groups:
                assert group.id in rendered
                assert group.instances is not None
                assert f"{group.instances.passes}/{group.instances.overall}" in rendered
        if detail.specs:
            table = screen.query_one(SpecsTable)
            assert table.row_count == len(detail.specs)
            failed = next(s for s in detail.specs if s.status is RunStatus.FAILED)
            assert table.get_cell(spec_key(failed), "status").plain == "✗ failed"
            assert "failed" in text_of(screen.query_one("#specs-title", Static))
        if detail.content:
            assert screen.query_one(Markdown).source == detail.content


async def test_the_first_list_focuses_and_enter_hint_follows_the_cursor(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _ = await open_run(pilot, "wercker")
        timeline = screen.query_one(Timeline)
        assert screen.focused is timeline
        first, second = timeline.steps[:2]
        assert text_of(screen.query_one("#step-detail", Static)).startswith(
            f"{status_look(first.status).label} {first.name}")
        await pilot.press("j")
        assert timeline.highlighted == second
        hint = text_of(screen.query_one("#step-detail", Static))
        assert hint.startswith(f"{status_look(second.status).label} {second.name}")
        assert "enter: log" in hint


async def test_a_running_run_shows_how_long_so_far(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _ = await open_run(pilot, "services", RunStatus.RUNNING)
        assert text_of(screen.query_one("#run-title", Static)).startswith("● running")
        assert " · for " in text_of(screen.query_one("#run-meta", Static))
        running = [row for row in timeline_rows(screen.query_one(Timeline)) if "running" in row]
        assert running and "▌" in running[0]  # a growing bar ends in a half block


# -- in-place updates -----------------------------------------------------------------


async def test_update_detail_keeps_focus_and_cursor_and_errors_keep_the_data(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "wercker")
        timeline = screen.query_one(Timeline)
        await pilot.press("down", "down")
        chosen = timeline.highlighted
        assert chosen is not None
        # A newer detail in which the first step was renamed and the run is still the same.
        steps = [detail.steps[0].model_copy(update={"name": "checkout"}), *detail.steps[1:]]
        screen.update_detail(detail.model_copy(update={"steps": steps}), None)
        await pilot.pause()
        assert screen.focused is timeline
        assert timeline.highlighted == chosen
        assert "checkout" in timeline_rows(timeline)[1]

        screen.update_detail(None, "wercker: HTTP 500 Internal Server Error")
        await pilot.pause()
        error = screen.query_one("#run-error", Static)
        assert error.display and error.has_class("-shown")
        assert text_of(error).startswith("⚠ stale: wercker: HTTP 500")
        assert "showing the detail of" in text_of(error)
        assert [s.id for s in timeline.steps] == [s.id for s in steps]  # the data stays
        assert timeline.highlighted == chosen

        screen.update_detail(detail, None)
        await pilot.pause()
        assert not error.has_class("-shown")


async def test_an_error_before_any_detail_says_so(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.poller.health("wercker").state == "ok", "wercker")
        run = next(iter(app.poller.runs("wercker").values()))
        screen = RunScreen(run)
        await app.push_screen(screen)
        screen.update_detail(None, "wercker: connection refused")
        await pilot.pause()
        assert text_of(screen.query_one("#run-error", Static)) == (
            "⚠ stale: wercker: connection refused")
        assert text_of(screen.query_one("#run-loading", Static)) == "no detail yet"
        assert shown_sections(screen) == set()


async def test_update_run_refreshes_the_header(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "services", RunStatus.RUNNING)
        screen.update_run(detail.summary().model_copy(update={"status": RunStatus.CANCELED}))
        await pilot.pause()
        assert text_of(screen.query_one("#run-title", Static)).startswith("⊘ canceled")


async def test_a_theme_change_recolours_the_specs(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "currents")
        table = screen.query_one(SpecsTable)
        failed = next(s for s in detail.specs if s.status is RunStatus.FAILED)

        def colour() -> str | None:
            style = table.get_cell(spec_key(failed), "status").style
            return style.color.name if style.color else None  # type: ignore[union-attr]

        assert colour() == "#f0605a"
        app.theme = "runwatch-light"
        await pilot.pause()
        assert colour() == "#cf222e"


# -- keys -----------------------------------------------------------------------------


async def test_escape_goes_back_to_the_runs(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, "wercker")
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_a_finished_runs_cancel_is_dimmed_and_says_why(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen, detail = await open_run(pilot, "wercker")
        bindings = {b.binding.action: b for b in screen.active_bindings.values()}
        # Wercker calls it abort; the finished run dims it.
        assert "abort" in bindings and not bindings["abort"].enabled
        assert "cancel" not in bindings
        assert bindings["rerun"].enabled
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert f"cannot abort: run {detail.id} has already finished" in messages(app)
        assert sim.sim.mutating_requests() == []


async def test_rerun_asks_first_and_n_sends_nothing(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, "services")
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert sim.sim.mutating_requests() == []


async def test_rerun_confirmed_posts_once(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        _, detail = await open_run(pilot, "services")
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: bool(sim.sim.mutating_requests()), "the rerun request")
        [request] = sim.sim.mutating_requests()
        assert (request.method, request.path) == ("POST", f"/api/runs/{detail.id}/rerun")


async def test_read_only_dims_every_action_and_says_why(sim) -> None:
    app = make_app(sim, read_only=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen, _ = await open_run(pilot, "services", RunStatus.RUNNING)
        bindings = {b.binding.action: b for b in screen.active_bindings.values()}
        assert not any(bindings[a].enabled for a in ("cancel", "rerun", "delete"))
        await pilot.press("D")
        await pilot.pause()
        assert "cannot delete: read-only mode: delete is disabled" in messages(app)
        assert sim.sim.mutating_requests() == []


async def test_kiosk_hides_the_action_keys(sim) -> None:
    app = make_app(sim, kiosk=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _ = await open_run(pilot, "services", RunStatus.RUNNING)
        actions = {b.binding.action for b in screen.active_bindings.values()}
        assert not actions & {"cancel", "abort", "rerun", "delete"}


async def test_y_copies_the_runs_url(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        _, detail = await open_run(pilot, "wercker")
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == detail.url
        assert f"copied the run's API URL: {detail.url}" in messages(app)  # wercker: no web page


# -- a step's log ---------------------------------------------------------------------


@pytest.mark.parametrize("source", ["wercker", "services"])
async def test_enter_opens_a_steps_log_and_slash_finds_a_line(sim, source: str) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _ = await open_run(pilot, source)
        timeline = screen.query_one(Timeline)
        failed = next(i for i, s in enumerate(timeline.steps) if s.status is RunStatus.FAILED)
        timeline.cursor = failed
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.loaded,
                    "the log")
        log_screen = app.screen
        assert isinstance(log_screen, LogScreen) and log_screen.step == timeline.steps[failed]
        lines = log_screen.query_one(LogLines)
        assert lines.lines and app.focused is lines
        plain = [line.plain for line in lines.lines]
        # The line the search should find: the last one that mentions a failure.
        target = max(i for i, line in enumerate(plain) if "fail" in line.lower())

        await pilot.press("slash")
        assert log_screen.query_one(LogView).searching
        await pilot.press(*"FAIL".lower(), "enter")
        assert not log_screen.query_one(LogView).searching
        assert lines.matches and lines.current is not None
        hits = sorted({m.line for m in lines.matches})
        assert target in hits
        status = text_of(log_screen.query_one("#log-status", Static))
        assert f"match {lines.current + 1}/{len(lines.matches)} for “fail”" in status
        # n and N walk the matches and wrap around.
        before = lines.current
        await pilot.press("n")
        assert lines.current == (before + 1) % len(lines.matches)
        await pilot.press("N", "N")
        assert lines.current == (before - 1) % len(lines.matches)
        # The current match's line is on screen.
        line = lines.matches[lines.current].line
        assert lines.scroll_y <= line < lines.scroll_y + lines.scrollable_content_region.height

        await pilot.press("escape")
        assert app.screen is screen
        assert screen.focused is timeline


async def test_a_running_steps_log_is_followed_until_the_step_ends(
    sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runwatch.tui.screens import log as log_module

    monkeypatch.setattr(log_module, "FOLLOW_S", 0.05)
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "services", RunStatus.RUNNING)
        step = screen.query_one(Timeline).highlighted
        assert step is not None and step.status is RunStatus.RUNNING and step.log_available
        await pilot.press("enter")

        def fetches() -> int:
            return sum(r.path == "/api/logs" for r in sim.sim.requests_to("services", "GET"))

        await until(pilot, lambda: fetches() >= 3, "the log fetched again while it runs")
        log_screen = app.screen
        assert isinstance(log_screen, LogScreen)
        # Slow the follow down, and let the fetch already scheduled happen.
        monkeypatch.setattr(log_module, "FOLLOW_S", 60.0)
        seen = fetches()
        await until(pilot, lambda: fetches() > seen, "the scheduled fetch")
        await pilot.pause(0.1)
        before = fetches()
        # The run screen learns the step has passed: one last fetch at once, then no more.
        screen.update_detail(detail.model_copy(update={"steps": [
            s.model_copy(update={"status": RunStatus.PASSED}) if s.id == step.id else s
            for s in detail.steps]}), None)
        await until(pilot, lambda: fetches() == before + 1, "the last fetch")
        assert log_screen.step.status is RunStatus.PASSED
        assert "✓ passed" in text_of(log_screen.query_one("#log-title", Static))
        await pilot.pause(0.2)
        assert fetches() == before + 1


async def test_escape_in_the_search_bar_closes_it_and_stays_on_the_log(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, "wercker")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.loaded,
                    "the log")
        await pilot.press("slash", "x")
        await pilot.press("escape")
        assert isinstance(app.screen, LogScreen)
        assert not app.screen.query_one(LogView).searching


async def test_a_log_that_fails_to_load_says_so_and_r_retries(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, "wercker")
        sim.sim.inject("wercker", Fault(kind="500"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen)
                    and app.screen.query_one("#log-error").has_class("-shown"), "the error")
        log_screen = app.screen
        assert isinstance(log_screen, LogScreen)
        error = text_of(log_screen.query_one("#log-error", Static))
        assert error.startswith("⚠ could not load the log: ") and "r tries again" in error
        assert not log_screen.loaded and app.is_running

        sim.sim.clear_faults()
        await pilot.press("r")
        await until(pilot, lambda: log_screen.loaded, "the log after r")
        assert not log_screen.query_one("#log-error").has_class("-shown")


async def test_enter_on_a_step_of_an_api_without_logs_says_so(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_run(pilot, "scheduler")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert "scheduler keeps no step logs" in messages(app)


# -- a spec's test results ------------------------------------------------------------


async def test_enter_on_a_failed_spec_shows_its_tests_and_errors(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "currents")
        assert screen.focused is screen.query_one(SpecsTable)
        failed = await open_failed_spec(pilot, screen, detail)
        results_screen = app.screen
        assert isinstance(results_screen, SpecResultsScreen)
        assert results_screen.spec == failed
        results = results_screen.results or []
        failing = [r for r in results if r.status is RunStatus.FAILED]
        assert failing and all(r.error for r in failing)
        shown = text_of(results_screen.query_one("#results", Static))
        assert shown.splitlines()[0].startswith(f"{len(results)} tests · {len(failing)} failed")
        # Failures first, each with its error's lines under it.
        assert shown.splitlines()[2].startswith(f"✗ failed    {failing[0].title}")
        first_error_line = (failing[0].error or "").splitlines()[0]
        # Drawn in the colours of its SGR codes (Playwright's), never with the codes.
        assert f"│ {Text.from_ansi(first_error_line).plain}" in shown and "\x1b" not in shown
        # The instance was fetched for this spec.
        paths = [r.path for r in sim.sim.requests_to("currents", "GET")]
        assert f"/v1/instances/{failed.instance_id}" in paths

        await pilot.press("escape")
        assert app.screen is screen


# -- layout ---------------------------------------------------------------------------


async def test_80x24_stacks_the_sections_and_160x45_puts_them_side_by_side(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _ = await open_run(pilot, "conduct")
        left, right = screen.query_one("#run-left"), screen.query_one("#run-right")
        assert screen.has_class("-narrow")
        assert right.region.x == left.region.x and right.region.y > left.region.y
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        assert screen.has_class("-wide")
        assert right.region.y == left.region.y and right.region.x >= left.region.right


async def test_tables_take_the_full_width_without_a_report(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _ = await open_run(pilot, "currents")
        table = screen.query_one(SpecsTable)
        # At 80 columns the flaky count and the time go first (the cursor's marker column
        # takes their room); the group column stays (a spec runs in each group). Waited
        # for: the fit follows the layout, and under load a pause can come before the
        # layout that gives the table its scrollbar (then "took" still fits).
        narrow = ("status", "spec", "group", "passed", "failed")
        await until(pilot, lambda: table.columns_shown == narrow, "the 80-column fit")
        assert table.columns_shown == narrow
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        assert not screen.query_one("#run-right").display
        assert table.size.width > 150
        assert "flaky" in table.columns_shown


async def test_a_run_without_a_report_gives_the_steps_the_full_width(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, _ = await open_run(pilot, "wercker")
        assert not screen.query_one("#run-right").display
        assert screen.query_one(Timeline).size.width > 150


# -- the pieces -----------------------------------------------------------------------


def _at(seconds: float) -> datetime:
    return datetime(2026, 11, 22, 12, tzinfo=UTC) + timedelta(seconds=seconds)


def _step(order: int, start: float | None, end: float | None,
          status: RunStatus = RunStatus.PASSED) -> Step:
    return Step(id=str(order), name=f"s{order}", order=order, status=status,
                started_at=None if start is None else _at(start),
                finished_at=None if end is None else _at(end))


def test_steps_share_one_axis_and_every_started_step_gets_a_cell() -> None:
    now = _at(100).timestamp()
    steps = [_step(1, 0, 60), _step(2, 60, 60.1), _step(3, 61, None, RunStatus.RUNNING),
             _step(4, None, None, RunStatus.QUEUED)]
    axis = shared_axis(steps, now)
    assert axis == Axis(_at(0).timestamp(), 100.0)
    spans = [step_span(s, now) for s in steps]
    assert spans[3] is None
    assert spans[2] == Span(_at(61).timestamp(), now)  # a running step ends now
    assert [axis.cells(s, 50) for s in spans[:3] if s] == [(0, 30), (30, 1), (30, 20)]
    assert shared_axis(steps[3:], now) is None


def test_fit_columns_keeps_the_group_and_drops_numbers_first() -> None:
    narrow = fit_columns(76, 2, longest_spec=22, longest_group=8)
    assert [c for c, _, _ in narrow] == ["status", "spec", "group", "passed", "failed", "took"]
    assert dict((c, w) for c, _, w in narrow)["spec"] >= 22
    wide = fit_columns(150, 1, longest_spec=40)
    assert [c for c, _, _ in wide] == ["status", "spec", "passed", "failed", "flaky", "took"]
    assert dict((c, w) for c, _, w in wide)["spec"] == 42  # the path, not the whole width
    assert sum(w + 2 for _, _, w in fit_columns(90, 1, longest_spec=80)) == 90
    assert shorten_path("cypress/e2e/checkout.cy.ts", 12) == "…ckout.cy.ts"


def test_log_lines_and_smart_case_search() -> None:
    lines = split_log("one\ttab\r\nprogress 10%\rprogress 99%\n\x1b[31mERROR\x1b[0m and error\n")
    assert [line.plain for line in lines] == ["one     tab", "progress 99%",
                                               "ERROR and error"]
    assert lines[2].spans  # the ANSI colour is kept
    assert [(m.line, m.start) for m in find_matches(lines, "error")] == [(2, 0), (2, 10)]
    assert [(m.line, m.start) for m in find_matches(lines, "ERROR")] == [(2, 0)]
    assert find_matches(lines, "") == []


async def test_group_bars_and_progress_fit_the_width() -> None:
    from textual.app import App, ComposeResult

    group = Group(id="chromium", platform="linux", browser="Chrome 124",
                  instances=TestCounts(overall=8, passes=6),
                  tests=TestCounts(passes=40, failures=2, flaky=1))

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield GroupBars([group])
            yield RunProgress()

    app = Host()
    async with app.run_test(size=(60, 10)):
        bars = app.query_one(GroupBars)
        lines = bars.render().plain.splitlines()
        assert lines[0].split() == ["group", "instances", "passed", "failed", "flaky"]
        assert lines[1].startswith("chromium") and lines[1].split()[-4:] == [
            "6/8", "40", "2", "1"]
        assert "██" in lines[1] and "░" in lines[1]  # filled and empty differ without colour
        assert lines[2].strip() == "Chrome 124 · linux"
        assert all(len(line) <= 60 for line in lines) and bars.size.height == 3
        progress = app.query_one(RunProgress)
        progress.set_run(RunStatus.FAILED, 50.0, TestCounts(passes=40, failures=2))
        await app.workers.wait_for_complete()
        text = progress.render().plain
        assert "50%" in text and "tests 40 passed · 2 failed" in text


# -- how it looks ---------------------------------------------------------------------


def _snapshot(source: str, status: RunStatus = RunStatus.FAILED):
    async def run_before(pilot: Pilot) -> None:
        await open_run(pilot, source, status)
        await pilot.pause(0.1)

    return run_before


@pytest.mark.parametrize("theme", ["runwatch-dark", "runwatch-ansi"])
@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
@pytest.mark.parametrize("source", ["wercker", "currents"])
def test_snapshot_run_screen(sim, snap_compare, source: str, size: tuple[int, int],
                             theme: str) -> None:
    app = make_app(sim, theme=theme)
    assert snap_compare(app, terminal_size=size, run_before=_snapshot(source))


def test_snapshot_spec_results(sim, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen, detail = await open_run(pilot, "currents")
        await open_failed_spec(pilot, screen, detail)

    assert snap_compare(make_app(sim), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_log_search(sim, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_run(pilot, "wercker")
        await pilot.press("enter")
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.loaded,
                    "the log")
        await pilot.press("slash", *"working", "enter", "n")
        await pilot.pause()

    assert snap_compare(make_app(sim), terminal_size=(80, 24), run_before=run_before)



async def test_the_run_screen_follows_the_apps_signals_for_its_own_run_only(sim) -> None:
    from runwatch.poller import DetailLoaded, RunsChanged

    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "wercker")
        other = next(r for r in app.poller.runs("wercker").values() if r.id != detail.id)
        # Another run's news, and news of a run with this id on another source: not ours.
        app.poll_event(DetailLoaded("wercker", other.id, None, "wercker: not this one"))
        app.poll_event(RunsChanged("services", (detail.summary().model_copy(
            update={"status": RunStatus.CANCELED, "source": "services"}),), ()))
        await pilot.pause()
        assert not screen.query_one("#run-error").has_class("-shown")
        assert screen.run.status is detail.status
        app.poll_event(DetailLoaded("wercker", detail.id, None, "wercker: HTTP 500"))
        app.poll_event(RunsChanged("wercker", (detail.summary().model_copy(
            update={"status": RunStatus.CANCELED}),), ()))
        await pilot.pause()
        assert "stale: wercker: HTTP 500" in text_of(screen.query_one("#run-error", Static))
        assert screen.run.status is RunStatus.CANCELED


def test_widget_messages_name_their_control() -> None:
    step = Step(id="s", name="build", order=0, status=RunStatus.PASSED)
    timeline = Timeline(now=lambda: 0.0)
    assert Timeline.StepSelected(timeline, step).control is timeline
    assert Timeline.StepHighlighted(timeline, step).control is timeline
    specs = SpecsTable()
    spec = Spec(spec="cypress/e2e/login.cy.ts", status=RunStatus.FAILED)
    assert SpecsTable.SpecSelected(specs, spec).control is specs
