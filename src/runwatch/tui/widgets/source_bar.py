"""One line per source with its health: ok and how fresh, stale with the error and the next
try, or paused. The source shown by `tab` (or the kiosk's rotation) is marked.

The kiosk's lines say how old a late source's data is ("updated 3 min ago", once it is older
than two intervals) and name each source's failing tracks, so a failure in a source that is
not on screen yet is still seen."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from runwatch.formatting import MAX_DURATION_S, format_clock
from runwatch.models import RunStatus
from runwatch.tui.look import (
    UNICODE,
    Glyphs,
    glyphs_of,
    resolve_color,
    rich_color,
    status_look,
    truncate,
)
from runwatch.tui.widgets.cells import SourceStyle

if TYPE_CHECKING:
    from runwatch.poll_events import SourceHealth


def updated_ago(seconds: float) -> str:
    """The kiosk's freshness: "updated 10 s ago", "updated 3 min ago". Seconds go in steps
    of 5: a poll every few seconds cannot promise more, and five lines redrawn every second
    were most of an idle kiosk's CPU."""
    if not math.isfinite(seconds) or abs(seconds) > MAX_DURATION_S:
        return "updated –"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"updated {seconds - seconds % 5} s ago"
    if seconds < 3600:
        return f"updated {seconds // 60} min ago"
    return f"updated {seconds // 3600} h ago"


def seconds_until(moment: float | None, now: float) -> int | None:
    """Whole seconds from `now` to `moment` (0 when past); None when unknown or not finite."""
    if moment is None or not math.isfinite(moment - now):
        return None
    return max(0, round(moment - now))


ERROR_MIN = 8  # fewer cells than this and the error is left to the sources view (S)
SOURCES_HINT = "S: every source in full"


def without_source(error: str, name: str) -> str:
    """The error without the source's name in front ("wercker: cannot reach …"): the line
    it is shown on starts with the name already."""
    prefix = f"{name}: "
    return error[len(prefix):] if error.startswith(prefix) else error


def health_text(
    style: SourceStyle,
    health: SourceHealth | None,
    now: float,
    *,
    runs: int | None = None,
    failing: int = 0,
    selected: bool = False,
    kiosk: bool = False,
    variables: Mapping[str, str] | None = None,
    glyphs: Glyphs = UNICODE,
    width: int | None = None,
) -> Text:
    """The health line of one source, e.g. "● services  ok · 24 runs". It is one line
    whatever an API's error says: the error is cut (with an ellipsis), or left out when
    there is no room for it, so that the schedule ("next try in 8s") always shows in `width`
    cells and a long error never hides another source. The whole error is in the sources
    view (`S`)."""
    variables = variables or {}
    state = health.state if health else "starting"
    word, color = {
        "ok": ("ok", variables.get("success")),
        "stale": ("stale", variables.get("error")),
        "error": ("error", variables.get("error")),
        "paused": ("paused", variables.get("warning")),
    }.get(state, ("connecting" + glyphs.ellipsis, None))
    glyph = glyphs.health.get(state, glyphs.health["starting"])
    stale = state in ("stale", "error")
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(f"{glyphs.selected} " if selected else "  ", Style(bold=True))
    line.append(f"{glyph} ", Style(color=rich_color(color)))
    line.append_text(style.text())
    line.append(f"  {word}", Style(bold=stale))
    if health is None:
        return line
    error: str | None = None
    tail = Text(end="")
    if stale:
        if health.last_success is not None:
            line.append(f" since {format_clock(health.last_success)}")
        error = without_source(health.error, style.name) if health.error else None
        wait = seconds_until(health.next_poll, now)
        if wait is not None:
            tail.append(f" · next try in {wait}{' s' if kiosk else 's'}")
    elif health.last_success is not None and kiosk and (
            now - health.last_success > 2 * health.interval_s):
        # Only the kiosk says how fresh, and only when a source is late (older than two
        # intervals): "updated 0 s ago" on every line is noise that redraws every second.
        line.append(f" · {updated_ago(now - health.last_success)}")
    if failing_runs := failing if kiosk else 0:
        look = status_look(RunStatus.FAILED, glyphs)
        tail.append(f" · {look.glyph} {failing_runs} {look.word}",
                    Style(color=resolve_color(variables, look.variable), bold=True))
    if runs is not None and not stale:
        tail.append(f" · {runs} run{'s' if runs != 1 else ''}", Style(dim=True))
    if error:
        error = " ".join(error.split())
        if width is not None:
            room = width - line.cell_len - tail.cell_len - 3
            error = truncate(error, room, glyphs) if room >= ERROR_MIN else ""
        if error:
            line.append(f" · {error}", Style(italic=True))
    line.append_text(tail)
    return line


