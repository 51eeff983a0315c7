"""A partial screen update writes what changed, not the line up to it.

Textual 8's `ChopsUpdate.render_segments` (what the driver writes) crops each widget's strip
at the right edge of a dirty region but always starts at the widget's left edge: a table
cell that turned over at column 180 rewrites the 180 cells before it too, so refreshing one
cell cost as many bytes as refreshing its row. `install()` swaps in the same method starting
at the first segment that reaches the dirty region (whole segments, so a wide character is
never split). The output differs only in what it leaves out: cells before the region, which
did not change, are not rewritten.
"""

from __future__ import annotations

from rich.console import Console
from rich.control import Control
from textual._compositor import ChopsUpdate
from textual.strip import Strip

__all__ = ["install"]


def _from(strip: Strip, x: int, x1: int) -> int:
    """The screen column of the first segment of `strip` (drawn at `x`) that reaches x1."""
    start = x
    for segment in strip:
        width = segment.cell_length
        if start + width > x1:
            break
        start += width
    return start


def render_segments(self: ChopsUpdate, console: Console) -> str:
    """`ChopsUpdate.render_segments`, each strip cropped to its dirty span on both sides."""
    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    chops = self.chops
    chop_ends = self.chop_ends
    last_y = self.spans[-1][0]
    for y, x1, x2 in self.spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None or x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(move_to(x, y).segment.text)
                append(strip.render(console))
                continue
            start = _from(strip, x, x1) if x < x1 else x
            append(move_to(start, y).segment.text)
            append(strip.crop(start - x, min(end, x2) - x).render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> None:
    """Use `render_segments` above for every partial update (idempotent)."""
    if getattr(ChopsUpdate.render_segments, "__module__", "") != __name__:
        ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
