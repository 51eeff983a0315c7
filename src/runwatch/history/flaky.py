"""Flaky specs (DESIGN section 13): the spec results of the Currents runs whose detail was
loaded anyway (the run on screen, `runwatch show`), kept in the history file's `specs`
table. The lists carry no spec results and no extra request is made for them (DESIGN
section 10), so flakiness is learnt from the runs the user opened.

A spec that failed in one and passed in another of its track's last `FLAKY_RUNS` recorded
runs is flaky; its rate is failed / recorded.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from runwatch.history.cells import name, text
from runwatch.models.status import RunStatus

TYPE_CHECKING = False  # pydantic's models only for mypy: `runwatch history` builds none
if TYPE_CHECKING:
    from runwatch.models import RunDetail

FLAKY_RUNS = 20
SPECS_SCHEMA = """
CREATE TABLE IF NOT EXISTS specs (
    source TEXT NOT NULL, pipeline TEXT, branch TEXT, run_id TEXT NOT NULL,
    spec TEXT NOT NULL, grp TEXT NOT NULL, status TEXT NOT NULL, created_at REAL,
    PRIMARY KEY (source, run_id, grp, spec)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS track_specs ON specs (source, pipeline, branch, created_at DESC);
"""
_UPSERT = ("INSERT INTO specs VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
           "ON CONFLICT (source, run_id, grp, spec) DO UPDATE SET status = excluded.status, "
           "pipeline = excluded.pipeline, branch = excluded.branch")
RED = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})  # as stats.RED (it imports us)
_RED = {status.value for status in RED}


class SpecResult(NamedTuple):
    """One spec's status in one recorded run."""

    run_id: str
    spec: str
    group: str | None
    status: str


class Flaky(NamedTuple):
    spec: str
    group: str | None
    failed: int
    runs: int

    @property
    def rate(self) -> float:
        return self.failed / self.runs

    def as_json(self) -> dict[str, object]:
        return {"spec": self.spec, "group": self.group, "failed": self.failed,
                "runs": self.runs, "rate": round(self.rate, 3)}


def write_specs(db: sqlite3.Connection, detail: RunDetail, *, seen: float | None = None) -> int:
    """Keep the specs of this run (only those that ended: a running spec is no result)."""
    created = detail.created_at or detail.started_at
    at = created.timestamp() if created is not None else (seen or time.time())
    rows = [(detail.source, detail.pipeline, detail.branch, detail.id, s.spec, s.group or "",
             s.status.value, at) for s in detail.specs
            if s.status in RED or s.status is RunStatus.PASSED]
    with db:
        db.executemany(_UPSERT, rows)
    return len(rows)


def recent_results(db: sqlite3.Connection, source: str, pipeline: str | None,
                   branch: str | None, runs: int = FLAKY_RUNS) -> list[SpecResult]:
    """The spec results of the track's newest `runs` recorded runs (none: an older file)."""
    try:
        # The newest run ids from the track_specs index (a run's specs share its time),
        # then their rows by primary key: `+` keeps SQLite from walking the track's every
        # row in the index instead (20x slower at 2,000 opened runs; `runwatch history`).
        rows = db.execute(
            "SELECT run_id, spec, grp, status FROM specs WHERE source = ? AND +pipeline IS ? "
            "AND +branch IS ? AND run_id IN (SELECT run_id FROM specs WHERE source = ? AND "
            "pipeline IS ? AND branch IS ? GROUP BY created_at, run_id "
            "ORDER BY created_at DESC, run_id LIMIT ?) ORDER BY created_at DESC, run_id",
            (source, pipeline, branch, source, pipeline, branch, runs)).fetchall()
    except sqlite3.OperationalError:
        return []  # no specs table: written by a runwatch before flaky specs
    # Read back from a file outside the process: every string is checked again.
    return [SpecResult(name(r), name(s), text(g) or None, name(st)) for r, s, g, st in rows]


def tracks(db: sqlite3.Connection, table: str = "specs") -> list[
        tuple[str, str | None, str | None]]:
    """Every track with recorded results in `table` (`specs`, or flaky tests' `tests`)."""
    try:
        return [(name(s), text(p), text(b)) for s, p, b in db.execute(
            f"SELECT DISTINCT source, pipeline, branch FROM {table}")]
    except sqlite3.OperationalError:
        return []  # no such table: written by a runwatch before it


def flaky(results: Iterable[SpecResult], detail: RunDetail | None = None,
          runs: int = FLAKY_RUNS) -> list[Flaky]:
    """The flaky specs among these results (plus `detail`'s own, newest, not yet written),
    the flakiest first."""
    by_run: dict[str, dict[tuple[str | None, str], str]] = {}
    if detail is not None:
        by_run[detail.id] = {(s.group, s.spec): s.status.value for s in detail.specs
                             if s.status in RED or s.status is RunStatus.PASSED}
    for result in results:
        if detail is None or result.run_id != detail.id:
            by_run.setdefault(result.run_id, {})[(result.group, result.spec)] = result.status
    counts: dict[tuple[str | None, str], list[int]] = {}
    for specs in list(by_run.values())[:runs]:
        for key, status in specs.items():
            seen = counts.setdefault(key, [0, 0])
            seen[0] += status in _RED
            seen[1] += 1
    found = [Flaky(spec, group, failed, total) for (group, spec), (failed, total)
             in counts.items() if 0 < failed < total]
    return sorted(found, key=lambda f: (-f.rate, f.spec, f.group or ""))


def summary(found: Sequence[Flaky], limit: int = 3) -> str:
    """"flaky in recent runs: cart.cy.ts (firefox) 2/9 · login.cy.ts 1/5" (file names: the
    path's end; the group where there is one)."""
    if not found:
        return ""
    shown = [f"{label(f)} {f.failed}/{f.runs}" for f in found[:limit]]
    more = f" · +{len(found) - limit} more" if len(found) > limit else ""
    return "flaky in recent runs: " + " · ".join(shown) + more


def label(found: Flaky) -> str:
    name = found.spec.rsplit("/", 1)[-1]
    return f"{name} ({found.group})" if found.group else name
