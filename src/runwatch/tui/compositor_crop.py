"""A partial screen update renders the widgets it can write, not every widget in the window.

Textual 8's `Compositor._get_renders` picks the widgets to render for an update by whether
their *clip* (the part of the screen their container shows) overlaps the update, so a
table cell turning over renders the title bar, the summary, the source bar, the footer and
the screen's own background too: each is a child of the screen, whose clip is the whole
screen. `install()` picks them by the part of them that is visible (region within clip),
the same test one level down. A widget left out has no cell in the update's region, so
nothing it would have drawn is written: the bytes written are the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

__all__ = ["TEXTUAL_GET_RENDERS", "install"]

TEXTUAL_GET_RENDERS = Compositor._get_renders  # Textual's own, to compare against


def _get_renders(
    self: Compositor, crop: Region | None = None
) -> Iterable[tuple[Region, Region, list[Strip]]]:
    """`Compositor._get_renders`, each widget tested by its visible region, not its clip."""
    for widget, (region, clip) in self.visible_widgets.items():
        visible = region.intersection(clip)
        if not visible.area or (crop is not None and not crop.overlaps(visible)):
            continue
        x, y, width, height = visible
        yield region, clip, widget.render_lines(
            Region(x - region.x, y - region.y, width, height))


def install() -> None:
    """Use `_get_renders` above for every screen (idempotent)."""
    if getattr(Compositor._get_renders, "__module__", "") != __name__:
        Compositor._get_renders = _get_renders  # type: ignore[method-assign]
