"""Unicode to ASCII, one cell for one cell, for a terminal that gets only ASCII (the C
locale, `--ascii`): the one table both the dashboard's screen (`tui.terminal.AsciiOnly`)
and an alert's desktop notification (`alerts.channels`) use, so an alert reads as the
screen does. Below Textual and the tui: the alerts layer imports it.

The status glyphs and spinner frames are the dashboard's (`tui.look` builds its glyph
tables from these); the rest is what else appears on screen (separators, Textual's
borders, blocks and scrollbars)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.cells import cell_len

__all__ = ["ASCII_FALLBACK", "SPINNER_FRAMES", "STATUS_GLYPHS", "to_ascii"]

# Status value → (Unicode glyph, ASCII glyph). Glyphs are single-cell and in the fonts
# every terminal ships (no emoji: their width varies).
STATUS_GLYPHS: Mapping[str, tuple[str, str]] = {
    "queued": ("○", "o"),
    "running": ("●", ">"),
    "waiting": ("◐", "="),
    "passed": ("✓", "+"),
    "failed": ("✗", "x"),
    "canceled": ("⊘", "/"),
    "timed_out": ("◷", "@"),
    "skipped": ("»", "-"),
    "unknown": ("?", "?"),
}
# Braille spinner for active runs whose API reports no progress, and its ASCII frames.
SPINNER_FRAMES = ("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏", "|/-\\")


def _fallback() -> dict[str, str]:
    table = {uni: asc for uni, asc in STATUS_GLYPHS.values() if uni != asc}
    unicode_frames, ascii_frames = SPINNER_FRAMES
    table.update(zip(unicode_frames, ascii_frames * 3, strict=False))
    table.update({
        "…": "~", "–": "-", "—": "-", "·": "-", "•": "*", "×": "x", "‖": "=", "⚠": "!",
        "“": '"', "”": '"', "‘": "'", "’": "'", "→": ">", "←": "<", "↑": "^", "↓": "v",
        "▶": "#", "▸": "#", "►": ">", "◀": "<", "◂": "<", "▲": "^", "▼": "v", "░": ".",
        "▒": "#", "▓": "#", "█": "#", "▉": "#", "▊": "#", "▋": "#", "▌": "#", "▐": "#",
        "▏": "|", "▕": "|",
    })
    for code in range(0x2500, 0x2580):  # box drawing
        char = chr(code)
        if char not in table:
            table[char] = "+"
    table.update(dict.fromkeys("─━═╌╍┄┅┈┉╴╶╸╺╼╾", "-"))
    table.update(dict.fromkeys("│┃║╎╏┆┇┊┋╵╷╹╻╽╿", "|"))
    table.update(dict.fromkeys("╭╮╯╰", "+"))
    for code in range(0x2580, 0x25A0):  # other block elements: scrollbar thumbs' ends
        table.setdefault(chr(code), " ")
    return table




ASCII_FALLBACK: Mapping[str, str] = _fallback()


class _AsciiTable(dict[int, str]):
    """A `str.translate` table that learns each non-ASCII character on first sight."""

    def __missing__(self, code: int) -> str:
        if code < 128:
            raise LookupError(code)  # ASCII stays as it is
        char = chr(code)
        # Unknown characters keep their width (a wide one becomes "??"), so layouts hold.
        value = ASCII_FALLBACK.get(char) or "?" * cell_len(char)
        self[code] = value
        return value


ASCII_TABLE = _AsciiTable()


def to_ascii(text: str) -> str:
    """`text` in ASCII, each character in as many cells as it took."""
    return text if text.isascii() else text.translate(ASCII_TABLE)
