"""How a status and a progress figure look on screen; shared by every screen. Times and
durations are written by `runwatch.tui.formatting`.

Status is never colour alone: each has a glyph *and* a word, and its colour comes from a
theme variable (`$run-failed`, ...) so themes and 16-colour terminals can restyle it.

Every glyph runwatch draws comes from one `Glyphs` table: `UNICODE`, or `ASCII` for terminals
without UTF-8 (`--ascii`). `runwatch.ascii_fallback.ASCII_FALLBACK` (the alerts use it too)
maps the Unicode glyphs, and the box drawing and block elements Textual draws itself, onto
ASCII one cell for one cell (the ascii line filter in `runwatch.tui.terminal` uses it for
whatever is not drawn from a table).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError

from runwatch.ascii_fallback import SPINNER_FRAMES, STATUS_GLYPHS
from runwatch.models import RunStatus

__all__ = [
    "ASCII",
    "SPINNER",
    "STATUS",
    "STATUS_VARIABLE_DEFAULTS",
    "UNICODE",
    "Glyphs",
    "StatusLook",
    "glyphs_of",
    "progress_bar",
    "resolve_color",
    "rich_color",
    "spinner_frame",
    "status_look",
    "status_markup",
    "status_text",
    "truncate",
]


@dataclass(frozen=True)
class StatusLook:
    """The presentation of one RunStatus."""

    glyph: str
    word: str
    variable: str  # theme variable name without the `$`, e.g. "run-failed"

    @property
    def label(self) -> str:
        """Glyph and word, e.g. "✗ failed"."""
        return f"{self.glyph} {self.word}"


# Glyphs are single-cell and in the fonts every terminal ships (no emoji: their width varies).
# The word is the status's value as a person reads it ("timed out"); the theme variable
# keeps the value ("run-timed_out").
STATUS: Mapping[RunStatus, StatusLook] = {
    status: StatusLook(STATUS_GLYPHS[status.value][0], status.value.replace("_", " "),
                       f"run-{status.value}")
    for status in RunStatus
}

# Fallbacks for themes that do not set the status variables (App.get_theme_variable_defaults).
# ANSI names keep them legible in 16-colour terminals.
STATUS_VARIABLE_DEFAULTS: Mapping[str, str] = {
    "run-queued": "#8a8f98",
    "run-running": "#4ea1ff",
    "run-waiting": "#d7a72f",
    "run-passed": "#3fb950",
    "run-failed": "#f85149",
    "run-canceled": "#a371f7",
    "run-timed_out": "#e3824a",
    "run-skipped": "#6fa3a8",
    "run-unknown": "#8a8f98",
}

# Braille spinner for active runs whose API reports no progress.
SPINNER = SPINNER_FRAMES[0]


@dataclass(frozen=True)
class Glyphs:
    """Every glyph runwatch draws itself, for one kind of terminal. Each is one cell wide, so
    layouts are the same in both modes."""

    status: Mapping[RunStatus, str]
    spinner: str  # frames
    bar_full: str  # a full cell of a progress bar
    bar_eighths: str  # partial cells, 1/8 to 7/8 ("": bars round to whole cells)
    bar_track: str  # the empty part of a meter
    bar_growing: str  # the end of a timeline bar that is still growing
    axis: str  # the timeline where a step did not run
    ellipsis: str
    dash: str  # no value
    cursor: str  # the timeline's cursor
    selected: str  # the source shown (source lines)
    warning: str
    # A source's health: ok, stale, error, paused, starting.
    health: Mapping[str, str] = field(default_factory=dict)
    ascii: bool = False


UNICODE = Glyphs(
    status={status: look.glyph for status, look in STATUS.items()},
    spinner=SPINNER,
    bar_full="█",
    bar_eighths="▏▎▍▌▋▊▉",
    bar_track="░",
    bar_growing="▌",
    axis="·",
    ellipsis="…",
    dash="–",
    cursor="▶",
    selected="▸",
    warning="⚠",
    health={"ok": "●", "stale": "▲", "error": "✗", "paused": "‖", "starting": "○"},
)

ASCII = Glyphs(
    status={status: STATUS_GLYPHS[status.value][1] for status in RunStatus},
    spinner=SPINNER_FRAMES[1],
    bar_full="#",
    bar_eighths="",
    bar_track=".",
    bar_growing=">",
    axis=".",
    ellipsis="~",
    dash="-",
    # Not ">": that is the running glyph, and a cursor beside a running step read as two.
    cursor="#",
    selected="#",
    warning="!",
    health={"ok": "*", "stale": "!", "error": "x", "paused": "=", "starting": "o"},
    ascii=True,
)

def glyphs_of(node: Any) -> Glyphs:
    """The glyph table of a widget's (or screen's) app: `ASCII` when it runs with `--ascii`."""
    try:
        app = node.app
    except RuntimeError:  # Textual's NoActiveAppError: not in a running app
        return UNICODE
    glyphs = getattr(app, "glyphs", UNICODE)
    return glyphs if isinstance(glyphs, Glyphs) else UNICODE


def truncate(text: str, width: int, glyphs: Glyphs = UNICODE) -> str:
    """`text` in at most `width` cells, its end replaced by the ellipsis when cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + glyphs.ellipsis if width > 0 else ""