class SourceBar(Vertical):
    """The health lines of every source; `refresh_lines` on HealthChanged and every second."""

    def __init__(
        self,
        sources: Iterable[SourceStyle],
        *,
        health: Callable[[str], SourceHealth | None],
        now: Callable[[], float],
        kiosk: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._styles = {s.name: s for s in sources}
        self._health_of = health  # live: last_success / next_poll move between events
        self._now = now
        self._kiosk = kiosk
        self._runs: dict[str, int] = {}
        self._failing: dict[str, int] = {}
        self._selected: str | None = None
        self._rendered: dict[str, tuple[str, object]] = {}

    def compose(self) -> ComposeResult:
        for name in self._styles:
            yield Static(id=f"health-{_css_id(name)}", classes="source-health", markup=False)

    def on_mount(self) -> None:
        if not self._kiosk:
            # The key to the whole story, where the one-line stories are (no row spent).
            self.border_subtitle = SOURCES_HINT
        self.refresh_lines()

    def set_counts(
        self, counts: Mapping[str, int], failing: Mapping[str, int] | None = None
    ) -> None:
        """Runs per source (and, in the kiosk, failing runs per source)."""
        failing = {k: v for k, v in (failing or {}).items() if v}
        if dict(counts) != self._runs or failing != self._failing:
            self._runs = dict(counts)
            self._failing = failing
            self.refresh_lines()

    def select(self, source: str | None) -> None:
        if source != self._selected:
            self._selected = source
            self.refresh_lines()

    def on_resize(self) -> None:
        self._rendered.clear()  # an error is cut to the width: cut it again
        self.refresh_lines()

    def _line_width(self) -> int | None:
        return self.content_region.width or None

    def tick(self) -> None:
        """Every second: re-render the lines whose text moves with the clock alone, a stale
        source's "next try in 8s" and the kiosk's "updated N min ago" of a late source (or
        one about to be late); the others change only on a HealthChanged or new counts."""
        now = self._now()
        for name in self._styles:
            health = self._health_of(name)
            if health is None:
                continue
            late = (self._kiosk and health.last_success is not None
                    and now - health.last_success > 2 * health.interval_s - 2)
            if late or health.state in ("stale", "error"):
                self.refresh_lines(name)

    def refresh_lines(self, only: str | None = None) -> None:
        """Re-render lines whose text changed (so an idle second writes nothing)."""
        if not self.is_mounted:
            return
        now = self._now()
        variables = self.app.theme_variables
        glyphs = glyphs_of(self)
        for name, style in self._styles.items():
            if only is not None and name != only:
                continue
            health = self._health_of(name)
            text = health_text(style, health, now, runs=self._runs.get(name),
                               failing=self._failing.get(name, 0), kiosk=self._kiosk,
                               selected=name == self._selected, variables=variables,
                               glyphs=glyphs, width=self._line_width())
            widget = self.query_one(f"#health-{_css_id(name)}", Static)
            state = health.state if health else "starting"
            signature = (text.markup, state)
            before = self._rendered.get(name)
            if before != signature:
                self._rendered[name] = signature
                # The ticking seconds need a repaint, not a layout of the whole screen.
                widget.update(text, layout=before is None or before[1] != state)
                widget.set_class(state in ("stale", "error"), "-failing")
                widget.set_class(name == self._selected, "-selected")


def _css_id(name: str) -> str:
    # Source names are free text; ids must be identifiers.
    return "".join(c if c.isalnum() or c in "-_" else f"_{ord(c):x}" for c in name)
