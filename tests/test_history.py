"""The history file (issue 16): a simulated day of runs recorded through a session, then
`runwatch history --json` checked against the runs the simulator made; a read-only, a locked
and a corrupt file; two processes writing; pruning by age; an unchanged poll writes nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import textwrap
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import SimHandle
from runwatch.config import parse
from runwatch.history import HistoryStore, Point, Recorder, TrackStats, history_path
from runwatch.http import RetryPolicy
from runwatch.models import Run, RunStatus
from runwatch.providers import build_provider
from runwatch.session import Session
from runwatch.sim import SimClock, SimSettings, Simulator, demo_tokens

RUNWATCH = str(Path(sys.executable).with_name("runwatch"))
DAY_S = 24 * 3600
STEP_S = 1800.0
SOURCES = ("services", "currents")


@pytest.fixture
def day(sim_server) -> Iterator[SimHandle]:  # type: ignore[no-untyped-def]
    """A frozen simulator with a day's worth of runs still to come (one every ~4 min)."""
    server, switch = sim_server
    simulator = Simulator(SimSettings(seed=16, runs=12, future_runs=DAY_S // 240,
                                      tokens=dict(demo_tokens())), SimClock(frozen=True))
    switch.target = simulator
    yield SimHandle(simulator, server)
    switch.target = None


def provider(sim: SimHandle, name: str):  # type: ignore[no-untyped-def]
    return build_provider(sim.source(name), read_only=True, limit=1000,
                          retry=RetryPolicy(attempts=1), timeout_s=10.0,
                          token=demo_tokens()[name])


def run_history(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNWATCH, "history", *args], capture_output=True, text=True,
                          timeout=60, env=os.environ.copy())


def expected(runs: list[Run]) -> dict[tuple[str, str | None, str | None], dict[str, object]]:
    """The figures of each track, worked out here from the simulator's own final list."""
    tracks: dict[tuple[str, str | None, str | None], list[Run]] = defaultdict(list)
    for run in runs:
        tracks[run.track].append(run)
    out = {}
    for track, members in tracks.items():
        members.sort(key=lambda r: r.sort_time, reverse=True)
        passed = [r for r in members if r.status is RunStatus.PASSED]
        red = [r for r in members if r.status in (RunStatus.FAILED, RunStatus.TIMED_OUT)]
        judged = [r for r in members if r in passed or r in red]
        streak_kind, streak = "none", 0
        for r in members:
            if r.status not in (RunStatus.PASSED, RunStatus.FAILED, RunStatus.TIMED_OUT):
                continue
            kind = "green" if r.status is RunStatus.PASSED else "red"
            if streak_kind not in ("none", kind):
                break
            streak_kind, streak = kind, streak + 1
        durations = [r.duration_s for r in passed if r.duration_s is not None]
        out[track] = {
            "runs": len(members), "passed": len(passed), "failed": len(red),
            "pass_rate": round(len(passed) / len(judged), 4) if judged else None,
            "median_s": round(statistics.median(durations), 3) if durations else None,
            "streak": {"kind": streak_kind, "runs": streak},
            "last_failure": red[0].id if red else None,
            "recent": [r.id for r in members[:20]],
        }
    return out


@pytest.mark.timeout(240)  # a day on the simulator's clock: 49 polls of two sources
async def test_a_day_of_runs_gives_the_stats_of_the_runs_the_simulator_made(day) -> None:
    providers = {name: provider(day, name) for name in SOURCES}
    session = Session(providers)
    session.remember(parse({}))
    assert session.history is not None
    try:
        for _ in range(int(DAY_S / STEP_S) + 1):
            for name in SOURCES:
                await session.poller.poll_once(name)
            day.sim.clock.advance(STEP_S)
        for name in SOURCES:
            await session.poller.poll_once(name)
        session.history.flush()
        written, batches = session.history.written, session.history.batches
        for name in SOURCES:  # the clock stands still: nothing changed, nothing written
            await session.poller.poll_once(name)
        session.history.flush()
        assert (session.history.written, session.history.batches) == (written, batches)
        final = [run for p in providers.values() for run in await p.list_runs()]
    finally:
        await session.aclose()
    assert all(run.status.is_terminal for run in final)  # the day is over
    assert len(final) > 300
    answer = run_history("--json")
    assert answer.returncode == 0, answer.stderr
    got = {(t["source"], t["pipeline"], t["branch"]): t for t in json.loads(answer.stdout)}
    want = expected(final)
    assert set(got) == set(want)
    for track, figures in want.items():
        row = got[track]
        assert {k: row[k] for k in ("runs", "passed", "failed", "pass_rate", "median_s",
                                    "streak")} == {k: figures[k] for k in (
                                        "runs", "passed", "failed", "pass_rate", "median_s",
                                        "streak")}, track
        assert (row["last_failure"] or {}).get("id") == figures["last_failure"]
        assert [r["id"] for r in row["recent"]] == figures["recent"]
    # The text form: one row per track, under its header.
    text = run_history("--source", "currents")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["SOURCE", "PIPELINE", "BRANCH", "RUNS", "PASS", "MEDIAN",
                                "P90", "LAST", "FAILURE", "STREAK"]
    assert len(lines) - 1 == sum(1 for t in want if t[0] == "currents")
    assert all(line.startswith("currents ") for line in lines[1:])


