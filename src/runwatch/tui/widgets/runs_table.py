"""The runs table: every source's runs in one DataTable, keyed by (source, id), updated in
place, filtered, sorted, and fitted to the terminal's width by dropping columns.

Columns by priority (the first ones stay longest as the terminal narrows):

    status, title, id, source, started, progress, duration, tests, branch, author

At 80 columns that keeps source, status, id, title and started; at 160 all of them. The
source column also goes when a single source is shown (the title bar names it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from runwatch.models import Run, RunStatus
from runwatch.tui.formatting import format_duration, relative_time, to_epoch
from runwatch.tui.look import (
    UNICODE,
    Glyphs,
    glyphs_of,
    progress_bar,
    resolve_color,
    rich_color,
    spinner_frame,
    status_text,
)
from runwatch.tui.widgets.lines import cursor_row_key

SORTS = ("newest", "status", "source", "duration")
STATUS_FILTERS = ("all", "active", "failed")

# "status" sort: what needs attention first.
STATUS_RANK: Mapping[RunStatus, int] = {
    s: i
    for i, s in enumerate(
        (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.RUNNING, RunStatus.WAITING,
         RunStatus.QUEUED, RunStatus.UNKNOWN, RunStatus.CANCELED, RunStatus.SKIPPED,
         RunStatus.PASSED)
    )
}


def row_key(source: str, run_id: str) -> str:
    """The DataTable row key of a run; the unit separator never occurs in names or ids."""
    return f"{source}\x1f{run_id}"


def _epoch(value: datetime | None) -> float:
    return to_epoch(value) or 0.0


@dataclass(frozen=True)
class RunsView:
    """What the table shows: a text filter, a status filter, one source or all, a sort."""

    text: str = ""
    status: str = "all"  # one of STATUS_FILTERS
    source: str | None = None  # None: every source
    sort: str = "newest"  # one of SORTS

    @property
    def is_filtered(self) -> bool:
        return bool(self.text) or self.status != "all" or self.source is not None

    def matches(self, run: Run) -> bool:
        if self.source is not None and run.source != self.source:
            return False
        if self.status == "active" and not run.status.is_active:
            return False
        if self.status == "failed" and run.status not in (RunStatus.FAILED, RunStatus.TIMED_OUT):
            return False
        if self.text:
            needle = self.text.casefold()
            fields = (run.id, run.title, run.branch, run.author)
            return any(needle in f.casefold() for f in fields if f)
        return True

    def sort_key(self, run: Run, now: float) -> tuple[float | str, ...]:
        """Ascending key; newest-first ties everywhere."""
        newest = -_epoch(run.sort_time)
        if self.sort == "status":
            return (STATUS_RANK.get(run.status, 99), newest)
        if self.sort == "source":
            return (run.source, newest)
        if self.sort == "duration":
            return (-(run_duration(run, now) or -1.0), newest)
        return (newest, run.source, run.id)


def run_duration(run: Run, now: float) -> float | None:
    """The run's duration, counting up while it runs."""
    if run.duration_s is not None and (run.status.is_terminal or run.finished_at):
        return run.duration_s
    started = to_epoch(run.started_at)
    if started is not None and run.status is RunStatus.RUNNING:
        return max(0.0, now - started)
    return run.duration_s


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    width: int  # the title's is its minimum; it takes what is left
    priority: int  # lower stays longer


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("source", "source", 10, 3),
    ColumnSpec("status", "status", 11, 0),
    ColumnSpec("id", "id", 10, 2),
    ColumnSpec("title", "title", 24, 1),
    ColumnSpec("branch", "branch", 14, 8),
    ColumnSpec("author", "author", 8, 9),
    ColumnSpec("progress", "progress", 10, 5),
    ColumnSpec("tests", "tests", 9, 7),
    ColumnSpec("started", "started", 7, 4),
    ColumnSpec("duration", "duration", 8, 6),
)
CELL_PADDING = 1  # DataTable's default, on each side


