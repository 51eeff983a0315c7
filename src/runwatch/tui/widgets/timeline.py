"""The step timeline: one row per step (Wercker step, services stage, scheduler node, Conduct
check) with its status as glyph *and* word, its duration, and a bar on a time axis shared by
all steps, so a slow or failing step stands out at a glance.

A Line API widget: rows are rendered on demand at the current width, the header row stays put
while the steps scroll, and updates keep the cursor on the same step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from runwatch.formatting import format_duration, to_epoch
from runwatch.models import Step, step_duration
from runwatch.tui.look import glyphs_of, status_look, truncate

NAME_MIN, NAME_MAX = 8, 28
WORD_WIDTH = max(len(w) for w in ("timed out", "canceled", "running", "unknown"))
TOOK_WIDTH = 7  # "59m 59s"
BAR_MIN = 8  # below this a bar says nothing: drop the column


@dataclass(frozen=True)
class Span:
    """Where a step sits on the axis, in seconds from the axis origin."""

    start: float
    end: float


@dataclass(frozen=True)
class Axis:
    """The shared time axis: origin (epoch seconds) and length (seconds)."""

    origin: float
    length: float

    def cells(self, span: Span, width: int) -> tuple[int, int]:
        """The bar's first cell and cell count at `width`; every step gets at least one cell."""
        scale = width / self.length
        first = min(width - 1, int((span.start - self.origin) * scale))
        last = max(first + 1, round((span.end - self.origin) * scale))
        return first, min(width, last) - first


def step_span(step: Step, now: float) -> Span | None:
    """A step's start and end (epoch seconds); a running step ends now; None before it starts."""
    start = to_epoch(step.started_at)
    if start is None:
        return None
    end = to_epoch(step.finished_at)
    if end is None:
        if step.status.is_active:
            end = now
        elif step.duration_s is not None and math.isfinite(step.duration_s):
            end = start + step.duration_s
        else:
            end = start  # finished, but the API did not say when
    return Span(start, max(start, end))


def shared_axis(steps: Sequence[Step], now: float) -> Axis | None:
    """The axis that holds every started step, or None when none has started."""
    spans = [s for s in (step_span(step, now) for step in steps) if s is not None]
    if not spans:
        return None
    origin = min(s.start for s in spans)
    return Axis(origin, max(1.0, max(s.end for s in spans) - origin))


