"""The history file (DESIGN section 13): every run seen, one row per (source, id), in SQLite
(the standard library's sqlite3, WAL mode) at `$XDG_STATE_HOME/runwatch/history.sqlite3`.

WAL lets the dashboard write while `runwatch history` (or a second dashboard) reads, and a
busy timeout lets two writers take turns. Any sqlite3 error is a `HistoryUnavailable` with
one sentence for a person: the caller turns history off and says so once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from runwatch.history import flaky, flaky_tests, summary
from runwatch.history.cells import number as _number
from runwatch.history.cells import text as _text
from runwatch.models.status import RunStatus
from runwatch.paths import state_path

TYPE_CHECKING = False  # pydantic's models only for mypy: `runwatch history` builds none
if TYPE_CHECKING:
    from runwatch.models import Run, RunDetail, Spec

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000
# Columns of `runs`, in the order upsert passes them.
COLUMNS = ("source", "id", "provider", "pipeline", "branch", "status", "title", "sha",
           "author", "created_at", "started_at", "finished_at", "duration_s", "tests",
           "failures", "web_url", "seen_at")
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    source TEXT NOT NULL, id TEXT NOT NULL, provider TEXT NOT NULL,
    pipeline TEXT, branch TEXT, status TEXT NOT NULL, title TEXT, sha TEXT, author TEXT,
    created_at REAL, started_at REAL, finished_at REAL, duration_s REAL,
    tests INTEGER, failures INTEGER, web_url TEXT, seen_at REAL NOT NULL,
    PRIMARY KEY (source, id)
) WITHOUT ROWID;
-- Covering for `runwatch history`: a track's runs newest first, with what its figures need.
CREATE INDEX IF NOT EXISTS track_runs
    ON runs (source, pipeline, branch, created_at DESC, status, duration_s);
PRAGMA user_version = {SCHEMA_VERSION};
"""


class HistoryUnavailable(Exception):
    """The history file cannot be used (locked, read-only, corrupt, unwritable)."""


def history_path() -> Path:
    return state_path().parent / "history.sqlite3"


class Point(NamedTuple):
    """One run as the history keeps it: what the stats and the sparkline need. A tuple, not
    a dataclass: `runwatch history` makes 100,000 of them, at a fraction of the cost."""

    source: str
    id: str
    pipeline: str | None
    branch: str | None
    status: RunStatus
    created_at: float | None
    duration_s: float | None
    commit: str | None = None
    author: str | None = None
    title: str | None = None
    web_url: str | None = None
    finished_at: float | None = None

    @property
    def track(self) -> tuple[str, str | None, str | None]:
        return (self.source, self.pipeline, self.branch)

    @classmethod
    def of(cls, run: Run) -> Point:
        return cls(run.source, run.id, run.pipeline, run.branch, run.status,
                   _epoch(run.created_at or run.started_at), run.duration_s, run.commit,
                   run.author, run.title, run.web_url, _epoch(run.finished_at))


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _row(run: Run, seen: float) -> tuple[object, ...]:
    tests = run.tests
    return (run.source, run.id, run.provider, run.pipeline, run.branch, run.status.value,
            run.title, run.commit, run.author, _epoch(run.created_at or run.started_at),
            _epoch(run.started_at), _epoch(run.finished_at), run.duration_s,
            tests.overall if tests else None, tests.failures if tests else None,
            run.web_url, seen)


