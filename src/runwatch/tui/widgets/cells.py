"""The runs table's cells: one Rich Text per (run, column), coloured by the theme, drawn
with the app's glyph table. The widget (`runs_table`) decides which cells to redraw."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from runwatch.formatting import STOPPED_HERE, format_duration, relative_time
from runwatch.models import Run, RunStatus
from runwatch.tui.look import (
    UNICODE,
    Glyphs,
    progress_bar,
    resolve_color,
    rich_color,
    spinner_frame,
    status_look,
    status_text,
)
from runwatch.tui.runs_view import TEXT_COLUMNS, run_duration

__all__ = ["STOPPED_MARK", "TIMED_COLUMNS", "SourceStyle", "StatusCell", "render_cell",
           "same_text"]

# A run this process stopped (Session.stopped_here) in a status column too narrow for
# "(stopped here)": a character, so it reads without colour too.
STOPPED_MARK = "*"


class StatusCell(Text):
    """The status cell; it carries its row's key so `DataTable.sort` can order rows by the
    run they show (the sort key function is given cell values, not row keys)."""

    def __init__(self, text: Text, key: str) -> None:
        super().__init__(text.plain, style=text.style, end="", no_wrap=True,
                         spans=list(text.spans))
        self.row_key = key


@dataclass(frozen=True)
class SourceStyle:
    """How a source's name looks: its optional label badge and colour (from the config)."""

    name: str
    label: str | None = None
    color: str | None = None

    @property
    def width(self) -> int:
        return len(self.name) + (len(self.label) + 3 if self.label else 0)

    def text(self) -> Text:
        color = rich_color(self.color)
        name = Text(self.name, style=Style(color=color), end="")
        if not self.label:
            return name
        badge = Style(color=color or "default", reverse=True, bold=True)
        return Text.assemble((f" {self.label} ", badge), " ", name, end="")


def same_text(a: Text, b: Text) -> bool:
    # Text.__eq__ ignores the base style, and a theme change may alter only that.
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans


# The cells that move with the clock (`row_clock` says when).
TIMED_COLUMNS = frozenset({"started", "duration", "progress"})


def _plain(value: str, style: Style | str = "") -> Text:
    return Text(value, style=style, no_wrap=True, overflow="ellipsis", end="")


def render_cell(
    column: str,
    run: Run,
    now: float,
    variables: Mapping[str, str],
    sources: Mapping[str, SourceStyle],
    key: str,
    glyphs: Glyphs = UNICODE,
    *,
    stale_since: float | None = None,
    width: int = 0,
) -> Text:
    """One cell's content, for a column `width` cells wide; plain Text so DataTable can
    compare and crop it.

    A stale source's cells (`stale_since`: when its data was last good) are dimmed, its
    status carries the stale mark (seen without colour too), and a running duration or
    spinner stops where the data stopped."""
    if stale_since is None:
        return _cell(column, run, now, variables, sources, key, glyphs, width)
    if column == "status":
        text = _status(run, variables, glyphs, width - 2)
        text.append(f" {glyphs.health['stale']}")
        cell: Text = StatusCell(text, key)
    else:
        cell = _cell(column, run, stale_since if column in TIMED_COLUMNS - {"started"} else now,
                     variables, sources, key, glyphs, width)
    cell.stylize(STALE_STYLE)
    return cell


STALE_STYLE = Style(dim=True)


def _status(run: Run, variables: Mapping[str, str], glyphs: Glyphs, width: int) -> Text:
    """The status, and for a run stopped here "(stopped here)" where it fits, else `*`."""
    text = status_text(run.status, variables, glyphs=glyphs)
    if run.stopped_here:
        full = f" ({STOPPED_HERE})"
        text.append(full if text.cell_len + len(full) <= width else STOPPED_MARK)
    return text


def _cell(
    column: str,
    run: Run,
    now: float,
    variables: Mapping[str, str],
    sources: Mapping[str, SourceStyle],
    key: str,
    glyphs: Glyphs,
    width: int = 0,
) -> Text:
    if column == "status":
        return StatusCell(_status(run, variables, glyphs, width), key)
    if column == "source":
        style = sources.get(run.source) or SourceStyle(run.source)
        text = style.text()
        text.no_wrap, text.overflow = True, "ellipsis"
        return text
    field = TEXT_COLUMNS.get(column)
    if field is not None:
        return _plain(field(run))
    if column == "progress":
        return _progress(run, now, variables, glyphs)
    if column == "tests":
        return _tests(run, variables, glyphs)
    if column == "started":
        # When the run was started (triggered): the time the newest-first order uses.
        return _plain(relative_time(run.created_at or run.started_at, now))
    if column == "duration":
        return _plain(format_duration(run_duration(run, now)) if run.status is not
                      RunStatus.QUEUED else glyphs.dash)
    raise KeyError(column)


def _progress(
    run: Run, now: float, variables: Mapping[str, str], glyphs: Glyphs = UNICODE
) -> Text:
    # Done is done (blank); a run that ended short of passing shows how far it got, in its
    # status's colour, so a failed run is never a full "progress" bar in the running colour.
    ended = run.status.is_terminal
    if run.status is RunStatus.PASSED or (ended and run.progress is None):
        return _plain("")
    color = resolve_color(variables, status_look(run.status).variable if ended
                          else "run-running")
    if run.progress is None:
        return _plain(spinner_frame(now, glyphs), Style(color=color))
    return Text.assemble(
        (progress_bar(run.progress, 5, glyphs), Style(color=color)),
        f" {run.progress:3.0f}%",
        no_wrap=True,
        end="",
    )


def _tests(run: Run, variables: Mapping[str, str], glyphs: Glyphs = UNICODE) -> Text:
    tests = run.tests
    if tests is None or (tests.passes is None and tests.failures is None):
        return _plain("")
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    if tests.passes is not None:
        text.append(f"{glyphs.status[RunStatus.PASSED]}{tests.passes}",
                    Style(color=resolve_color(variables, "run-passed")))
    if tests.failures:
        if text:
            text.append(" ")
        text.append(f"{glyphs.status[RunStatus.FAILED]}{tests.failures}",
                    Style(color=resolve_color(variables, "run-failed"), bold=True))
    return text
