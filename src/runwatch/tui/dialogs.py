"""The confirmation before a mutating action (the key help is `tui/screens/help.py`)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from runwatch.models import Run

UNDOABLE = "Delete cannot be undone: the run, its steps and its logs are gone for good."


class ConfirmDialog(ModalScreen[bool]):
    """"Abort this run?" — `y` confirms, `n` or escape dismisses. A delete says that it
    cannot be undone and is drawn in the error colour (`-destructive`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "confirm"),
        Binding("n", "answer(False)", "dismiss"),
        Binding("escape", "answer(False)", "dismiss", show=False),
    ]

    def __init__(self, verb: str, source: str, run: Run, *, destructive: bool = False) -> None:
        super().__init__(classes="-destructive" if destructive else None)
        self.destructive = destructive
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
            if self.destructive:
                yield Static(UNDOABLE, id="confirm-undoable", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"y  {self.verb}", id="confirm-yes",
                             variant="error" if self.destructive else "warning")
                # Focused first: a stray enter keeps the run.
                yield Button("n  keep it", id="confirm-no", variant="default")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, confirmed: bool) -> None:
        self.dismiss(confirmed)
