"""What is read back from the history file, re-checked: the file lives outside the process
(a hand edit, another program, a newer runwatch), so its strings are untrusted like an API's
and are cleaned again before anything shows them; a number that is not one reads as None."""

from __future__ import annotations

from runwatch.sanitize import clean_text


def text(value: object) -> str | None:
    """A string cell made safe to show (None stays None; anything else becomes its text)."""
    # Called for every cell `runwatch history` shows: the clean case is one isprintable scan.
    if value.__class__ is str:
        return value if value.isprintable() else clean_text(value)
    return None if value is None else clean_text(str(value))


def name(value: object) -> str:
    """A cell that must be text (a source, a spec, a test's title): "" when it is not."""
    return text(value) or ""


def number(value: object) -> float | None:
    """A numeric cell as a float; anything else (text, a blob) reads as None."""
    if value.__class__ is float:
        return value
    return float(value) if isinstance(value, int) else None
