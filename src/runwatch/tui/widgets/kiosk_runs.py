"""The kiosk's list of runs, for "are we green?": the failing tracks first (a track is
(source, pipeline, branch); a failure already followed by a pass is history), then the runs
in progress, then the recent rest.

One widget draws every line, each repainted only where its text changed: a running duration
or an "ago" turning over rewrites those cells of that line, never the line or the list."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from runwatch.models import Run, RunStatus
from runwatch.tui.formatting import format_duration, relative_time, to_epoch
from runwatch.tui.look import Glyphs, glyphs_of, progress_bar, spinner_frame, status_look, truncate
from runwatch.tui.runs_view import run_duration

__all__ = [
    "FAILING",
    "KioskRuns",
    "Section",
    "changed_cells",
    "kiosk_sections",
    "latest_verdicts",
    "run_line",
    "track_counts",
]

MUTED = "$foreground-muted"
FAILING = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})
# What says whether a track is green: a canceled or skipped run says nothing either way.
VERDICTS = FAILING | {RunStatus.PASSED}

Track = tuple[str, str | None, str | None]

# A run's line: status, [source], id, [progress], title, [branch], [author], for/took, ago.
# The bracketed ones come while the title keeps TITLE_MIN cells, in EXTRA_COLUMNS order.
STATUS_WIDTH, ID_WIDTH, ID_MAX, TIME_WIDTH, WHEN_WIDTH = 11, 10, 36, 8, 8
TITLE_MIN = 24
EXTRA_COLUMNS = (("progress", 12), ("branch", 22), ("author", 18))


def _time(run: Run) -> tuple[float, str]:
    return (to_epoch(run.sort_time) or 0.0, run.id)


def latest_verdicts(runs: Iterable[Run]) -> dict[Track, Run]:
    """Each track's newest run that passed or failed: whether that track is green."""
    latest: dict[Track, Run] = {}
    for run in runs:
        if run.status in VERDICTS:
            best = latest.get(run.track)
            if best is None or _time(run) > _time(best):
                latest[run.track] = run
    return latest


def track_counts(runs: Iterable[Run]) -> dict[RunStatus, int]:
    """What the big numbers count: tracks by their latest verdict (failed, timed out,
    passed), and the runs in progress by their status."""
    runs = list(runs)
    counts: dict[RunStatus, int] = {}
    for run in latest_verdicts(runs).values():
        counts[run.status] = counts.get(run.status, 0) + 1
    for run in runs:
        if run.status.is_active:
            counts[run.status] = counts.get(run.status, 0) + 1
    return counts


@dataclass(frozen=True)
class Section:
    """A group of runs in the kiosk's list, e.g. the failing ones."""

    title: str
    style: str
    runs: Sequence[Run]
    total: int


def kiosk_sections(runs: Iterable[Run], *, recent: int = 50) -> list[Section]:
    """The failing runs that are the latest verdict of their track, then the active ones,
    then the `recent` newest of the rest (older failures among them); each newest first.
    Two passes over the runs, so 10,000 runs stay cheap."""
    runs = list(runs)
    red = {id(run) for run in latest_verdicts(runs).values() if run.status in FAILING}
    failing: list[Run] = []
    active: list[Run] = []
    rest: list[Run] = []
    for run in runs:
        if id(run) in red:
            failing.append(run)
        elif run.status.is_active:
            active.append(run)
        else:
            rest.append(run)

    def newest(items: list[Run], limit: int | None = None) -> list[Run]:
        if limit is not None and len(items) > limit:
            return heapq.nlargest(limit, items, key=_time)
        return sorted(items, key=_time, reverse=True)

    return [
        Section("FAILING", "bold reverse $run-failed", newest(failing), len(failing)),
        Section("ACTIVE", "bold reverse $run-running", newest(active), len(active)),
        Section("RECENT", "bold reverse $foreground-muted", newest(rest, recent), len(rest)),
    ]


@dataclass(frozen=True)
class Layout:
    """The widths of a run line's columns, the same on every line of the list."""

    source: int  # 0: no source column (one source on screen)
    id: int
    status: int
    extras: frozenset[str]
    title: int
    branch: int
    author: int


def line_layout(runs: Sequence[Run], width: int, *, show_source: bool,
                stale: bool) -> Layout:
    """Columns for these runs in `width` cells: each at its longest value (within bounds),
    the title the rest."""
    source = min(14, max([6, *(len(r.source) for r in runs)])) if show_source else 0
    ident = min(ID_MAX, max([ID_WIDTH, *(len(r.id) for r in runs)]))
    branch = min(20, max([6, *(len(r.branch or "") for r in runs)]))
    author = min(16, max([6, *(len(r.author or "") for r in runs)]))
    status = STATUS_WIDTH + (2 if stale else 0)
    used = status + 1 + (source + 2 if source else 0) + TIME_WIDTH + 2 + 1 + WHEN_WIDTH
    # The id grows only while the title keeps its minimum.
    ident = max(ID_WIDTH, min(ident, width - used - 2 - TITLE_MIN))
    used += ident + 2
    needs = {"progress": 12, "branch": branch + 2, "author": author + 2}
    extras: set[str] = set()
    for column, _ in EXTRA_COLUMNS:
        if width - used - needs[column] >= TITLE_MIN:
            extras.add(column)
            used += needs[column]
    return Layout(source, ident, status, frozenset(extras), max(0, width - used), branch,
                  author)


