"""The run screen's flaky-specs line (DESIGN section 13), under the specs title of a Currents
run: "flaky in recent runs: cart.cy.ts (firefox) 2/9" — the specs that both failed and passed
in the track's last recorded runs (the history's, read once on a worker thread) and this one.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from runwatch.history.flaky import SpecResult, flaky, summary
from runwatch.models import Run, RunDetail


class FlakyLine(Static):
    """Hidden until the track has a flaky spec."""

    DEFAULT_CSS = "FlakyLine { display: none; padding: 0 1; color: $text-warning; }"

    def __init__(self, run: Run, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.run = run
        self.results: list[SpecResult] = []
        self.detail: RunDetail | None = None

    def on_mount(self) -> None:
        session = getattr(self.app, "session", None)
        history = session.history if session is not None else None
        if self.run.provider == "currents" and history is not None and history.enabled:
            self.run_worker(self._read(history.path), exit_on_error=False)

    async def _read(self, path: Path) -> None:
        track = self.run.track

        def read() -> list[SpecResult]:
            from runwatch.history.store import HistoryStore, HistoryUnavailable

            try:
                store = HistoryStore(path, readonly=True)
            except HistoryUnavailable:
                return []  # no file yet: said once by the writer if it cannot be used
            try:
                return store.spec_results(*track)
            except HistoryUnavailable:
                return []
            finally:
                store.close()

        results = await self.run_worker(read, thread=True, exit_on_error=False).wait()
        if isinstance(results, list):
            self.results = results
            self.set_detail(self.detail)

    def set_detail(self, detail: RunDetail | None) -> None:
        """This run's own spec results join the recorded runs' (newest, maybe not written)."""
        self.detail = detail
        text = summary(flaky(self.results, detail)) if detail is not None else ""
        self.update(text)
        self.display = bool(text)
