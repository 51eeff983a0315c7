"""Repainting single cells of a Textual DataTable: the render-cache surgery `RunsTable`
needs so that a value changed in place costs that cell, not the widget.

DataTable.update_cell refreshes the whole widget and bumps the update counter that keys
every render cache, so each row on screen is rendered again, cell by cell (through Rich: the
most of an idle runs screen's CPU), and the row-order and offset caches cost O(rows) to
rebuild (18 ms at 10,000 rows). Here the counter stays, and only the cache entries of the
changed cells, and of the lines they are on, go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual._types import SegmentLines
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from runwatch.tui.widgets.line_splice import (
    Cells,
    clean_lines,
    draws_lines_as_they_are,
    splice_lines,
)

__all__ = ["QuickCells", "column_offsets", "drop_dead_renders", "one_line_cell", "repaint_cells",
           "sort_rows"]


def column_offsets(
    columns: Iterable[tuple[str, int]], padding: int
) -> dict[str, tuple[int, int]]:
    """Each column's (x, width) in the table, its padding on both sides included: where
    `repaint_cells` finds a cell. `columns`: (key, content width) in display order."""
    offsets: dict[str, tuple[int, int]] = {}
    x = 0
    for column, width in columns:
        offsets[column] = (x, width + 2 * padding)
        x += width + 2 * padding
    return offsets


def repaint_cells(
    table: DataTable[Text],
    cells: Iterable[tuple[str, list[str]]],
    column_x: Mapping[str, tuple[int, int]],
) -> None:
    """Repaint just these cells ((row key, columns)) after their values changed in place:
    a time turning over ("3m ago" to "4m ago") re-renders and writes that cell, not its row.
    `column_x`: each column's (x, width) in the table."""
    cells = list(cells)
    if not cells:
        return
    # Every row is one line high: a cell's region is arithmetic, where DataTable's own
    # `_get_cell_region` sums the heights of every row above it.
    header = table.header_height if table.show_header else 0
    # Cache keys hold RowKey and ColumnKey, whose hash is a Python method: matched by their
    # plain string values instead (a tick scans every cached cell of the rows on screen).
    changed: set[tuple[str, str]] = set()
    rows: set[str] = set()
    indices: set[int] = set()
    # One refresh for every cell: Widget.refresh clears the widget's style and size caches
    # on each call, and DataTable._refresh_region asks for the window region on each.
    window, offset = table.window_region, table.scroll_offset
    regions: list[Region] = []
    for key, columns in cells:
        index = table.get_row_index(key)
        rows.add(key)
        indices.add(index)
        changed.update((key, column) for column in columns)
        for column in columns:
            x, width = column_x[column]
            region = Region(x, index + header, width, 1)
            if window.overlaps(region):
                regions.append(region.translate(-offset))
    # The drawn lines that show what the table shows now, looked at before the refresh
    # below marks them to be drawn again: the changed cells can be spliced into those.
    spliceable = (offset.x == 0 and not table.fixed_columns and not table.fixed_rows
                  and draws_lines_as_they_are(table))
    clean = (clean_lines(table, {index + header - offset.y for index in indices})
             if spliceable and regions else set())
    if regions:
        table.refresh(*regions)
    lines = {index + header for index in indices}
    _forget(table._cell_render_cache,
            lambda k: k[0].value in rows and (k[0].value, k[1].value) in changed)
    _forget(table._row_renderable_cache, lambda k: k[1] in indices)
    _forget(table._line_cache, lambda k: k[0] in lines)
    by_row: dict[str, list[str]] = {}
    for key, column in changed:
        by_row.setdefault(key, []).append(column)
    patched = _patch_rows(table, by_row, table.rich_style if clean else None)
    if clean:
        _splice(table, patched, by_row, column_x, clean, header - offset.y)