def a_run(run_id: str, *, days_ago: float, status: RunStatus = RunStatus.PASSED,
          source: str = "ci", duration: float = 60.0) -> Run:
    start = datetime.now(UTC).timestamp() - days_ago * 86400
    return Run(source=source, provider="services", id=run_id, status=status,
               provider_status=status.value, pipeline="build", branch="main",
               created_at=datetime.fromtimestamp(start, UTC),
               started_at=datetime.fromtimestamp(start, UTC),
               finished_at=datetime.fromtimestamp(start + duration, UTC))


def test_runs_older_than_keep_days_are_pruned_at_start(tmp_path: Path) -> None:
    store = HistoryStore()
    store.upsert([a_run("old", days_ago=100), a_run("edge", days_ago=29),
                  a_run("new", days_ago=1)])
    store.close()
    recorder = Recorder(keep_days=30)
    recorder.start()
    recorder.flush()
    recorder.close()
    reader = HistoryStore(readonly=True)
    assert sorted(p.id for p in reader.points()) == ["edge", "new"]
    reader.close()
    assert recorder.problem is None
    # --since filters on the same times
    answer = run_history("--since", "7d", "--json")
    assert [t["runs"] for t in json.loads(answer.stdout)] == [1]


def test_a_corrupt_file_turns_history_off_and_says_so_once(tmp_path: Path) -> None:
    path = history_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is no sqlite file" * 100)
    said: list[str] = []
    recorder = Recorder(on_problem=said.append)
    recorder.record([a_run("1", days_ago=0)])
    recorder.flush()
    recorder.record([a_run("2", days_ago=0)])  # off: not queued, not said again
    recorder.close()
    assert said == [f"history is off: {path}: it is not a valid history file (corrupt?)"]
    assert not recorder.enabled
    answer = run_history()
    assert answer.returncode == 4
    assert answer.stderr == f"runwatch: {path}: it is not a valid history file (corrupt?)\n"


