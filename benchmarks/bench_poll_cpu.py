"""CPU per poll in the dashboard process, at 100 and at 10,000 runs on screen.

A synthetic provider hands the poller N runs (no HTTP, no JSON: this isolates runwatch's own
work: diffing, events, keyed cell updates and the re-render); the app runs headless at
160x45. Measures a poll that changes nothing and a poll that changes 10 rows.
Budgets (DESIGN section 10): unchanged < 2 ms; 10 changed < 30 ms, and within 2x at 10,000
rows of the figure at 100.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from _harness import judge, row

from runwatch.config import SourceConfig, parse
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus
from runwatch.providers import Provider
from runwatch.session import Session
from runwatch.tui.app import RunwatchApp

NOW = 1_795_348_800.0
SAMPLES = 15


class SyntheticProvider(Provider):
    """N runs; `bump(k)` changes the progress of k running runs."""

    name = "services"

    def __init__(self, count: int) -> None:
        source = SourceConfig(name="ci", provider="services", base_url="http://127.0.0.1:9")
        super().__init__(source, SourceClient(source="ci", base_url=source.base_url))
        self.runs = [self._run(i, 10.0) for i in range(count)]
        self.listed = list(self.runs)

    def _run(self, i: int, progress: float) -> Run:
        return Run(source="ci", provider="services", id=f"run-{i:05d}",
                   status=RunStatus.RUNNING if i % 3 == 0 else RunStatus.PASSED,
                   provider_status="IN_PROGRESS", title=f"feat: change number {i}",
                   branch="main", author="ana", created_at=NOW - i * 60,
                   started_at=NOW - i * 60 + 5, progress=progress)

    def bump(self, k: int, step: int) -> None:
        for j in range(k):
            i = j * 3
            self.runs[i] = self._run(i, float(10 + step % 80))
        self.listed = list(self.runs)

    async def list_runs(self) -> list[Run]:
        # Like the real providers: the same list object while nothing changed.
        return self.listed

    async def get_run(self, run_id: str) -> RunDetail:
        raise NotImplementedError


async def measure(count: int) -> tuple[float, float, float]:
    provider = SyntheticProvider(count)
    config = parse({"runwatch": {"interval": 3600.0, "limit": 10_000},
                    "sources": [{"name": "ci", "provider": "services",
                                 "base_url": "http://127.0.0.1:9"}]})
    app = RunwatchApp(config, session=Session.on(config, {"ci": provider}, now=lambda: NOW),
                      now=lambda: NOW)
    async with app.run_test(size=(160, 45)) as pilot:
        await app.poller.poll_once("ci")
        await pilot.pause()
        await pilot.pause()

        async def timed(change: bool, step: int) -> float:
            if change:
                provider.bump(10, step)
            start = time.process_time()
            await app.poller.poll_once("ci")
            await pilot.pause()
            return (time.process_time() - start) * 1000

        async def settle_only() -> float:
            start = time.process_time()
            await pilot.pause()
            return (time.process_time() - start) * 1000

        # What Textual's own message pump costs to settle with nothing to do.
        baseline = statistics.median([await settle_only() for _ in range(SAMPLES)])
        unchanged = [await timed(False, i) for i in range(SAMPLES)]
        changed = [await timed(True, i) for i in range(1, SAMPLES + 1)]
    return baseline, statistics.median(unchanged), statistics.median(changed)


def main() -> None:
    print("CPU per poll (headless app, synthetic provider, median of 15)")
    results = {n: asyncio.run(measure(n)) for n in (100, 10_000)}
    # The poll's cost is what it adds to Textual settling with nothing to do, which happens
    # on every frame whether a poll ran or not.
    for n, (baseline, unchanged, changed) in results.items():
        row(f"{n:,} runs: Textual settling, no poll (baseline)", f"{baseline:.2f} ms")
        row(f"{n:,} runs: poll changing nothing (over baseline)",
            f"{unchanged - baseline:.2f} ms", "< 2 ms", judge(unchanged - baseline < 2))
        row(f"{n:,} runs: poll changing 10 rows (over baseline)",
            f"{changed - baseline:.2f} ms", "< 30 ms", judge(changed - baseline < 30))
    ratio = (results[10_000][2] - results[10_000][0]) / max(
        results[100][2] - results[100][0], 1e-6)
    row("10 changed: 10,000 runs vs 100 runs", f"{ratio:.2f}x", "within 2x", judge(ratio <= 2))


if __name__ == "__main__":
    main()
