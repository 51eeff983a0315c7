"""Small shared pieces of the widgets: a widget drawn as lines, and a DataTable's row key
under the cursor."""

from __future__ import annotations

from typing import Any

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
