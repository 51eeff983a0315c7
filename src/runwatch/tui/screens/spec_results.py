"""A spec's tests, with the error of each failing one: what a person opens a failed spec for.

Failed tests come first with their error under them; passed and skipped ones follow as one
line each. Fetched in a worker; an error shows in place and `r` tries again.

Errors may carry ANSI SGR colours (Playwright's matcher output; `runwatch.sanitize.clean_log`
keeps SGR and drops every other escape): their colours are drawn, and anything else an escape
could do (links, cursor moves, clearing) is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, cast

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from runwatch.errors import RunwatchError
from runwatch.formatting import format_duration
from runwatch.history.flaky_tests import FlakyTest, Outcome, TestsSeen, flaky_tests
from runwatch.models import Run, RunStatus, Spec, TestResult
from runwatch.tui.host import Host
from runwatch.tui.look import UNICODE, Glyphs, glyphs_of, status_look
from runwatch.tui.widgets.flaky import history_of, read_history
from runwatch.tui.widgets.footer import KeysFooter

MUTED = "$foreground-muted"  # secondary text (labels, units) in Content spans

# Failures first: they are why the screen was opened.
ORDER: dict[RunStatus, int] = {RunStatus.FAILED: 0, RunStatus.TIMED_OUT: 1}


def results_summary(results: Sequence[TestResult]) -> Content:
    """"12 tests · 2 failed · 10 passed"."""
    counts: dict[RunStatus, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    parts = [Content(f"{len(results)} test" + ("" if len(results) == 1 else "s"))]
    for status in sorted(counts, key=lambda s: (ORDER.get(s, 9), s.value)):
        look = status_look(status)
        parts.append(Content.assemble((f"{counts[status]} {look.word}", f"${look.variable}")))
    return Content(" · ").join(parts)


def result_block(result: TestResult, flaky: FlakyTest | None = None,
                 glyphs: Glyphs = UNICODE) -> Content:
    """One test: status, title and duration, "flaky 1 in 5" when the history says so; its
    error indented below."""
    look = status_look(result.status, glyphs)
    title = result.title
    if glyphs.ascii:  # the " › " runwatch joins a Currents title path with (ASCII has none)
        title = title.replace(" › ", " > ")
    head = Content.assemble(
        (look.label.ljust(11), f"${look.variable}"),
        " ",
        (title, "bold" if result.error else ""),
    )
    if result.duration_s is not None:
        head = Content.assemble(head, ("  " + format_duration(result.duration_s), MUTED))
    if flaky is not None:  # words, not a colour alone: NO_COLOR and ASCII read it too
        head = Content.assemble(head, ("  " + flaky.mark, "$text-warning"))
    if not result.error:
        return head
    error_lines = [Content.assemble(("    │ ", MUTED), ansi_line(line))
                   for line in result.error.rstrip().splitlines()]
    return Content("\n").join([head, *error_lines])


def ansi_line(line: str) -> Content:
    """One line of an error in the error colour, with the colours and weights its SGR codes
    ask for; a reset returns to the error colour, and no escape gets through."""
    decoded = Text.from_ansi(line)
    text = Text(decoded.plain, end="")
    for span in decoded.spans:
        style = _sgr_only(span.style if isinstance(span.style, Style) else Style.parse(span.style))
        if style:
            text.stylize(style, span.start, span.end)
    return Content.from_rich_text(text).stylize_before("$text-error")


def _sgr_only(style: Style) -> Style:
    """Colours and weights that differ from the default: never a link, never a "default
    colour" that would paint over the error colour."""
    def colour(value: object) -> object:
        return value if value is not None and not getattr(value, "is_default", True) else None

    return Style(
        color=colour(style.color), bgcolor=colour(style.bgcolor),  # type: ignore[arg-type]
        bold=style.bold or None, dim=style.dim or None, italic=style.italic or None,
        underline=style.underline or None, strike=style.strike or None,
    )


