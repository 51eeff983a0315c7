"""The history file's costs (issue 16), each against a baseline measured in the same run:

- a poll that changes nothing, with history on and off, at 100 and 10,000 runs (it must
  cost no query: no write is queued, so on and off are the same work);
- a poll that changes 10 runs, on and off (the UI thread only queues them);
- the file's size after 100,000 runs;
- `runwatch history` (text and --json) over those 100,000 runs, beside `runwatch --version`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _harness import judge, row

from runwatch.config import SourceConfig, parse
from runwatch.history import HistoryStore
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus
from runwatch.providers import Provider
from runwatch.session import Session

NOW = 1_795_348_800.0
SAMPLES = 200
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


async def poll_cost(count: int, history: bool) -> tuple[float, float, int]:
    """CPU ms of an unchanged poll and of a 10-run change (medians); batches written by
    the unchanged polls."""
    provider = Synthetic(count)
    config = parse({"history": {"enabled": history}})
    session = Session({"ci": provider}, now=lambda: NOW)
    session.remember(config)
    await session.poller.poll_once("ci")
    if session.history:
        session.history.flush(60)
    before = session.history.batches if session.history else 0

    async def timed(change: bool, step: int) -> float:
        if change:
            provider.bump(10, step)
        start = time.process_time()
        await session.poller.poll_once("ci")
        return (time.process_time() - start) * 1000

    unchanged = [await timed(False, i) for i in range(SAMPLES)]
    if session.history:
        session.history.flush(60)
    writes = (session.history.batches - before) if session.history else 0
    changed = [await timed(True, i) for i in range(1, 40)]
    await session.aclose()
    return statistics.median(unchanged), statistics.median(changed), writes


def fill(path: Path, count: int) -> float:
    store = HistoryStore(path)
    start = time.perf_counter()
    for first in range(0, count, 5000):
        store.upsert([a_run(i, tracks=40) for i in range(first, min(count, first + 5000))])
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return time.perf_counter() - start


def wall(argv: list[str], env: dict[str, str], times: int = 5) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        spent.append(time.perf_counter() - start)
    return statistics.median(spent)


def main() -> None:
    print(f"history: poll CPU (session, synthetic provider, median of {SAMPLES})")
    for count in (100, 10_000):
        off_same, off_changed, _ = asyncio.run(poll_cost(count, history=False))
        on_same, on_changed, writes = asyncio.run(poll_cost(count, history=True))
        row(f"{count:,} runs: unchanged poll, history off (baseline)", f"{off_same:.3f} ms")
        row(f"{count:,} runs: unchanged poll, history on", f"{on_same:.3f} ms",
            "same as off", judge(on_same <= off_same * 1.5 + 0.05))
        row(f"{count:,} runs: transactions from unchanged polls", str(writes), "0",
            judge(writes == 0))
        row(f"{count:,} runs: 10 changed, history off (baseline)", f"{off_changed:.3f} ms")
        row(f"{count:,} runs: 10 changed, history on", f"{on_changed:.3f} ms",
            "within 1.5x", judge(on_changed <= off_changed * 1.5 + 0.1))
    with tempfile.TemporaryDirectory() as state:
        path = Path(state) / "runwatch" / "history.sqlite3"
        count = 100_000
        spent = fill(path, count)
        size = os.path.getsize(path)
        row(f"file after {count:,} runs (40 tracks)", f"{size / 2**20:.1f} MiB",
            "< 50 MiB", judge(size < 50 * 2**20))
        row("writing them, 5,000 per transaction (off the UI thread)", f"{spent:.2f} s")
        env = {**os.environ, "XDG_STATE_HOME": state}
        version = wall([str(BIN / "runwatch"), "--version"], env)
        text = wall([str(BIN / "runwatch"), "history"], env)
        as_json = wall([str(BIN / "runwatch"), "history", "--json"], env)
        row("`runwatch --version` (baseline)", f"{version * 1000:.0f} ms")
        # No budget in DESIGN section 10 for this one: the figure and its ratio.
        row(f"`runwatch history` over {count:,} runs", f"{text * 1000:.0f} ms",
            f"{text / version:.1f}x the baseline")
        row(f"`runwatch history --json` over {count:,} runs", f"{as_json * 1000:.0f} ms",
            f"{as_json / version:.1f}x the baseline")


if __name__ == "__main__":
    main()
