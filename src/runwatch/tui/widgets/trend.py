"""A track's trend (issue 16): a sparkline of its last 20 runs (durations, coloured by
status) and what its past says: "slower than usual", "red for 2h 13m since 1a2b3c4 by
priya", "12 green since the last red".

The runs come from the poller (what the API lists now) merged with the history file, read
on a worker thread (never on the UI thread); without a history file the poller's runs alone
make the trend. `TrackTrend` is the run screen's line, `KioskTrends` the kiosk's lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from runwatch.formatting import format_span
from runwatch.history.stats import RED, TrackStats, newest_first
from runwatch.history.store import Point
from runwatch.models import Run, RunStatus
from runwatch.poller import RunsChanged
from runwatch.tui.look import Glyphs, glyphs_of, resolve_color, status_look

Track = tuple[str, str | None, str | None]
LEVELS = "▁▂▃▄▅▆▇█"
ASCII_LEVELS = "_.:=#"
HISTORY_PER_TRACK = 60


def merged(track: Track, live: Iterable[Run], kept: Sequence[Point] = ()) -> TrackStats:
    """The track's runs: the poller's (newest facts) over the history's, newest first."""
    points = {p.id: p for p in kept}
    points.update((r.id, Point.of(r)) for r in live if r.track == track)
    return TrackStats(track, newest_first(points.values()))


def sparkline(stats: TrackStats, glyphs: Glyphs, variables: Mapping[str, str], *,
              plain: bool) -> Text:
    """Oldest to newest, one cell a run: its duration as a bar's height, its colour its
    status. `plain` (NO_COLOR, ASCII): a run that did not pass is its status glyph, so the
    line still says which failed without colour."""
    points = list(reversed(stats.recent))
    levels = ASCII_LEVELS if glyphs.ascii else LEVELS
    longest = max((p.duration_s or 0.0 for p in points), default=0.0)
    text = Text(no_wrap=True, end="")
    for point in points:
        look = status_look(point.status, glyphs)
        if point.duration_s is None or longest <= 0 or (plain and point.status
                                                        is not RunStatus.PASSED):
            cell = look.glyph
        else:
            cell = levels[min(len(levels) - 1, int(point.duration_s / longest * len(levels)))]
        text.append(cell, Style(color=resolve_color(variables, look.variable)))
    return text


def trend_words(stats: TrackStats, now: float, *, run: Run | None = None,
                blame: bool = True) -> list[str]:
    """What the track's past says, most urgent first."""
    words = []
    if run is not None:
        seconds = run.duration_s
        if run.status.is_active and run.started_at is not None:
            seconds = now - run.started_at.timestamp()  # a running run's elapsed time
        if stats.is_slower(seconds, excluding=run.id):
            words.append("slower than usual")
    kind, count = stats.streak
    red = stats.red_since
    if kind == "red" and red is not None:
        began = red.finished_at or red.created_at
        text = f"red for {format_span(now - began)}" if began is not None else "red"
        if red.commit:
            text += f" since {red.commit[:7]}"
        if blame and red.author:
            text += f" by {red.author}"
        words.append(text)
    elif kind == "green":
        had_red = any(p.status in RED for p in stats.points)
        words.append(f"{count} green since the last red" if had_red else f"{count} green")
    return words


def _plain(widget: Static) -> bool:
    return bool(getattr(widget.app, "no_color", False)) or glyphs_of(widget).ascii