def _splice(table: DataTable[Text], patched: Mapping[str, tuple[int, SegmentLines]],
            by_row: Mapping[str, list[str]], column_x: Mapping[str, tuple[int, int]],
            clean: set[int], shift: int) -> None:
    """Splice the patched cells of rows on clean drawn lines into those lines (line_splice):
    the frame then draws no line of the table again, only writes the cells."""
    locations = table._column_locations
    cells: dict[int, Cells] = {}
    for key, (row_index, scrollable) in patched.items():
        y = row_index + shift
        if y not in clean:
            continue
        line: list[tuple[int, int, list[Segment]]] = []
        for column in by_row[key]:
            index = locations.get(ColumnKey(column))
            if index is None:
                break
            x, width = column_x[column]
            line.append((x, width, list(Segment.simplify(scrollable[index]))))
        else:
            cells[y] = sorted(line, key=lambda cell: cell[0])
    if cells:
        splice_lines(table, cells, table.get_line_filters(), table.background_colors[1])


def _patch_rows(table: DataTable[Text], changed: Mapping[str, list[str]],
                drawn_style: Style | None = None) -> dict[str, tuple[int, SegmentLines]]:
    """Re-render only the changed cells into their rows' cached lines: DataTable would
    render every cell of the row again (a cache lookup, a Coordinate and a highlight test
    each) for a line whose other cells did not change. An entry this cannot redo exactly
    (rendered under another cursor or hover position, focus, cursor type or update count;
    fixed columns or row labels, which this table never has) is dropped instead, and
    DataTable renders it when it is drawn. The rows patched as a line is drawn now (under
    `drawn_style`, the table's style, if given): row key → (row index, cells' segments)."""
    cache = table._row_render_cache
    # Only the lines as they are drawn now: those of an earlier cursor or hover position
    # would be patched on every tick and never read again.
    current = (table.cursor_coordinate, table.hover_coordinate, table.cursor_type,
               table.show_cursor, table._show_hover_cursor, table._update_count,
               table._pseudo_class_state)
    cursor_at, hover_at, cursor_type = current[:3]
    simple = not table.fixed_columns and not table._should_render_row_labels
    columns = table.ordered_columns
    highlight = table._should_highlight
    patched: dict[str, tuple[int, SegmentLines]] = {}
    for key in [k for k in cache.keys() if k[0].value in changed]:  # noqa: SIM118
        row_key, line_no, base_style, *rest = key
        row_index = table._row_locations.get(row_key)
        pair = cache.get(key)
        if not simple or tuple(rest) != current or row_index is None or pair is None:
            cache.discard(key)
            continue
        # In place: LRUCache.set keeps an existing key's value. The list is the cache's own
        # (built by _render_line_in_row for this entry).
        scrollable = pair[1]
        row_style = table._get_row_style(row_index, base_style)
        for column in changed[row_key.value or ""]:
            index = table._column_locations.get(ColumnKey(column))
            if index is None:
                continue
            at = Coordinate(row_index, index)
            scrollable[index] = table._render_cell(
                row_index, index, row_style, columns[index].get_render_width(table),
                cursor=highlight(cursor_at, at, cursor_type),
                hover=highlight(hover_at, at, cursor_type))[line_no]
        if drawn_style is not None and line_no == 0 and base_style == drawn_style:
            patched[row_key.value or ""] = (row_index, scrollable)
    return patched


def sort_rows(table: DataTable[Text], key: Callable[[RowKey], Any]) -> bool:
    """DataTable.sort by `key` of each row, but only when that changes the order shown; True
    when it did. DataTable.sort bumps the update count whatever the result, and with it
    every render cache: a poll whose changed run kept its place repainted every line.
    The same steps as DataTable.sort's (a stable sort of the rows in the table's own
    order), so a tie lands where it would."""
    ordered = sorted(table._data, key=key)
    locations = table._row_locations
    if all(locations.get(row) == index for index, row in enumerate(ordered)):
        return False
    table._row_locations = TwoWayDict({row: index for index, row in enumerate(ordered)})
    table._update_count += 1
    table.refresh()
    return True