class Timeline(ScrollView, can_focus=True):
    """Steps on a shared time axis; enter posts `Timeline.StepSelected`."""

    DEFAULT_CSS = """
    Timeline {
        height: auto;
        max-height: 14;
        overflow-x: hidden;
        background: transparent;
        & > .timeline--header { color: $text-muted; text-style: bold; }
        & > .timeline--cursor { background: $block-cursor-blurred-background; }
        & > .timeline--marker { color: $text-muted; }
        &:focus > .timeline--cursor { text-style: bold; }
        &:focus > .timeline--marker { color: $accent; }
        & > .timeline--muted { color: $text-muted; }
    }
    """

    COMPONENT_CLASSES = {
        "timeline--header", "timeline--cursor", "timeline--marker", "timeline--muted",
    }

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", show=False),
        Binding("pagedown", "cursor(10)", show=False),
        Binding("home", "cursor_to(0)", show=False),
        Binding("end", "cursor_to(-1)", show=False),
        Binding("enter", "select", "open", key_display="enter",
                tooltip="open the highlighted step's log (a Conduct check's text)"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class StepHighlighted(Message):
        """The cursor moved onto `step`."""

        def __init__(self, timeline: Timeline, step: Step) -> None:
            super().__init__()
            self.timeline = timeline
            self.step = step

        @property
        def control(self) -> Timeline:
            """The timeline the step is on (for `@on(..., "#id")` selectors)."""
            return self.timeline

    class StepSelected(Message):
        """Enter was pressed on `step`."""

        def __init__(self, timeline: Timeline, step: Step) -> None:
            super().__init__()
            self.timeline = timeline
            self.step = step

        @property
        def control(self) -> Timeline:
            """The timeline the step is on (for `@on(..., "#id")` selectors)."""
            return self.timeline

    def __init__(
        self,
        steps: Sequence[Step] = (),
        *,
        now: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._now = now
        self._steps: list[Step] = []
        self.set_steps(steps)

    # -- data ----------------------------------------------------------------------------

    @property
    def steps(self) -> list[Step]:
        return list(self._steps)

    @property
    def highlighted(self) -> Step | None:
        return self._steps[self.cursor] if self._steps else None

    def set_steps(self, steps: Sequence[Step]) -> None:
        """Replace the steps, keeping the cursor on the same step (by id) where it still is."""
        ordered = sorted(steps, key=lambda s: s.order)
        if ordered == self._steps:
            return  # an idle poll re-renders nothing
        current = self.highlighted
        resized = len(ordered) != len(self._steps)
        self._steps = ordered
        self.virtual_size = Size(self.virtual_size.width, len(self._steps) + 1)
        ids = [s.id for s in self._steps]
        index = ids.index(current.id) if current and current.id in ids else self.cursor
        self.set_reactive(Timeline.cursor, max(0, min(index, len(self._steps) - 1)))
        self.refresh(layout=resized)
        if self.is_mounted and self._steps:
            # Tell the screen even when the index stays: the step's status may have moved on.
            self.post_message(self.StepHighlighted(self, self._steps[self.cursor]))

    # -- keys ----------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        if self._steps:
            self.cursor = max(0, min(len(self._steps) - 1, self.cursor + delta))

    def action_cursor_to(self, index: int) -> None:
        if self._steps:
            self.cursor = index % len(self._steps)

    def action_select(self) -> None:
        if (step := self.highlighted) is not None:
            self.post_message(self.StepSelected(self, step))

    def watch_cursor(self, cursor: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        if (step := self.highlighted) is not None:
            self.post_message(self.StepHighlighted(self, step))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # less the header row
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    # -- rendering -----------------------------------------------------------------------

    def _name_width(self, width: int) -> int:
        longest = max((len(s.name) for s in self._steps), default=NAME_MIN)
        # Leave the bar at least a third of the row on a narrow screen.
        room = width - 2 - 2 - WORD_WIDTH - TOOK_WIDTH - 3 - max(BAR_MIN, width // 3)
        return max(NAME_MIN, min(NAME_MAX, longest, room))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width <= 0:
            return Strip.blank(0)
        if y == 0:
            content = self._header(width)
            style = self.get_visual_style("timeline--header")
        else:
            index = y - 1 + round(self.scroll_y)
            if index >= len(self._steps):
                return Strip.blank(width, self.rich_style)
            is_cursor = index == self.cursor
            content = self._row(self._steps[index], width, is_cursor)
            style = (self.get_visual_style("timeline--cursor") if is_cursor
                     else self.visual_style)
        strips = Content.to_strips(self, content, width, 1, style, pad=True)
        strip = strips[0] if strips else Strip.blank(width)
        return strip.extend_cell_length(width, style.rich_style).crop(0, width)

    def _columns(self, width: int) -> tuple[int, int]:
        name_width = self._name_width(width)
        bar_width = width - 2 - 2 - name_width - 1 - WORD_WIDTH - 1 - 1 - TOOK_WIDTH
        return name_width, bar_width if bar_width >= BAR_MIN else 0

    def _header(self, width: int) -> Content:
        name_width, bar_width = self._columns(width)
        axis = shared_axis(self._steps, self._now()) if bar_width else None
        scale = ""
        if axis is not None:
            middle = format_duration(axis.length / 2)
            scale = "0s".ljust(bar_width)
            centre = (bar_width - len(middle)) // 2
            if centre > 3 and bar_width > 24:
                scale = scale[:centre] + middle + scale[centre + len(middle):]
            total = format_duration(axis.length)
            scale = scale[: bar_width - len(total)] + total
        elif bar_width:
            scale = "not started".ljust(bar_width)
        text = f"    {'step'.ljust(name_width)} {'status'.ljust(WORD_WIDTH)} "
        if bar_width:
            text += scale + " "
        return Content(text + "took".rjust(TOOK_WIDTH))

    def _row(self, step: Step, width: int, is_cursor: bool) -> Content:
        now = self._now()
        glyphs = glyphs_of(self)
        name_width, bar_width = self._columns(width)
        look = status_look(step.status, glyphs)
        colour = f"${look.variable}"
        name = truncate(step.name, name_width, glyphs)
        marker_style = self.get_visual_style("timeline--marker", partial=True)
        parts: list[tuple[str, str | Style] | str] = [
            (f"{glyphs.cursor} " if is_cursor else "  ", marker_style),
            (look.glyph, colour),
            " ",
            name.ljust(name_width),
            " ",
            (look.word.ljust(WORD_WIDTH), colour),
            " ",
        ]
        if bar_width:
            parts.extend(self._bar(step, bar_width, now, colour))
            parts.append(" ")
        took = step_duration(step, now)
        parts.append(format_duration(took).rjust(TOOK_WIDTH) if took is not None
                     else (glyphs.dash.rjust(TOOK_WIDTH),
                           self.get_visual_style("timeline--muted", partial=True)))
        return Content.assemble(*parts)

    def _bar(
        self, step: Step, width: int, now: float, colour: str
    ) -> list[tuple[str, str | Style] | str]:
        glyphs = glyphs_of(self)
        axis = shared_axis(self._steps, now)
        span = step_span(step, now)
        muted = self.get_visual_style("timeline--muted", partial=True)
        if axis is None or span is None:
            return [(glyphs.axis * width, muted)]
        first, cells = axis.cells(span, width)
        # A running step's bar ends in a half block: it is still growing.
        body = glyphs.bar_full * cells if not step.status.is_active else (
            glyphs.bar_full * (cells - 1) + glyphs.bar_growing)
        return [
            (glyphs.axis * first, muted),
            (body, colour),
            (glyphs.axis * (width - first - cells), muted),
        ]
