"""`runwatch history`'s figures are computed by SQLite (history/summary.py): they must be the
very answers `TrackStats` gives over the same runs in memory, ties, gaps and odd statuses
included."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runwatch.history import HistoryStore
from runwatch.history.stats import by_track, percentile, summarize
from runwatch.history.summary import Figures
from runwatch.models import Run, RunStatus

STATUSES = list(RunStatus)


def a_file(path: Path, seed: int) -> HistoryStore:
    rng = random.Random(seed)
    store = HistoryStore(path)
    runs = []
    for i in range(rng.randrange(50, 400)):
        began = None if rng.random() < 0.05 else 1_795_000_000 + rng.randrange(40) * 60
        at = None if began is None else datetime.fromtimestamp(began, UTC)
        status = rng.choice(STATUSES if rng.random() < 0.3 else
                            [RunStatus.PASSED, RunStatus.FAILED, RunStatus.PASSED])
        done = None if at is None or rng.random() < 0.1 else datetime.fromtimestamp(
            began + rng.choice([30, 60, 60, 90, 120.5]), UTC)  # type: ignore[operator]
        runs.append(Run(source=rng.choice(["ci", "e2e"]), provider="services", id=f"r{i}",
                        status=status, provider_status="x", title=f"change {i}",
                        pipeline=rng.choice([None, "build"]),
                        branch=rng.choice([None, "main", "dev"]), commit=f"{i:08x}",
                        author="ana", created_at=at, started_at=at, finished_at=done))
    store.upsert(runs, seen=1_795_000_000)
    return store


@pytest.mark.parametrize("seed", range(12))
def test_sql_figures_are_the_in_memory_figures(tmp_path: Path, seed: int) -> None:
    store = a_file(tmp_path / "h.sqlite3", seed)
    if seed % 3 == 0:  # an unknown status, as a newer runwatch or a hand edit leaves
        store._db.execute("UPDATE runs SET status = 'exploded' WHERE id IN ('r1', 'r2')")
        store._db.commit()
    try:
        for filters in ({}, {"branches": ["main"]}, {"since": 1_795_000_000 + 20 * 60}):
            want = [t.to_json() for t in by_track(store.points(**filters))]  # type: ignore[arg-type]
            got = [t.to_json() for t in summarize(store, **filters)]
            assert got == want
            assert want  # the file has runs: the comparison compares something
    finally:
        store.close()


def test_a_text_duration_in_a_hand_edited_file_is_no_duration(tmp_path: Path) -> None:
    store = a_file(tmp_path / "h.sqlite3", 1)
    try:
        before = {tuple(t.track): t.median_s for t in summarize(store)}
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE runs SET duration_s = 'slow' WHERE status = 'passed'")
        after = summarize(store)
        assert any(v is not None for v in before.values())
        assert all(t.median_s is None and t.p90_s is None for t in after)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("durations", "q", "want"),
    [([4, 1, 3, 2], 0.5, 2.5), ([4, 1, 3, 2], 0.9, 3.7), ([4, 1, 3, 2], 0.0, 1.0),
     ([4, 1, 3, 2], 1.0, 4.0), ([7], 0.9, 7.0), ([], 0.5, None)],
)
def test_one_quantile_for_the_file_and_for_runs_in_memory(durations, q, want) -> None:
    # Linear interpolation between the ranks around q·(n-1): percentile over the values,
    # Figures over only the two ranks SQLite hands back (history/quantile.py, both).
    ranked = dict(enumerate(sorted(durations)))
    figures = Figures(durations=len(durations), ranked=ranked)

    assert percentile(durations, q) == pytest.approx(want)
    assert figures.quantile(q) == pytest.approx(want)