def fit_columns(
    available: int, *, show_source: bool = True, source_width: int = 10
) -> tuple[tuple[str, int], ...]:
    """The (key, width) of each column that fits in `available` cells, in display order."""
    specs = [
        replace(c, width=source_width) if c.key == "source" else c
        for c in COLUMNS
        if show_source or c.key != "source"
    ]
    chosen: set[str] = set()
    used = 0
    for spec in sorted(specs, key=lambda c: c.priority):
        need = spec.width + 2 * CELL_PADDING
        if used + need > available and chosen:
            break  # strict priority: never skip one column to fit a later one
        chosen.add(spec.key)
        used += need
    widths = []
    for spec in specs:
        if spec.key in chosen:
            extra = max(0, available - used) if spec.key == "title" else 0
            widths.append((spec.key, spec.width + extra))
    return tuple(widths)


class StatusCell(Text):
    """The status cell; it carries its row's key so `DataTable.sort` can order rows by the
    run they show (the sort key function is given cell values, not row keys)."""

    def __init__(self, text: Text, key: str) -> None:
        super().__init__(text.plain, style=text.style, end="", no_wrap=True)
        self.row_key = key


@dataclass(frozen=True)
class SourceStyle:
    """How a source's name looks: its optional label badge and colour (from the config)."""

    name: str
    label: str | None = None
    color: str | None = None

    @property
    def width(self) -> int:
        return len(self.name) + (len(self.label) + 3 if self.label else 0)

    def text(self) -> Text:
        color = rich_color(self.color)
        name = Text(self.name, style=Style(color=color), end="")
        if not self.label:
            return name
        badge = Style(color=color or "default", reverse=True, bold=True)
        return Text.assemble((f" {self.label} ", badge), " ", name, end="")


