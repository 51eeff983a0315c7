"""The runs table draws its one-line Text cells with `table_cache.one_line_cell` instead of
Rich's renderable protocol: what it draws must be what DataTable draws."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.renderables.styled import Styled
from textual.widgets import DataTable
from textual.widgets import _data_table as data_table_module

from runwatch.tui.widgets import table_cache
from runwatch.tui.widgets.runs_table import RunsTable
from runwatch.tui.widgets.table_cache import QuickCells, one_line_cell
from tui_helpers import loaded, make_app

PRE = Style(color="#d8dee9", bgcolor="#1d2025") + Style.from_meta({"row": 3, "column": 4})
POST = Style(bgcolor="#334455")


def rich_cell(console: Console, cell: Text, width: int, pre: Style, post: Style) -> list[Segment]:
    options = console.options.update_dimensions(width, 1).update(no_wrap=True)
    return console.render_lines(Styled(Padding(cell, (0, 1)), pre_style=pre, post_style=post),
                                options)[0]


def simple(segments: list[Segment]) -> list[Segment]:
    return list(Segment.simplify(segments))


def _text(value: str, **options: object) -> Text:
    return Text(value, **options)  # type: ignore[arg-type]


CELLS = [
    _text("4m 08s", no_wrap=True, overflow="ellipsis", end=""),
    _text("", no_wrap=True, end=""),
    _text("a title far too long for its column", no_wrap=True, overflow="ellipsis", end=""),
    _text("a title far too long for its column", overflow="crop"),
    _text("a title far too long for its column"),  # fold, end "\n", no_wrap from options
    _text("漢字のタイトルが長すぎる", no_wrap=True, overflow="ellipsis", end=""),
    _text("e\u0301mojis 🎉🎉🎉🎉🎉", no_wrap=True, overflow="ellipsis", end=""),
    _text("coloured", style=Style(color="red", bold=True), no_wrap=True, end=""),
    Text.assemble((" L ", Style(reverse=True)), " ", ("name", Style(color="green")),
                  no_wrap=True, end=""),
    Text("stale span", no_wrap=True, end="", spans=[Span(0, 5, Style(dim=True))]),
    # One run of text in one style that fits: drawn without Rich's steps (a tick's cells).
    _text("⠼", style=Style(color="#88c0d0"), no_wrap=True, overflow="ellipsis", end=""),
    _text("<1m ago", no_wrap=True, overflow="ellipsis", end=""),
    _text("abcdefg", no_wrap=True, end=""),  # exactly the room inside the padding at 9
    _text("null style", style=Style(), no_wrap=True, end=""),
    _text("a string style", style="bold red", no_wrap=True, end=""),
]


@pytest.mark.parametrize("width", [1, 2, 3, 5, 9, 30])
@pytest.mark.parametrize("post", [Style.null(), POST])
def test_a_cell_is_drawn_as_rich_draws_it(width: int, post: Style) -> None:
    console = Console(width=160, color_system="truecolor", force_terminal=True)
    for cell in CELLS:
        quick = one_line_cell(console, cell, width, 1, True, PRE, post)
        expected = rich_cell(console, cell, width, PRE, post)
        if quick is None:
            assert width <= 2  # no room inside the padding: Rich draws it
            continue
        assert simple(quick) == simple(expected), (cell, width)
        assert Segment.get_line_length(quick) == width


def test_what_rich_would_draw_otherwise_is_left_to_it() -> None:
    console = Console(width=160)
    for cell in (Text("two\nlines", no_wrap=True), Text("a\ttab", no_wrap=True),
                 Text("wraps", no_wrap=False), Text("centred", justify="center"),
                 Text("ignored", overflow="ignore")):
        assert one_line_cell(console, cell, 10, 1, True, PRE, Style.null()) is None


async def test_the_runs_table_draws_what_datatable_draws(sim, monkeypatch) -> None:
    app = make_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await loaded(pilot)
        table.move_cursor(row=2)  # the cursor row's cells have their own style
        await pilot.pause()
        lines = range(table.size.height)
        table._clear_caches()
        quick = [simple(list(table.render_line(y))) for y in lines]
        monkeypatch.setattr(RunsTable, "_render_cell", DataTable._render_cell)
        table._clear_caches()
        assert quick == [simple(list(table.render_line(y))) for y in lines]


class QuickCellsApp(App[None]):
    """A bare QuickCells table, filled by the test."""

    def __init__(self, cursor_type: str) -> None:
        super().__init__()
        self.cursor_type = cursor_type

    def compose(self) -> ComposeResult:
        yield QuickCells(cursor_type=self.cursor_type)  # type: ignore[arg-type]


async def test_new_rows_of_fixed_width_columns_are_not_measured(sim, monkeypatch) -> None:
    """Every column of the runs table has its width: DataTable's measuring of each new
    row's cells (for auto-width columns) is skipped, and the table's size is what
    DataTable's own pass makes of the same rows."""
    measured: list[object] = []
    real_measure = data_table_module.measure

    def measure(*args: object) -> int:
        measured.append(args)
        return real_measure(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(data_table_module, "measure", measure)
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        assert table.row_count > 20
        measured.clear()  # the column labels, as each column is added
        table.virtual_size = Size(0, 0)
        table._update_dimensions(list(table.rows))
        quick = table.virtual_size
        assert measured == [] and quick.height == table.row_count + 1  # and the header
        table.virtual_size = Size(0, 0)
        DataTable._update_dimensions(table, list(table.rows))
        assert len(measured) >= table.row_count and table.virtual_size == quick


async def test_an_auto_width_column_is_still_widened_by_its_cells() -> None:
    async with QuickCellsApp(cursor_type="cell").run_test() as pilot:
        table = pilot.app.query_one(QuickCells)
        table.add_column("fixed", width=4)
        table.add_column("auto")
        table.add_row(Text("a"), Text("a value wider than its label"))
        await pilot.pause()
        assert table.ordered_columns[1].content_width == len("a value wider than its label")
        assert table.virtual_size.width == 4 + len("a value wider than its label") + 4


async def test_a_cell_whose_row_only_moved_is_not_drawn_again(monkeypatch) -> None:
    """A row gone from the top moves every row up (each row's index is in its cells' meta)
    and bumps DataTable's update count, which keys its render caches: the cells of the
    rows that only moved are not drawn again, and the table draws what it draws from
    nothing, meta and all."""
    async with QuickCellsApp(cursor_type="row").run_test(size=(60, 12)) as pilot:
        table = pilot.app.query_one(QuickCells)
        for name, width in (("id", 6), ("status", 10), ("title", 20)):
            table.add_column(name, width=width)
        for i in range(30):
            table.add_row(Text(f"run-{i:02d}"), Text("passed", style="green"),
                          Text.assemble(("feat", "bold"), f": change {i}"), key=f"r{i}")
        await pilot.pause()
        lines = range(table.size.height)
        [simple(list(table.render_line(y))) for y in lines]  # every cell on screen drawn
        drawn: list[str] = []
        real = table_cache.one_line_cell

        def one_line(console: Console, cell: Text, *args: object) -> object:
            drawn.append(cell.plain)
            return real(console, cell, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(table_cache, "one_line_cell", one_line)
        table.remove_row("r0")
        await pilot.pause()
        moved = [simple(list(table.render_line(y))) for y in lines]
        # The row that came onto the bottom line, and the cursor's row (r1 now under it).
        assert sorted(drawn) == sorted(["run-01", "passed", "feat: change 1",
                                        f"run-{len(lines) - 1:02d}", "passed",
                                        f"feat: change {len(lines) - 1}"])
        assert moved[1][0].style.meta == {"row": 0, "column": 0}  # r1 at its new index
        table._clear_caches()
        table._drawn.clear()
        assert moved == [simple(list(table.render_line(y))) for y in lines]
