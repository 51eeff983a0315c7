"""The history file's costs (issue 16), each against a baseline measured in the same run:

- a poll that changes nothing, with history on and off, at 100 and 10,000 runs (it must
  cost no query: no write is queued, so on and off are the same work; DESIGN section 10);
- a poll that changes 10 runs, on and off (the UI thread only queues them);
- what opening a Currents run and one of its specs adds (flaky specs and tests): the spec
  results (20 specs) and the test outcomes (30 tests) written to a file already holding
  10,000 runs and 2,000 opened runs' results, beside the write of a poll that changed 10 runs
  (the baseline: what the writer thread already does for every changed poll). Budgets: the
  UI thread's part (`Recorder.record_specs` / `record_tests`: a queue put) under 0.1 ms, far
  below a 16 ms frame, so opening a spec never stutters; the writer thread's part under
  10 ms per opened spec, well under the spec results request that came before it (tens of
  ms even to a local simulator), so the writer never falls behind a person opening specs one
  after another, and within 5x of the 10-run poll write (the same kind of transaction);
- the file's size after 100,000 runs (plus the results of 2,000 opened runs);
- `runwatch history` (text and --json) over those 100,000 runs, beside `runwatch --version`.

    .venv/bin/python benchmarks/bench_history.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from _harness import header, note, row

from runwatch.config import SourceConfig, parse
from runwatch.history import HistoryStore, Recorder
from runwatch.history.flaky_tests import TestsSeen
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus, Spec, TestResult
from runwatch.providers import Provider
from runwatch.session import Session

NOW = 1_795_348_800.0
SAMPLES = 200
SPECS, TESTS = 20, 30  # one opened Currents run's specs, one opened spec's tests
OPENED = 2_000  # runs whose results a file already holds
UI_BUDGET_MS, WRITER_BUDGET_MS, WRITER_RATIO = 0.1, 10.0, 5.0
BIN = Path(sys.executable).parent


def a_run(i: int, progress: float = 10.0, *, tracks: int = 1) -> Run:
    start = datetime.fromtimestamp(NOW - i * 60, UTC)
    done = i % 3 != 0
    return Run(source="ci", provider="services", id=f"run-{i:06d}",
               status=(RunStatus.FAILED if i % 7 == 0 else RunStatus.PASSED) if done
               else RunStatus.RUNNING, provider_status="x", title=f"feat: change {i}",
               branch=f"branch-{i % tracks}", pipeline="build", commit=f"{i:040x}",
               author="ana", created_at=start, started_at=start,
               finished_at=datetime.fromtimestamp(NOW - i * 60 + 100 + i % 50, UTC)
               if done else None, progress=None if done else progress)


class Synthetic(Provider):
    name = "services"

    def __init__(self, count: int) -> None:
        source = SourceConfig(name="ci", provider="services", base_url="http://127.0.0.1:9")
        super().__init__(source, SourceClient(source="ci", base_url=source.base_url))
        self.runs = [a_run(i) for i in range(count)]
        self.listed = list(self.runs)

    def bump(self, k: int, step: int) -> None:
        for j in range(k):
            self.runs[j * 3] = a_run(j * 3, float(10 + step % 80))
        self.listed = list(self.runs)

    async def list_runs(self) -> list[Run]:
        return self.listed  # the same object while nothing changed, as the real ones do

    async def get_run(self, run_id: str) -> RunDetail:
        raise NotImplementedError


async def poll_costs(count: int, samples: int = SAMPLES
                     ) -> dict[bool, tuple[float, float, int]]:
    """History off and on (keys): CPU ms of an unchanged poll and of a 10-run change
    (medians), and the batches written by the unchanged polls. The two sessions' polls are
    timed in turn, so the machine's load and the collector's pauses fall on both alike."""
    providers = {on: Synthetic(count) for on in (False, True)}
    sessions = {}
    for on, provider in providers.items():
        session = Session({"ci": provider}, now=lambda: NOW)
        session.remember(parse({"history": {"enabled": on}}))
        await session.poller.poll_once("ci")
        if session.history:
            session.history.flush(60)
        sessions[on] = session
    before = {on: s.history.batches if s.history else 0 for on, s in sessions.items()}

    async def timed(on: bool, change: bool, step: int) -> float:
        if change:
            providers[on].bump(10, step)
        start = time.process_time()
        await sessions[on].poller.poll_once("ci")
        return (time.process_time() - start) * 1000

    unchanged: dict[bool, list[float]] = {False: [], True: []}
    changed: dict[bool, list[float]] = {False: [], True: []}
    for i in range(samples):
        for on in (False, True):
            unchanged[on].append(await timed(on, False, i))
    writes = {}
    for on, session in sessions.items():
        if session.history:
            session.history.flush(60)
        writes[on] = (session.history.batches - before[on]) if session.history else 0
    for i in range(1, 40):
        for on in (False, True):
            changed[on].append(await timed(on, True, i))
    for session in sessions.values():
        await session.aclose()
    return {on: (statistics.median(unchanged[on]), statistics.median(changed[on]), writes[on])
            for on in (False, True)}


def opened(i: int) -> tuple[RunDetail, Spec, tuple[TestResult, ...]]:
    """Currents run `i` as opened: its detail (20 specs), one spec and its 30 tests."""
    start = datetime.fromtimestamp(NOW - i * 600, UTC)
    specs = [Spec(spec=f"cypress/e2e/area-{k}/feature-{k}.spec.ts", group="chrome",
                  status=RunStatus.FAILED if (i + k) % 9 == 0 else RunStatus.PASSED)
             for k in range(SPECS)]
    detail = RunDetail(source="currents", provider="currents", id=f"cr-{i:06d}",
                       status=RunStatus.PASSED, provider_status="PASSED", pipeline="e2e",
                       branch=f"branch-{i % 4}", created_at=start, started_at=start,
                       finished_at=start, specs=specs)
    tests = tuple(TestResult(title=f"area 0 does thing {t} when asked", duration_s=1.5,
                             status=RunStatus.FAILED if (i + t) % 13 == 0 else RunStatus.PASSED)
                  for t in range(TESTS))
    return detail, specs[0], tests


def ms_of(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def result_writes(path: Path, samples: int) -> dict[str, float]:
    """Medians, ms: the UI thread's and the writer's part of an opened run and spec, and the
    baselines (a 10-run poll change, queued and written), on a file of 10,000 runs."""
    fill(path, 10_000)
    fill_opened(path)
    store = HistoryStore(path)
    spent: dict[str, list[float]] = {k: [] for k in (
        "poll_write", "specs_write", "tests_write", "read", "poll_queue", "specs_queue",
        "tests_queue")}

    def timed(key: str, work: Callable[..., object], *args: object) -> None:
        start = time.perf_counter()
        work(*args)
        spent[key].append(time.perf_counter() - start)

    for n in range(samples):  # interleaved, so load on the machine falls on all alike
        changed = [a_run(j * 3, float(10 + n % 80), tracks=40) for j in range(10)]
        detail, spec, tests = opened(OPENED + n)
        timed("poll_write", store.upsert, changed)
        timed("specs_write", store.upsert_specs, detail)
        timed("tests_write", store.upsert_tests, TestsSeen(detail, spec, tests))
        timed("read", store.test_outcomes, *detail.track, spec)
    store.close()
    recorder = Recorder(path)
    recorder.start()
    recorder.flush(60)
    for n in range(samples):
        changed = [a_run(j * 3, float(10 + n % 80), tracks=40) for j in range(10)]
        detail, spec, tests = opened(OPENED + samples + n)
        timed("poll_queue", recorder.record, changed)
        timed("specs_queue", recorder.record_specs, detail)
        timed("tests_queue", recorder.record_tests, detail, spec, tests)
        recorder.flush(60)  # each its own turn: the writer is not busy while we time
    recorder.close()
    assert recorder.problem is None, recorder.problem
    return {key: ms_of(values) for key, values in spent.items()}


def fill(path: Path, count: int) -> float:
    store = HistoryStore(path)
    start = time.perf_counter()
    for first in range(0, count, 5000):
        store.upsert([a_run(i, tracks=40) for i in range(first, min(count, first + 5000))])
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return time.perf_counter() - start


def fill_opened(path: Path) -> None:
    """The results of `OPENED` opened Currents runs (their runs, specs and a spec's tests)."""
    store = HistoryStore(path)
    for i in range(OPENED):
        detail, spec, tests = opened(i)
        store.upsert([detail])
        store.upsert_specs(detail)
        store.upsert_tests(TestsSeen(detail, spec, tests))
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def wall(argv: list[str], env: dict[str, str], times: int = 5) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        spent.append(time.perf_counter() - start)
    return statistics.median(spent)


def polls(samples: int) -> None:
    note(f"history: poll CPU (session, synthetic provider, median of {samples})")
    for count in (100, 10_000):
        costs = asyncio.run(poll_costs(count, samples))
        (off_same, off_changed, _), (on_same, on_changed, writes) = costs[False], costs[True]
        row(f"history on, unchanged poll, {count:,} runs (CPU)", f"{on_same:.3f} ms",
            f"history off {off_same:.3f} ms", f"{on_same / off_same:.2f}x",
            "same as off", on_same <= off_same * 1.5 + 0.05)
        row(f"history on, transactions from {samples} unchanged polls, {count:,} runs",
            str(writes), "", "", "0", writes == 0)
        row(f"history on, poll changing 10 runs, {count:,} runs (CPU, UI thread)",
            f"{on_changed:.3f} ms", f"history off {off_changed:.3f} ms",
            f"{on_changed / off_changed:.2f}x", "within 1.5x",
            on_changed <= off_changed * 1.5 + 0.1)


def results(samples: int) -> None:
    note(f"history: an opened run's spec results and a spec's test outcomes (median of "
         f"{samples})")
    with tempfile.TemporaryDirectory() as state:
        got = result_writes(Path(state) / "history.sqlite3", samples)
    base_q, base_w = got["poll_queue"], got["poll_write"]
    for key, what in (("specs", f"an opened run's {SPECS} spec results"),
                      ("tests", f"an opened spec's {TESTS} test outcomes")):
        queued, written = got[f"{key}_queue"], got[f"{key}_write"]
        row(f"history: queueing {what} (UI thread)", f"{queued:.4f} ms",
            f"queueing a 10-run poll change {base_q:.4f} ms", f"{queued / base_q:.1f}x",
            f"< {UI_BUDGET_MS:g} ms", queued < UI_BUDGET_MS)
        row(f"history: writing {what} (writer thread)", f"{written:.2f} ms",
            f"writing a 10-run poll change {base_w:.2f} ms", f"{written / base_w:.1f}x",
            f"< {WRITER_BUDGET_MS:g} ms, within {WRITER_RATIO:g}x",
            written < WRITER_BUDGET_MS and written <= base_w * WRITER_RATIO)
    read = got["read"]
    row("history: reading an opened spec's recorded outcomes (worker thread)",
        f"{read:.2f} ms", f"writing a 10-run poll change {base_w:.2f} ms",
        f"{read / base_w:.1f}x", f"< {WRITER_BUDGET_MS:g} ms", read < WRITER_BUDGET_MS)


def big_file(times: int) -> None:
    count = 100_000
    note(f"history: a file of {count:,} runs")
    with tempfile.TemporaryDirectory() as state:
        path = Path(state) / "runwatch" / "history.sqlite3"
        spent = fill(path, count)
        size = os.path.getsize(path)
        row(f"history file after {count:,} runs (40 tracks)", f"{size / 2**20:.1f} MiB",
            "", "", "< 50 MiB", size < 50 * 2**20)
        row(f"history: writing {count:,} runs, 5,000 per transaction (writer thread)",
            f"{spent:.2f} s")
        fill_opened(path)
        more = os.path.getsize(path)
        row(f"history file, + {OPENED:,} opened runs' spec and test results",
            f"{more / 2**20:.1f} MiB", f"runs alone {size / 2**20:.1f} MiB",
            f"{more / size:.2f}x", "< 50 MiB", more < 50 * 2**20)
        env = {**os.environ, "XDG_STATE_HOME": state}
        version = wall([str(BIN / "runwatch"), "--version"], env, times)
        text = wall([str(BIN / "runwatch"), "history"], env, times)
        as_json = wall([str(BIN / "runwatch"), "history", "--json"], env, times)
        # No budget in DESIGN section 10 for these: the figure and its ratio.
        for label, value in (("", text), (" --json", as_json)):
            row(f"`runwatch history{label}` over {count + OPENED:,} runs (wall)",
                f"{value * 1000:.0f} ms", f"`runwatch --version` {version * 1000:.0f} ms",
                f"{value / version:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer samples (50 polls, 3 runs of each command)")
    quick = parser.parse_args().quick
    header()
    polls(50 if quick else SAMPLES)
    results(50 if quick else SAMPLES)
    big_file(3 if quick else 5)


if __name__ == "__main__":
    main()