LineTimes = tuple[str, str, str]  # progress or spinner, ran (or took), started ("3m ago")


def line_times(run: Run, layout: Layout, now: float, glyphs: Glyphs,
               stale_since: float | None = None) -> LineTimes:
    """What moves with the clock on a run's line; the rest of it moves only with the run.
    A stale source's running duration and spinner stop where its data stopped."""
    moment = now if stale_since is None else stale_since
    bar = ""
    if "progress" in layout.extras and run.status.is_active:
        bar = (spinner_frame(moment, glyphs) if run.progress is None
               else f"{progress_bar(run.progress, 5, glyphs)} {run.progress:3.0f}%")
    took = ""
    if run.status is RunStatus.RUNNING or run.status.is_terminal:
        seconds = run_duration(run, moment)
        took = format_duration(seconds) if seconds is not None else ""
    return bar, took, relative_time(run.created_at or run.started_at, now)


def run_line(run: Run, layout: Layout, now: float, glyphs: Glyphs, *,
             stale_since: float | None = None, red: bool = False,
             times: LineTimes | None = None) -> Content:
    """One run: status, source, id, then as the width allows its progress, title, branch
    and author; how long it ran (or took) and when it started, each in its own column.

    A stale source's run is dimmed and marked, and its running duration stops where the
    data stopped (`stale_since`). A `red` track's failure is in bold; an older one is not.
    `times`: `line_times` of the run, when the caller has them already."""
    bar, took, when = times or line_times(run, layout, now, glyphs, stale_since)
    look = status_look(run.status, glyphs)
    failing = red and run.status in FAILING
    colour = f"${look.variable}"
    label = look.label + (f" {glyphs.health['stale']}" if stale_since is not None else "")
    parts: list[tuple[str, str] | str] = [
        (label.ljust(layout.status), f"{colour} bold" if failing else colour), " ",
    ]
    if layout.source:
        parts += [(truncate(run.source, layout.source, glyphs).ljust(layout.source), "bold"),
                  "  "]
    parts += [(truncate(run.id, layout.id, glyphs).ljust(layout.id), MUTED), "  "]
    if "progress" in layout.extras:
        parts += [(bar.ljust(10), "$run-running"), "  "]
    title = run.title or run.branch or ""
    parts.append((truncate(title, layout.title, glyphs).ljust(layout.title),
                  "bold" if failing else ""))
    if "branch" in layout.extras:
        parts += ["  ", (truncate(run.branch or "", layout.branch, glyphs)
                         .ljust(layout.branch), MUTED)]
    if "author" in layout.extras:
        parts += ["  ", (truncate(run.author or "", layout.author, glyphs)
                         .ljust(layout.author), MUTED)]
    parts += ["  ", (took.rjust(TIME_WIDTH), "" if run.status.is_active else MUTED)]
    parts.append(" " + when.rjust(WHEN_WIDTH))
    line = Content.assemble(*parts)
    return line.stylize("dim") if stale_since is not None else line


def changed_cells(old: Content, new: Content) -> tuple[int, int] | None:
    """The cells (start, end) where `new` reads differently from `old` on one line, or None
    when more than the characters moved (other spans, another length): a duration ticking
    ("1m 05s" to "1m 06s") is those two cells, not the line."""
    before, after = old.plain, new.plain
    if len(before) != len(after) or old.spans != new.spans:
        return None
    if before == after:
        return (0, 0)
    start = next(i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b)
    end = len(before)
    while before[end - 1] == after[end - 1]:
        end -= 1
    width = cell_len(before[start:end])
    if cell_len(after[start:end]) != width:
        return None  # what follows moves
    x = cell_len(before[:start])
    return (x, x + width)


