"""The runs screen: every source's runs in one table, the health of each source, a summary
of counts by status, and the keys that filter, sort and act on the selected run."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from runwatch.models import Run, RunStatus
from runwatch.tui.runs_view import SORTS, STATUS_FILTERS, RunsView
from runwatch.tui.screens.actions import (
    OPEN_BINDING,
    OPEN_EXPLAIN,
    RUN_ACTION_BINDINGS,
    RunActionsMixin,
)
from runwatch.tui.widgets.cells import SourceStyle
from runwatch.tui.widgets.footer import KeysFooter
from runwatch.tui.widgets.runs_table import RunsTable
from runwatch.tui.widgets.source_bar import SourceBar
from runwatch.tui.widgets.summary import StatusSummary, TitleBar

if TYPE_CHECKING:
    from runwatch.poller import HealthChanged, RunsChanged


def _cycle(options: tuple[str, ...] | list[str | None], current: object, step: int = 1) -> object:
    choices: list[object] = list(options)
    index = choices.index(current) if current in choices else -1
    return choices[(index + step) % len(choices)]


def empty_text(view: RunsView, *, runs: int, source_runs: int, polled: bool) -> str:
    """What an empty table says: why nothing is shown, and how to see more."""
    if not runs or (view.source is not None and not source_runs):
        where = view.source or "any source"
        return f"no runs from {where} yet" if not polled else f"{where} has no runs"
    if view.text:
        return f"no runs match '{view.text}' · escape clears"
    if view.status != "all":
        return f"no {view.status} runs · escape clears"
    return "no runs"


class RunsScreen(RunActionsMixin, Screen[None]):
    """All runs, newest first."""

    DEFAULT_CSS = """
    RunsScreen {
        #runs-empty { height: 1fr; padding: 1 2; color: $text-muted; display: none; }
        &.-empty #runs-empty { display: block; }
    }
    """

    # The footer keeps this order (keys that apply first): what fits at 80 columns first.
    BINDINGS: ClassVar[list[BindingType]] = [
        OPEN_BINDING, OPEN_EXPLAIN,
        Binding("slash", "filter", "filter", key_display="/",
                tooltip="filter on id, title, branch, author; enter applies, escape clears"),
        Binding("s", "cycle_status", "status", tooltip="status filter: all, active, failed"),
        Binding("o", "cycle_sort", "sort", tooltip="sort: newest, status, source, duration"),
        Binding("tab", "cycle_source(1)", "source", tooltip="source shown: all, then each"),
        Binding("shift+tab", "cycle_source(-1)", "source", show=False,
                tooltip="source shown, backwards"),
        RUN_ACTION_BINDINGS[0], RUN_ACTION_BINDINGS[1],  # y copy
        Binding("r", "refresh", "refresh", tooltip="poll every source now"),
        *RUN_ACTION_BINDINGS[2:],
        Binding("p", "pause", "pause", tooltip="pause polling"),
        Binding("p", "resume", "resume", tooltip="resume polling"),
        Binding("escape", "clear_filters", "clear filters", show=False,
                tooltip="clear every filter"),
    ]

    # What the footer's actions depend on: which run is selected and whether it has
    # finished. Progress ticks on the selected run change nothing here, so they do not
    # recompose the footer (bindings=True re-checks the actions only when this changes).
    _action_state: reactive[tuple[str, str, bool] | None] = reactive(None, bindings=True)

    @property
    def selected(self) -> Run | None:
        """The run under the cursor."""
        return self._selected

    @selected.setter
    def selected(self, run: Run | None) -> None:
        self._selected = run
        self._action_state = (run.source, run.id, run.status.is_terminal) if run else None

    _selected: Run | None = None

    def compose(self) -> ComposeResult:
        app = self.host
        styles = [
            SourceStyle(name, facts.config.label, facts.config.color)
            for name, facts in app.session.sources.items()
        ]
        yield TitleBar(id="title-bar")
        yield SourceBar(styles, health=app.session.health, now=app.now, id="sources")
        yield RunsTable(now=app.now, sources=styles, health=app.session.health, id="runs")
        yield Static("", id="runs-empty", markup=False)
        field = Input(placeholder="filter: id, title, branch, author  (enter applies, escape "
                      "clears)", id="filter")
        # Hidden from the first layout on: hidden in on_mount instead, the layout it changes
        # waits for the next wake-up (a minimal app with a DataTable and an Input hidden so
        # showed its rows 450 ms later: the Input's cursor blink).
        field.display = False
        yield field
        yield StatusSummary(id="summary")
        yield KeysFooter()

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    @property
    def view(self) -> RunsView:
        return self.table.view

    def on_mount(self) -> None:
        host = self.host
        host.runs_signal.subscribe(self, self.apply_runs_changed)
        host.health_signal.subscribe(self, self.health_changed)
        session = host.session
        self.table.load(run for source in session.sources for run in session.runs(source).values())
        self.refresh_chrome()
        self.set_interval(1.0, self._tick)

    # -- fed by the app's signals --------------------------------------------------

    def apply_runs_changed(self, event: RunsChanged) -> None:
        """A poll's changes: cells in place, then the summary and the footer."""
        self.table.apply_changes(event.source, event.changed, event.removed)
        self._after_change()

    def health_changed(self, event: HealthChanged) -> None:
        self.query_one(SourceBar).refresh_lines(event.source)
        self.table.update_health(event.source)
        self._show_empty()

    def refresh_chrome(self) -> None:
        """Title bar, summary, source lines: everything around the table."""
        app = self.host
        title = self.query_one(TitleBar)
        title.set_badges(read_only=app.read_only, kiosk=app.kiosk, demo=app.demo,
                         paused=app.paused)
        title.set_view(self.view, sources=len(app.session.sources))
        self.query_one(SourceBar).select(self.view.source)
        self._after_change()

    def restyle(self) -> None:
        """The theme changed: re-render what carries theme colours in Rich text."""
        self.table.restyle()
        self.query_one(SourceBar).refresh_lines()
        self._after_change()

    def _after_change(self) -> None:
        table = self.table
        counts: dict[RunStatus, int] = {}
        per_source: dict[str, int] = {}
        for (source, status), count in table.counts.items():
            per_source[source] = per_source.get(source, 0) + count
            if self.view.source in (None, source):
                counts[status] = counts.get(status, 0) + count
        self.query_one(StatusSummary).show_counts(counts, shown=table.row_count)
        self.query_one(SourceBar).set_counts(per_source)
        self.selected = table.selected_run
        self._show_empty()

    def _show_empty(self) -> None:
        table = self.table
        empty = table.row_count == 0
        if empty:
            source = self.view.source
            poller = self.host.session.poller
            polled = [poller.health(name).last_success is not None
                      for name in self.host.session.sources if source in (None, name)]
            text = empty_text(self.view, runs=len(table.runs),
                              source_runs=len(poller.runs(source)) if source else len(table.runs),
                              polled=any(polled))
            self.query_one("#runs-empty", Static).update(text)
        if empty != self.has_class("-empty"):
            self.set_class(empty, "-empty")
            # Inline: the app's stylesheet gives the table the whole height (1fr).
            if empty:
                table.styles.height = "auto"
            else:
                table.styles.clear_rule("height")

    def _tick(self) -> None:
        # Relative times, running durations, spinners and "updated 3s ago" move on their own.
        if self.is_current:
            self.table.refresh_times()
            self.query_one(SourceBar).tick()

    # -- table events --------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#runs")
    def _highlighted(self) -> None:
        self.selected = self.table.selected_run

    @on(DataTable.RowSelected, "#runs")
    def _open(self) -> None:
        run = self.table.selected_run
        if run is not None:
            self.host.open_run(run)

    def on_screen_resume(self) -> None:
        # Back from a run: stop polling its detail.
        self.host.session.poller.focus(None, None)
        self.table.refresh_times()

    # -- filter input --------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = self.view.text
        field.display = True
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self._set_view(text=event.value.strip())

    @on(Input.Submitted, "#filter")
    def _filter_applied(self, event: Input.Submitted) -> None:
        self._close_filter()
        self._set_view(text=event.value.strip(), cursor_to_first=True)

    def _close_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = False
        self.table.focus()

    def action_clear_filters(self) -> None:
        """Escape: close the filter input and clear every filter; from the input, only the
        text filter."""
        field = self.query_one("#filter", Input)
        if field.display:
            field.value = ""
            self._close_filter()
            self._set_view(text="")
        elif self.view.is_filtered:
            self._set_view(text="", status="all", source=None)

    # -- view keys -----------------------------------------------------------------

    def action_cycle_status(self) -> None:
        self._set_view(status=str(_cycle(STATUS_FILTERS, self.view.status)))

    def action_cycle_sort(self) -> None:
        self._set_view(sort=str(_cycle(SORTS, self.view.sort)))

    def action_cycle_source(self, step: int = 1) -> None:
        options: list[str | None] = [None, *self.host.session.sources]
        self._set_view(source=_cycle(options, self.view.source, step))

    def show_source(self, source: str | None) -> None:
        """Show one source's runs (None: all)."""
        self._set_view(source=source)

    def set_status_filter(self, status: str) -> None:
        self._set_view(status=status)

    def set_sort(self, sort: str) -> None:
        self._set_view(sort=sort)

    def _set_view(self, *, cursor_to_first: bool = False, **changes: object) -> None:
        view = self.view
        fields = {"text": view.text, "status": view.status, "source": view.source,
                  "sort": view.sort, **changes}
        self.table.set_view(RunsView(**fields), cursor_to_first=cursor_to_first)  # type: ignore[arg-type]
        self.refresh_chrome()

    # -- run actions (the keys: RunActionsMixin) ---------------------------------

    @property
    def acted_run(self) -> Run | None:
        return self.selected

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pause", "resume"):
            return (action == "resume") == self.host.paused
        return super().check_action(action, parameters)

    # -- app keys ------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.host.refresh_now()

    def action_pause(self) -> None:
        self.host.set_paused(True)

    def action_resume(self) -> None:
        self.host.set_paused(False)
