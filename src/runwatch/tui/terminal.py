"""What the terminal can show: UTF-8 or ASCII only, colour or `NO_COLOR`.

Two line filters post-process every line Textual renders (after the widgets, so they also
catch what Textual and Rich draw themselves: borders, scrollbars, Rich's ellipsis):

- `AsciiOnly` (`--ascii`) turns what is left of Unicode into ASCII, one cell for one cell.
- `NoColour` (`NO_COLOR`) drops every colour. Textual's own NO_COLOR filter only turns colours
  grey (it still writes colour codes) unless the theme uses ANSI colours.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Mapping
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter

from runwatch.ascii_fallback import ASCII_TABLE

__all__ = ["AsciiOnly", "NoColour", "locale_is_utf8", "wants_ascii"]

# What Python sets LC_CTYPE to when it coerces the C locale (PEP 538): seeing it does not
# mean the terminal speaks UTF-8.
_COERCED = frozenset({"C.UTF-8", "C.utf8", "UTF-8"})


def _is_utf8(name: str) -> bool:
    return "utf-8" in name.lower() or "utf8" in name.lower()


def locale_is_utf8(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the locale the terminal was started with is UTF-8.

    `locale.getpreferredencoding` alone is not enough: in the C locale Python coerces LC_CTYPE
    to C.UTF-8 and turns on UTF-8 mode, and reports UTF-8 either way. So the locale variables
    decide as the C library would (LC_ALL, then LC_CTYPE, then LANG), with a coerced LC_CTYPE
    seen through; like tmux, a locale that names no UTF-8 (or none at all: "C") is not UTF-8.
    """
    env = os.environ if environ is None else environ
    if environ is None and not _is_utf8(locale.getpreferredencoding(False)):
        return False  # a real non-UTF-8 locale (ISO-8859-1, ...)
    lang = env.get("LANG", "")
    ctype = env.get("LC_CTYPE", "")
    if ctype in _COERCED and not _is_utf8(lang):
        ctype = ""  # Python's coercion of LANG's C locale, not the user's choice
    name = env.get("LC_ALL") or ctype or lang or "C"
    return _is_utf8(name)


def wants_ascii(environ: Mapping[str, str] | None = None) -> bool:
    """`--ascii` when neither `--ascii` nor `--no-ascii` is given: when the locale is not
    UTF-8. A browser (textual-serve's web driver) always shows Unicode."""
    env = os.environ if environ is None else environ
    if "web_driver" in env.get("TEXTUAL_DRIVER", ""):
        return False
    return not locale_is_utf8(environ)


class AsciiOnly(LineFilter):
    """Every character outside ASCII becomes ASCII of the same width."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        table = ASCII_TABLE  # the alerts' too: a notification reads as the screen does
        return [
            segment if segment.text.isascii()
            else Segment(segment.text.translate(table), segment.style, segment.control)
            for segment in segments
        ]


@lru_cache(1024)
def _without_colour(style: Style) -> Style:
    # Keep bold, reverse, underline...; keep the meta Textual hangs on segments (offsets).
    plain = style.without_color
    meta = style.meta
    return plain + Style.from_meta(meta) if meta else plain


class NoColour(LineFilter):
    """No foreground or background colour at all: the terminal's own colours show."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(text, None if style is None else _without_colour(style), control)
            for text, style, control in segments
        ]
