"""How a status, a time and a progress figure look on screen; shared by every screen.

Status is never colour alone: each has a glyph *and* a word, and its colour comes from a
theme variable (`$run-failed`, ...) so themes and 16-colour terminals can restyle it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError

from runwatch.models import RunStatus

__all__ = [
    "SPINNER",
    "STATUS",
    "STATUS_VARIABLE_DEFAULTS",
    "StatusLook",
    "format_clock",
    "format_duration",
    "progress_bar",
    "relative_time",
    "resolve_color",
    "rich_color",
    "spinner_frame",
    "status_look",
    "status_markup",
    "status_text",
    "to_epoch",
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
STATUS: Mapping[RunStatus, StatusLook] = {
    RunStatus.QUEUED: StatusLook("○", "queued", "run-queued"),
    RunStatus.RUNNING: StatusLook("●", "running", "run-running"),
    RunStatus.WAITING: StatusLook("◐", "waiting", "run-waiting"),
    RunStatus.PASSED: StatusLook("✓", "passed", "run-passed"),
    RunStatus.FAILED: StatusLook("✗", "failed", "run-failed"),
    RunStatus.CANCELED: StatusLook("⊘", "canceled", "run-canceled"),
    RunStatus.TIMED_OUT: StatusLook("◷", "timed out", "run-timed_out"),
    RunStatus.UNKNOWN: StatusLook("?", "unknown", "run-unknown"),
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
    "run-unknown": "#8a8f98",
}

# Braille spinner for active runs whose API reports no progress.
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def status_look(status: RunStatus) -> StatusLook:
    return STATUS.get(status, STATUS[RunStatus.UNKNOWN])


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
    status: RunStatus, variables: Mapping[str, str] | None = None, *, word: bool = True
) -> Text:
    """Glyph (and word) as Rich Text coloured by the theme (`App.theme_variables`)."""
    look = status_look(status)
    color = resolve_color(variables or {}, look.variable)
    style = Style(color=color, bold=status is RunStatus.FAILED)
    return Text(look.label if word else look.glyph, style=style, end="")


def status_markup(status: RunStatus, *, word: bool = True) -> str:
    """Glyph (and word) as Textual content markup, e.g. "[$run-failed]✗ failed[/]"."""
    look = status_look(status)
    return f"[${look.variable}]{look.label if word else look.glyph}[/]"


def to_epoch(ts: datetime | float | None) -> float | None:
    if ts is None:
        return None
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return ts.timestamp()
    return float(ts)


def relative_time(ts: datetime | float | None, now: float) -> str:
    """"now", "12s ago", "3m ago", "5h ago", "2d ago"; "in 4s" for the future; "–" for None."""
    epoch = to_epoch(ts)
    if epoch is None:
        return "–"
    delta = now - epoch
    future = delta < 0
    delta = abs(delta)
    if delta < 1:
        return "now"
    if delta < 60:
        amount = f"{int(delta)}s"
    elif delta < 3600:
        amount = f"{int(delta // 60)}m"
    elif delta < 86400:
        amount = f"{int(delta // 3600)}h"
    else:
        amount = f"{int(delta // 86400)}d"
    return f"in {amount}" if future else f"{amount} ago"


def format_duration(seconds: float | None) -> str:
    """"8s", "3m 07s", "1h 02m"; "–" for None."""
    if seconds is None:
        return "–"
    total = round(max(0.0, seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_clock(ts: float) -> str:
    """Local wall-clock HH:MM:SS."""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def progress_bar(percent: float | None, width: int = 8) -> str:
    """A bar of eighth-blocks, e.g. "█████▌  " for 68%; blanks when unknown."""
    if percent is None:
        return " " * width
    eighths = round(max(0.0, min(100.0, percent)) / 100 * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + ("" if part == 0 else " ▏▎▍▌▋▊▉"[part])
    return bar.ljust(width)


def spinner_frame(now: float) -> str:
    """A spinner glyph for `now`; a frozen clock gives a stable frame (snapshots)."""
    return SPINNER[int(now) % len(SPINNER)]
