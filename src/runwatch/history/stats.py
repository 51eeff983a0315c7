"""What a track's past says (DESIGN section 13): pass rate, usual durations, the current
streak, since when it is red and by whose commit, and whether a run is slower than usual.

Pure functions over `Point`s, newest first: the history file and the poller's runs in memory
give the same answers for the same runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby
from operator import itemgetter
from typing import Any

from runwatch.history.quantile import interpolated
from runwatch.history.store import HistoryStore, Point, clean_point, clean_track
from runwatch.models import RunStatus

SPARK_RUNS = 20  # the sparkline's and "usual" duration's window
# "Slower than usual" needs a usual: fewer passed runs than this say nothing.
MIN_USUAL_RUNS = 5
RED = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})
# Neither green nor red: a canceled or skipped run leaves a streak as it was.
NEUTRAL = frozenset({RunStatus.CANCELED, RunStatus.SKIPPED, RunStatus.UNKNOWN})

Track = tuple[str, str | None, str | None]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0..1) with linear interpolation between ranks; None when empty."""
    return interpolated(len(values), q, sorted(values).__getitem__)


@dataclass(frozen=True)
class TrackStats:
    """One track's figures, from its runs newest first."""

    track: Track
    points: tuple[Point, ...]

    @cached_property
    def finished(self) -> list[Point]:
        return [p for p in self.points if p.status.is_terminal]

    @property
    def recent(self) -> tuple[Point, ...]:
        """The sparkline's runs: the newest 20, newest first."""
        return self.points[:SPARK_RUNS]

    @property
    def runs(self) -> int:
        return len(self.points)

    @cached_property
    def pass_rate(self) -> float | None:
        """Passed over passed, failed and timed out (canceled and skipped do not count)."""
        judged = [p for p in self.points if p.status is RunStatus.PASSED or p.status in RED]
        if not judged:
            return None
        return sum(p.status is RunStatus.PASSED for p in judged) / len(judged)

    def _passed_durations(self, limit: int | None = None) -> list[float]:
        durations = [p.duration_s for p in self.points
                     if p.status is RunStatus.PASSED and p.duration_s is not None]
        return durations[:limit] if limit is not None else durations

    @cached_property
    def median_s(self) -> float | None:
        return percentile(self._passed_durations(), 0.5)

    @cached_property
    def p90_s(self) -> float | None:
        return percentile(self._passed_durations(), 0.9)

    @cached_property
    def usual_p90_s(self) -> float | None:
        """The 90th percentile of the last 20 passed runs: "slower than usual" is above it."""
        recent = self._passed_durations(SPARK_RUNS)
        return percentile(recent, 0.9) if len(recent) >= MIN_USUAL_RUNS else None

    def is_slower(self, seconds: float | None, *, excluding: str | None = None) -> bool:
        """Whether `seconds` (a run's duration or a running run's elapsed time) is above the
        usual p90; `excluding` leaves that run's own duration out of the usual."""
        usual = (self if excluding is None else self.without(excluding)).usual_p90_s
        return seconds is not None and usual is not None and seconds > usual

    def without(self, run_id: str) -> TrackStats:
        return TrackStats(self.track, tuple(p for p in self.points if p.id != run_id))

    @cached_property
    def streak(self) -> tuple[str, int]:
        """("green" | "red" | "none", how many runs in a row), newest finished runs first."""
        kind, count = "none", 0
        for point in self.finished:
            if point.status in NEUTRAL:
                continue
            here = "red" if point.status in RED else "green"
            if kind == "none":
                kind = here
            elif here != kind:
                break
            count += 1
        return kind, count

    @cached_property
    def red_since(self) -> Point | None:
        """The first failed run of the current red streak (None when the track is green)."""
        kind, _ = self.streak
        if kind != "red":
            return None
        first = None
        for point in self.finished:
            if point.status in NEUTRAL:
                continue
            if point.status not in RED:
                break
            first = point
        return first

    @cached_property
    def last_failure(self) -> Point | None:
        return next((p for p in self.points if p.status in RED), None)

    def to_json(self) -> dict[str, object]:
        return track_json(self.track, self.runs,
                          sum(p.status is RunStatus.PASSED for p in self.points),
                          sum(p.status in RED for p in self.points), self.pass_rate,
                          self.median_s, self.p90_s, self.streak, self.red_since,
                          self.last_failure, self.recent)


