"""The run screen: one run's header, progress, group bars, step timeline, specs and notes.

It follows the app's signals: `update_detail` with each detail poll of its run (or its
error) and `update_run` with list changes; it publishes its steps (`steps_signal`) to the log
screen it opens, which follows a running step. Both update widgets in place, so focus,
cursors and scroll positions survive a poll; an error shows in a line at the top while the
last good detail stays on screen.

At 80x24 the sections stack in one scrolling column; from 120 columns a run's report (Conduct,
the scheduler) sits beside its steps, groups and specs, each column scrolling on its own;
without a report the tables take the full width.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import Markdown, Static

from runwatch.catalog import CATALOG
from runwatch.formatting import relative_time
from runwatch.models import Run, RunDetail, RunStatus, Step
from runwatch.poller import DetailLoaded, RunsChanged
from runwatch.session import SourceFacts
from runwatch.tui.look import glyphs_of
from runwatch.tui.run_lines import meta_line, step_line, title_line
from runwatch.tui.screens.actions import RUN_ACTION_BINDINGS, RunActionsMixin
from runwatch.tui.widgets.flaky import FlakyLine
from runwatch.tui.widgets.footer import KeysFooter
from runwatch.tui.widgets.groups import GroupBars, RunProgress
from runwatch.tui.widgets.specs import SpecsTable
from runwatch.tui.widgets.timeline import Timeline
from runwatch.tui.widgets.trend import TrackTrend

# What each API calls the parts of a run (the timeline's title).
STEP_NOUNS: dict[str, str] = {name: spec.steps_title for name, spec in CATALOG.items()}

WIDE = 120  # from this width the report stands beside the tables

class RunScreen(RunActionsMixin, Screen[None]):
    """One run in detail. Escape goes back."""

    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [
        (0, "-narrow"), (WIDE, "-wide"),
    ]

    DEFAULT_CSS = """
    RunScreen {
        #run-error {
            display: none;
            background: $error-muted;
            color: $text-error;
            padding: 0 1;
            &.-shown { display: block; }
        }
        #run-header { height: auto; padding: 0 1; background: $panel; }
        #run-title { text-wrap: nowrap; text-overflow: ellipsis; }
        #run-meta { color: $foreground; }
        #run-progress { padding: 0 1; margin-bottom: 1; }
        #run-loading { padding: 0 1; color: $text-muted; }
        #run-body { height: 1fr; }
        .run-column { height: auto; }
        .section { height: auto; margin-bottom: 1; display: none; }
        .section.-shown { display: block; }
        .section-title { padding: 0 1; text-style: bold; color: $text-accent; }
        .section-title.-focused { text-style: bold reverse; }
        #timeline, #groups, #specs { margin: 0 1; }
        #step-detail { padding: 0 1; }
        Markdown { margin: 0 1; padding: 0; background: transparent; }
    }
    RunScreen.-wide {
        #run-body { layout: horizontal; overflow: hidden hidden; }
        .run-column { width: 1fr; height: 100%; overflow-y: auto; }
        #run-left { margin-right: 1; }
        #timeline { max-height: 24; }
        #specs { max-height: 30; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back", tooltip="back to the runs"),
        RUN_ACTION_BINDINGS[0], RUN_ACTION_BINDINGS[1],  # y copy
        Binding("r", "refresh", "refresh", tooltip="poll this run's source now"),
        *RUN_ACTION_BINDINGS[2:],
    ]

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run: Run = run
        # This run's steps, for the log screen opened from here (it follows a running step).
        self.steps_signal: Signal[list[Step]] = Signal(self, "steps")
        self.detail: RunDetail | None = None
        self.error: str | None = None
        self._loaded_at: float | None = None
        self._content: str | None = None
        self._mounted = False

    # -- the app (host: RunActionsMixin) ----------------------------------------------

    @property
    def source(self) -> SourceFacts:
        """What the run's source and its API are."""
        return self.host.session.sources[self.run.source]

    def _now(self) -> float:
        return self.host.now()

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        noun = STEP_NOUNS.get(self.source.api, "Steps")
        yield Static(id="run-error", markup=False)
        with Vertical(id="run-header"):
            yield Static(id="run-title")
            yield Static(id="run-meta")
        yield TrackTrend(self.run, id="run-trend")  # the track's sparkline and streak
        yield RunProgress(id="run-progress")
        yield Static("loading the run's detail…", id="run-loading")
        with VerticalScroll(id="run-body"):
            with Vertical(id="run-left", classes="run-column"):
                with Vertical(id="steps-section", classes="section"):
                    yield Static(noun, id="steps-title", classes="section-title")
                    yield Timeline(now=self._now, id="timeline")
                    yield Static(id="step-detail")
                with Vertical(id="groups-section", classes="section"):
                    yield Static("Groups", id="groups-title", classes="section-title")
                    yield GroupBars(id="groups")
                with Vertical(id="specs-section", classes="section"):
                    yield Static("Specs", id="specs-title", classes="section-title")
                    yield FlakyLine(self.run, id="specs-flaky")  # learnt from opened runs
                    yield SpecsTable(id="specs")
            with (VerticalScroll(id="run-right", classes="run-column"),
                  Vertical(id="content-section", classes="section")):
                yield Static("Report", id="content-title", classes="section-title")
                # A report's links are the API's: clicking one shows where it points, it opens
                # nothing (no API string may carry a link or an action into the terminal).
                yield Markdown(id="run-content", open_links=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(SpecsTable).show_cursor = self.source.has_spec_results
        self._mounted = True
        self.host.detail_signal.subscribe(self, self._detail_loaded)
        self.host.runs_signal.subscribe(self, self._runs_changed)
        # A detail may have been handed in between the push and this handler.
        self.update_detail(self.detail, self.error)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        # Relative times and running durations move on; a frozen clock re-renders nothing.
        self.set_interval(1.0, self._tick)

    def on_resize(self) -> None:
        self._report_focusable()

    # -- focus: only the parts a person can see and use --------------------------------

    def _report_scroller(self) -> Widget:
        """What scrolls the report: the page when the sections stack, the report's own
        column when it stands beside the tables."""
        return self.query_one("#run-right" if self.size.width >= WIDE else "#run-body")

    def _report_focusable(self) -> None:
        """The report takes focus (so keys scroll it) only when there is one: a page or a
        column without a report would be a focus stop that shows nothing and where no key
        works (issue 13: tab on a Currents run)."""
        has_report = self.query_one("#content-section").has_class("-shown")
        scroller = self._report_scroller()
        for widget in self.query("#run-body, #run-right"):
            widget.can_focus = has_report and widget is scroller
        focused = self.focused
        if focused is not None and focused.id in ("run-body", "run-right") \
                and not focused.can_focus:
            self._focus_first(force=True)

    def on_descendant_focus(self) -> None:
        self._mark_report_focus()

    def on_descendant_blur(self) -> None:
        self._mark_report_focus()

    def _mark_report_focus(self) -> None:
        """A focused report says so with a marker (not by colour alone), as the lists do
        with their cursor."""
        focused = self.focused is not None and self.focused.id in ("run-body", "run-right")
        title = self.query_one("#content-title", Static)
        _update(title, f"{glyphs_of(self).cursor} Report" if focused else "Report")
        title.set_class(focused, "-focused")
        if focused and self.focused is not None and self.focused.id == "run-body":
            self.focused.scroll_to_widget(self.query_one("#content-section"), top=True,
                                          animate=False)

    def _theme_changed(self, theme: Theme) -> None:
        self.query_one(SpecsTable).restyle()

    def _tick(self) -> None:
        self._show_run()
        if self.detail is not None and any(s.status.is_active for s in self.detail.steps):
            self.query_one(Timeline).refresh()
            self._show_step(self.query_one(Timeline).highlighted)

    # -- updates from the app --------------------------------------------------------

    def _detail_loaded(self, event: DetailLoaded) -> None:
        if (event.source, event.run_id) == (self.run.source, self.run.id):
            self.update_detail(event.detail, event.error)

    def _runs_changed(self, event: RunsChanged) -> None:
        # The run on screen keeps its header live between detail polls.
        if event.source == self.run.source:
            for run in event.changed:
                if run.id == self.run.id:
                    self.update_run(run)

    def update_run(self, run: Run) -> None:
        """The run changed in the list (status, progress): refresh the header."""
        if run.id != self.run.id:
            return
        self.run = run
        self._show_run()
        self.refresh_bindings()

    def update_detail(self, detail: RunDetail | None, error: str | None) -> None:
        """A detail poll's result: new detail, or an error while the last detail stays."""
        self.error = error
        if detail is not None and detail is not self.detail:
            self.detail = detail
            self.run = detail.summary()
            self._loaded_at = self._now()
        if not self._mounted:
            return  # on_mount shows what arrived so far
        if self.detail is not None:
            self._show_detail(self.detail)
            self.refresh_bindings()
        self._show_error()
        self._show_run()

    def _show_error(self) -> None:
        line = self.query_one("#run-error", Static)
        if self.error is None:
            line.remove_class("-shown")
            return
        if self.detail is not None and self._loaded_at is not None:
            since = f" · showing the detail of {relative_time(self._loaded_at, self._now())}"
        else:
            since = ""
        line.update(f"{glyphs_of(self).warning} stale: {self.error}{since}")
        line.add_class("-shown")
        if self.detail is None:
            self.query_one("#run-loading", Static).update("no detail yet")

    def _show_run(self) -> None:
        run, now = self.run, self._now()
        _update(self.query_one("#run-title", Static), title_line(run))
        cancellation = self.detail.cancellation if self.detail is not None else None
        _update(self.query_one("#run-meta", Static),
                meta_line(run, self.source.config, now, cancellation))
        tests = self.detail.tests if self.detail is not None else run.tests
        done = self.detail.steps_done if self.detail is not None else None
        self.query_one(RunProgress).set_run(run.status, run.progress, tests, done)

    def _show_detail(self, detail: RunDetail) -> None:
        self.query_one("#run-loading").display = False
        timeline = self.query_one(Timeline)
        if detail.steps:
            timeline.set_steps(detail.steps)
            self._show_step(timeline.highlighted)
            failed = sum(s.status is RunStatus.FAILED for s in detail.steps)
            # The bar's own count (models.steps_done): a skipped step is no step done once
            # the run failed, so the title and the bar never disagree.
            done, total = detail.steps_done or (0, len(detail.steps))
            noun = STEP_NOUNS.get(self.source.api, "Steps")
            title = f"{noun}  {done}/{total} done"
            _update(self.query_one("#steps-title", Static),
                    title + (f" · {failed} failed" if failed else ""))
        self.steps_signal.publish(detail.steps)
        self.query_one(GroupBars).set_groups(detail.groups)
        specs = self.query_one(SpecsTable)
        specs.set_specs(detail.specs)
        self.query_one(FlakyLine).set_detail(detail)
        if detail.specs:
            failing = sum(s.status is RunStatus.FAILED for s in detail.specs)
            _update(self.query_one("#specs-title", Static),
                    f"Specs  {len(detail.specs)}" + (f" · {failing} failed" if failing else ""))
        if detail.content != self._content:
            self._content = detail.content
            self.query_one(Markdown).update(detail.content or "")
        shown = {
            "#steps-section": bool(detail.steps),
            "#groups-section": bool(detail.groups),
            "#specs-section": bool(detail.specs),
            "#content-section": bool(detail.content),
        }
        for selector, visible in shown.items():
            self.query_one(selector).set_class(visible, "-shown")
        self.query_one("#run-right").display = shown["#content-section"]
        self._report_focusable()
        self._focus_first()

    def _focus_first(self, *, force: bool = False) -> None:
        if not force and self.focused not in (None, self.query_one("#run-body")):
            return  # the person has chosen already
        timeline, specs = self.query_one(Timeline), self.query_one(SpecsTable)
        # No scrolling: the page opens at its top (the header and the groups come first).
        if timeline.steps:
            timeline.focus(scroll_visible=False)
        elif specs.specs:
            specs.focus(scroll_visible=False)

    def _show_step(self, step: Step | None) -> None:
        detail = self.query_one("#step-detail", Static)
        if step is None:
            _update(detail, "")
            return
        _update(detail, step_line(step, self._now(), has_logs=self.source.has_logs))

    # -- opening a step's log, a spec's tests ----------------------------------------

    def on_timeline_step_highlighted(self, event: Timeline.StepHighlighted) -> None:
        self._show_step(event.step)

    def on_timeline_step_selected(self, event: Timeline.StepSelected) -> None:
        step = event.step
        if not self.source.has_logs:
            self.notify(f"{self.source.api} keeps no step logs", severity="information")
        elif not step.log_available:
            self.notify(f"{step.name} has no log yet", severity="information")
        else:
            from runwatch.tui.screens.log import LogScreen

            self.app.push_screen(LogScreen(self.run, step, steps=self.steps_signal))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.notify(event.href, title="the report links to")

    def on_specs_table_spec_selected(self, event: SpecsTable.SpecSelected) -> None:
        if not self.source.has_spec_results:
            self.notify(f"{self.source.api} keeps no per-test results",
                        severity="information")
            return
        from runwatch.tui.screens.spec_results import SpecResultsScreen

        self.app.push_screen(SpecResultsScreen(self.run, event.spec))

    # -- keys (the run action keys: RunActionsMixin) ----------------------------------

    @property
    def acted_run(self) -> Run:
        return self.run

    def action_refresh(self) -> None:
        self.host.refresh_now(self.run.source)

    def action_back(self) -> None:
        self.dismiss(None)


def _update(widget: Static, content: Content | str) -> None:
    """Update a Static only when its content changed: an idle poll writes nothing."""
    current = widget.content
    if isinstance(current, Content) and isinstance(content, Content):
        same = current.is_same(content)  # `==` on Content compares the text only
    else:
        same = current == content
    if not same:
        widget.update(content)
