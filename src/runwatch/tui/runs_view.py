"""What the runs table shows, without Textual: which runs (filters), in what order (sorts),
under which columns (priority and widths), and the key of each row.

Columns by priority (the first ones stay longest as the terminal narrows):

    status, title, id, source, started, progress, duration, tests, branch, author

The column the sort orders by comes before all of them. Each column gets the width of its
longest value (ids, branches and authors are not cut while there is room) and the title what
is left. A column empty on every row shown is left out, and so is the source column when a
single source is shown (the title bar names it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from runwatch.columns import COLUMNS, ColumnSpec
from runwatch.formatting import STOPPED_HERE, to_epoch
from runwatch.models import Run, RunStatus, run_duration

__all__ = [
    "ALWAYS_SHOWN",
    "CELL_PADDING",
    "COLUMNS",
    "SORTS",
    "SORT_COLUMN",
    "STATUS_FILTERS",
    "STATUS_RANK",
    "TEXT_COLUMNS",
    "ColumnSpec",
    "RunsView",
    "cell_width",
    "natural_widths",
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

    def fit(self, available: int, natural: Mapping[str, int], *, sources: int,
            stale: Collection[str] = ()) -> tuple[tuple[str, int], ...]:
        """The columns (`fit_columns`) of this view in `available` cells, over `sources`
        configured sources of which `stale` are stale (their status carries a mark)."""
        if stale and (self.source is None or self.source in stale):
            natural = {**natural, "status": natural.get("status", 0) + 2}  # the stale mark
        # One source shown (by `tab`, or the only one configured, as with --source): the
        # title bar names it, so its column goes.
        show_source = self.source is None and sources != 1
        return fit_columns(available, natural, show_source=show_source, sort=self.sort)

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


CELL_PADDING = 1  # DataTable's default, on each side
# Never dropped for being empty: what a row is.
ALWAYS_SHOWN = frozenset({"status", "title"})
# The column each sort orders by: always shown, so the order can be seen.
SORT_COLUMN: Mapping[str, str] = {
    "newest": "started", "status": "status", "source": "source", "duration": "duration",
}


def _tests_width(run: Run) -> int:
    tests = run.tests
    if tests is None:
        return 0
    width = 1 + len(str(tests.passes)) if tests.passes is not None else 0
    if tests.failures:
        width += (1 if width else 0) + 1 + len(str(tests.failures))
    return width


# The columns that show one of the run's own strings as it is: their cells and widths.
TEXT_COLUMNS: Mapping[str, Callable[[Run], str]] = {
    "id": lambda run: run.id,
    "title": lambda run: run.title or "",
    "branch": lambda run: run.branch or "",
    "author": lambda run: run.author or "",
}


def cell_width(column: str, run: Run, source_widths: Mapping[str, int]) -> int:
    """How many cells `column` needs for this run; 0 when it has nothing to show."""
    field = TEXT_COLUMNS.get(column)
    if field is not None:
        return len(field(run))
    if column == "source":
        return source_widths.get(run.source, len(run.source))
    if column == "tests":
        return _tests_width(run)
    if column == "progress":
        return 10 if run.status.is_active else 0
    if column == "started":
        return 7 if (run.created_at or run.started_at) else 0
    if column == "duration":
        known = run.duration_s is not None or run.status is RunStatus.RUNNING
        return 8 if known and run.status is not RunStatus.QUEUED else 0
    # status: a run stopped by this process says so in full where there is room.
    return len(f"⊘ {run.status.value} ({STOPPED_HERE})") if run.stopped_here else 11


def natural_widths(runs: Iterable[Run], source_widths: Mapping[str, int]) -> dict[str, int]:
    """Each column's longest value over these runs (0: empty on every one)."""
    widths = dict.fromkeys((c.key for c in COLUMNS), 0)
    for run in runs:
        for key, width in widths.items():
            need = cell_width(key, run, source_widths)
            if need > width:
                widths[key] = need
    return widths


def fit_columns(
    available: int,
    natural: Mapping[str, int] | None = None,
    *,
    show_source: bool = True,
    sort: str = "newest",
) -> tuple[tuple[str, int], ...]:
    """The (key, width) of each column that fits in `available` cells, in display order.

    Columns come by priority (the status, then the sorted-on one, first of all) at their
    least width; a column empty on every row (`natural` 0) is left out. Then every column
    but the title grows to its longest value (up to its cap), and the title takes the rest.
    Without `natural` every column counts as holding values of its least width."""
    sort_column = SORT_COLUMN.get(sort, "started")

    def longest(spec: ColumnSpec) -> int:
        if natural is None:
            return spec.width
        return min(max(spec.cap, spec.width), max(len(spec.label), natural.get(spec.key, 0)))

    def least(spec: ColumnSpec) -> int:
        return spec.width if spec.key == "title" else min(spec.width, longest(spec))

    specs = [
        c for c in COLUMNS
        if (show_source or c.key != "source")
        and (natural is None or natural.get(c.key, 0) > 0 or c.key in ALWAYS_SHOWN
             or c.key == sort_column)
    ]
    chosen: dict[str, int] = {}
    used = 0
    for spec in sorted(specs, key=lambda c: (c.priority > 0 and c.key != sort_column,
                                             c.priority)):
        need = least(spec) + 2 * CELL_PADDING
        if used + need > available and chosen:
            break  # strict priority: never skip one column to fit a later one
        chosen[spec.key] = least(spec)
        used += need
    room = max(0, available - used)
    for spec in sorted(specs, key=lambda c: c.priority):
        if spec.key in chosen and spec.key != "title" and room:
            grow = min(room, longest(spec) - chosen[spec.key])
            if grow > 0:
                chosen[spec.key] += grow
                room -= grow
    if "title" in chosen:
        chosen["title"] += room
    return tuple((spec.key, chosen[spec.key]) for spec in specs if spec.key in chosen)
