"""The specs table: one keyed row per spec file with its status, test counts and duration.

Rows are keyed by (group, spec) and updated cell by cell, so a poll moves no cursor; columns
are fitted to the width on resize only (spec paths lose their head, not their file name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.console import JustifyMethod
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from runwatch.formatting import format_duration
from runwatch.models import Spec, TestCounts
from runwatch.tui.look import glyphs_of, resolve_color, status_text
from runwatch.tui.widgets.lines import cursor_row_key

# (key, label, width) in display order; the spec column (width 0) takes what is left.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("status", "status", 11),
    ("spec", "spec", 0),
    ("group", "group", 0),
    ("passed", "passed", 6),
    ("failed", "failed", 6),
    ("flaky", "flaky", 5),
    ("took", "took", 7),
)
# The columns that go first when the width runs short.
DROP_ORDER = ("flaky", "took", "passed")
NUMERIC = frozenset({"passed", "failed", "flaky", "took"})
SPEC_MIN = 16
SPEC_WANT = 28  # enough for most spec paths; the spec column takes no more before others go
GROUP_MIN, GROUP_MAX = 6, 20
PADDING = 2  # DataTable's cell padding, one cell each side
# The cursor row is marked with a glyph, not by its colour alone (NO_COLOR, 16 colours).
MARKER = "marker"
MARKER_WIDTH = 1


def spec_key(spec: Spec) -> str:
    """The row key; a spec may run in several groups (platforms), once in each."""
    return f"{spec.group or ''}\x1f{spec.spec}"


def shorten_path(path: str, width: int) -> str:
    """Keep the end of a path (the file name says most) within `width` cells."""
    if len(path) <= width:
        return path
    return "…" + path[len(path) - width + 1:] if width > 1 else "…"


def fit_columns(
    width: int, groups: int, *, longest_spec: int = SPEC_MIN, longest_group: int = GROUP_MIN
) -> tuple[tuple[str, str, int], ...]:
    """Column widths for `width` cells. The group column shows when specs ran in several
    groups (a spec runs once per group); the numbers in DROP_ORDER go first when the spec
    path would get fewer than its length (up to SPEC_WANT) cells."""
    group_width = max(GROUP_MIN, min(GROUP_MAX, longest_group)) if groups > 1 else 0
    widths = {k: (group_width if k == "group" else w) for k, _, w in COLUMNS}
    shown = [k for k in widths if k != "group" or group_width]
    want = max(SPEC_MIN, min(longest_spec, SPEC_WANT))

    def spare() -> int:
        return width - sum(widths[k] + PADDING for k in shown)

    for column in DROP_ORDER:
        if spare() >= want:
            break
        shown.remove(column)
    labels = {k: label for k, label, _ in COLUMNS}
    # The spec column takes the spare room, but no more than its longest path needs: wide
    # gaps between a path and its numbers make rows hard to follow.
    spec_width = max(SPEC_MIN, min(spare(), longest_spec + 2))
    return tuple((k, labels[k], widths[k] or spec_width) for k in shown)


class SpecsTable(DataTable[Text]):
    """Specs of a run; enter posts `SpecsTable.SpecSelected`."""

    DEFAULT_CSS = """
    SpecsTable {
        height: auto;
        max-height: 14;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
        Binding("enter", "select_cursor", "tests", key_display="enter",
                tooltip="the highlighted spec's tests, failed ones first, with their errors"),
    ]

    class SpecSelected(Message):
        """Enter was pressed on `spec`."""

        def __init__(self, table: SpecsTable, spec: Spec) -> None:
            super().__init__()
            self.table = table
            self.spec = spec

        @property
        def control(self) -> SpecsTable:
            """The table the spec is in (for `@on(..., "#id")` selectors)."""
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, id=id, classes=classes)
        self.specs: dict[str, Spec] = {}
        self._fit: tuple[tuple[str, str, int], ...] = ()
        self._marked: str | None = None  # the row whose marker cell shows the cursor

    @property
    def selected_spec(self) -> Spec | None:
        return self.specs.get(cursor_row_key(self) or "")

    @property
    def columns_shown(self) -> tuple[str, ...]:
        return tuple(k for k, _, _ in self._fit)

    def set_specs(self, specs: Sequence[Spec]) -> None:
        """Show `specs`: changed cells updated, new rows added, gone rows removed."""
        new = {spec_key(s): s for s in specs}
        groups_before = self._group_count()
        old = self.specs
        self.specs = new
        if self._group_count() != groups_before and self.is_mounted:
            self._refit(force=True)  # the group column comes or goes
            return
        if not self._fit:
            return
        with self.app.batch_update():
            for key in old.keys() - new.keys():
                if key in self.rows:
                    self.remove_row(key)
            for key, spec in new.items():
                if key not in self.rows:
                    self.add_row(*self._cells(spec).values(), key=key)
                elif old.get(key) != spec:
                    for column, value in self._cells(spec).items():
                        self.update_cell(key, column, value, update_width=False)
        self._mark_cursor()

    def restyle(self) -> None:
        """Re-render every row (the theme changed, so colours did)."""
        with self.app.batch_update():
            for key, spec in self.specs.items():
                for column, value in self._cells(spec).items():
                    self.update_cell(key, column, value, update_width=False)

    def _group_count(self) -> int:
        return len({s.group for s in self.specs.values()})

    def _marker(self, key: str) -> Text:
        on = self.show_cursor and key == cursor_row_key(self)
        return Text(glyphs_of(self).cursor if on else " ", style="bold", end="")

    def _mark_cursor(self) -> None:
        """Move the marker to the cursor's row (two cells, so a poll writes nothing)."""
        key = cursor_row_key(self)
        if key == self._marked or not self._fit:
            return
        for row in (self._marked, key):
            if row is not None and row in self.rows:
                self.update_cell(row, MARKER, self._marker(row), update_width=False)
        self._marked = key

    def watch_cursor_coordinate(self, old: object, new: object) -> None:
        super().watch_cursor_coordinate(old, new)  # type: ignore[arg-type]
        self.call_after_refresh(self._mark_cursor)

    def _cells(self, spec: Spec) -> dict[str, Text]:
        variables: Mapping[str, str] = self.app.theme_variables
        widths = {k: w for k, _, w in self._fit}
        tests = spec.tests or TestCounts()
        cells = {
            MARKER: self._marker(spec_key(spec)),
            "status": status_text(spec.status, variables),
            "spec": Text(shorten_path(spec.spec, widths.get("spec", 40)), end=""),
            "passed": _count(tests.passes, resolve_color(variables, "run-passed")),
            "failed": _count(tests.failures, resolve_color(variables, "run-failed"), bold=True),
            "flaky": _count(tests.flaky, resolve_color(variables, "run-waiting")),
            "took": Text(format_duration(spec.duration_s), justify="right", end=""),
            "group": Text(spec.group or "–", end=""),
        }
        return {k: cells[k] for k in (MARKER, *widths)}

    def _refit(self, *, force: bool = False) -> None:
        width = max(20, self.size.width - self.styles.scrollbar_size_vertical
                    - MARKER_WIDTH - PADDING)
        fit = fit_columns(
            width, self._group_count(),
            longest_spec=max((len(s.spec) for s in self.specs.values()), default=0),
            longest_group=max((len(s.group or "") for s in self.specs.values()), default=0),
        )
        if fit == self._fit and not force:
            return
        # A rebuild happens on resize (or when groups appear), never on a plain poll.
        selected = self.selected_spec
        self._fit = fit
        with self.app.batch_update():
            self.clear(columns=True)
            self._marked = None
            self.add_column("", width=MARKER_WIDTH, key=MARKER)
            for key, label, column_width in fit:
                justify: JustifyMethod = "right" if key in NUMERIC else "left"
                self.add_column(Text(label, justify=justify), width=column_width, key=key)
            for key, spec in self.specs.items():
                self.add_row(*self._cells(spec).values(), key=key)
            if selected is not None and spec_key(selected) in self.rows:
                self.move_cursor(row=self.get_row_index(spec_key(selected)))
        self.call_after_refresh(self._mark_cursor)

    def on_resize(self) -> None:
        self._refit()

    def on_mount(self) -> None:
        self._refit(force=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "select_cursor" and not self.show_cursor:
            return False  # no per-test results behind a spec of this API
        return super().check_action(action, parameters)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        spec = self.specs.get(event.row_key.value or "")
        if spec is not None:
            self.post_message(self.SpecSelected(self, spec))


def _count(value: int | None, colour: str | None, *, bold: bool = False) -> Text:
    if value is None:
        return Text("–", style="dim", justify="right", end="")
    style = Style(color=colour, bold=bold) if value else Style(dim=True)
    return Text(str(value), style=style, justify="right", end="")