class KioskRuns(Widget):
    """The runs that matter, one screen line each: failing first, then active, then recent.

    One widget drawing its own lines (`render_line`), each kept as a rendered strip: a
    frame renders one widget whatever the number of lines, and a new height is a repaint,
    not lines mounted or removed. Each second the lines are rebuilt and only the cells that
    read differently are repainted, so a running duration ticking writes its own cells and
    an idle second writes nothing."""

    DEFAULT_CSS = """
    KioskRuns {
        height: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, now: Callable[[], float], id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._sections: list[Section] = []
        self._show_source = True
        self._stale: Mapping[str, float] = {}
        self._shown: list[Content] = []  # what each screen line shows
        self._strips: dict[int, Strip] = {}  # those lines rendered; dropped as they change
        # Each run's line of the last build, by what it depends on: a second in which only
        # the durations move assembles only the lines of the running runs.
        self._made: dict[tuple[object, ...], tuple[Run, Content]] = {}
        self._count = 0  # lines with something on them
        self._built_minute: int | None = None

    def set_runs(self, runs: Iterable[Run], *, show_source: bool) -> None:
        self._sections = kiosk_sections(runs)
        self._show_source = show_source
        self.refresh_times(force=True)

    def set_stale(self, stale: Mapping[str, float]) -> None:
        """Sources whose data is stale, with when it was last good."""
        if dict(stale) != dict(self._stale):
            self._stale = dict(stale)
            self.refresh_times(force=True)

    @property
    def lines(self) -> list[str]:
        """The plain text of each line with something on it (for tests)."""
        return [line.plain for line in self._shown[: self._count]]

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            line = self._shown[y] if y < len(self._shown) else Content("")
            width = self.content_region.width
            strips = Visual.to_strips(self, line, width, 1, self.visual_style)
            strip = strips[0] if strips else Strip.blank(width)
            self._strips[y] = strip
        return strip

    def notify_style_update(self) -> None:
        # The theme or the CSS changed: the kept strips carry the old colours.
        self._strips.clear()
        super().notify_style_update()

    def on_resize(self) -> None:
        self._strips.clear()
        self.refresh_times(force=True)

    def refresh_times(self, *, force: bool = False) -> None:
        """Rebuild the lines; repaint only the cells that differ. Called every second, so
        a list with no running run (nothing counts seconds) is rebuilt once a minute at
        most."""
        width, height = self.content_region.width, self.content_region.height
        if width <= 0 or height <= 0:
            return
        minute = int(self._now() // 60)
        ticking = any(r.status.is_active for section in self._sections for r in section.runs)
        if not (force or ticking) and minute == self._built_minute:
            return
        self._built_minute = minute
        built = self._build(width, height)
        self._count = len(built)
        blank = Content("")
        lines = built + [blank] * (height - len(built))
        regions: list[Region] = []
        for y, line in enumerate(lines):
            old = self._shown[y] if y < len(self._shown) else blank
            if line.is_same(old):
                continue
            span = changed_cells(old, line)
            if span is None:
                regions.append(Region(0, y, width, 1))
            elif span[1] > span[0]:
                regions.append(Region(span[0], y, span[1] - span[0], 1))
            else:
                continue  # reads the same (another Content of equal text and spans)
            self._strips.pop(y, None)
        self._shown = lines
        if regions:
            self.refresh(*regions)

    def _build(self, width: int, height: int) -> list[Content]:
        if not any(section.total for section in self._sections):
            # Not "nothing failing": nothing is known yet (the source line says why).
            return [Content.assemble(("no runs to show yet", MUTED))]
        glyphs = glyphs_of(self)
        now = self._now()
        lines: list[Content] = []
        made: dict[tuple[object, ...], tuple[Run, Content]] = {}
        shown_runs: list[tuple[Section, list[Run], int]] = []
        room = height
        for section in self._sections:
            if room <= 0:
                break
            if section.title == "FAILING" and not section.runs:
                room -= 1
                shown_runs.append((section, [], 0))
                continue
            if not section.runs:
                continue
            room -= 1
            shown = list(section.runs[:room])
            more = section.total - len(shown)
            if more and shown and section.title != "RECENT":
                shown = shown[:-1]  # the last line says how many are not shown
                more += 1
            room -= len(shown) + (1 if more and section.title != "RECENT" else 0)
            shown_runs.append((section, shown, more))
        every = [run for _, shown, _ in shown_runs for run in shown]
        layout = line_layout(every, width, show_source=self._show_source,
                             stale=any(run.source in self._stale for run in every))
        for section, shown, more in shown_runs:
            if section.title == "FAILING" and not section.runs:
                look = status_look(RunStatus.PASSED, glyphs)
                lines.append(Content.assemble((f"{look.glyph} nothing failing",
                                               f"bold ${look.variable}")))
                continue
            lines.append(Content.assemble((f" {section.title} {section.total} ",
                                           section.style)))
            red = section.title == "FAILING"
            lines.extend(self._run_line(run, layout, now, glyphs, red, made)
                         for run in shown)
            if more and section.title != "RECENT":
                lines.append(Content.assemble(
                    (f"  + {more} more {section.title.lower()}", MUTED)))
        self._made = made
        return lines[:height]

    def _run_line(self, run: Run, layout: Layout, now: float, glyphs: Glyphs, red: bool,
                  made: dict[tuple[object, ...], tuple[Run, Content]]) -> Content:
        """`run_line`, or the same line as the last build's when nothing it shows moved.
        Runs are immutable and a poll keeps an unchanged run's object, so the object (held
        in the entry, so its id is not reused) stands for its fields."""
        stale_since = self._stale.get(run.source)
        times = line_times(run, layout, now, glyphs, stale_since)
        key = (id(run), layout, times, stale_since, red, id(glyphs))
        entry = self._made.get(key)
        if entry is None or entry[0] is not run:
            entry = (run, run_line(run, layout, now, glyphs, stale_since=stale_since, red=red,
                                   times=times))
        made[key] = entry
        return entry[1]
