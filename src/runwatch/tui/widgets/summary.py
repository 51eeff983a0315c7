"""The runs screen's top and bottom lines: the title bar (app name, READ-ONLY / DEMO /
PAUSED badges, what the table shows) and the summary of runs by status."""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Static

from runwatch.models import RunStatus
from runwatch.tui.look import UNICODE, Glyphs, glyphs_of, resolve_color, status_look
from runwatch.tui.runs_view import RunsView

# Attention first: failures, then what is moving, then the settled.
SUMMARY_ORDER = (
    RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.RUNNING, RunStatus.WAITING,
    RunStatus.QUEUED, RunStatus.PASSED, RunStatus.CANCELED, RunStatus.SKIPPED, RunStatus.UNKNOWN,
)


def summary_text(
    counts: Mapping[RunStatus, int],
    variables: Mapping[str, str] | None = None,
    *,
    shown: int | None = None,
    glyphs: Glyphs = UNICODE,
) -> Text:
    """E.g. "✗ 3 failed  ● 2 running  ✓ 40 passed    45 shown"."""
    variables = variables or {}
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for status in SUMMARY_ORDER:
        count = counts.get(status, 0)
        if not count:
            continue
        look = status_look(status, glyphs)
        if text:
            text.append("  ")
        text.append(f"{look.glyph} {count} {look.word}",
                    Style(color=resolve_color(variables, look.variable)))
    total = sum(counts.values())
    if not text:
        text.append("no runs yet", Style(dim=True))
    if shown is not None and shown != total:
        text.append(f"   {shown} of {total} shown", Style(dim=True))
    return text


def view_text(view: RunsView, *, sources: int) -> str:
    """What the table shows, e.g. "all sources · failed · sort: newest · /login"."""
    parts = [view.source if view.source else ("all sources" if sources > 1 else "")]
    parts.append("all runs" if view.status == "all" else view.status)
    parts.append(f"sort: {view.sort}")
    if view.text:
        parts.append(f"/{view.text}")
    return " · ".join(p for p in parts if p)


class StatusSummary(Static):
    """Counts by status of the runs in the shown source(s)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._last: str | None = None

    def show_counts(self, counts: Mapping[RunStatus, int], *, shown: int | None = None) -> None:
        text = summary_text(counts, self.app.theme_variables, shown=shown,
                            glyphs=glyphs_of(self))
        if text.markup != self._last:  # an idle poll writes nothing to the terminal
            self._last = text.markup
            # One line high, as wide as the screen (runwatch.tcss): new counts need a
            # repaint, not a layout of the whole screen (20 ms at 160x45, on every poll).
            self.update(text, layout=False)


class TitleBar(Horizontal):
    """App title, mode badges and the current view."""

    def compose(self) -> ComposeResult:
        yield Label("runwatch", id="app-title")
        yield Label("READ-ONLY", id="badge-read-only", classes="badge")
        yield Label("KIOSK", id="badge-kiosk", classes="badge")
        yield Label("DEMO", id="badge-demo", classes="badge")
        yield Label("PAUSED", id="badge-paused", classes="badge")
        yield Label("", id="view-state", markup=False)

    def set_badges(self, *, read_only: bool, kiosk: bool, demo: bool, paused: bool) -> None:
        for name, on in (("read-only", read_only), ("kiosk", kiosk), ("demo", demo),
                         ("paused", paused)):
            self.query_one(f"#badge-{name}").display = on

    def set_view(self, view: RunsView, *, sources: int) -> None:
        self.query_one("#view-state", Label).update(view_text(view, sources=sources))