class RunsTable(DataTable[Text]):
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
        id: str | None = None,
    ) -> None:
        super().__init__(cursor_type="row", id=id)
        self._now = now
        self.sources: dict[str, SourceStyle] = {s.name: s for s in sources}
        self.runs: dict[str, Run] = {}  # every known run by row key, shown or filtered out
        self.counts: Counter[tuple[str, RunStatus]] = Counter()  # (source, status) → runs
        self.view = RunsView()
        self._sort_keys: dict[str, tuple[float | str, ...]] = {}  # row key → view.sort_key
        self._fit: tuple[tuple[str, int], ...] = ()
        self._status_column = ColumnKey("status")

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
        reorder = False
        touched: list[str] = []
        now = self._now()
        # Before the first layout there are no columns: keep the runs, _refit adds the rows.
        columns_ready = bool(self._fit)
        with self.app.batch_update():
            for run in changed:
                key = row_key(run.source, run.id)
                self._count(self.runs.get(key), -1)
                self._count(run, +1)
                self.runs[key] = run
                if not columns_ready:
                    continue
                shown = key in self.rows
                if self.view.matches(run):
                    if shown:
                        if self._set_cells(key, run):
                            touched.append(key)
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
                if key in self.rows:
                    self.remove_row(key)
            if reorder and columns_ready:
                self._sort()  # a full repaint anyway
            else:
                self._repaint_rows(key for key in touched if key in self.rows)
            self._restore_cursor(cursor)

    def set_view(self, view: RunsView, *, cursor_to_first: bool = False) -> None:
        """Show what `view` selects; the cursor stays on its run if still shown."""
        if view == self.view:
            if cursor_to_first and self.row_count:
                self.move_cursor(row=0)
            return
        cursor = None if cursor_to_first else self._cursor_key()
        refit = (view.source is None) != (self.view.source is None)
        if view.sort != self.view.sort:
            self._sort_keys.clear()
        self.view = view
        if refit:
            self._refit(force=True)  # the source column comes or goes
        else:
            with self.app.batch_update():
                for key, run in self.runs.items():
                    want, shown = view.matches(run), key in self.rows
                    if want and not shown:
                        self._add(key, run)
                    elif shown and not want:
                        self.remove_row(key)
                self._sort()
        if cursor_to_first:
            if self.row_count:
                self.move_cursor(row=0)
        else:
            self._restore_cursor(cursor)

    def refresh_times(self) -> None:
        """Re-render the time-dependent cells (started, duration, spinner) of the rows on
        screen; called every second, so it must stay cheap with 10,000 rows."""
        if not self.row_count:
            return
        top = max(0, int(self.scroll_y))
        bottom = min(self.row_count, top + self.size.height + 1)
        touched = []
        for index in range(top, bottom):
            key = self.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value or ""
            run = self.runs.get(key)
            if run is not None and self._set_cells(key, run, only=_TIMED):
                touched.append(key)
        self._repaint_rows(touched)

    def restyle(self) -> None:
        """Re-render every shown row (the theme changed, so colours did)."""
        keys = self.shown_keys
        self._repaint_rows([key for key in keys if self._set_cells(key, self.runs[key])])

    # -- internals -----------------------------------------------------------------

    def _count(self, run: Run | None, delta: int) -> None:
        if run is not None:
            self.counts[(run.source, run.status)] += delta
            if self.counts[(run.source, run.status)] <= 0:
                del self.counts[(run.source, run.status)]

    def _cells(self, key: str, run: Run, only: frozenset[str] | None = None) -> dict[str, Text]:
        variables = self.app.theme_variables
        now = self._now()
        glyphs = glyphs_of(self)
        cells: dict[str, Text] = {}
        for column, _ in self._fit:
            if only is not None and column not in only:
                continue
            cells[column] = _cell(column, run, now, variables, self.sources, key, glyphs)
        return cells

    def _add(self, key: str, run: Run) -> None:
        cells = self._cells(key, run)
        self.add_row(*(cells[c] for c, _ in self._fit), key=key)

    def _set_cells(self, key: str, run: Run, only: frozenset[str] | None = None) -> bool:
        """Put the run's cell values in place; True when any differed. Nothing is repainted
        until `_repaint_rows`, so a batch of changes costs one invalidation."""
        row = self._data[RowKey(key)]
        touched = False
        for column, value in self._cells(key, run, only).items():
            column_key = ColumnKey(column)
            if not _same(row[column_key], value):
                row[column_key] = value
                touched = True
        return touched

    def _repaint_rows(self, keys: Iterable[str]) -> None:
        """Repaint just these rows after their cells changed in place.

        DataTable.update_cell refreshes the whole widget (every visible row re-rendered and
        re-sent to the terminal) and bumps the update counter that keys the row-order and
        offset caches, which then cost O(rows) to rebuild: 18 ms at 10,000 rows, per cell.
        Values changed in place move no row, so those caches carry over to the new count.
        """
        keys = list(keys)
        if not keys:
            return
        old = self._update_count
        ordered = self._ordered_row_cache.get((self.row_count, old))
        offsets = self._offset_cache.get(old)
        self._update_count = new = old + 1
        if ordered is not None:
            self._ordered_row_cache[(self.row_count, new)] = ordered
        if offsets is not None:
            self._offset_cache[new] = offsets
        for key in keys:
            self.refresh_row(self.get_row_index(key))

    def _sort(self) -> None:
        # Sort keys are cached per run and recomputed only when a run changes (or the
        # sort does): with 10,000 rows, computing them all on every new run costs ~50 ms.
        keys, view, now = self._sort_keys, self.view, self._now()

        def key_of(cell: StatusCell) -> tuple[float | str, ...]:
            key = keys.get(cell.row_key)
            if key is None:
                key = keys[cell.row_key] = view.sort_key(self.runs[cell.row_key], now)
            return key

        self.sort(self._status_column, key=key_of)

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
        return max(20, self.size.width - self.styles.scrollbar_size_vertical)

    def _refit(self, *, force: bool = False) -> None:
        source_width = min(18, max([6, *(s.width for s in self.sources.values())]))
        fit = fit_columns(
            self._available_width(), show_source=self.view.source is None,
            source_width=source_width,
        )
        if fit == self._fit and not force:
            return
        # A new column set is a rebuild; it happens on resize only, never on a poll.
        cursor = self._cursor_key()
        self._fit = fit
        labels = {c.key: c.label for c in COLUMNS}
        with self.app.batch_update():
            self.clear(columns=True)
            for column, width in fit:
                added = self.add_column(labels[column], width=width, key=column)
                if column == "status":
                    # The stored key itself: dict lookups in DataTable.sort then match by
                    # identity instead of calling StringKey.__eq__ 10,000 times.
                    self._status_column = added
            for key, run in self.runs.items():
                if self.view.matches(run):
                    self._add(key, run)
            self._sort()
            self._restore_cursor(cursor)

    def on_resize(self, event: Resize) -> None:
        self._refit()

    def on_mount(self) -> None:
        self._refit(force=True)

    @property
    def columns_shown(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self._fit)


