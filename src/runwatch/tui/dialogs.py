"""Modal screens: the confirmation before a mutating action, and the key help."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from runwatch.models import Run


class ConfirmDialog(ModalScreen[bool]):
    """"Abort run X on wercker?" — `y` confirms, `n` or escape dismisses."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "confirm"),
        Binding("n", "answer(False)", "dismiss"),
        Binding("escape", "answer(False)", "dismiss", show=False),
    ]

    def __init__(self, verb: str, source: str, run: Run) -> None:
        super().__init__()
        self.verb = verb
        self.source_name = source
        self.target = run

    def compose(self) -> ComposeResult:
        run = self.target
        rows = [("source", self.source_name), ("id", run.id), ("title", run.title),
                ("branch", run.branch), ("author", run.author)]
        details = Text("\n", end="").join(
            Text.assemble((f"{label:<8}", "dim"), value) for label, value in rows if value
        )
        with Vertical(id="confirm"):
            yield Static(f"{self.verb.capitalize()} this run?", id="confirm-question",
                         markup=False)
            yield Static(details, id="confirm-details")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"y  {self.verb}", id="confirm-yes", variant="error")
                # Focused first: a stray enter keeps the run.
                yield Button("n  keep it", id="confirm-no", variant="default")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, confirmed: bool) -> None:
        self.dismiss(confirmed)


# Every key, as the help screen lists it: (group, [(keys, what it does)]).
KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Move", (
        ("↑ ↓  j k", "move the cursor"),
        ("g G  home end", "first / last run"),
        ("pgup pgdn", "page up / down"),
        ("enter", "open the run"),
        ("escape", "back; on the runs screen clear the filters"),
    )),
    ("Show", (
        ("/", "filter on id, title, branch, author; escape clears"),
        ("s", "status filter: all, active, failed"),
        ("o", "sort: newest, status, source, duration"),
        ("tab", "source shown: all, then each"),
    )),
    ("Act on the selected run", (
        ("c", "cancel (abort on Wercker), after a confirmation"),
        ("R", "rerun, after a confirmation"),
        ("D", "delete, after a confirmation"),
        ("w", "open its web page (over SSH: copy the link)"),
        ("y", "copy its web link, else its API URL or id"),
    )),
    ("App", (
        ("r", "refresh now"),
        ("p", "pause / resume polling"),
        ("ctrl+p", "command palette: themes, sources, actions"),
        ("?", "this help"),
        ("q", "quit"),
    )),
)


class HelpScreen(ModalScreen[None]):
    """Every key runwatch knows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as frame:
            # Title and hint live in the border, so every key fits in 80x24.
            frame.border_title = "runwatch keys"
            frame.border_subtitle = "escape, ? or q closes"
            yield Static(help_text(), id="help-body", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


def help_text() -> Text:
    text = Text(end="")
    for group, keys in KEYS:
        text.append(f"{group}\n", "bold underline")
        for key, what in keys:
            text.append(f"  {key:<16}", "bold")
            text.append(f"{what}\n")
    text.rstrip()
    return text