def test_a_locked_file_turns_history_off_and_says_so_once(tmp_path: Path) -> None:
    HistoryStore().close()
    holder = sqlite3.connect(history_path(), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the file
    said: list[str] = []
    try:
        recorder = Recorder(on_problem=said.append, busy_timeout_ms=100)
        for i in range(3):
            recorder.record([a_run(str(i), days_ago=0)])
            recorder.flush()
        recorder.close()
    finally:
        holder.rollback()
        holder.close()
    assert said == [f"history is off: {history_path()}: it is locked by another program"]


READ_ONLY_PROBE = textwrap.dedent("""
    import json
    import sys
    from pathlib import Path
    from runwatch.history import Recorder
    said = []
    recorder = Recorder(Path(sys.argv[1]), on_problem=said.append)
    recorder.start()
    recorder.flush()
    recorder.close()
    print(json.dumps(said))
""")


def test_a_read_only_file_turns_history_off_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "history.sqlite3"
    store = HistoryStore(path)
    store.upsert([a_run("1", days_ago=0)])
    store.close()
    probe = [sys.executable, "-c", READ_ONLY_PROBE, str(path)]
    if os.getuid() == 0:
        # Root writes a file whatever its mode: a read-only mount it cannot.
        script = (f"mount --bind {folder} {folder} && "
                  f"mount -o remount,bind,ro {folder} && exec \"$@\"")
        probe = ["unshare", "-m", "sh", "-c", script, "probe", *probe]
    else:
        os.chmod(path, 0o444)
        os.chmod(folder, 0o555)
    try:
        answer = subprocess.run(probe, capture_output=True, text=True, timeout=30,
                                env=os.environ.copy())
    finally:
        os.chmod(folder, 0o755)
    assert answer.returncode == 0, answer.stderr
    said = json.loads(answer.stdout)
    assert said == [f"history is off: {path}: it cannot be written (read-only)"]


WRITER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime
    from runwatch.history import HistoryStore
    from runwatch.models import Run
    store = HistoryStore()
    for i in range(150):
        now = datetime.now(UTC)
        store.upsert([Run(source=sys.argv[1], provider="services", id=str(i),
                          status="passed", provider_status="ok", created_at=now)])
    store.close()
""")


def test_two_processes_write_the_same_file() -> None:
    HistoryStore().close()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, name], env=os.environ.copy(),
                                stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for proc in writers:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    reader = HistoryStore(readonly=True)
    counts = defaultdict(int)
    for point in reader.points():
        counts[point.source] += 1
    reader.close()
    assert counts == {"a": 150, "b": 150}
    journal = sqlite3.connect(history_path()).execute("PRAGMA journal_mode").fetchone()
    assert journal == ("wal",)


def point(run_id: str, status: RunStatus, duration: float, at: float,
          author: str = "ana") -> Point:
    return Point("ci", run_id, "build", "main", status, at, duration, f"c{run_id}", author)


def test_stats_streaks_red_since_and_slower_than_usual() -> None:
    passed = [point(str(i), RunStatus.PASSED, 100.0 + i, 1000.0 + i) for i in range(10)]
    red = [point("r1", RunStatus.FAILED, 50, 2000, "priya"),
           point("c", RunStatus.CANCELED, 5, 2001),
           point("r2", RunStatus.TIMED_OUT, 60, 2002)]
    stats = TrackStats(("ci", "build", "main"), tuple(reversed(passed + red)))
    assert stats.streak == ("red", 2)
    since = stats.red_since
    assert since is not None and (since.id, since.author) == ("r1", "priya")
    assert stats.pass_rate == pytest.approx(10 / 12)
    assert stats.median_s == pytest.approx(104.5)
    assert stats.usual_p90_s == pytest.approx(108.1)
    assert stats.is_slower(108.2) and not stats.is_slower(108.0)
    green = TrackStats(("ci", "build", "main"), tuple(reversed(red + passed)))
    assert green.streak == ("green", 10) and green.red_since is None
    few = TrackStats(("ci", "build", "main"), tuple(passed[:4]))
    assert few.usual_p90_s is None and not few.is_slower(10_000)  # no usual yet


def a_currents_run(run_id: str, *, days_ago: float) -> Run:
    run = a_run(run_id, days_ago=days_ago, source="currents")
    return run.model_copy(update={"provider": "currents"})


def test_flaky_tests_learnt_from_opened_spec_results_reach_history_json(tmp_path: Path) -> None:
    """A test that failed once in five recorded runs of its spec is "flaky 1 in 5", on the spec
    results screen's line and in `runwatch history --json`; a test that always passed or
    always failed is not; a control character written into the file is not shown."""
    from runwatch.history.flaky_tests import TestsSeen, flaky_tests
    from runwatch.models import Spec, TestResult
    from runwatch.tui.screens.spec_results import result_block

    spec = Spec(spec="login.spec.ts", group="chrome", status=RunStatus.PASSED)
    runs = [a_currents_run(f"r{n}", days_ago=5 - n) for n in range(5)]
    store = HistoryStore()
    store.upsert(runs)
    for n, run in enumerate(runs):
        results = (TestResult(title="logs in", status=RunStatus.FAILED if n == 2
                              else RunStatus.PASSED),
                   TestResult(title="always red", status=RunStatus.FAILED),
                   TestResult(title="always green", status=RunStatus.PASSED))
        store.upsert_tests(TestsSeen(run, spec, results))
    store.close()
    # A hand edit (or another program) puts an escape into a stored title.
    db = sqlite3.connect(history_path())
    db.execute("UPDATE tests SET title = ? WHERE title = 'logs in'", ("logs\x1b]52;c;eA==\x07in",))
    db.commit()
    db.close()

    answer = run_history("--json")
    assert answer.returncode == 0, answer.stderr
    [track] = json.loads(answer.stdout)
    [flaky] = track["flaky_tests"]
    assert "\x1b" not in flaky["test"] and "\x07" not in flaky["test"]
    assert (flaky["spec"], flaky["group"], flaky["failed"], flaky["runs"]) == (
        "login.spec.ts", "chrome", 1, 5)
    assert flaky["rate"] == 0.2

    reader = HistoryStore(readonly=True)
    past = reader.test_outcomes(*runs[0].track, spec)
    reader.close()
    [marked] = flaky_tests(past)
    line = result_block(TestResult(title=marked.title, status=RunStatus.PASSED), marked).plain
    assert "flaky 1 in 5" in line and "\x1b" not in line


def test_the_writer_imports_the_store_on_its_own_thread(tmp_path: Path) -> None:
    """The dashboard builds its Recorder on the way to its first screen: that loads
    neither sqlite3 nor the store (~5 ms), which the writer's thread imports as it starts,
    and the file is written all the same."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from runwatch.history import Recorder
        recorder = Recorder(Path({str(tmp_path / "history.sqlite3")!r}))
        loaded = sorted(m for m in ("sqlite3", "runwatch.history.store") if m in sys.modules)
        recorder.start()
        recorder.flush()
        recorder.close()
        print(loaded, recorder.problem, "sqlite3" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.split() == ["[]", "None", "True"]
    assert (tmp_path / "history.sqlite3").exists()