def drop_dead_renders(table: DataTable[Text]) -> None:
    """Drop the render cache entries of earlier update counts: they can never be read again
    (every key holds the count), yet DataTable's LRU caches keep them up to 10,000 cells and
    1,000 rows and lines, so in a world that keeps changing (rows added and removed bump the
    count on every poll) RSS grew by tens of MiB until they filled. What stays is what the
    current rows rendered: the cache entries of the rows shown."""
    count = table._update_count
    _forget(table._cell_render_cache, lambda k: k[-2] != count)
    _forget(table._row_render_cache, lambda k: k[-2] != count)
    _forget(table._line_cache, lambda k: k[-2] != count)
    _forget(table._row_renderable_cache, lambda k: k[0] != count)


def _forget(cache: LRUCache[Any, Any], stale: Callable[[Any], bool]) -> None:
    """Drop the entries of a DataTable render cache whose key says they are stale."""
    for key in [key for key in cache.keys() if stale(key)]:  # noqa: SIM118 (no __iter__)
        cache.discard(key)


_NULL = Style.null()


def one_line_cell(console: Console, cell: Text, width: int, padding: int, options_no_wrap: bool,
                  pre: Style, post: Style) -> list[Segment] | None:
    """What DataTable's `console.render_lines(Styled(Padding(cell, (0, padding)), pre,
    post), options)` draws for a one-line row, segment for segment up to merging (the
    line is simplified after), in a fifth of the time: the same Rich steps (Text's
    truncation, join and render, Segment's crop and pad, the style sandwich) without the
    renderable protocol, measuring and wrapping around them. None where it would not be
    the same (a newline or tab, wrapping, a justification, no room), for Rich to draw."""
    inner = width - 2 * padding
    plain = cell.plain
    no_wrap = cell.no_wrap if cell.no_wrap is not None else options_no_wrap
    overflow = cell.overflow or "fold"
    if (inner <= 0 or "\n" in plain or "\t" in plain or not no_wrap or overflow == "ignore"
            or (cell.justify or "default") != "default"):
        return None
    side = [Segment(" " * padding, _NULL)] if padding else []
    style = cell.style if isinstance(cell.style, Style) else None
    if (not cell.spans and plain.isprintable() and (style is not None or cell.style == "")
            and 0 < (length := cell_len(plain)) <= inner):
        # What the steps below make of one run of text in one style that fits (a
        # duration, a spinner, "4m ago": most of a tick's cells), without them: the text
        # (unstyled where the cell has no style, as Text.render leaves it), then the pad.
        body = [Segment(plain, style or None)]  # a null Style is no style, as for Rich
        if length < inner:
            body.append(Segment(" " * (inner - length), _NULL))
        return list(Segment.apply_style([*side, *body, *side], pre, post))
    line = cell.copy()
    line.truncate(inner, overflow=overflow)
    segments = Text("\n").join([line]).render(console, end=cell.end)
    lines = Segment.split_and_crop_lines(segments, inner, include_new_lines=False, pad=True,
                                         style=_NULL)
    first = next(iter(lines), None)
    if first is None:
        return None
    return list(Segment.apply_style([*side, *first, *side], pre, post))


