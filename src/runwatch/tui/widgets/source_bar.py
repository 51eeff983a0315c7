"""One line per source with its health: ok and how fresh, stale with the error and the next
try, or paused. The source shown by `tab` is marked."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from runwatch.tui.status import format_clock, relative_time, rich_color
from runwatch.tui.widgets.runs_table import SourceStyle

if TYPE_CHECKING:
    from runwatch.poller import SourceHealth


def health_text(
    style: SourceStyle,
    health: SourceHealth | None,
    now: float,
    *,
    runs: int | None = None,
    selected: bool = False,
    variables: Mapping[str, str] | None = None,
) -> Text:
    """The health line of one source, e.g. "● services  ok · updated 3s ago · 24 runs"."""
    variables = variables or {}
    state = health.state if health else "starting"
    glyph, word, color = {
        "ok": ("●", "ok", variables.get("success")),
        "stale": ("▲", "stale", variables.get("error")),
        "error": ("✗", "error", variables.get("error")),
        "paused": ("‖", "paused", variables.get("warning")),
    }.get(state, ("○", "connecting…", None))
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append("▸ " if selected else "  ", Style(bold=True))
    line.append(f"{glyph} ", Style(color=rich_color(color)))
    line.append_text(style.text())
    failing = state in ("stale", "error")
    line.append(f"  {word}", Style(bold=failing))
    if health is None:
        return line
    if failing:
        if health.last_success is not None:
            line.append(f" since {format_clock(health.last_success)}")
        if health.error:
            line.append(f" · {health.error}", Style(italic=True))
        if health.next_poll is not None:
            line.append(f" · next try in {max(0, round(health.next_poll - now))}s")
    elif health.last_success is not None:
        line.append(f" · updated {relative_time(health.last_success, now)}")
    if runs is not None and not failing:
        line.append(f" · {runs} run{'s' if runs != 1 else ''}", Style(dim=True))
    return line


class SourceBar(Vertical):
    """The health lines of every source; `refresh_lines` on HealthChanged and every second."""

    def __init__(
        self,
        sources: Iterable[SourceStyle],
        *,
        health: Callable[[str], SourceHealth | None],
        now: Callable[[], float],
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._styles = {s.name: s for s in sources}
        self._health_of = health  # live: last_success / next_poll move between events
        self._now = now
        self._runs: dict[str, int] = {}
        self._selected: str | None = None
        self._rendered: dict[str, tuple[str, object]] = {}

    def compose(self) -> ComposeResult:
        for name in self._styles:
            yield Static(id=f"health-{_css_id(name)}", classes="source-health", markup=False)

    def on_mount(self) -> None:
        self.refresh_lines()

    def set_counts(self, counts: Mapping[str, int]) -> None:
        if dict(counts) != self._runs:
            self._runs = dict(counts)
            self.refresh_lines()

    def select(self, source: str | None) -> None:
        if source != self._selected:
            self._selected = source
            self.refresh_lines()

    def refresh_lines(self, only: str | None = None) -> None:
        """Re-render lines whose text changed (so an idle second writes nothing)."""
        if not self.is_mounted:
            return
        now = self._now()
        variables = self.app.theme_variables
        for name, style in self._styles.items():
            if only is not None and name != only:
                continue
            health = self._health_of(name)
            text = health_text(style, health, now, runs=self._runs.get(name),
                               selected=name == self._selected, variables=variables)
            widget = self.query_one(f"#health-{_css_id(name)}", Static)
            state = health.state if health else "starting"
            signature = (text.markup, state)
            if self._rendered.get(name) != signature:
                self._rendered[name] = signature
                widget.update(text)
                widget.set_class(state in ("stale", "error"), "-failing")
                widget.set_class(name == self._selected, "-selected")


def _css_id(name: str) -> str:
    # Source names are free text; ids must be identifiers.
    return "".join(c if c.isalnum() or c in "-_" else f"_{ord(c):x}" for c in name)