@dataclass(frozen=True)
class TrackSummary:
    """One track's figures as `runwatch history` shows them, computed by SQLite
    (`summary.figures`): the same answers as `TrackStats` over the same runs."""

    track: Track
    runs: int
    passed: int
    failed: int
    median_s: float | None
    p90_s: float | None
    streak: tuple[str, int]
    red_since: Point | None
    last_failure: Point | None
    recent: tuple[Point, ...]

    @property
    def pass_rate(self) -> float | None:
        judged = self.passed + self.failed
        return self.passed / judged if judged else None

    def to_json(self) -> dict[str, object]:
        return track_json(self.track, self.runs, self.passed, self.failed, self.pass_rate,
                          self.median_s, self.p90_s, self.streak, self.red_since,
                          self.last_failure, self.recent)


def track_json(track: Track, runs: int, passed: int, failed: int, pass_rate: float | None,
               median_s: float | None, p90_s: float | None, streak: tuple[str, int],
               red: Point | None, last: Point | None,
               recent: Sequence[Point]) -> dict[str, object]:
    """A track's figures as `runwatch history --json` prints them."""
    kind, count = streak
    source, pipeline, branch = track
    return {
        "source": source, "pipeline": pipeline, "branch": branch,
        "runs": runs, "passed": passed, "failed": failed,
        "pass_rate": None if pass_rate is None else round(pass_rate, 4),
        "median_s": _round(median_s), "p90_s": _round(p90_s),
        "streak": {"kind": kind, "runs": count},
        "red_since": None if red is None else _point_json(red),
        "last_failure": None if last is None else _point_json(last),
        "recent": [{"id": p.id, "status": p.status.value, "duration_s": _round(p.duration_s)}
                   for p in recent],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _point_json(point: Point) -> dict[str, object]:
    from datetime import UTC, datetime

    at = (datetime.fromtimestamp(point.created_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
          if point.created_at is not None else None)
    return {"id": point.id, "status": point.status.value, "at": at, "commit": point.commit,
            "author": point.author, "title": point.title}


def summarize(store: HistoryStore, **filters: Any) -> list[TrackSummary]:
    """Every track's figures over the filtered history, SQLite doing the counting and the
    sorting, and the runs they name (the newest 20, the red streak's first, the last
    failure) read in full, cleaned."""
    out = []
    with store.snapshot():  # one read: the figures and the runs they name agree
        for track, got in store.figures(SPARK_RUNS, **filters).items():
            source = track[0]
            named = [got.red_since, got.last_failure, *(r[0] for r in got.recent)]
            full = store.full(source, [i for i in named if i is not None])
            recent = tuple(  # pruned meanwhile by another runwatch: shown as read, cleaned
                full.get(run_id) or clean_point(Point(source, run_id, track[1], track[2],
                                                      _status(status), created, duration))
                for run_id, status, created, duration in got.recent)
            out.append(TrackSummary(
                clean_track(track), got.runs, got.passed, got.failed,
                got.quantile(0.5), got.quantile(0.9), got.streak,
                full.get(got.red_since or ""), full.get(got.last_failure or ""), recent))
    return out


def _status(value: str) -> RunStatus:
    try:
        return RunStatus(value)
    except ValueError:  # a file written by a newer runwatch, or edited by hand
        return RunStatus.UNKNOWN


def by_track(points: Iterable[Point]) -> list[TrackStats]:
    """Points ordered by track (as `HistoryStore.points` gives them), one TrackStats each."""
    # Point is a tuple: (source, id, pipeline, branch, ...); itemgetter is its track, fast.
    return [TrackStats(track, tuple(group))
            for track, group in groupby(points, key=itemgetter(0, 2, 3))]


def newest_first(points: Iterable[Point]) -> tuple[Point, ...]:
    """Newest first by when they began; runs with no time last."""
    return tuple(sorted(points, key=lambda p: (p.created_at is not None, p.created_at or 0.0),
                        reverse=True))
