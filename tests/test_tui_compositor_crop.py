"""A partial update renders only the widgets whose visible part it touches
(`compositor_crop`): what it writes must be what Textual's own choice of widgets writes."""

from __future__ import annotations

import pytest
from textual._compositor import Compositor
from textual.geometry import Region
from textual.widget import Widget

from runwatch.tui import compositor_crop
from tui_helpers import loaded, make_app


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_an_update_writes_what_rendering_every_widget_would(
        sim, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:
    app = make_app(sim)
    async with app.run_test(size=size) as pilot:
        table = await loaded(pilot)
        await pilot.pause(0.3)
        screen = app.screen
        compositor: Compositor = screen._compositor
        width, height = size
        x, y = table.region.x, table.region.y
        updates = [
            {Region(x + 30, y + 2, 10, 1)},  # a table cell
            {Region(x + 30, y + 2, 10, 1), Region(x + 5, y + 6, 4, 1)},  # two, apart
            {Region(0, height - 1, width, 1)},  # the footer line
            {Region(0, 0, width, 1), Region(0, height - 1, 20, 1)},  # top and bottom
            {Region(0, 0, width, height)},  # everything
        ]
        rendered: list[str] = []
        real_render = Widget.render_lines

        def render_lines(widget: Widget, crop: Region) -> object:
            rendered.append(type(widget).__name__)
            return real_render(widget, crop)

        monkeypatch.setattr(Widget, "render_lines", render_lines)
        for regions in updates:
            written = {}
            counts = {}
            for name, get_renders in (("ours", compositor_crop._get_renders),
                                      ("textual", compositor_crop.TEXTUAL_GET_RENDERS)):
                monkeypatch.setattr(Compositor, "_get_renders", get_renders)
                rendered.clear()
                compositor._dirty_regions.update(regions)
                update = compositor.render_partial_update()
                assert update is not None
                written[name] = update.render_segments(app.console)
                counts[name] = len(rendered)
            assert written["ours"] == written["textual"], regions
            assert counts["ours"] <= counts["textual"]
            if regions == updates[0]:
                # A cell of the table: the table and what is under it, not the title bar,
                # the source bar, the summary or the footer.
                assert counts["ours"] < counts["textual"]
