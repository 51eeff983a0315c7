"""A step's text as the real servers send it: services log lines that went to stderr are
marked in words (so NO_COLOR and a copy keep it) and in the error colour; a conduct check's
text opens the way a step's log does."""

from __future__ import annotations

from textual.widgets import Static

from runwatch.models import STDERR_MARK, RunStatus
from runwatch.tui.screens.log import LogScreen
from runwatch.tui.widgets.log_view import LogLines, LogView
from runwatch.tui.widgets.timeline import Timeline
from test_tui_run_screen import open_run, text_of
from tui_helpers import make_app, until


async def open_failed_stage_log(pilot, app) -> LogScreen:
    screen, detail = await open_run(pilot, "services")
    failed = next(s for s in detail.steps if s.status is RunStatus.FAILED)
    app.push_screen(LogScreen(screen.run, failed))
    await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.loaded,
                "the log")
    return app.screen  # type: ignore[return-value]


async def test_stderr_lines_carry_a_word_and_the_error_colour(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        log_screen = await open_failed_stage_log(pilot, app)
        await pilot.pause()  # the log view's layout settles before its size is read
        lines = log_screen.query_one(LogLines)
        plain = [line.plain for line in lines.lines]
        marked = {i for i, line in enumerate(plain) if line.startswith(STDERR_MARK)}
        # The failure is the last line, on stderr; the stage's first line is on stdout.
        assert plain[-1].endswith("failed: exit code 1") and len(plain) - 1 in marked
        assert not plain[0].startswith(STDERR_MARK)
        assert lines.stderr_lines == marked
        status = text_of(log_screen.query_one("#log-status", Static))
        assert status.startswith(f"{len(plain)} lines · {len(marked)} on stderr")

        # A stage's log fits the screen: line y is row y.
        assert len(plain) < lines.scrollable_content_region.height and lines.scroll_y == 0
        error = app.theme_variables["text-error"].lower()

        def in_error_colour(y: int) -> set[str]:
            return {seg.text.strip() for seg in lines.render_line(y)
                    if seg.text.strip() and seg.style and seg.style.color
                    and seg.style.color.triplet and seg.style.color.triplet.hex == error}

        assert "err| " in lines.render_line(len(plain) - 1).text  # the word, colours or not
        coloured = in_error_colour(len(plain) - 1)
        assert "err|" in coloured
        assert any(text.endswith("failed: exit code 1") for text in coloured)
        assert in_error_colour(0) == set()


async def test_a_mark_is_only_a_mark_where_the_provider_makes_marks(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        log_screen = await open_failed_stage_log(pilot, app)
        view = log_screen.query_one(LogView)
        # A log from a provider that does not mark stderr (wercker's plain text) may hold
        # the same characters: they stay text.
        view.set_text("err| from a plain log\nok\n", marks_stderr=False)
        await pilot.pause()
        assert view.lines_widget.stderr_lines == frozenset()
        assert "on stderr" not in text_of(log_screen.query_one("#log-status", Static))
        view.set_text("err| from a plain log\nok\n", marks_stderr=True)
        await pilot.pause()
        assert view.lines_widget.stderr_lines == frozenset({0})


async def test_enter_on_a_conduct_check_opens_its_text(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "conduct")
        timeline = screen.query_one(Timeline)
        timeline.cursor = len(timeline.steps) - 1  # the failed check
        failed = timeline.steps[-1]
        assert failed.status is RunStatus.FAILED and failed.name.startswith(detail.id)
        sim.sim.requests.clear()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.loaded,
                    "the check's text")
        lines = [line.plain for line in app.screen.query_one(LogLines).lines]
        assert lines[:3] == [f"# {failed.name.removeprefix(detail.id + '-')}", "",
                             "Result: fail"]
        assert [(r.method, r.path) for r in sim.sim.requests_to("conduct")] == [
            ("GET", f"/v1/checks/{failed.id}")]
