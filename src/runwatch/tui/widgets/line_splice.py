"""Putting re-rendered cells into a widget's drawn lines, as drawing each line again would.

When a table cell changes in place, Textual draws its whole line again: DataTable joins,
crops and simplifies every cell's segments, StylesCache styles the line, and each line
filter (ANSI colours to truecolour; NO_COLOR's monochrome) maps every segment of it. For a
widget StylesCache draws as it is (no border, padding, outline, tint or opacity) each of
those steps works segment by segment, and DataTable's cells never share a segment (each
carries its own row and column meta, so simplifying never joins two): the line drawn again
is the drawn line with the new cell's segments in the cell's place, and so is each filter's
output. `splice_lines` builds them so, from the drawn line and its filtered forms, where the
frame would have drawn the line and filtered all of it again (most of an idle runs screen's
frame: a spinner and a duration turning over on each running row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.segment import Segment
from textual.color import Color
from textual.filter import ANSIToTruecolor, DimFilter, LineFilter, Monochrome, NoColor
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["Cells", "clean_lines", "draws_lines_as_they_are", "splice_lines"]

# Filters that map each segment on its own: the filtered line is the filtered segments.
_PER_SEGMENT: tuple[type[LineFilter], ...] = (ANSIToTruecolor, DimFilter, Monochrome, NoColor)

# (x in the line, width, the cell's segments, simplified), left to right
Cells = Sequence[tuple[int, int, list[Segment]]]


def draws_lines_as_they_are(widget: Widget) -> bool:
    """Whether StylesCache keeps the widget's content lines as the widget renders them
    (nothing around or over them), so a line's cells sit at the same x in both."""
    styles = widget.styles
    return (widget.opacity == 1.0 and styles.text_opacity == 1.0 and not styles.tint.a
            and not any(styles.padding) and not any(edge for edge, _ in styles.border)
            and not any(edge for edge, _ in styles.outline)
            and not (styles.has_rule("hatch") and styles.hatch != "none"))


def clean_lines(widget: Widget, lines: set[int]) -> set[int]:
    """Those of `lines` the widget has drawn and not been told to draw again: what is drawn
    is what it shows now, so splicing changed cells into it is the line drawn again."""
    cache = widget._styles_cache
    drawn, dirty = cache._cache, cache._dirty_lines
    return {y for y in lines if y in drawn and y not in dirty}


def splice_lines(widget: Widget, cells: Mapping[int, Cells],
                 filters: Sequence[LineFilter], background: Color) -> set[int]:
    """Put each line's new cells into the widget's drawn line `y` (from `clean_lines`, and
    still clean: call before anything else draws), and into the forms of that line `filters`
    made (with the `background` StylesCache filters with), then mark the line drawn; the
    lines spliced. A line whose cells do not fall on its segments' edges is left to be
    drawn again."""
    cache = widget._styles_cache
    drawn, dirty = cache._cache, cache._dirty_lines
    per_segment = all(type(f) in _PER_SEGMENT for f in filters)
    done: set[int] = set()
    for y, line_cells in cells.items():
        old = drawn.get(y)
        spans = _spans(old._segments, line_cells) if old is not None else None
        if old is None or spans is None:
            continue
        segments = [cell for _, _, cell in line_cells]
        new = Strip(_spliced(old._segments, spans, segments), old.cell_length)
        if per_segment:
            _filtered_too(old, new, spans, segments, filters, background)
        drawn[y] = new
        dirty.discard(y)
        done.add(y)
    return done


def _spans(segments: Sequence[Segment], cells: Cells) -> list[tuple[int, int]] | None:
    """The range of `segments` (start, end index) each cell covers; None when a cell's edge
    falls inside a segment, or its new segments are not as wide as it."""
    spans: list[tuple[int, int]] = []
    at = index = 0
    count = len(segments)
    for x, width, new in cells:
        if sum(segment.cell_length for segment in new) != width:
            return None
        while index < count and at < x:
            at += segments[index].cell_length
            index += 1
        if at != x:
            return None
        first = index
        while index < count and at < x + width:
            length = segments[index].cell_length
            if not length:
                return None  # a control segment: not where it would be drawn again
            at += length
            index += 1
        if at != x + width:
            return None
        spans.append((first, index))
    return spans


def _spliced(segments: list[Segment], spans: list[tuple[int, int]],
             cells: list[list[Segment]]) -> list[Segment]:
    """`segments` with each span's segments replaced by its cell's."""
    out: list[Segment] = []
    at = 0
    for (first, end), cell in zip(spans, cells, strict=True):
        out += segments[at:first]
        out += cell
        at = end
    out += segments[at:]
    return out


def _filtered_too(old: Strip, new: Strip, spans: list[tuple[int, int]],
                  cells: list[list[Segment]], filters: Sequence[LineFilter],
                  background: Color) -> None:
    """Seed `new`'s filter cache, filter after filter, from what each made of `old` (a
    per-segment filter keeps the segments where they were), so the frame filters the new
    cells alone. Stops at the first filter `old` was not passed through under this
    background: the frame then filters the line itself."""
    for line_filter in filters:
        old_filtered = old._filter_cache.get((line_filter, background))
        if old_filtered is None or len(old_filtered._segments) != len(old._segments):
            return
        cells = [line_filter.apply(cell, background) for cell in cells]
        new_filtered = Strip(_spliced(old_filtered._segments, spans, cells), new.cell_length)
        new._filter_cache[(line_filter, background)] = new_filtered
        old, new = old_filtered, new_filtered
