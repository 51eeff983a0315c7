"""Textual 8's `StylesCache.get_inner_outer` is an `lru_cache(1024)` on a method: every
widget's StylesCache is in its key, so the cache keeps up to 1,024 of them alive, with
every strip each had cached, long after their widgets are gone (the footer's keys are
new widgets on each recompose, toasts come and go). In a headless soak that was most of
the dashboard's RSS growth from poll 100 until the cache filled (near poll 400).
`install()` caches the same two styles by the colours alone, which is all they depend on.
"""

from __future__ import annotations

from functools import lru_cache

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style

__all__ = ["install"]


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    # What StylesCache.get_inner_outer returns, without its instance in the key.
    return Style(background=base_background + background), Style(background=base_background)


def get_inner_outer(self: StylesCache, base_background: Color,
                    background: Color) -> tuple[Style, Style]:
    """`StylesCache.get_inner_outer`, cached by colour only."""
    return _inner_outer(base_background, background)


def install() -> None:
    """Use `get_inner_outer` above for every widget (idempotent)."""
    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign,assignment]
