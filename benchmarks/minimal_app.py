"""The start-up and idle baseline: a minimal Textual app showing a 100-row DataTable (what
any Textual dashboard pays before doing anything of its own). `q` quits.

    .venv/bin/python benchmarks/minimal_app.py
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable


class Minimal(App[None]):
    BINDINGS = [("q", "quit", "quit")]

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("id", "status", "title", "branch", "author", "took")
        for i in range(100):
            table.add_row(f"row-{i:03d}", "passed", f"feat: change number {i}", "main",
                          "ana", f"{i % 60}s")


if __name__ == "__main__":
    Minimal().run()
