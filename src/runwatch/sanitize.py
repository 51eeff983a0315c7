"""The one filter between API text and the terminal (DESIGN section 9; issue 8).

Whoever can name a commit or a branch controls the strings an API sends, so none of them may
reach the terminal raw: escape sequences (CSI, OSC — titles, clipboard, links —, DCS, APC, PM,
SOS, their 8-bit C1 forms, lone ESC), C0 controls but tab, DEL, C1, bidi overrides and
isolates, and lone surrogates (which no terminal encoding can write) are removed.

- `clean_text`: one line (newlines and carriage returns become spaces).
- `clean_multiline`: keeps newlines.
- `clean_log`: keeps newlines, carriage returns (a log's progress meters redraw their line
  with them) and SGR colour sequences (`ESC [ digits;... m`) only.

An escape sequence is removed whole, never cut in half; an unterminated one is removed to its
end (a string sequence such as OSC also ends at a newline, so one broken line of a log does not
swallow the rest). Every function is total: it never raises, whatever it is given. Text that
is already clean (the common case) is returned as is after one `str.isprintable` scan.
"""

from __future__ import annotations

import re

__all__ = ["clean_log", "clean_multiline", "clean_text"]

# String sequences (OSC, DCS, SOS, PM, APC; 7- and 8-bit introducers): their body runs to BEL,
# ST (ESC \ or 0x9c), a newline or the end of the text.
_STRING_BODY = r"[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
_SEQUENCES = (
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI (a final byte missing: cut there)
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])" + _STRING_BODY
    + r"|\x1b[ -/]*[0-~]?"  # any other ESC sequence (charset, RIS, keypad), or a lone ESC
)
_ESCAPES = re.compile(_SEQUENCES)
# clean_log keeps SGR: it is matched first and put back.
_SGR = r"\x1b\[[0-9;]*m"
_LOG_ESCAPES = re.compile(f"({_SGR})|{_SEQUENCES}")

_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_DROPPED: dict[int, str | None] = {
    **dict.fromkeys(range(0x00, 0x20)),
    0x7F: None,
    **dict.fromkeys(range(0x80, 0xA0)),
    **dict.fromkeys(_BIDI),
    # Lone surrogates (JSON can carry "\ud800") cannot be encoded for any terminal.
    **dict.fromkeys(range(0xD800, 0xE000), "\ufffd"),
}
_DROPPED.pop(0x09)  # tab stays everywhere
_ONE_LINE = {**_DROPPED, 0x0A: " ", 0x0D: " ", 0x2028: " ", 0x2029: " "}
_MULTILINE = {**_DROPPED, 0x0A: "\n", 0x2028: "\n", 0x2029: "\n"}
# After the regex the only ESCs left start SGR sequences.
_MULTILINE_SGR = {**_MULTILINE, 0x1B: "\x1b"}
_LOG = {**_MULTILINE_SGR, 0x0D: "\r"}


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # a hostile __str__ must not stop the caller
        return ""


def clean_text(value: object) -> str:
    """One line of API text, safe for any terminal: escapes and controls removed, newlines
    turned into spaces."""
    text = _text(value)
    if text.isprintable():
        return text
    return _ESCAPES.sub("", text).translate(_ONE_LINE)


def clean_multiline(value: object, *, keep_sgr: bool = False) -> str:
    """Multi-line API text (a report): as `clean_text`, but newlines stay. `keep_sgr` also
    keeps SGR colour sequences (the CLI's own colours at its write point)."""
    text = _text(value)
    if text.isprintable():
        return text
    if keep_sgr:
        return _LOG_ESCAPES.sub(_keep_sgr, text).translate(_MULTILINE_SGR)
    return _ESCAPES.sub("", text).translate(_MULTILINE)


def _keep_sgr(match: re.Match[str]) -> str:
    return match.group(1) or ""


def clean_log(value: object) -> str:
    """Log text or a test's error: SGR colours, newlines, carriage returns and tabs stay;
    every other escape (OSC 8 links too) and control goes."""
    text = _text(value)
    if text.isprintable():
        return text
    return _LOG_ESCAPES.sub(_keep_sgr, text).translate(_LOG)
