"""The kiosk's big numbers, for a wall display read from across a room: counts by status in
big digits (the word and glyph beneath, never colour alone) that grow with the screen. The
list of runs is `kiosk_runs`."""

from __future__ import annotations

from collections.abc import Mapping

from rich.align import Align
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.widgets import Digits, Label

from runwatch.models import RunStatus
from runwatch.tui.look import STATUS, glyphs_of, status_look
from runwatch.tui.widgets.summary import SUMMARY_ORDER

# Textual's digits are box drawing; these seven segments are ASCII, 3x3 like them.
ASCII_DIGITS: Mapping[str, tuple[str, str, str]] = {
    "0": (" _ ", "| |", "|_|"),
    "1": ("   ", "  |", "  |"),
    "2": (" _ ", " _|", "|_ "),
    "3": (" _ ", " _|", " _|"),
    "4": ("   ", "|_|", "  |"),
    "5": (" _ ", "|_ ", " _|"),
    "6": (" _ ", "|_ ", "|_|"),
    "7": (" _ ", "  |", "  |"),
    "8": (" _ ", "|_|", "|_|"),
    "9": (" _ ", "|_|", " _|"),
    ":": ("   ", " o ", " o "),
    " ": ("   ", "   ", "   "),
    "-": ("   ", " _ ", "   "),
}

# Which counts keep a big block when the width runs short (the rest are left out).
FIT_ORDER = (
    RunStatus.FAILED, RunStatus.RUNNING, RunStatus.PASSED, RunStatus.TIMED_OUT,
    RunStatus.WAITING, RunStatus.QUEUED, RunStatus.CANCELED, RunStatus.SKIPPED,
    RunStatus.UNKNOWN,
)
# Shown even at zero: "0 failed" is news too.
ALWAYS = frozenset({RunStatus.FAILED, RunStatus.RUNNING, RunStatus.PASSED})
BLOCK_GAP = 3  # cells between blocks (StatusCount's margin-right)

# The big font of a large screen: 3x5 pixels a digit, each pixel 2 cells wide (1 tall).
PIXELS: Mapping[str, tuple[str, str, str, str, str]] = {
    "0": ("###", "# #", "# #", "# #", "###"),
    "1": (" # ", "## ", " # ", " # ", "###"),
    "2": ("###", "  #", "###", "#  ", "###"),
    "3": ("###", "  #", "###", "  #", "###"),
    "4": ("# #", "# #", "###", "  #", "  #"),
    "5": ("###", "#  ", "###", "  #", "###"),
    "6": ("###", "#  ", "###", "# #", "###"),
    "7": ("###", "  #", "  #", "  #", "  #"),
    "8": ("###", "# #", "###", "# #", "###"),
    "9": ("###", "# #", "###", "  #", "###"),
    ":": ("   ", " # ", "   ", " # ", "   "),
    " ": ("   ", "   ", "   ", "   ", "   "),
    "-": ("   ", "   ", "###", "   ", "   "),
}
LARGE = (160, 45)  # from this screen size (columns, rows) the digits are the large font


def large_text(value: str, pixel: str) -> str:
    """`value` in the large font: 5 rows, 8 cells a character (a 2-cell gap between)."""
    rows = []
    for row in range(5):
        cells = [
            "".join(pixel * 2 if p == "#" else "  " for p in PIXELS.get(c, PIXELS[" "])[row])
            for c in value
        ]
        rows.append("  ".join(cells))
    return "\n".join(rows)


