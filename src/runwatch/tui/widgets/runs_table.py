"""The runs table: every source's runs in one DataTable, keyed by (source, id), updated in
place, filtered, sorted, and fitted to the terminal's width by dropping columns.

What it shows (filters, sorts, columns) is `runwatch.tui.runs_view`; how a cell looks is
`widgets.cells`; when a row's time turns over, `row_clock`; here: rows, cursor, repaints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.widgets.data_table import ColumnKey, RowKey

from runwatch.models import Run, RunStatus
from runwatch.tui.look import glyphs_of
from runwatch.tui.runs_view import (
    CELL_PADDING,
    COLUMNS,
    RunsView,
    cell_width,
    natural_widths,
    row_key,
)
from runwatch.tui.widgets.cells import (
    TIMED_COLUMNS,
    SourceStyle,
    render_cell,
    same_text,
)
from runwatch.tui.widgets.lines import MARKER, MARKER_WIDTH, cursor_row_key, marker_text
from runwatch.tui.widgets.row_clock import RowClock
from runwatch.tui.widgets.table_cache import (
    QuickCells,
    column_offsets,
    drop_dead_renders,
    repaint_cells,
    sort_rows,
)

if TYPE_CHECKING:
    from runwatch.poll_events import SourceHealth


class RunsTable(QuickCells):
    """The runs of every source, one row per (source, id)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(
        self,
        *,
        now: Callable[[], float],
        sources: Iterable[SourceStyle] = (),
        health: Callable[[str], SourceHealth | None] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(cursor_type="row", id=id)
        self._now = now
        self._health = health
        # Source → the moment its data was last good, while it is stale: its rows are dimmed
        # and marked, and their running durations stop there.
        self.stale: dict[str, float] = {}
        self.sources: dict[str, SourceStyle] = {s.name: s for s in sources}
        self.runs: dict[str, Run] = {}  # every known run by row key, shown or filtered out
        self.counts: Counter[tuple[str, RunStatus]] = Counter()  # (source, status) → runs
        self.view = RunsView()
        self._sort_keys: dict[str, tuple[float | str, ...]] = {}  # row key → view.sort_key
        self._fit: tuple[tuple[str, int], ...] = ()
        self._natural: dict[str, int] = {}  # column → longest value among the rows shown
        self._column_x: dict[str, tuple[int, int]] = {}  # column → (x, width) of its cells
        self._marked: str | None = None  # the row whose marker cell shows the cursor
        # Which rows' time cells may have turned over: refresh_times skips the others.
        self._due = RowClock()

    # -- reading -------------------------------------------------------------------

    @property
    def selected_run(self) -> Run | None:
        """The run under the cursor."""
        return self.runs.get(cursor_row_key(self) or "")

    @property
    def shown_keys(self) -> list[str]:
        """Row keys in display order."""
        return [row.key.value or "" for row in self.ordered_rows]

    # -- updating ------------------------------------------------------------------

    def apply_changes(
        self, source: str, changed: Iterable[Run], removed: Iterable[str] = ()
    ) -> None:
        """Merge one source's changes: touched cells only, rows added or removed only when
        needed, the cursor kept on the run it was on. On the first row it stays on the
        first row, so the newest run is selected as runs arrive."""
        cursor = self._cursor_key() if self.cursor_row > 0 else None
        reorder = grew = False
        touched: list[tuple[str, list[str]]] = []
        now = self._now()
        widths = {s.name: s.width for s in self.sources.values()}
        # Before the first layout there are no columns: keep the runs, _refit adds the rows.
        columns_ready = bool(self._fit)
        with self.app.batch_update():
            for run in changed:
                key = self._keep(run)
                if not columns_ready:
                    continue
                shown = key in self.rows
                if self.view.matches(run):
                    grew = self._measure(run, widths) or grew
                    if shown:
                        if columns := self._set_cells(key, run):
                            touched.append((key, columns))
                    else:
                        self._add(key, run)
                    sort_key = self.view.sort_key(run, now)
                    if self._sort_keys.get(key) != sort_key:
                        self._sort_keys[key] = sort_key
                        reorder = True
                elif shown:
                    self.remove_row(key)
            for run_id in removed:
                key = row_key(source, run_id)
                self._count(self.runs.pop(key, None), -1)
                self._sort_keys.pop(key, None)
                self._due.forget(key)
                if key in self.rows:
                    self.remove_row(key)
            if grew and self._apply_fit(self._fit_for(self._natural)):
                pass  # rebuilt: every row is new
            elif reorder and columns_ready and self._sort():
                pass  # a row moved: a full repaint anyway
            else:
                self._repaint_cells((k, c) for k, c in touched if k in self.rows)
            self._restore_cursor(cursor)
            self._mark_cursor()  # a new first row is under a cursor that stayed on row 0
        drop_dead_renders(self)

    def load(self, runs: Iterable[Run]) -> None:
        """Take in what was polled before the table was shown, every source's at once: one
        fit and one build of the rows (source by source, each new column rebuilt them all)."""
        for run in runs:
            self._keep(run)
        self._refit(force=True)

    def set_stale(self, source: str, since: float | None) -> None:
        """Show the source's rows stale (dimmed, marked, durations stopped at `since`, the
        moment its data was last good) or, with None, live again."""
        if self.stale.get(source) == since:
            return
        if since is None:
            self.stale.pop(source, None)
        else:
            self.stale[source] = since
        if not self._fit or self._apply_fit(self._fit_for(self._natural)):
            return  # not laid out yet, or rebuilt with every row
        touched = [(key, columns) for key, run in self.runs.items()
                   if run.source == source and key in self.rows
                   and (columns := self._set_cells(key, run))]
        with self.app.batch_update():
            self._repaint_cells(touched)

    def set_view(self, view: RunsView, *, cursor_to_first: bool = False) -> None:
        """Show what `view` selects from the top: the cursor stays on its run only if that
        run is still on the first screen, else it goes to the first row."""
        cursor = None if cursor_to_first else self._cursor_key()
        if view != self.view:
            if view.sort != self.view.sort:
                self._sort_keys.clear()
            self.view = view
            if not self._refit():  # the same columns: rows in or out, then the order
                with self.app.batch_update():
                    for key, run in self.runs.items():
                        want, shown = view.matches(run), key in self.rows
                        if want and not shown:
                            self._add(key, run)
                        elif shown and not want:
                            self.remove_row(key)
                    self._sort()
        self._to_top(cursor)

    def _to_top(self, cursor: str | None) -> None:
        screen = max(1, self.scrollable_content_region.height - self.header_height)
        index = self.get_row_index(cursor) if cursor is not None and cursor in self.rows else 0
        if self.row_count:
            self.move_cursor(row=index if index < screen else 0, scroll=False)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._mark_cursor()

    def refresh_times(self) -> None:
        """Re-render the time-dependent cells (started, duration, spinner) of the rows on
        screen whose time may have turned over (`next_turnover`), repainting only the cells
        whose text did; called every second, so a second in which nothing moves costs a
        lookup per row on screen, whatever the number of rows."""
        if not self.row_count:
            return
        now = self._now()
        top = max(0, int(self.scroll_y))
        bottom = min(self.row_count, top + self.size.height + 1)
        touched = []
        for index in range(top, bottom):
            row = self._row_locations.get_key(index)
            key = (row.value if row is not None else None) or ""
            if not self._due.is_due(key, now):
                continue
            run = self.runs.get(key)
            if run is None:
                continue
            if columns := self._set_cells(key, run, only=TIMED_COLUMNS):
                touched.append((key, columns))
            self._due.rendered(key, run, now, stale=run.source in self.stale)
        self._repaint_cells(touched)

    def restyle(self) -> None:
        """Re-render every shown row (the theme changed, so colours did)."""
        self._repaint_cells([(key, columns) for key in self.shown_keys
                             if (columns := self._set_cells(key, self.runs[key]))])

    # -- internals -----------------------------------------------------------------

    def _keep(self, run: Run) -> str:
        """Hold `run`, counted in its previous version's place; its row key."""
        key = row_key(run.source, run.id)
        self._count(self.runs.get(key), -1)
        self._count(run, +1)
        self.runs[key] = run
        return key

    def _count(self, run: Run | None, delta: int) -> None:
        if run is not None:
            self.counts[(run.source, run.status)] += delta
            if self.counts[(run.source, run.status)] <= 0:
                del self.counts[(run.source, run.status)]

    def _cells(self, key: str, run: Run, only: frozenset[str] | None = None) -> dict[str, Text]:
        variables = self.app.theme_variables
        now = self._now()
        stale = self.stale.get(run.source)
        glyphs = glyphs_of(self)
        cells: dict[str, Text] = {}
        if only is None:
            cells[MARKER] = marker_text(key == self._marked, glyphs.cursor)
        for column, width in self._fit:
            if only is not None and column not in only:
                continue
            cells[column] = render_cell(column, run, now, variables, self.sources, key, glyphs,
                                        stale_since=stale, width=width)
        return cells

    def _add(self, key: str, run: Run) -> None:
        cells = self._cells(key, run)
        self.add_row(cells[MARKER], *(cells[c] for c, _ in self._fit), key=key)

    def _mark_cursor(self) -> None:
        """Move the marker to the cursor's row: two cells are repainted, nothing else."""
        key = cursor_row_key(self)
        if key == self._marked or not self._fit:
            return
        old, self._marked = self._marked, key
        touched = []
        for row in (old, key):
            if row is not None and row in self.rows:
                self._data[RowKey(row)][ColumnKey(MARKER)] = marker_text(
                    row == key, glyphs_of(self).cursor)
                touched.append((row, [MARKER]))
        self._repaint_cells(touched)

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        self._mark_cursor()

    def _set_cells(self, key: str, run: Run, only: frozenset[str] | None = None) -> list[str]:
        """Put the run's cell values in place; the columns whose value differed. Nothing is
        repainted until `_repaint_cells`, so a batch of changes costs one invalidation."""
        row = self._data[RowKey(key)]
        if only is None or only != TIMED_COLUMNS:
            self._due.forget(key)  # new values (a poll, the theme, staleness): look again
        touched = []
        for column, value in self._cells(key, run, only).items():
            column_key = ColumnKey(column)
            if not same_text(row[column_key], value):
                row[column_key] = value
                touched.append(column)
        return touched

    def _repaint_cells(self, cells: Iterable[tuple[str, list[str]]]) -> None:
        """Repaint just these cells after their values changed in place (table_cache)."""
        repaint_cells(self, cells, self._column_x)

    def _sort(self) -> bool:
        """Rows in the view's order; True when that moved a row (every line repainted)."""
        # Sort keys are cached per run and recomputed only when a run changes (or the
        # sort does): with 10,000 rows, computing them all on every new run costs ~50 ms.
        keys, view, now = self._sort_keys, self.view, self._now()

        def key_of(row: RowKey) -> tuple[float | str, ...]:
            name = row.value or ""
            key = keys.get(name)
            if key is None:
                key = keys[name] = view.sort_key(self.runs[name], now)
            return key

        return sort_rows(self, key_of)

    def _cursor_key(self) -> str | None:
        run = self.selected_run
        return row_key(run.source, run.id) if run else None

    def _restore_cursor(self, key: str | None) -> None:
        if key is not None and key in self.rows:
            index = self.get_row_index(key)
            if index != self.cursor_row:
                self.move_cursor(row=index)

    def _available_width(self) -> int:
        # The vertical scrollbar takes its cells from the table's width.
        # Before its first layout (on_mount) the table has no size: fit to the screen's
        # width, or the first frame shows the status column alone and on_resize rebuilds.
        width = self.size.width or self.app.size.width
        return max(20, width - self.styles.scrollbar_size_vertical
                   - MARKER_WIDTH - 2 * CELL_PADDING)

    def _measure(self, run: Run, source_widths: dict[str, int]) -> bool:
        """Widen the longest values by this run's; True when one grew."""
        grew = False
        for column, width in self._natural.items():
            need = cell_width(column, run, source_widths)
            if need > width:
                self._natural[column] = need
                grew = True
        return grew

    def _fit_for(self, natural: dict[str, int]) -> tuple[tuple[str, int], ...]:
        return self.view.fit(self._available_width(), natural, sources=len(self.sources),
                             stale=self.stale)

    def _refit(self, *, force: bool = False) -> bool:
        """Fit the columns to the width and to the rows the view shows; True when that
        rebuilt the table (every row added again)."""
        widths = {s.name: s.width for s in self.sources.values()}
        self._natural = natural_widths(
            (run for run in self.runs.values() if self.view.matches(run)), widths)
        return self._apply_fit(self._fit_for(self._natural), force=force)

    def _apply_fit(self, fit: tuple[tuple[str, int], ...], *, force: bool = False) -> bool:
        """Widths change in place; a new column set is a rebuild (True)."""
        if fit == self._fit and not force:
            return False
        self._column_x = column_offsets(((MARKER, MARKER_WIDTH), *fit), CELL_PADDING)
        if not force and [c for c, _ in fit] == [c for c, _ in self._fit]:
            self._fit = fit
            for column, width in fit:
                self.columns[ColumnKey(column)].width = width
            for key, run in self.runs.items():  # "(stopped here)" comes with the room for it
                if run.stopped_here and key in self.rows:
                    self._set_cells(key, run, only=frozenset({"status"}))
            self._clear_caches()
            self.refresh()
            return False
        # A new column set is a rebuild: on resize, a view change or a first value in an
        # empty column, never on a poll that only changes values. A cursor on the first row
        # stays there (clear() puts it there), so the newest run stays selected.
        cursor = self._cursor_key() if self.cursor_row > 0 else None
        self._fit = fit
        # Every row is new: what was due before (rows since filtered out, or rendered under
        # another staleness, as set_stale's rebuild leaves them) no longer holds.
        self._due.clear()
        labels = {c.key: c.label for c in COLUMNS}
        with self.app.batch_update():
            self.clear(columns=True)
            self._marked = None
            self.add_column("", width=MARKER_WIDTH, key=MARKER)
            for column, width in fit:
                self.add_column(labels[column], width=width, key=column)
            for key, run in self.runs.items():
                if self.view.matches(run):
                    self._add(key, run)
            self._sort()
            self._restore_cursor(cursor)
            self._mark_cursor()
        return True

    def on_resize(self, event: Resize) -> None:
        self._refit()

    def on_mount(self) -> None:
        self._refit(force=True)
        if self._health is not None:
            for source in self.sources:
                self.update_health(source)

    def update_health(self, source: str) -> None:
        """Follow the source's health: stale (or failing before any success) dims its rows."""
        health = self._health(source) if self._health is not None else None
        stale = health is not None and health.state in ("stale", "error")
        since = (health.last_success or self._now()) if health is not None and stale else None
        self.set_stale(source, since)

    @property
    def columns_shown(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self._fit)


__all__ = ["RunsTable"]
