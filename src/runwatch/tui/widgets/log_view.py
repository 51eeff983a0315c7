"""A step's log: a scrollable, searchable view of plain or ANSI-coloured text.

`/` opens the search bar, enter searches (smart case: lower case matches any case), `n` and `N`
jump to the next and previous match, escape closes the bar. Matches are marked in every line
and the current one stands out; the status line counts them. The view opens at the end of
the log (where a failure usually is) and stays there when the log is reloaded. Lines that a
provider marks as written to stderr (`models.STDERR_MARK`, a word, so it survives NO_COLOR)
get the error colour too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from runwatch.models import STDERR_MARK

TAB_SIZE = 8


@dataclass(frozen=True)
class Match:
    """One occurrence of the search: line index and character range."""

    line: int
    start: int
    end: int


def split_log(text: str) -> list[Text]:
    """Lines of `text` as Rich Text; ANSI colours are kept, and a carriage return keeps what a
    terminal would show (the text after it: progress meters redraw their line that way)."""
    text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n"))
    if "\x1b" in text:
        lines = list(Text.from_ansi(text, end="").split("\n", allow_blank=True))
    else:
        lines = [Text(line, end="") for line in text.split("\n")]
    if lines and not lines[-1].plain:
        lines.pop()  # the newline that ends the last line starts no new one
    for line in lines:
        line.expand_tabs(TAB_SIZE)
    return lines


def find_matches(lines: Sequence[Text], query: str) -> list[Match]:
    """Every occurrence of `query`; case-insensitive unless it has an upper-case letter."""
    if not query:
        return []
    fold = query == query.lower()
    needle = query.lower() if fold else query
    found: list[Match] = []
    for index, line in enumerate(lines):
        haystack = line.plain.lower() if fold else line.plain
        start = haystack.find(needle)
        while start != -1:
            found.append(Match(index, start, start + len(needle)))
            start = haystack.find(needle, start + max(1, len(needle)))
    return found


class LogLines(ScrollView, can_focus=True):
    """The lines, with a line-number gutter and search marks (Line API: any length)."""

    DEFAULT_CSS = """
    LogLines {
        height: 1fr;
        background: $surface;
        & > .log-lines--gutter { color: $text-muted; }
        & > .log-lines--match { background: $warning 40%; }
        & > .log-lines--current { background: $accent; color: $background; text-style: bold; }
        & > .log-lines--stderr { color: $text-error; }
        & > .log-lines--stderr-mark { color: $text-error; text-style: dim bold; }
    }
    """

    COMPONENT_CLASSES = {
        "log-lines--gutter", "log-lines--match", "log-lines--current", "log-lines--stderr",
        "log-lines--stderr-mark",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", show=False),
        Binding("k", "scroll_up", show=False),
        Binding("g", "scroll_home", show=False),
        Binding("G", "scroll_end", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Text] = []
        self.matches: list[Match] = []
        self.current: int | None = None  # index into matches
        self._by_line: dict[int, list[int]] = {}
        self.stderr_lines: frozenset[int] = frozenset()

    def set_lines(self, lines: list[Text], *, marks_stderr: bool = False) -> None:
        """Show `lines`; with `marks_stderr`, those that start with STDERR_MARK are stderr."""
        at_end = not self.lines or self.scroll_y >= self.max_scroll_y
        self.lines = lines
        self.stderr_lines = frozenset(
            index for index, line in enumerate(lines) if line.plain.startswith(STDERR_MARK)
        ) if marks_stderr else frozenset()
        width = max((line.cell_len for line in lines), default=0)
        self.virtual_size = Size(self._gutter_width() + width, len(lines))
        self.refresh()
        if at_end:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def set_matches(self, matches: list[Match], current: int | None) -> None:
        self.matches = matches
        self.current = current
        self._by_line = {}
        for index, match in enumerate(matches):
            self._by_line.setdefault(match.line, []).append(index)
        self.refresh()
        if current is not None:
            self.show_match(matches[current])

    def show_match(self, match: Match) -> None:
        """Scroll so the match is in view, its line near the middle."""
        height = self.scrollable_content_region.height
        width = self.scrollable_content_region.width - self._gutter_width()
        y = max(0, match.line - height // 2)
        x = self.scroll_x
        if match.start < x or match.end > x + width:
            x = max(0, match.end - width + 4)
        self.scroll_to(x=x, y=y, animate=False, immediate=True)

    def _gutter_width(self) -> int:
        return len(str(max(1, len(self.lines)))) + 1

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        rich_style = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, rich_style)
        gutter_width = self._gutter_width()
        gutter = Strip(
            Text(str(index + 1).rjust(gutter_width - 1) + " ", end="").render(self.app.console),
            gutter_width,
        ).apply_style(self.get_component_rich_style("log-lines--gutter"))
        line = self.lines[index].copy()
        line.no_wrap = True
        line.stylize_before(rich_style)
        if index in self.stderr_lines:
            mark = len(STDERR_MARK.rstrip())
            line.stylize(self.get_component_rich_style("log-lines--stderr-mark"), 0, mark)
            line.stylize(self.get_component_rich_style("log-lines--stderr"), mark)
        for match_index in self._by_line.get(index, ()):
            match = self.matches[match_index]
            name = "log-lines--current" if match_index == self.current else "log-lines--match"
            line.stylize(self.get_component_rich_style(name), match.start, match.end)
        body = Strip(line.render(self.app.console), cell_len(line.plain))
        body = body.crop_extend(scroll_x, scroll_x + width - gutter_width, rich_style)
        return Strip.join([gutter, body]).apply_offsets(scroll_x, index)


class LogView(Vertical):
    """LogLines plus the search bar and a status line."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        & > #log-search { display: none; height: 3; }
        &.-searching > #log-search { display: block; }
        & > #log-status { height: 1; color: $text-muted; padding: 0 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "search", key_display="/",
                tooltip="search (lower case matches any case)"),
        Binding("n", "next_match(1)", "next", show=False, tooltip="next match"),
        Binding("N", "next_match(-1)", "previous", show=False, tooltip="previous match"),
    ]

    # shadows DOMNode.query (the CSS query method) on this widget: nothing here queries it
    query: reactive[str] = reactive("", init=False)  # type: ignore[assignment]

    class SearchClosed(Message):
        """The search bar was closed with escape."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text: str | None = None
        self._marks_stderr = False

    def compose(self) -> ComposeResult:
        yield LogLines(id="log-lines")
        yield Input(placeholder="search the log (enter finds, escape closes)", id="log-search")
        yield Static("", id="log-status", markup=False)

    @property
    def lines_widget(self) -> LogLines:
        return self.query_one(LogLines)

    @property
    def searching(self) -> bool:
        return self.has_class("-searching")

    def set_text(self, text: str, *, marks_stderr: bool = False) -> None:
        """Show `text`; an unchanged log re-renders nothing. `marks_stderr`: the provider
        starts its stderr lines with STDERR_MARK (and no other line with it)."""
        if text == self._text and marks_stderr == self._marks_stderr:
            return
        self._text = text
        self._marks_stderr = marks_stderr
        lines = split_log(text)
        self.lines_widget.set_lines(lines, marks_stderr=marks_stderr)
        self._search(keep_position=True)

    def action_search(self) -> None:
        search = self.query_one("#log-search", Input)
        self.add_class("-searching")
        search.value = self.query
        search.focus()

    def close_search(self) -> None:
        self.remove_class("-searching")
        self.lines_widget.focus()

    def action_next_match(self, step: int) -> None:
        lines = self.lines_widget
        if not lines.matches:
            self._status()
            return
        current = lines.current
        current = 0 if current is None else (current + step) % len(lines.matches)
        lines.set_matches(lines.matches, current)
        self._status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("-searching")
        self.lines_widget.focus()
        self.query = event.value
        self._search(keep_position=False)

    def on_key(self, event: events.Key) -> None:
        # Escape in the search bar closes it, and goes no further (not "back").
        if event.key == "escape" and self.searching:
            event.stop()
            event.prevent_default()
            self.close_search()

    def _search(self, *, keep_position: bool) -> None:
        lines = self.lines_widget
        matches = find_matches(lines.lines, self.query)
        current: int | None = None
        if matches:
            if keep_position and lines.current is not None and lines.current < len(matches):
                current = lines.current
            else:
                # The first match at or below the top of the view, like less and vim.
                top = round(lines.scroll_y)
                current = next((i for i, m in enumerate(matches) if m.line >= top), 0)
        lines.set_matches(matches, current)
        self._status()

    def _status(self) -> None:
        lines = self.lines_widget
        total = f"{len(lines.lines)} lines"
        if lines.stderr_lines:
            total += f" · {len(lines.stderr_lines)} on stderr"
        if not self.query:
            text = f"{total} · / search"
        elif not lines.matches:
            text = f"{total} · no match for “{self.query}”"
        else:
            position = (lines.current or 0) + 1
            line = lines.matches[lines.current or 0].line + 1
            text = (f"{total} · match {position}/{len(lines.matches)} for “{self.query}” "
                    f"on line {line} · n next · N previous")
        self.query_one("#log-status", Static).update(text)
