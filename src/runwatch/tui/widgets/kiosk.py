"""The kiosk's widgets, for a wall display read from across a room: counts by status in big
digits (the word and glyph beneath, never colour alone), and the runs that matter, failing
ones first."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.align import Align
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Digits, Label

from runwatch.formatting import format_duration, relative_time, to_epoch
from runwatch.models import Run, RunStatus
from runwatch.tui.look import (
    STATUS,
    Glyphs,
    glyphs_of,
    progress_bar,
    spinner_frame,
    status_look,
    truncate,
)
from runwatch.tui.runs_view import run_duration
from runwatch.tui.widgets.summary import SUMMARY_ORDER

MUTED = "$foreground-muted"

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

FAILING = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})

# A run's line: the columns that come when the title keeps TITLE_MIN cells, in this order.
ID_WIDTH, WHEN_WIDTH = 10, 8
TITLE_MIN, TITLE_MAX = 30, 64
# In priority order: a finished run's duration first (how long did it take?), then the rest.
EXTRA_COLUMNS = (("took", 10), ("progress", 12), ("branch", 20), ("author", 12))


class BigNumber(Digits):
    """Digits three rows tall; seven-segment ASCII under `--ascii`."""

    def render(self) -> RenderResult:
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
        return max(3 * len(str(count)), word) + BLOCK_GAP


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


@dataclass(frozen=True)
class Section:
    """A group of runs in the kiosk's list, e.g. the failing ones."""

    title: str
    style: str
    runs: Sequence[Run]
    total: int


def kiosk_sections(runs: Iterable[Run], *, recent: int = 50) -> list[Section]:
    """Failing runs first, then the active ones, then the `recent` newest of the rest; each
    newest first. One pass over the runs, so 10,000 runs stay cheap."""
    failing: list[Run] = []
    active: list[Run] = []
    rest: list[Run] = []
    for run in runs:
        if run.status in FAILING:
            failing.append(run)
        elif run.status.is_active:
            active.append(run)
        else:
            rest.append(run)

    def newest(items: list[Run], limit: int | None = None) -> list[Run]:
        def key(run: Run) -> float:
            return to_epoch(run.sort_time) or 0.0

        if limit is not None and len(items) > limit:
            return heapq.nlargest(limit, items, key=key)
        return sorted(items, key=key, reverse=True)

    return [
        Section("FAILING", "bold reverse $run-failed", newest(failing), len(failing)),
        Section("ACTIVE", "bold reverse $run-running", newest(active), len(active)),
        Section("RECENT", "bold reverse $foreground-muted", newest(rest, recent), len(rest)),
    ]


