"""The runs table's columns by priority: plain data that the dashboard (`tui.runs_view`
fits them to the width) and `runwatch list` (drops its fields in the same order) both
read, so neither layer imports the other. Nothing here may import more than dataclasses:
`runwatch list` loads it on every table it fits to a terminal."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COLUMNS", "ColumnSpec"]


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    width: int  # the least it is given (the title's: its minimum, it takes what is left)
    priority: int  # lower stays longer
    cap: int = 0  # the most it grows to for its longest value (0: `width`)


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("source", "source", 10, 3, 18),
    # 13: with the stale mark; 27: "⊘ canceled (stopped here)" with it.
    ColumnSpec("status", "status", 11, 0, 27),
    ColumnSpec("id", "id", 10, 2, 40),
    ColumnSpec("title", "title", 24, 1),
    ColumnSpec("branch", "branch", 14, 8, 40),
    ColumnSpec("author", "author", 8, 9, 24),
    ColumnSpec("progress", "progress", 10, 5),
    ColumnSpec("tests", "tests", 9, 7, 16),
    ColumnSpec("started", "started", 7, 4),
    ColumnSpec("duration", "duration", 8, 6),
)
