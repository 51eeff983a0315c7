"""The start-up and idle baseline: a minimal Textual app showing a 100-row DataTable (what
any Textual dashboard pays before doing anything of its own). `q` quits.

    .venv/bin/python benchmarks/minimal_app.py [--with-pydantic]

`--with-pydantic` imports pydantic (and tomllib) first: what runwatch's models and config cost
to import before any model is built, the part of the start-up budget that takes by itself.
"""

from __future__ import annotations

import sys

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
    if "--with-pydantic" in sys.argv:
        from libraries import DASHBOARD_LIBRARIES, load

        load(DASHBOARD_LIBRARIES)
    Minimal().run()
