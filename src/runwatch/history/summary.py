"""`runwatch history`'s figures with SQLite doing the work (DESIGN section 13): counts in one
grouped query, then per track the two ranks each percentile interpolates, the streak read
newest first only as far as it goes, and the newest runs; not one Python object per run
(100,000 of them in the benchmark).

The same definitions as `stats.TrackStats` (which keeps them for runs in memory): a track's
runs newest first as the `track_runs` index orders them; the one quantile of `quantile`.
(Window functions over the whole table were tried: SQLite sorts every row for each, slower.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from runwatch.history.quantile import interpolated, quantile_ranks

# As stored (any cell may be anything in a file edited by hand): cleaned before shown.
Track = tuple[str, str | None, str | None]
Recent = tuple[str, str, float | None, float | None]  # id, status, began, duration

_RED = "('failed', 'timed_out')"
_NUMERIC = "typeof(duration_s) IN ('real', 'integer')"
# Only these colour a streak: the others (canceled, skipped, unknown) leave it as it was.
_COLOURS = {"passed": "green", "failed": "red", "timed_out": "red"}
QUANTILES = (0.5, 0.9)


@dataclass
class Figures:
    """One track's figures as read: counts, durations at quantile ranks, the streak, and the
    ids of the runs the figures name (newest 20, the red streak's first, the last failure)."""

    runs: int = 0
    passed: int = 0
    failed: int = 0
    durations: int = 0  # passed runs with a duration
    ranked: dict[int, float] = field(default_factory=dict)  # rank (0-based) -> duration
    streak: tuple[str, int] = ("none", 0)
    red_since: str | None = None
    last_failure: str | None = None
    recent: list[Recent] = field(default_factory=list)

    def quantile(self, q: float) -> float | None:
        """`stats.percentile` of the passed durations, from the ranks read."""
        return interpolated(self.durations, q, self.ranked.__getitem__)


def figures(db: sqlite3.Connection, where: str, args: list[object],
            recent: int) -> dict[Track, Figures]:
    """Every track's figures over the runs `where` selects, tracks in key order."""
    out: dict[Track, Figures] = {}
    for *track, runs, passed, failed, durations in db.execute(
        "SELECT source, pipeline, branch, count(*), sum(status = 'passed'), "
        f"sum(status IN {_RED}), sum(status = 'passed' AND {_NUMERIC}) FROM runs{where} "
        "GROUP BY source, pipeline, branch ORDER BY source, pipeline, branch", args,
    ):
        out[(track[0], track[1], track[2])] = Figures(runs, passed, failed, durations)
    # The same runs, one track at a time: `where` and the track's own columns.
    mine = f"{where} AND" if where else " WHERE"
    mine += " source = ? AND pipeline IS ? AND branch IS ?"
    for track, got in out.items():
        at = [*args, *track]
        for q in QUANTILES:  # SQLite sorts; only the two ranks interpolated come back
            if not got.durations:
                continue
            low, high, _ = quantile_ranks(got.durations, q)
            if not {low, high} <= got.ranked.keys():
                rows = db.execute(f"SELECT duration_s FROM runs{mine} AND status = 'passed' "
                                  f"AND {_NUMERIC} ORDER BY duration_s LIMIT 2 OFFSET ?",
                                  [*at, low]).fetchall()
                got.ranked.update((low + k, row[0]) for k, row in enumerate(rows))
        _streak(got, db.execute(f"SELECT id, status FROM runs{mine} ORDER BY created_at DESC",
                                at))
        if got.failed and got.streak[0] != "red":  # else the streak's newest run
            row = db.execute(f"SELECT id FROM runs{mine} AND status IN {_RED} "
                             "ORDER BY created_at DESC LIMIT 1", at).fetchone()
            got.last_failure = row[0] if row else None
        got.recent = db.execute(
            f"SELECT id, status, created_at, duration_s FROM runs{mine} "
            "ORDER BY created_at DESC LIMIT ?", [*at, recent]).fetchall()
    return out


def _streak(got: Figures, rows: Iterable[tuple[str, str]]) -> None:
    """The streak from the track's runs newest first, read only as far as it goes."""
    kind: str | None = None
    count, first, newest = 0, None, None
    for run_id, status in rows:
        if status not in _COLOURS:
            continue  # neither green nor red
        here = _COLOURS[status]
        if kind is None:
            kind, newest = here, run_id
        elif here != kind:
            break
        count, first = count + 1, run_id
    if kind is not None:
        got.streak = (kind, count)
    if kind == "red":
        got.red_since, got.last_failure = first, newest
