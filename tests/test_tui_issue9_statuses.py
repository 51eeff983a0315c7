"""What issue 9's facts look like on screen, driven against the simulator: a scheduler run
with a skipped node at 100 %, the skipped glyph, Currents' durations and who canceled a
run, Wercker's step notes, and Playwright's coloured errors drawn without their escapes."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Static

from runwatch.models import RunDetail, RunStatus
from runwatch.tui.app import RunwatchApp
from runwatch.tui.look import ASCII, STATUS, status_look
from runwatch.tui.runs_view import row_key
from runwatch.tui.screens.run import RunScreen
from runwatch.tui.widgets.groups import RunProgress
from runwatch.tui.widgets.timeline import Timeline
from test_tui_run_screen import open_failed_spec
from tui_helpers import loaded, make_app, until


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


async def open_run_id(pilot: Pilot, source: str, run_id: str) -> tuple[RunScreen, RunDetail]:
    """Open one run the way enter does; wait for its detail."""
    app: RunwatchApp = pilot.app  # type: ignore[assignment]
    await until(pilot, lambda: run_id in app.poller.runs(source), f"{source} run {run_id}")
    app.open_run(app.poller.runs(source)[run_id])
    await until(pilot, lambda: isinstance(app.screen, RunScreen)
                and app.screen.detail is not None, f"{source} run {run_id}'s detail")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunScreen) and screen.detail is not None
    return screen, screen.detail


def test_skipped_has_its_own_glyph_word_and_colour_variable() -> None:
    look = STATUS[RunStatus.SKIPPED]
    assert (look.glyph, look.word, look.variable) == ("»", "skipped", "run-skipped")
    others = [s for s in RunStatus if s is not RunStatus.SKIPPED]
    assert look.glyph not in {STATUS[s].glyph for s in others}
    assert ASCII.status[RunStatus.SKIPPED] not in {ASCII.status[s] for s in others}
    assert RunStatus.SKIPPED.is_terminal and not RunStatus.SKIPPED.is_active


async def test_a_scheduler_run_with_a_skipped_node_is_done_at_100_percent(sim) -> None:
    sched = sim.sim.apis["scheduler"]
    now = sim.sim.now()
    run = next(r for r in reversed(sched.visible())
               if r.skips and sched.render_run(r, now)["status"] == "succeeded")
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        listed = table.runs[row_key("scheduler", run.run_id)]
        assert (listed.status, listed.progress) == (RunStatus.PASSED, 100.0)
        status = table.get_cell(row_key("scheduler", run.run_id), "status").plain
        assert status == "✓ passed"

        screen, detail = await open_run_id(pilot, "scheduler", run.run_id)

        assert (detail.status, detail.progress) == (RunStatus.PASSED, 100.0)
        progress = screen.query_one(RunProgress)
        assert "100%" in progress.render().plain
        title = plain(screen.query_one("#steps-title", Static))
        assert title.startswith("Nodes  5/5 done")
        rows = [screen.query_one(Timeline).render_line(y).text
                for y in range(screen.query_one(Timeline).size.height)]
        notify = next(r for r in rows if "Notify" in r)
        assert "» Notify" in notify and "skipped" in notify
        look = status_look(RunStatus.SKIPPED)
        assert app.theme_variables.get(look.variable)  # the theme colours it


async def test_a_failed_wercker_run_notes_each_step_and_skips_the_rest(sim) -> None:
    wercker = sim.sim.apis["wercker"]
    now = sim.sim.now()
    script = next(s for s in wercker.scripts if s.visible(now) and s.phase(now) == "failed")
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, detail = await open_run_id(pilot, "wercker", wercker.run_id(script))
        timeline = screen.query_one(Timeline)
        failed = next(s for s in detail.steps if s.status is RunStatus.FAILED)
        assert detail.steps[-1].status is RunStatus.SKIPPED
        timeline.focus()
        for _ in detail.steps:
            if timeline.highlighted is not None and timeline.highlighted.id == failed.id:
                break
            await pilot.press("down")
        await pilot.pause()
        note = plain(screen.query_one("#step-detail", Static))
        assert note.startswith("✗ failed") and "Step failed: exit code 1" in note


async def test_currents_rows_show_durations_and_a_canceled_run_says_who(sim) -> None:
    currents = sim.sim.apis["currents"]
    now = sim.sim.now()
    done = next(r for r in currents.runs if r.script.visible(now)
                and r.script.phase(now) in ("passed", "failed"))
    target = next(r for r in currents.runs if r.script.visible(now) and r is not done
                  and r.script.phase(now) in ("queued", "running"))
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        duration = table.get_cell(row_key("currents", done.run_id), "duration").plain
        assert duration.strip() not in ("", "–")

        await app.session.providers["currents"].cancel(target.run_id)
        sim.sim.clock.advance(120)
        screen, detail = await open_run_id(pilot, "currents", target.run_id)

        assert detail.cancellation is not None
        meta = plain(screen.query_one("#run-meta", Static))
        assert "canceled by api:runwatch-sim 2m ago (apiRequest)" in meta


async def test_playwright_errors_are_drawn_in_their_colours_without_escapes(sim) -> None:
    currents = sim.sim.apis["currents"]
    now = sim.sim.now()

    def coloured(run) -> bool:  # a failed Playwright run whose error has SGR codes
        if run.framework != "playwright" or run.script.phase(now) != "failed":
            return False
        i = next(n for n, s in enumerate(run.script.steps) if s.fails)
        return any("\x1b[31m" in (t.error or "") for t in run.specs[i].tests)

    run = next(r for r in currents.runs if r.script.visible(now) and coloured(r))
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, detail = await open_run_id(pilot, "currents", run.run_id)
        await open_failed_spec(pilot, screen, detail)
        results = app.screen.query_one("#results", Static)
        content = results.content
        assert "\x1b" not in content.plain and "expect(" in content.plain
        # Playwright's red (SGR 31) survives as ANSI colour 1 on the matcher's argument.
        red = [s for s in content.spans
               if getattr(getattr(s.style, "foreground", None), "ansi", None) == 1]
        assert red and any(content.plain[s.start:s.end] in ("locator", "received", "2")
                           for s in red)
        lines = [line.text for line in app.screen.query_one("#results").render_lines(
            results.region.reset_offset)]
        assert not any("\x1b" in line for line in lines)
