"""What the runs table shows, without Textual: which runs (filters), in what order (sorts),
under which columns (priority and widths), and the key of each row.

Columns by priority (the first ones stay longest as the terminal narrows):

    status, title, id, source, started, progress, duration, tests, branch, author

At 80 columns that keeps source, status, id, title and started; at 160 all of them. The
source column also goes when a single source is shown (the title bar names it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from runwatch.formatting import to_epoch
from runwatch.models import Run, RunStatus, run_duration

__all__ = [
    "CELL_PADDING",
    "COLUMNS",
    "SORTS",
    "STATUS_FILTERS",
    "STATUS_RANK",
    "ColumnSpec",
    "RunsView",
    "fit_columns",
    "row_key",
    "run_duration",
]

SORTS = ("newest", "status", "source", "duration")
STATUS_FILTERS = ("all", "active", "failed")

# "status" sort: what needs attention first.
STATUS_RANK: Mapping[RunStatus, int] = {
    s: i
    for i, s in enumerate(
        (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.RUNNING, RunStatus.WAITING,
         RunStatus.QUEUED, RunStatus.UNKNOWN, RunStatus.CANCELED, RunStatus.SKIPPED,
         RunStatus.PASSED)
    )
}


def row_key(source: str, run_id: str) -> str:
    """The DataTable row key of a run; the unit separator never occurs in names or ids."""
    return f"{source}\x1f{run_id}"


def _epoch(value: datetime | None) -> float:
    return to_epoch(value) or 0.0


@dataclass(frozen=True)
class RunsView:
    """What the table shows: a text filter, a status filter, one source or all, a sort."""

    text: str = ""
    status: str = "all"  # one of STATUS_FILTERS
    source: str | None = None  # None: every source
    sort: str = "newest"  # one of SORTS

    @property
    def is_filtered(self) -> bool:
        return bool(self.text) or self.status != "all" or self.source is not None

    def matches(self, run: Run) -> bool:
        if self.source is not None and run.source != self.source:
            return False
        if self.status == "active" and not run.status.is_active:
            return False
        if self.status == "failed" and run.status not in (RunStatus.FAILED, RunStatus.TIMED_OUT):
            return False
        if self.text:
            needle = self.text.casefold()
            fields = (run.id, run.title, run.branch, run.author)
            return any(needle in f.casefold() for f in fields if f)
        return True

    def sort_key(self, run: Run, now: float) -> tuple[float | str, ...]:
        """Ascending key; newest-first ties everywhere."""
        newest = -_epoch(run.sort_time)
        if self.sort == "status":
            return (STATUS_RANK.get(run.status, 99), newest)
        if self.sort == "source":
            return (run.source, newest)
        if self.sort == "duration":
            return (-(run_duration(run, now) or -1.0), newest)
        return (newest, run.source, run.id)


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    width: int  # the title's is its minimum; it takes what is left
    priority: int  # lower stays longer


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("source", "source", 10, 3),
    ColumnSpec("status", "status", 11, 0),
    ColumnSpec("id", "id", 10, 2),
    ColumnSpec("title", "title", 24, 1),
    ColumnSpec("branch", "branch", 14, 8),
    ColumnSpec("author", "author", 8, 9),
    ColumnSpec("progress", "progress", 10, 5),
    ColumnSpec("tests", "tests", 9, 7),
    ColumnSpec("started", "started", 7, 4),
    ColumnSpec("duration", "duration", 8, 6),
)
CELL_PADDING = 1  # DataTable's default, on each side


def fit_columns(
    available: int, *, show_source: bool = True, source_width: int = 10
) -> tuple[tuple[str, int], ...]:
    """The (key, width) of each column that fits in `available` cells, in display order."""
    specs = [
        replace(c, width=source_width) if c.key == "source" else c
        for c in COLUMNS
        if show_source or c.key != "source"
    ]
    chosen: set[str] = set()
    used = 0
    for spec in sorted(specs, key=lambda c: c.priority):
        need = spec.width + 2 * CELL_PADDING
        if used + need > available and chosen:
            break  # strict priority: never skip one column to fit a later one
        chosen.add(spec.key)
        used += need
    widths = []
    for spec in specs:
        if spec.key in chosen:
            extra = max(0, available - used) if spec.key == "title" else 0
            widths.append((spec.key, spec.width + extra))
    return tuple(widths)
