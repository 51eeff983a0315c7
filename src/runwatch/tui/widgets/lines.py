"""Small shared pieces of the widgets: a widget drawn as lines, a DataTable's row key under
the cursor, and the marker cell that shows that cursor without colour."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist


class LinesWidget(Widget):
    """A widget whose content is `_lines(width)`: as tall as it has lines."""

    def _lines(self, width: int) -> list[Content]:
        raise NotImplementedError

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Content:
        return Content("\n").join(self._lines(self.content_region.width))


def cursor_row_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None in an empty table."""
    if not table.row_count:
        return None
    try:
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    except CellDoesNotExist:
        return None
    return key.value


# A table's cursor row is marked with a glyph in a column of its own, not by its colour
# alone (NO_COLOR, 16 colours, a colour-blind reader).
MARKER = "marker"
MARKER_WIDTH = 1


def marker_text(on: bool, cursor_glyph: str) -> Text:
    """The marker cell of a row: the cursor glyph on the cursor's row, else blank."""
    return Text(cursor_glyph if on else " ", style="bold", end="")