class BigNumber(Digits):
    """Digits three rows tall (seven-segment ASCII under `--ascii`), or five rows tall in
    the large font when `large` (a screen of 160x45 or more)."""

    large = False

    def set_large(self, large: bool) -> None:
        if large != self.large:
            self.large = large
            self.refresh(layout=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        if self.large:
            return max(0, 8 * len(self.value) - 2)
        return super().get_content_width(container, viewport)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 5 if self.large else 3

    def update(self, value: str) -> None:
        large_width_changed = self.large and len(value) != len(self.value)
        super().update(value)
        if large_width_changed:
            self.refresh(layout=True)

    def render(self) -> RenderResult:
        if self.large:
            pixel = "#" if glyphs_of(self).ascii else "█"
            text = Text(large_text(self.value, pixel), style=self.rich_style, no_wrap=True,
                        end="")
            return Align(text, "left", self.rich_style)
        if not glyphs_of(self).ascii:
            return super().render()
        rows = ("".join(ASCII_DIGITS.get(c, ("   ", "   ", c.center(3)))[row]
                        for c in self.value) for row in range(3))
        text = Text("\n".join(rows), style=self.rich_style, no_wrap=True, end="")
        return Align(text, "left", self.rich_style)


class StatusCount(Vertical):
    """One status: its count in big digits, its glyph and word beneath."""

    DEFAULT_CSS = "\n".join(
        f"StatusCount.-{status.value} {{ color: ${look.variable}; }}"
        for status, look in STATUS.items()
    ) + """
    StatusCount {
        width: auto;
        height: auto;
        margin-right: 3;
        align-horizontal: center;
        & BigNumber { width: auto; text-style: bold; }
        & Label { width: auto; text-style: bold; }
        &.-zero { color: $text-muted; }
    }
    """

    def __init__(self, status: RunStatus) -> None:
        super().__init__(classes=f"-{status.value}", id=f"count-{status.value}")
        self.status = status
        self.count = 0

    def compose(self) -> ComposeResult:
        yield BigNumber("0")
        yield Label("", markup=False)

    def on_mount(self) -> None:
        self.query_one(Label).update(status_look(self.status, glyphs_of(self)).label)

    @property
    def label(self) -> str:
        return str(self.query_one(Label).render())

    def set_count(self, count: int) -> None:
        if count != self.count or not self.is_mounted:
            self.count = count
            self.query_one(BigNumber).update(str(count))
            self.set_class(count == 0, "-zero")

    def block_width(self, count: int) -> int:
        """Cells this block takes for `count`, with its gap."""
        word = len(status_look(self.status).label)
        digits = 8 * len(str(count)) - 2 if self.query_one(BigNumber).large else 3 * len(
            str(count))
        return max(digits, word) + BLOCK_GAP

    def set_large(self, large: bool) -> None:
        self.query_one(BigNumber).set_large(large)


class StatusCounts(Horizontal):
    """Counts by status in big digits; as many blocks as the width holds, failures first."""

    DEFAULT_CSS = """
    StatusCounts {
        height: auto;
        width: 1fr;
        overflow: hidden hidden;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._counts: dict[RunStatus, int] = {}

    def compose(self) -> ComposeResult:
        for status in SUMMARY_ORDER:
            yield StatusCount(status)

    def show_counts(self, counts: Mapping[RunStatus, int]) -> None:
        self._counts = dict(counts)
        self._layout_blocks()

    def set_large(self, large: bool) -> None:
        """The large font (a big screen) or the three-row digits."""
        for block in self.query(StatusCount):
            block.set_large(large)
        self._layout_blocks(force=True)

    def on_resize(self) -> None:
        self._layout_blocks(force=True)

    @property
    def shown(self) -> list[StatusCount]:
        """The blocks on screen, left to right."""
        return [b for b in self.query(StatusCount) if b.display]

    def _layout_blocks(self, *, force: bool = False) -> None:
        if not (self.is_mounted or force):
            return  # the first resize lays them out
        blocks = {b.status: b for b in self.query(StatusCount)}
        room = self.size.width or 80
        keep: set[RunStatus] = set()
        for status in FIT_ORDER:
            count = self._counts.get(status, 0)
            if not count and status not in ALWAYS:
                continue
            need = blocks[status].block_width(count)
            if need > room:
                break  # strict priority: a later, less urgent count never jumps the queue
            keep.add(status)
            room -= need
        for status, block in blocks.items():
            block.display = status in keep
            if status in keep:
                block.set_count(self._counts.get(status, 0))
