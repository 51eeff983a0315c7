"""`?`: the keys of the screen it was pressed on, read from that screen's bindings.

Nothing here lists keys by hand. The help walks the screen's binding chain — the app, the
screen, and every part of it that can take focus (its tables, timeline, log) — and says each
binding in its own words (its tooltip, else its footer label). Moving keys, which Textual's
widgets and ours bind under many action names, are gathered into a few lines. A key that
cannot apply right now (check_action None) is listed with "(not now)"; a hidden one (False,
e.g. the kiosk's action keys) is not listed at all. On a wall display (the kiosk) the help
closes on any key and by itself, so nobody has to find the right key to get the screen back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.events import Key
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from runwatch.tui.widgets.footer import declared_rank

# Moving keys, whatever a widget calls the action: (line, words).
MOVES: dict[str, tuple[int, str]] = {
    "cursor_up": (0, "move up and down"), "cursor_down": (0, "move up and down"),
    "scroll_up": (0, "move up and down"), "scroll_down": (0, "move up and down"),
    "cursor(-1)": (0, "move up and down"), "cursor(1)": (0, "move up and down"),
    "scroll('up')": (0, "move up and down"), "scroll('down')": (0, "move up and down"),
    "page_up": (1, "a page up and down"), "page_down": (1, "a page up and down"),
    "cursor(-10)": (1, "a page up and down"), "cursor(10)": (1, "a page up and down"),
    "scroll_home": (2, "first and last"), "scroll_end": (2, "first and last"),
    "scroll_top": (2, "first and last"), "scroll_bottom": (2, "first and last"),
    "cursor_to(0)": (2, "first and last"), "cursor_to(-1)": (2, "first and last"),
}
# Textual's own bindings said in runwatch's words; its sideways and clipboard keys do
# nothing useful on these screens and are left out.
WORDS: dict[str, str] = {
    "app.focus_next": "next part of the screen",
    "app.focus_previous": "previous part of the screen",
    "command_palette": "command palette: themes, sources, filters, sorts, actions",
    "app.command_palette": "command palette: themes, sources, filters, sorts, actions",
    "quit": "quit",
    "app.quit": "quit",
}
LEFT_OUT = frozenset({
    "cursor_left", "cursor_right", "scroll_left", "scroll_right", "page_left", "page_right",
    "screen.copy_text", "copy_text", "help_quit",
})
FOCUS_MOVES = frozenset({"app.focus_next", "app.focus_previous"})


@dataclass
class KeyLine:
    """One line of the help: the keys (as displayed) and what they do."""

    keys: list[str]
    words: str
    not_now: bool = False
    rank: int = 0


@dataclass
class KeyGroup:
    title: str
    lines: list[KeyLine] = field(default_factory=list)

    def add(self, key: str, words: str, *, not_now: bool = False, rank: int = 0) -> None:
        for line in self.lines:
            if line.words == words:
                if key not in line.keys:
                    line.keys.append(key)
                line.not_now = line.not_now and not_now
                line.rank = min(line.rank, rank)
                return
        self.lines.append(KeyLine([key], words, not_now, rank))


def _focusable(screen: Screen[object]) -> list[Widget]:
    """The parts of `screen` that can take focus: shown, focusable, and not an input (its
    editing keys are the terminal's usual ones)."""
    return [widget for widget in screen.walk_children(Widget)
            if widget.focusable and not isinstance(widget, Input)
            and all(node.display for node in widget.ancestors_with_self
                    if isinstance(node, Widget))]


def _parts(screen: Screen[object]) -> Iterator[DOMNode]:
    """Whose keys work on `screen`: each focusable part and the containers around it (a
    container's keys work while a part inside it has focus), each once."""
    seen: set[int] = set()
    for widget in _focusable(screen):
        for node in widget.ancestors_with_self:
            if node is screen:
                break
            if id(node) not in seen:
                seen.add(id(node))
                yield node


def _state(node: DOMNode, action: str) -> bool | None:
    """What `node.check_action` says of `action` (True: applies, None: not now, False: hidden)."""
    target, name, params = parse_action(action)
    owner: DOMNode = node.app if target == "app" else node
    return owner.check_action(name, params)


def _words(binding: Binding) -> str:
    return WORDS.get(binding.action) or binding.tooltip or binding.description


def key_groups(screen: Screen[object]) -> list[KeyGroup]:
    """The help of `screen`: moving keys, the screen's own keys, the app's keys."""
    app = screen.app
    moves, own, everywhere = KeyGroup("Move"), KeyGroup("On this screen"), KeyGroup("Everywhere")
    move_lines: dict[int, KeyLine] = {}
    seen: set[str] = set()  # a key is listed once: as the nearest binding that takes it
    namespaces: list[DOMNode] = [*_parts(screen), screen, app]
    # Priority bindings first, as Textual dispatches them (the runs screen's enter).
    ordered = [(depth, node, key, binding) for priority in (True, False)
               for depth, node in enumerate(namespaces)
               for key, binding in node._bindings if binding.priority == priority]
    single = len(_focusable(screen)) < 2  # tab has nowhere to go
    for depth, node, key, binding in ordered:
        if key in seen or binding.action in LEFT_OUT:
            continue
        if single and binding.action in FOCUS_MOVES:
            continue
        if binding.system and binding.action not in WORDS:
            continue
        state = _state(node, binding.action)
        if state is False:
            continue
        shown = app.get_key_display(binding)
        if binding.action in MOVES:
            seen.add(key)
            index, words = MOVES[binding.action]
            line = move_lines.setdefault(index, KeyLine([], words))
            if shown not in line.keys:
                line.keys.append(shown)
            continue
        words = _words(binding)
        if not words:
            continue  # a binding that only explains another (see screens/actions.py)
        seen.add(key)
        group = everywhere if node is app else own
        # The screen's keys in the order it declares them (its footer's order).
        rank = (0 if node is screen else depth + 1) * 1000 + declared_rank(node, binding)
        group.add(shown, words, not_now=state is None, rank=rank)
    moves.lines = [move_lines[i] for i in sorted(move_lines)]
    for group in (own, everywhere):
        group.lines.sort(key=lambda line: line.rank)
    return [g for g in (moves, own, everywhere) if g.lines]


KEYS_WIDTH = 14  # the keys column; longer runs of keys wrap under themselves


def help_text(groups: list[KeyGroup]) -> Text:
    """The help as plain lines (what the tests and a screen reader read)."""
    text = Text(end="")
    for group in groups:
        text.append(f"{group.title}\n", "bold underline")
        for line in group.lines:
            text.append(f"  {' '.join(line.keys):<{KEYS_WIDTH}}  {line.words}")
            text.append("  (not now)\n" if line.not_now else "\n")
    text.rstrip()
    return text


def help_table(groups: list[KeyGroup]) -> Table:
    """The help on screen: keys in one column, what they do in the other, each wrapping
    within its own column."""
    table = Table.grid(padding=(0, 2))
    table.add_column(width=KEYS_WIDTH + 2, style="bold", overflow="fold")
    table.add_column(ratio=1, overflow="fold")
    for index, group in enumerate(groups):
        if index:
            table.add_row("", "")
        table.add_row(Text(group.title, "bold underline"), "")
        for line in group.lines:
            words = Text(line.words)
            if line.not_now:
                words.append("  (not now)", "dim")
            table.add_row("  " + " ".join(line.keys), words)
    return table


class HelpScreen(ModalScreen[None]):
    """The keys of one screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "close"),
    ]

    def __init__(self, screen: Screen[object], *, close_after: float | None = None) -> None:
        super().__init__()
        self.target = screen
        self.groups = key_groups(screen)
        # Seconds until it closes by itself, and any key closes it (the kiosk); None: not.
        self.close_after = close_after

    @property
    def listed_keys(self) -> set[str]:
        """Every key shown, as displayed."""
        return {key for g in self.groups for line in g.lines for key in line.keys}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as frame:
            # Title and hint live in the border, so the keys get every line of 80x24.
            frame.border_title = f"keys: {screen_name(self.target)}"
            frame.border_subtitle = (
                f"any key closes · closes by itself in {self.close_after:.0f} s"
                if self.close_after is not None else "escape, ? or q closes")
            yield Static(help_table(self.groups), id="help-body", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help").focus()
        if self.close_after is not None:
            self.set_timer(self.close_after, self.action_close)

    def on_key(self, event: Key) -> None:
        if self.close_after is not None:
            event.stop()
            event.prevent_default()
            self.action_close()

    def action_close(self) -> None:
        if self.is_current:
            self.dismiss(None)


def screen_name(screen: Screen[object]) -> str:
    """"runs", "run", "log"…: the screen's class name without "Screen", in words."""
    name = type(screen).__name__.removesuffix("Screen")
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return words or "runwatch"