_UPSERT = (
    f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (source, id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
)


def describe(exc: sqlite3.Error, path: Path) -> str:
    """An sqlite3 error as what it means for the history, in our words."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        why = "it is locked by another program"
    elif "readonly" in text or "read-only" in text or "unable to open" in text:
        why = "it cannot be written (read-only)"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        why = "it is not a valid history file (corrupt?)"
    else:
        why = f"sqlite says: {exc}"
    return f"history is off: {path}: {why}"


class HistoryStore:
    """One connection to the history file. Not thread-safe: one thread uses it."""

    def __init__(self, path: Path | None = None, *, readonly: bool = False,
                 busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = path or history_path()
        try:
            if readonly:
                self._db = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True,
                                           timeout=busy_timeout_ms / 1000)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=busy_timeout_ms / 1000)
            # Another runwatch writing: wait for its turn rather than fail.
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if not readonly:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")  # WAL: safe, fewer fsyncs
                self._db.executescript(_SCHEMA + flaky.SPECS_SCHEMA
                                       + flaky_tests.TESTS_SCHEMA)
            else:
                self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except (sqlite3.Error, OSError) as exc:
            raise HistoryUnavailable(self._explain(exc)) from None

    def _explain(self, exc: sqlite3.Error | OSError) -> str:
        if isinstance(exc, OSError):
            return f"history is off: {self.path}: {exc.strerror or exc}"
        return describe(exc, self.path)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Any SQLite failure of a query or a write, said as why history cannot be used."""
        try:
            yield
        except sqlite3.Error as exc:
            raise HistoryUnavailable(self._explain(exc)) from None

    def close(self) -> None:
        self._db.close()

    def upsert(self, runs: Iterable[Run], *, seen: float | None = None) -> int:
        """Insert or update these runs in one transaction; how many."""
        at = time.time() if seen is None else seen
        rows = [_row(run, at) for run in runs]
        with self._guard(), self._db:
            self._db.executemany(_UPSERT, rows)
        return len(rows)

    def prune(self, keep_days: float, *, now: float | None = None) -> int:
        """Forget runs older than `keep_days` (by when they began, else when last seen)."""
        cutoff = (time.time() if now is None else now) - keep_days * 86400
        with self._guard(), self._db:
            cursor = self._db.execute(
                "DELETE FROM runs WHERE coalesce(created_at, seen_at) < ?", (cutoff,))
            self._db.execute("DELETE FROM specs WHERE created_at < ?", (cutoff,))
            self._db.execute("DELETE FROM tests WHERE created_at < ?", (cutoff,))
        return cursor.rowcount

    def upsert_specs(self, detail: RunDetail) -> int:
        """Keep the spec results of a run whose detail was loaded (Currents)."""
        with self._guard():
            return flaky.write_specs(self._db, detail)

    def spec_results(self, source: str, pipeline: str | None,
                     branch: str | None) -> list[flaky.SpecResult]:
        """The spec results of the track's last recorded runs."""
        with self._guard():
            return flaky.recent_results(self._db, source, pipeline, branch)

    def flaky_specs(self, source: str, pipeline: str | None,
                    branch: str | None) -> list[flaky.Flaky]:
        """The track's flaky specs over its last recorded runs."""
        return flaky.flaky(self.spec_results(source, pipeline, branch))

    def spec_tracks(self) -> list[tuple[str, str | None, str | None]]:
        with self._guard():
            return flaky.tracks(self._db)

    def upsert_tests(self, seen: flaky_tests.TestsSeen) -> int:
        """Keep the test outcomes of a spec whose results were loaded (Currents)."""
        with self._guard():
            return flaky_tests.write_tests(self._db, seen)

    def test_outcomes(self, source: str, pipeline: str | None, branch: str | None,
                      spec: Spec | None = None) -> list[flaky_tests.Outcome]:
        """The test outcomes of the track's (or one spec's) last recorded runs."""
        with self._guard():
            return flaky_tests.recent_outcomes(self._db, source, pipeline, branch, spec)

    def flaky_tests(self, source: str, pipeline: str | None,
                    branch: str | None) -> list[flaky_tests.FlakyTest]:
        """The track's flaky tests over each spec's last recorded runs."""
        return flaky_tests.flaky_tests(self.test_outcomes(source, pipeline, branch))

    def test_tracks(self) -> list[tuple[str, str | None, str | None]]:
        with self._guard():
            return flaky.tracks(self._db, "tests")

    @staticmethod
    def _where(sources: Sequence[str], pipelines: Sequence[str], branches: Sequence[str],
               since: float | None) -> tuple[str, list[object]]:
        where: list[str] = []
        args: list[object] = []
        for column, wanted in (("source", sources), ("pipeline", pipelines),
                               ("branch", branches)):
            if wanted:
                where.append(f"{column} IN ({', '.join('?' * len(wanted))})")
                args.extend(wanted)
        if since is not None:
            where.append("coalesce(created_at, seen_at) >= ?")
            args.append(since)
        return (" WHERE " + " AND ".join(where) if where else ""), args

    def points(self, *, sources: Sequence[str] = (), pipelines: Sequence[str] = (),
               branches: Sequence[str] = (), since: float | None = None,
               brief: bool = False) -> Iterator[Point]:
        """Every run kept, filtered, tracks in key order, each newest first. `brief`: only
        what the figures need (id, status, times, duration), read from the index alone."""
        where, args = self._where(sources, pipelines, branches, since)
        columns = ("source, id, pipeline, branch, status, created_at, duration_s"
                   if brief else _FULL)
        sql = (f"SELECT {columns} FROM runs{where} "
               "ORDER BY source, pipeline, branch, created_at DESC")
        with self._guard():
            rows = self._db.execute(sql, args)
            if brief:
                # The hot loop of `runwatch history`: no call per field. These strings are
                # only keys here; what is shown is cleaned (`clean_track`, `full`).
                status_of, unknown = _STATUSES.get, RunStatus.UNKNOWN
                for source, run_id, pipeline, branch, status, created, duration in rows:
                    yield Point(source, run_id, pipeline, branch, status_of(status, unknown),
                                created, duration)
            else:
                for row in rows:
                    yield _point(row)

    def figures(self, recent: int, *, sources: Sequence[str] = (),
                pipelines: Sequence[str] = (), branches: Sequence[str] = (),
                since: float | None = None) -> dict[summary.Track, summary.Figures]:
        """Every filtered track's figures, computed by SQLite (`runwatch history`)."""
        where, args = self._where(sources, pipelines, branches, since)
        with self._guard():
            return summary.figures(self._db, where, args, recent)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: the queries inside see the file as it was at the first."""
        with self._guard():
            self._db.execute("BEGIN")
        try:
            yield
        finally:
            with self._guard():
                self._db.execute("ROLLBACK")

    def full(self, source: str, ids: Iterable[str]) -> dict[str, Point]:
        """These runs of `source` with every field."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        with self._guard():
            rows = self._db.execute(
                f"SELECT {_FULL} FROM runs WHERE source = ? AND id IN ({marks})",
                (source, *wanted)).fetchall()
        # Keyed by the id as stored (what the caller read briefly), cleaned for showing.
        return {row[1]: _point(row) for row in rows}

    def recent(self, sources: Sequence[str], per_track: int = 60) -> dict[
            tuple[str, str | None, str | None], list[Point]]:
        """The newest `per_track` runs of every track of these sources, newest first."""
        if not sources:
            return {}
        marks = ", ".join("?" * len(sources))
        with self._guard():
            rows = self._db.execute(
                f"SELECT {_FULL} FROM (SELECT *, row_number() OVER ("
                "PARTITION BY source, pipeline, branch ORDER BY created_at DESC) AS n "
                f"FROM runs WHERE source IN ({marks})) WHERE n <= ? "
                "ORDER BY source, pipeline, branch, created_at DESC",
                (*sources, per_track)).fetchall()
        out: dict[tuple[str, str | None, str | None], list[Point]] = {}
        for row in rows:
            point = _point(row)
            out.setdefault(point.track, []).append(point)
        return out

    def track(self, source: str, pipeline: str | None, branch: str | None,
              limit: int = 200) -> list[Point]:
        """The newest `limit` runs of one track, newest first."""
        with self._guard():
            rows = self._db.execute(
                f"SELECT {_FULL} FROM runs WHERE source = ? AND pipeline IS ? AND branch IS ? "
                "ORDER BY created_at DESC LIMIT ?", (source, pipeline, branch, limit),
            ).fetchall()
        return [_point(row) for row in rows]


_STATUSES = {status.value: status for status in RunStatus}
_FULL = ("source, id, pipeline, branch, status, created_at, duration_s, sha, author, title, "
         "web_url, finished_at")


def clean_track(track: tuple[object, object, object]) -> tuple[str, str | None, str | None]:
    """A track's names as read briefly, made safe to show."""
    source, pipeline, branch = track
    return (_text(source) or "", _text(pipeline), _text(branch))


def clean_point(point: Point) -> Point:
    """A point read briefly (its strings only keys so far), made safe to show."""
    return point._replace(source=_text(point.source) or "", id=_text(point.id) or "",
                          pipeline=_text(point.pipeline), branch=_text(point.branch))


def _point(row: tuple[object, ...]) -> Point:
    # Called for every row `runwatch history` reads (100,000 in its benchmark): lean.
    source, run_id, pipeline, branch, status, created, duration, sha, author, title, web, fin = row
    # An unknown status: a file written by a newer runwatch, or edited by hand.
    state = _STATUSES.get(status, RunStatus.UNKNOWN)  # type: ignore[call-overload]
    return Point(_text(source) or "", _text(run_id) or "", _text(pipeline), _text(branch),
                 state, _number(created), _number(duration), _text(sha), _text(author),
                 _text(title), _text(web), _number(fin))
