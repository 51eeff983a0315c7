"""Flaky Currents tests (DESIGN section 13): the test outcomes of the specs whose results the
user opened (the spec results screen fetches them anyway; no extra request), kept per track
in the history file's `tests` table.

A test that failed in one and passed in another of the last `FLAKY_RUNS` recorded runs of its
spec (in its track) is flaky; its rate is failed / recorded: "flaky 1 in 5".
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from runwatch.history.cells import name, text
from runwatch.history.flaky import FLAKY_RUNS, RED
from runwatch.models.status import RunStatus

TYPE_CHECKING = False  # pydantic's models only for mypy: `runwatch history` builds none
if TYPE_CHECKING:
    from runwatch.models import Run, Spec, TestResult

TESTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS tests (
    source TEXT NOT NULL, pipeline TEXT, branch TEXT, run_id TEXT NOT NULL,
    spec TEXT NOT NULL, grp TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
    created_at REAL,
    PRIMARY KEY (source, run_id, grp, spec, title)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS track_tests
    ON tests (source, pipeline, branch, grp, spec, created_at DESC);
"""
_UPSERT = ("INSERT INTO tests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
           "ON CONFLICT (source, run_id, grp, spec, title) DO UPDATE SET "
           "status = excluded.status, pipeline = excluded.pipeline, branch = excluded.branch")
_RED = {status.value for status in RED}
# The track's specs with recorded tests (`runwatch history` then reads each as `_ONE_SPEC`:
# a dense_rank window over all the track's rows sorted every row, 10x slower at 2,000 runs).
_SPECS = "SELECT DISTINCT grp, spec FROM tests WHERE source = ? AND pipeline IS ? AND branch IS ?"
# One spec's (the spec results screen's, on opening it): the newest run ids first, walking
# the track_tests index and stopping after `runs` of them, then their rows by primary key,
# so a spec opened in hundreds of runs costs what one opened in 20 does (bench_history).
_ONE_SPEC = """
SELECT run_id, spec, grp, title, status FROM tests
WHERE source = ? AND grp = ? AND spec = ? AND run_id IN (
    SELECT run_id FROM tests WHERE source = ? AND pipeline IS ? AND branch IS ? AND grp = ?
    AND spec = ? GROUP BY created_at, run_id ORDER BY created_at DESC, run_id LIMIT ?)
ORDER BY created_at DESC, run_id
"""


def ended(status: RunStatus) -> bool:
    """Only a test that passed or failed is a result (pending, skipped, running are not)."""
    return status in RED or status is RunStatus.PASSED


@dataclass(frozen=True)
class TestsSeen:
    """One spec's tests as the spec results screen loaded them: what the recorder queues."""

    __test__ = False  # not a pytest test class, despite the name

    run: Run
    spec: Spec
    results: tuple[TestResult, ...]

    def outcomes(self) -> dict[str, str]:
        """Title -> status of the tests that ended."""
        return {r.title: r.status.value for r in self.results if ended(r.status)}


class Outcome(NamedTuple):
    """One test's status in one recorded run."""

    run_id: str
    spec: str
    group: str | None
    title: str
    status: str


class FlakyTest(NamedTuple):
    spec: str
    group: str | None
    title: str
    failed: int
    runs: int

    @property
    def rate(self) -> float:
        return self.failed / self.runs

    @property
    def mark(self) -> str:
        """"flaky 1 in 5": how it reads beside the test."""
        return f"flaky {self.failed} in {self.runs}"

    def as_json(self) -> dict[str, object]:
        return {"spec": self.spec, "group": self.group, "test": self.title,
                "failed": self.failed, "runs": self.runs, "rate": round(self.rate, 3)}


def write_tests(db: sqlite3.Connection, seen: TestsSeen, *, at: float | None = None) -> int:
    """Keep the outcomes of one spec's tests in one run; how many."""
    run = seen.run
    created = run.created_at or run.started_at
    when = created.timestamp() if created is not None else (at or time.time())
    rows = [(run.source, run.pipeline, run.branch, run.id, seen.spec.spec, seen.spec.group or "",
             title, status, when) for title, status in seen.outcomes().items()]
    with db:
        db.executemany(_UPSERT, rows)
    return len(rows)


def recent_outcomes(db: sqlite3.Connection, source: str, pipeline: str | None,
                    branch: str | None, spec: Spec | None = None,
                    runs: int = FLAKY_RUNS) -> list[Outcome]:
    """The test outcomes of each spec's newest `runs` recorded runs in the track (or of one
    spec), spec by spec, each newest first; none from a file written before flaky tests."""
    try:
        specs = ([(spec.group or "", spec.spec)] if spec is not None
                 else db.execute(_SPECS, (source, pipeline, branch)).fetchall())
        rows = [row for group, name_ in specs for row in db.execute(
            _ONE_SPEC, (source, group, name_, source, pipeline, branch, group, name_, runs))]
    except sqlite3.OperationalError:
        return []  # no tests table: written by a runwatch before flaky tests
    # Read back from a file outside the process: every string is checked again.
    return [Outcome(name(r), name(s), text(g) or None, name(t), name(st))
            for r, s, g, t, st in rows]


def flaky_tests(outcomes: Iterable[Outcome], seen: TestsSeen | None = None,
                runs: int = FLAKY_RUNS) -> list[FlakyTest]:
    """The flaky tests among these outcomes (newest first), plus `seen`'s own (the newest,
    maybe not written yet), over each spec's newest `runs` runs; the flakiest first."""
    # (group, spec) -> run id -> title -> status, runs in the order met (newest first).
    by_spec: dict[tuple[str | None, str], dict[str, dict[str, str]]] = {}
    own: tuple[tuple[str | None, str], str] | None = None
    if seen is not None:
        own = ((seen.spec.group or None, seen.spec.spec), seen.run.id)
        by_spec[own[0]] = {own[1]: seen.outcomes()}
    for o in outcomes:
        key = (o.group, o.spec)
        if (key, o.run_id) == own:
            continue  # this run's own outcomes are the ones just loaded
        by_spec.setdefault(key, {}).setdefault(o.run_id, {})[o.title] = o.status
    found = []
    for (group, spec), by_run in by_spec.items():
        counts: dict[str, list[int]] = {}
        for tests in list(by_run.values())[:runs]:
            for title, status in tests.items():
                seen_count = counts.setdefault(title, [0, 0])
                seen_count[0] += status in _RED
                seen_count[1] += 1
        found += [FlakyTest(spec, group, title, failed, total)
                  for title, (failed, total) in counts.items() if 0 < failed < total]
    return sorted(found, key=lambda f: (-f.rate, f.spec, f.group or "", f.title))

