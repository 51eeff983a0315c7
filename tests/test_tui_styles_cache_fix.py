"""Textual's StylesCache.get_inner_outer kept every widget's StylesCache alive (its lru_cache
keys held the instance); `styles_cache_fix` caches the same styles by colour alone."""

from __future__ import annotations

import gc
import weakref

from textual._styles_cache import StylesCache
from textual.color import Color

from runwatch.tui import styles_cache_fix


def test_the_styles_are_textuals_and_no_gone_cache_is_kept() -> None:
    base, background = Color(10, 20, 30), Color(200, 100, 50, 0.5)
    expected = StylesCache().get_inner_outer(base, background)
    styles_cache_fix.install()
    cache = StylesCache()
    assert cache.get_inner_outer(base, background) == expected
    gone = weakref.ref(cache)
    del cache
    gc.collect()
    assert gone() is None