class QuickCells(DataTable[Text]):
    """A DataTable whose one-line body cells of Rich Text are drawn by `one_line_cell`:
    a changed cell's render was most of an idle runs screen's tick (8 or so cells a
    second in a live world: durations and spinners), and of the full repaint after a
    new run arrives (every cell on screen). A cell that only moved is not drawn again, and
    new rows of fixed-width columns are not measured. Everything else is DataTable's own."""

    # How many cells' segments are kept for when their rows move: a 200x50 screen shows
    # ~550 cells (what is evicted is drawn again). Each costs ~1 KB with the value it keeps
    # alive: 2,048 took the dashboard's RSS from +3.8 to +6.5 % over 3,000 polls.
    DRAWN_KEPT = 640

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (row, column) -> the cell's segments without their row/column meta, and what they
        # were drawn from (the value itself, width and styles).
        self._drawn: LRUCache[tuple[RowKey, ColumnKey], _Drawn] = LRUCache(self.DRAWN_KEPT)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # DataTable measures every cell of every new row (Rich's measure protocol) to widen
        # its auto-width columns, and those only: with none, no row label and no auto
        # height, the width it reaches is the columns' own and the rest is its last step.
        # At start that was ~10 % of the main thread's work until every source was shown.
        keys = list(new_rows)
        rows = [row for key in keys if (row := self.rows.get(key)) is not None]
        if (any(column.auto_width for column in self.columns.values())
                or any(row.label is not None or row.auto_height for row in rows)):
            super()._update_dimensions(keys)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width + self._row_label_column_width,
                                 self._total_row_height
                                 + (self.header_height if self.show_header else 0))

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> SegmentLines:
        if row_index < self.fixed_rows or column_index < self.fixed_columns:
            return super()._render_cell(row_index, column_index, base_style, width,
                                        cursor, hover)  # header, labels, fixed cells
        row_key = self._row_locations.get_key(row_index)
        # DataTable's own cache key, so its invalidation (and table_cache's) holds.
        column_key = self._column_locations.get_key(column_index)
        key = (row_key, column_key, base_style, cursor,
               hover, self._show_hover_cursor, self._update_count, self._pseudo_class_state)
        cache = self._cell_render_cache
        cached = cache.get(key)  # type: ignore[arg-type]
        if cached is not None:
            return cached
        row = self.rows.get(row_key) if row_key is not None else None
        # The value itself: DataTable's formatter hands a Text back as it is, and its row
        # renderables (every cell of the row formatted) are rebuilt after each change.
        cell = (self._data.get(row_key, {}).get(column_key)
                if row_key is not None and column_key is not None else None)
        lines = None
        if (row is not None and row.height == 1 and not row.auto_height
                and isinstance(cell, Text) and row_key is not None and column_key is not None):
            component, post = self._get_styles_to_render_cell(
                False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css")
            line = self._bare_cell(row_key, column_key, cell, width, base_style, component,
                                   post)
            if line is not None:
                # The meta goes on last: it holds only the row and column (for the mouse),
                # which no other style here sets, so the styles are those of
                # `base + meta + component` all the same.
                meta = Style.from_meta({"row": row_index, "column": column_index})
                lines = [[Segment(text, style + meta if style else meta, control)
                          for text, style, control in line]]
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width,
                                        cursor, hover)
        cache.set(key, lines)  # type: ignore[arg-type]
        return lines

    def _bare_cell(self, row_key: RowKey, column_key: ColumnKey, cell: Text, width: int,
                   base_style: Style, component: Style, post: Style) -> list[Segment] | None:
        """The cell's one line without its meta: as drawn before when only its row moved
        (a new run above it: DataTable's render caches key on an update count that every
        added row bumps, and on the row's index), else drawn now (`one_line_cell`)."""
        drawn = self._drawn.get((row_key, column_key))
        if drawn is not None and drawn.cell is cell and drawn.drawn_with == (
                width, base_style, component, post):
            return drawn.segments
        line = one_line_cell(self.app.console, cell, width, self.cell_padding, True,
                             base_style + component, post)
        if line is not None:
            self._drawn.set((row_key, column_key),
                            _Drawn(cell, (width, base_style, component, post), line))
        return line


class _Drawn(NamedTuple):
    """A cell's segments and what they were drawn from (the value is kept, to compare by
    identity: RunsTable puts a new Text in place whenever a value changes)."""

    cell: Text
    drawn_with: tuple[int, Style, Style, Style]
    segments: list[Segment]