def _same(a: Text, b: Text) -> bool:
    # Text.__eq__ ignores the base style, and a theme change may alter only that.
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans


_TIMED = frozenset({"started", "duration", "progress"})


def _plain(value: str, style: Style | str = "") -> Text:
    return Text(value, style=style, no_wrap=True, overflow="ellipsis", end="")


def _cell(
    column: str,
    run: Run,
    now: float,
    variables: Mapping[str, str],
    sources: Mapping[str, SourceStyle],
    key: str,
    glyphs: Glyphs = UNICODE,
) -> Text:
    """One cell's content; plain Text so DataTable can compare and crop it."""
    if column == "status":
        return StatusCell(status_text(run.status, variables, glyphs=glyphs), key)
    if column == "source":
        style = sources.get(run.source) or SourceStyle(run.source)
        text = style.text()
        text.no_wrap, text.overflow = True, "ellipsis"
        return text
    if column == "id":
        return _plain(run.id)
    if column == "title":
        return _plain(run.title or "")
    if column == "branch":
        return _plain(run.branch or "")
    if column == "author":
        return _plain(run.author or "")
    if column == "progress":
        return _progress(run, now, variables, glyphs)
    if column == "tests":
        return _tests(run, variables, glyphs)
    if column == "started":
        # When the run was started (triggered): the time the newest-first order uses.
        return _plain(relative_time(run.created_at or run.started_at, now))
    if column == "duration":
        return _plain(format_duration(run_duration(run, now)) if run.status is not
                      RunStatus.QUEUED else glyphs.dash)
    raise KeyError(column)


def _progress(
    run: Run, now: float, variables: Mapping[str, str], glyphs: Glyphs = UNICODE
) -> Text:
    if not run.status.is_active:
        return _plain("")
    color = resolve_color(variables, "run-running")
    if run.progress is None:
        return _plain(spinner_frame(now, glyphs), Style(color=color))
    return Text.assemble(
        (progress_bar(run.progress, 5, glyphs), Style(color=color)),
        f" {run.progress:3.0f}%",
        no_wrap=True,
        end="",
    )


def _tests(run: Run, variables: Mapping[str, str], glyphs: Glyphs = UNICODE) -> Text:
    tests = run.tests
    if tests is None or (tests.passes is None and tests.failures is None):
        return _plain("")
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    if tests.passes is not None:
        text.append(f"{glyphs.status[RunStatus.PASSED]}{tests.passes}",
                    Style(color=resolve_color(variables, "run-passed")))
    if tests.failures:
        if text:
            text.append(" ")
        text.append(f"{glyphs.status[RunStatus.FAILED]}{tests.failures}",
                    Style(color=resolve_color(variables, "run-failed"), bold=True))
    return text


__all__ = [
    "COLUMNS",
    "SORTS",
    "STATUS_FILTERS",
    "ColumnSpec",
    "RowKey",
    "RunsTable",
    "RunsView",
    "SourceStyle",
    "fit_columns",
    "row_key",
    "run_duration",
]