class _HistoryReader(Static):
    """Reads the history file's recent runs of some sources on a worker thread."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.kept: dict[Track, list[Point]] = {}

    def read_history(self, sources: Sequence[str]) -> None:
        session = getattr(self.app, "session", None)
        if session is None or session.history is None or not session.history.enabled:
            return
        path = session.history.path

        def read() -> dict[Track, list[Point]]:
            from runwatch.history.store import HistoryStore, HistoryUnavailable

            try:
                store = HistoryStore(path, readonly=True)
            except HistoryUnavailable:
                return {}  # no file yet, or none usable: said once by the writer
            try:
                return store.recent(sources, HISTORY_PER_TRACK)
            except HistoryUnavailable:
                return {}
            finally:
                store.close()

        async def load() -> None:
            worker = self.run_worker(read, thread=True, exit_on_error=False)
            kept = await worker.wait()
            if isinstance(kept, dict):
                self.kept = kept
                self.redraw()

        self.run_worker(load(), group="history", exclusive=True, exit_on_error=False)

    def redraw(self) -> None:
        raise NotImplementedError


class TrackTrend(_HistoryReader):
    """The run screen's trend line for `run`'s track."""

    DEFAULT_CSS = """
    TrackTrend { height: auto; padding: 0 1; background: $panel;
                 text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, run: Run, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run = run
        self._last: str | None = None

    def on_mount(self) -> None:
        host = self.app
        host.runs_signal.subscribe(self, self._runs_changed)  # type: ignore[attr-defined]
        self.read_history([self.run.source])
        self.redraw()
        self.set_interval(30.0, self.redraw)  # "red for" and a running run's elapsed move

    def _runs_changed(self, event: RunsChanged) -> None:
        if event.source != self.run.source:
            return
        mine = next((r for r in event.changed if r.id == self.run.id), None)
        if mine is not None:
            self.run = mine
        if any(r.track == self.run.track for r in event.changed):
            self.redraw()

    def redraw(self) -> None:
        app = self.app
        live = app.session.poller.runs(self.run.source).values()  # type: ignore[attr-defined]
        stats = merged(self.run.track, live, self.kept.get(self.run.track, ()))
        line = sparkline(stats, glyphs_of(self), app.theme_variables, plain=_plain(self))
        words = trend_words(stats, app.now(), run=self.run)  # type: ignore[attr-defined]
        if words:
            line.append("  " + " · ".join(words))
        if line.markup != self._last:  # an idle poll writes nothing
            self._last = line.markup
            self.update(line)


class KioskTrends(_HistoryReader):
    """The kiosk's lines: the red tracks of the runs on show first, then the others, each
    with its sparkline and its words; as many as the screen's height allows."""

    DEFAULT_CSS = "KioskTrends { height: auto; padding: 0 1; text-wrap: nowrap; " \
        "text-overflow: ellipsis; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._runs: list[Run] = []
        self._sources: tuple[str, ...] = ()
        self._last: str | None = None

    def on_mount(self) -> None:
        self.set_interval(30.0, self.redraw)
        self.set_interval(300.0, lambda: self.read_history(self._sources))

    def show(self, runs: Iterable[Run]) -> None:
        self._runs = list(runs)
        sources = tuple(sorted({r.source for r in self._runs}))
        if sources != self._sources:
            self._sources = sources
            self.read_history(sources)
        self.redraw()

    def red_for(self, track: Track) -> str:
        """The kiosk's banner for a held red track: "services · build · main  red for 2h 13m
        since 1a2b3c4 by priya"."""
        stats = merged(track, self._runs, self.kept.get(track, ()))
        words = [w for w in trend_words(stats, self.app.now(),  # type: ignore[attr-defined]
                                        blame=self.app.config.kiosk.blame)  # type: ignore[attr-defined]
                 if w.startswith("red")]
        name = " · ".join(p for p in track if p)
        glyph = status_look(RunStatus.FAILED, glyphs_of(self)).glyph
        return f"{glyph} {name}" + (f"  {words[0]}" if words else "  red")

    def lines_allowed(self) -> int:
        return max(1, (self.app.size.height - 18) // 6)

    def redraw(self) -> None:
        app = self.app
        tracks: dict[Track, list[Run]] = {}
        for run in self._runs:
            tracks.setdefault(run.track, []).append(run)
        stats = [merged(track, runs, self.kept.get(track, ())) for track, runs in tracks.items()]
        # Red first, the longest red first; then the tracks that ran most recently.
        stats.sort(key=lambda s: (s.streak[0] != "red",
                                  -(s.points[0].created_at or 0.0) if s.points else 0.0))
        blame = app.config.kiosk.blame  # type: ignore[attr-defined]
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for st in stats[: self.lines_allowed()]:
            if text:
                text.append("\n")
            source, pipeline, branch = st.track
            name = " · ".join(p for p in (source, pipeline, branch) if p)
            latest = next((p.status for p in st.finished), RunStatus.UNKNOWN)
            look = status_look(latest, glyphs_of(self))
            text.append(f"{look.glyph} ", Style(color=resolve_color(app.theme_variables,
                                                                    look.variable)))
            text.append(f"{name}  ")
            text.append(sparkline(st, glyphs_of(self), app.theme_variables, plain=_plain(self)))
            words = trend_words(st, app.now(), blame=blame)  # type: ignore[attr-defined]
            if words:
                text.append("  " + " · ".join(words))
        self.display = bool(text)
        if text.markup != self._last:
            # Auto height, the width its parent's: only a new number of lines needs a layout
            # (the kiosk redraws these on every rotation).
            lines = (self._last or "").count("\n") if self._last is not None else -1
            self._last = text.markup
            self.update(text, layout=text.markup.count("\n") != lines)