class SpecResultsScreen(Screen[None]):
    """The tests of one spec."""

    DEFAULT_CSS = """
    SpecResultsScreen {
        #results-title { height: auto; padding: 0 1; background: $panel; }
        #results-error { display: none; background: $error-muted; color: $text-error;
                         padding: 0 1; }
        #results-error.-shown { display: block; }
        #results-body { height: 1fr; padding: 0 1; }
        #results { height: auto; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back", tooltip="back to the run"),
        Binding("r", "reload", "reload", tooltip="fetch it again"),
        Binding("j", "scroll('down')", show=False),
        Binding("k", "scroll('up')", show=False),
    ]

    def __init__(self, run: Run, spec: Spec) -> None:
        super().__init__()
        self.run = run
        self.spec = spec
        self.results: list[TestResult] | None = None
        # The spec's test outcomes in the track's recorded runs (None: not read yet).
        self.past: list[Outcome] | None = None
        self.flaky: dict[str, FlakyTest] = {}  # by title

    def compose(self) -> ComposeResult:
        look = status_look(self.spec.status)
        title = Content.assemble(
            ("tests of ", MUTED), (self.spec.spec, "bold"), "  ",
            (look.label, f"${look.variable}"),
            *((("  group ", MUTED), self.spec.group) if self.spec.group else ()),
            ("  · ", MUTED), self.run.source, (" run ", MUTED),
            self.run.id,
        )
        yield Static(title, id="results-title")
        yield Static(id="results-error", markup=False)
        with VerticalScroll(id="results-body"):
            yield Static("loading the tests…", id="results")
        yield KeysFooter()

    @property
    def host(self) -> Host:
        """The app, as a screen may know it."""
        return cast(Host, self.app)

    def on_mount(self) -> None:
        self.query_one("#results-body").focus()
        self.load()
        history = history_of(self)
        if history is not None:
            self.read_past(history.path)

    @work(thread=True, exit_on_error=False, group="history")
    def read_past(self, path: Path | None) -> None:
        """The spec's outcomes in the track's recorded runs: flaky tests (file I/O, so on a
        thread)."""
        run, spec = self.run, self.spec
        past = read_history(path, lambda store: store.test_outcomes(*run.track, spec))
        self.app.call_from_thread(self._got_past, past)

    def _got_past(self, past: list[Outcome]) -> None:
        self.past = past
        if self.results is not None:
            self.show(self.results)

    @work(exclusive=True, exit_on_error=False, group="results")
    async def load(self) -> None:
        """Fetch the tests; a failure is shown on the screen, never raised."""
        error: str | None = None
        try:
            results = await self.host.session.tests(self.run, self.spec)
        except RunwatchError as exc:
            error = str(exc)
        except Exception as exc:  # a bug must not end the app: say so and carry on
            self.log.error("get_spec_results failed", exc)
            error = f"{type(exc).__name__}: {exc}"
        else:
            self.show(results)
        line = self.query_one("#results-error", Static)
        if error is None:
            line.remove_class("-shown")
        else:
            warning = glyphs_of(self).warning
            line.update(f"{warning} could not load the tests: {error} · r tries again")
            line.add_class("-shown")
            if self.results is None:
                self.query_one("#results", Static).update("no tests loaded")

    def show(self, results: Sequence[TestResult]) -> None:
        self.results = list(results)
        # This run's outcomes join the recorded runs' (newest; maybe not written yet).
        seen = TestsSeen(self.run, self.spec, tuple(self.results))
        self.flaky = {f.title: f for f in flaky_tests(self.past or (), seen)}
        ordered = sorted(self.results, key=lambda r: ORDER.get(r.status, 9))
        if not ordered:
            self.query_one("#results", Static).update("this spec reported no tests")
            return
        blocks = [results_summary(ordered), Content(""),
                  *(result_block(r, self.flaky.get(r.title), glyphs_of(self))
                    for r in ordered)]
        self.query_one("#results", Static).update(Content("\n").join(blocks))

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#results-body", VerticalScroll)
        if direction == "down":
            body.scroll_down()
        else:
            body.scroll_up()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)