def status_look(status: RunStatus, glyphs: Glyphs = UNICODE) -> StatusLook:
    look = STATUS.get(status, STATUS[RunStatus.UNKNOWN])
    glyph = glyphs.status.get(status, look.glyph)
    return look if glyph == look.glyph else StatusLook(glyph, look.word, look.variable)


@lru_cache(maxsize=256)  # a theme's few colours, asked for by every cell that has one
def rich_color(value: str | None) -> str | None:
    """A Textual colour ("ansi_red", "#f85149", "crimson") as a Rich colour string, or None
    when it does not parse. ANSI colours keep their number so 16-colour themes stay so."""
    if not value:
        return None
    try:
        color = Color.parse(value)
    except ColorParseError:
        return None
    return color.rich_color.name if color.ansi is not None else color.hex


def resolve_color(variables: Mapping[str, str], variable: str) -> str | None:
    """A theme variable as a Rich colour string (its default when unset or unparseable)."""
    return rich_color(variables.get(variable)) or rich_color(
        STATUS_VARIABLE_DEFAULTS.get(variable)
    )


def status_text(
    status: RunStatus,
    variables: Mapping[str, str] | None = None,
    *,
    word: bool = True,
    glyphs: Glyphs = UNICODE,
) -> Text:
    """Glyph (and word) as Rich Text coloured by the theme (`App.theme_variables`)."""
    look = status_look(status, glyphs)
    color = resolve_color(variables or {}, look.variable)
    style = Style(color=color, bold=status is RunStatus.FAILED)
    return Text(look.label if word else look.glyph, style=style, end="")


def status_markup(status: RunStatus, *, word: bool = True, glyphs: Glyphs = UNICODE) -> str:
    """Glyph (and word) as Textual content markup, e.g. "[$run-failed]✗ failed[/]"."""
    look = status_look(status, glyphs)
    return f"[${look.variable}]{look.label if word else look.glyph}[/]"


def progress_bar(percent: float | None, width: int = 8, glyphs: Glyphs = UNICODE) -> str:
    """A bar of eighth-blocks, e.g. "█████▌  " for 68% ("#####   " in ASCII, which rounds to
    whole cells); blanks when unknown."""
    if percent is None or not math.isfinite(percent):
        return " " * width
    steps = len(glyphs.bar_eighths) + 1
    filled = round(max(0.0, min(100.0, percent)) / 100 * width * steps)
    full, part = divmod(filled, steps)
    bar = glyphs.bar_full * full + ("" if part == 0 else glyphs.bar_eighths[part - 1])
    return bar.ljust(width)


def spinner_frame(now: float, glyphs: Glyphs = UNICODE) -> str:
    """A spinner glyph for `now`; a frozen clock gives a stable frame (snapshots)."""
    frame = int(now) if math.isfinite(now) else 0
    return glyphs.spinner[frame % len(glyphs.spinner)]