class KioskRuns(Widget):
    """The runs that matter, one line each: failing first, then active, then recent.

    Re-rendered only when a line's text changes (a poll, or a second that moves a time), so
    an idle second writes nothing to the terminal."""

    DEFAULT_CSS = """
    KioskRuns {
        height: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, now: Callable[[], float], id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._sections: list[Section] = []
        self._show_source = True
        self._lines_content: Content | None = None
        self._built_minute: int | None = None

    def set_runs(self, runs: Iterable[Run], *, show_source: bool) -> None:
        self._sections = kiosk_sections(runs)
        self._show_source = show_source
        self.refresh_times(force=True)

    def refresh_times(self, *, force: bool = False) -> None:
        """Rebuild the lines; repaint only when they differ. Called every second, so a list
        with no active run (nothing counts seconds) is rebuilt once a minute at most."""
        if not self.is_mounted:
            self._lines_content = None  # render() builds them
            return
        minute = int(self._now() // 60)
        ticking = any(r.status.is_active for section in self._sections for r in section.runs)
        if not (force or ticking) and minute == self._built_minute:
            return
        self._built_minute = minute
        content = self._build(self.content_region.width, self.content_region.height)
        if self._lines_content is None or not content.is_same(self._lines_content):
            self._lines_content = content
            self.refresh()

    def on_resize(self) -> None:
        self._lines_content = None
        self.refresh_times(force=True)

    def render(self) -> Content:
        if self._lines_content is None:
            self._lines_content = self._build(self.content_region.width, self.content_region.height)
        return self._lines_content

    @property
    def lines(self) -> list[str]:
        """The plain text of each line (for tests)."""
        return self._lines_content.plain.split("\n") if self._lines_content is not None else []

    def _build(self, width: int, height: int) -> Content:
        if width <= 0 or height <= 0:
            return Content("")
        glyphs = glyphs_of(self)
        now = self._now()
        source_width = max([6, *(len(r.source) for s in self._sections for r in s.runs)])
        source_width = min(source_width, 14) if self._show_source else 0
        lines: list[Content] = []
        if not any(section.total for section in self._sections):
            # Not "nothing failing": nothing is known yet (the source line says why).
            return Content.assemble(("no runs to show yet", MUTED))
        for section in self._sections:
            room = height - len(lines)
            if room <= 0:
                break
            if section.title == "FAILING" and not section.runs:
                look = status_look(RunStatus.PASSED, glyphs)
                lines.append(Content.assemble((f"{look.glyph} nothing failing",
                                               f"bold ${look.variable}")))
                continue
            if not section.runs:
                continue
            header = Content.assemble((f" {section.title} {section.total} ", section.style))
            lines.append(header)
            room -= 1
            shown = section.runs[:room]
            more = section.total - len(shown)
            if more and shown and section.title != "RECENT":
                shown = shown[:-1]  # the last line says how many are not shown
                more += 1
            lines.extend(run_line(run, width, now, glyphs, source_width=source_width)
                         for run in shown)
            if more and section.title != "RECENT" and len(lines) < height:
                lines.append(Content.assemble(
                    (f"  + {more} more {section.title.lower()}", MUTED)))
        return Content("\n").join(lines[:height])


def run_line(run: Run, width: int, now: float, glyphs: Glyphs, *, source_width: int) -> Content:
    """One run: status, source, id, then as the width allows its progress, title, branch and
    author, and when. The title stops at TITLE_MAX so a wide screen keeps a run together."""
    look = status_look(run.status, glyphs)
    failing = run.status in FAILING
    colour = f"${look.variable}"
    used = 12 + ID_WIDTH + 2 + 1 + WHEN_WIDTH + (source_width + 2 if source_width else 0)
    extras: set[str] = set()
    for column, need in EXTRA_COLUMNS:
        if width - used - need >= TITLE_MIN:
            extras.add(column)
            used += need
    title_width = max(0, min(TITLE_MAX, width - used))
    parts: list[tuple[str, str] | str] = [
        (look.label.ljust(11), f"{colour} bold" if failing else colour), " ",
    ]
    if source_width:
        parts += [(truncate(run.source, source_width, glyphs).ljust(source_width), "bold"), "  "]
    parts += [(truncate(run.id, ID_WIDTH, glyphs).ljust(ID_WIDTH), MUTED), "  "]
    if "progress" in extras:
        bar = "" if not run.status.is_active else (
            spinner_frame(now, glyphs) if run.progress is None
            else f"{progress_bar(run.progress, 5, glyphs)} {run.progress:3.0f}%")
        parts += [(bar.ljust(10), "$run-running"), "  "]
    title = run.title or run.branch or ""
    parts.append((truncate(title, title_width, glyphs).ljust(title_width),
                  "bold" if failing else ""))
    if "branch" in extras:
        parts += ["  ", (truncate(run.branch or "", 18, glyphs).ljust(18), MUTED)]
    if "author" in extras:
        parts += ["  ", (truncate(run.author or "", 10, glyphs).ljust(10), MUTED)]
    if "took" in extras:
        took = format_duration(run.duration_s) if run.status.is_terminal else ""
        parts += ["  ", (took.rjust(8), MUTED)]
    parts.append(" " + _when(run, now).rjust(WHEN_WIDTH))
    return Content.assemble(*parts)


def _when(run: Run, now: float) -> str:
    """How long an active run has run ("3m 07s"), else when it started ("4m ago")."""
    if run.status is RunStatus.RUNNING:
        return format_duration(run_duration(run, now))
    return relative_time(run.created_at or run.started_at, now)
