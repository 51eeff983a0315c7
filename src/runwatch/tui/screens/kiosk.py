"""The kiosk screen (`--kiosk`): a wall display that answers "are we green?". Counts in big
digits (tracks by their latest result, runs in progress), a clock, one health line per source
(stale with the error, or "updated N min ago" once its data is older than two intervals), and
the runs that matter: the failing tracks first. Sources take turns every `kiosk.rotate`
seconds (0: all at once).

Read-only, no dialogs, no keys but quit (none at all with `kiosk.lock`), nothing written to
disk. Everything it shows comes from the poller, so an API's errors show in its health line
and the last good runs stay until it recovers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from runwatch.formatting import format_wall_clock
from runwatch.models import Run
from runwatch.tui.host import Host
from runwatch.tui.kiosk_hold import KioskHold
from runwatch.tui.widgets.cells import SourceStyle
from runwatch.tui.widgets.kiosk import LARGE, BigNumber, StatusCounts
from runwatch.tui.widgets.kiosk_runs import FAILING, KioskRuns, latest_verdicts, track_counts
from runwatch.tui.widgets.source_bar import SourceBar
from runwatch.tui.widgets.trend import KioskTrends

if TYPE_CHECKING:
    from runwatch.poller import HealthChanged, RunsChanged

WIDE = 120  # from this width the clock is big too


class KioskScreen(Screen[None]):
    """Everything at a glance; no keys to learn."""

    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [
        (0, "-narrow"), (WIDE, "-wide"),
    ]

    DEFAULT_CSS = """
    KioskScreen {
        #kiosk-header { height: 1; background: $panel; }
        #kiosk-where { width: 1fr; padding: 0 1; text-style: bold; color: $text-accent; }
        #kiosk-clock { padding: 0 1; text-style: bold; }
        #kiosk-top { height: auto; padding: 1 1 0 2; }
        #kiosk-bigclock { width: auto; text-style: bold; color: $text-accent; display: none; }
        #kiosk-banner { display: none; width: 1fr; padding: 0 1; text-style: bold;
                        background: $error; color: $text; }
        #kiosk-banner.-shown { display: block; }
        #kiosk-sources {
            height: auto;
            max-height: 12;
            border-bottom: solid $panel;
        }
        &.-wide {
            #kiosk-banner { padding: 1 2; }
            #kiosk-bigclock { display: block; }
            #kiosk-clock { display: none; }
            #kiosk-top { padding: 1 2 1 2; }
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._index = 0
        self._ready = False  # on_mount ran (is_mounted turns True only after it)
        self.clock = ""  # HH:MM:SS on screen
        self._where = ""
        self.hold: KioskHold | None = None  # set on mount: it needs the app's clock

    @property
    def host(self) -> Host:
        """The app, as a screen may know it."""
        return cast(Host, self.app)

    # -- what is shown -------------------------------------------------------------

    @property
    def rotation(self) -> list[str | None]:
        """The views taken in turn: each source, or just all of them (None)."""
        sources = list(self.host.session.sources)
        if self.host.config.kiosk.rotate <= 0 or len(sources) < 2:
            return [None]
        return list(sources)

    @property
    def source(self) -> str | None:
        """The source on screen (None: every source)."""
        rotation = self.rotation
        return rotation[self._index % len(rotation)]

    def where_text(self) -> str:
        """The rotation indicator, e.g. "source 2/5: wercker", or "all 5 sources"."""
        rotation, source = self.rotation, self.source
        if source is None:
            names = list(self.host.session.sources)
            return f"all {len(names)} sources" if len(names) != 1 else names[0]
        return f"source {self._index % len(rotation) + 1}/{len(rotation)}: {source}"

    def compose(self) -> ComposeResult:
        app = self.host
        styles = [SourceStyle(name, facts.config.label, facts.config.color)
                  for name, facts in app.session.sources.items()]
        with Horizontal(id="kiosk-header"):
            yield Label("runwatch", id="app-title")
            yield Label("READ-ONLY", id="badge-read-only", classes="badge")
            yield Label("KIOSK", id="badge-kiosk", classes="badge")
            yield Label("DEMO", id="badge-demo", classes="badge")
            yield Label("", id="kiosk-where", markup=False)
            yield Label("", id="kiosk-clock", markup=False)
        with Horizontal(id="kiosk-top"):
            yield StatusCounts(id="kiosk-counts")
            yield BigNumber("", id="kiosk-bigclock")
        yield SourceBar(styles, health=app.session.health, now=app.now, kiosk=True,
                        id="kiosk-sources")
        yield KioskTrends(id="kiosk-trends")  # red tracks' sparklines and "red for"
        yield Static("", id="kiosk-banner", markup=False)  # a held red track, large
        yield KioskRuns(now=app.now, id="kiosk-runs")
        footer = Footer(compact=True, show_command_palette=False)
        # Locked: the footer would offer nothing, so it gives its line to the runs.
        footer.display = not app.kiosk_lock
        yield footer

    def on_mount(self) -> None:
        app = self.host
        self.hold = KioskHold(app.config.kiosk.hold, app.now)
        app.runs_signal.subscribe(self, self.apply_runs_changed)
        app.health_signal.subscribe(self, self.health_changed)
        for name in ("read-only", "kiosk", "demo"):
            shown = {"read-only": app.read_only, "kiosk": True, "demo": app.demo}[name]
            self.query_one(f"#badge-{name}").display = shown
        # Polls may have finished before this screen was mounted: show what they brought.
        self._ready = True
        self._show_stale()
        self._show()
        self._tick()
        self.set_interval(1.0, self._tick)
        if len(self.rotation) > 1:
            self.set_interval(app.config.kiosk.rotate, self.rotate)

    # -- fed by the app's signals --------------------------------------------------

    def apply_runs_changed(self, event: RunsChanged) -> None:
        turned = self.hold.changed(event.changed) if self.hold else None
        if turned is not None and turned in self.rotation:
            self._index = self.rotation.index(turned)  # a track turned red: show its source
        self._show()

    def health_changed(self, event: HealthChanged) -> None:
        self.query_one(SourceBar).refresh_lines(event.source)
        self._show_stale()

    def _show_stale(self) -> None:
        # A stale source's runs are dimmed and their durations stop where its data did.
        stale: dict[str, float] = {}
        for name in self.host.session.sources:
            health = self.host.session.health(name)
            if health is not None and health.state in ("stale", "error"):
                stale[name] = health.last_success or self.host.now()
        self.query_one(KioskRuns).set_stale(stale)

    def on_resize(self, event: Resize) -> None:
        # A big screen gets big digits: they grow with it, the runs take the rest.
        large = event.size.width >= LARGE[0] and event.size.height >= LARGE[1]
        self.query_one(StatusCounts).set_large(large)
        self.query_one("#kiosk-bigclock", BigNumber).set_large(large)

    def refresh_chrome(self) -> None:
        self._show()

    def restyle(self) -> None:
        """The theme changed: re-render what carries theme colours in Rich text."""
        self.query_one(SourceBar).refresh_lines()

    def rotate(self, step: int = 1) -> None:
        """The next source's turn (not while a track that turned red holds it)."""
        if self.hold is not None and self.hold.holds(self.source):
            return
        self._index = (self._index + step) % len(self.rotation)
        self._show()

    # -- internals -----------------------------------------------------------------

    def _runs(self, source: str | None) -> list[Run]:
        poller = self.host.session.poller
        names = list(self.host.session.sources) if source is None else [source]
        return [run for name in names for run in poller.runs(name).values()]

    def _show(self) -> None:
        """Counts, runs and source lines for the source on screen."""
        if not self._ready:
            return  # on_mount shows everything
        source = self.source
        runs = self._runs(source)
        self.query_one(StatusCounts).show_counts(track_counts(runs))
        self.query_one(KioskRuns).set_runs(runs, show_source=source is None)
        self.query_one(KioskTrends).show(runs)
        self._show_banner()
        where = self.where_text()
        if where != self._where:
            self._where = where
            # Its box is the header's (1fr, one line): a new source's name needs a repaint,
            # not the layout of the whole screen that a Label update does by default (on
            # every rotation).
            self.query_one("#kiosk-where", Label).update(where, layout=False)
        bar = self.query_one(SourceBar)
        poller = self.host.session.poller
        totals: dict[str, int] = {}
        failing: dict[str, int] = {}
        for name in self.host.session.sources:
            source_runs = poller.runs(name).values()
            totals[name] = len(source_runs)
            failing[name] = sum(r.status in FAILING for r in latest_verdicts(source_runs).values())
        bar.set_counts(totals, failing)
        bar.select(source)

    def _tick(self) -> None:
        # "updated N s ago" and running durations move every second; the clock by minutes.
        clock = format_wall_clock(self.host.now())
        if clock != self.clock:
            # Auto width: a layout only when the clock's length changes (9:59 to 10:00).
            resized = len(clock) != len(self.clock)
            self.clock = clock
            self.query_one("#kiosk-clock", Label).update(clock, layout=resized)
            self.query_one("#kiosk-bigclock", BigNumber).update(clock)
        self.query_one(SourceBar).tick()
        self.query_one(KioskRuns).refresh_times()
        self._show_banner()  # "red for" moves on; the hold ends

    def _show_banner(self) -> None:
        source = self.source
        track = self.hold.held_track([source] if source else self.host.session.sources) \
            if self.hold is not None else None
        banner = self.query_one("#kiosk-banner", Static)
        text = self.query_one(KioskTrends).red_for(track) if track is not None else ""
        if text != str(banner.content):
            banner.update(text)
        banner.set_class(track is not None, "-shown")
