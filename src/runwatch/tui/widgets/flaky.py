"""The run screen's flaky-specs line (DESIGN section 13), under the specs title of a Currents
run: "flaky in recent runs: cart.cy.ts (firefox) 2/9" — the specs that both failed and passed
in the track's last recorded runs (the history's, read once on a worker thread) and this one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from textual.dom import DOMNode
from textual.widgets import Static

from runwatch.history.flaky import SpecResult, flaky, summary
from runwatch.models import Run, RunDetail

if TYPE_CHECKING:
    from runwatch.history import HistoryStore, Recorder


T = TypeVar("T")


def history_of(node: DOMNode) -> Recorder | None:
    """The session's history writer, when it keeps one that works."""
    session = getattr(node.app, "session", None)
    history: Recorder | None = session.history if session is not None else None
    return history if history is not None and history.enabled else None


def read_history(path: Path | None, query: Callable[[HistoryStore], list[T]]) -> list[T]:
    """`query` on the history file, read-only (on a worker thread: it is file I/O); nothing
    when there is no file yet or it cannot be read (the writer says that once)."""
    from runwatch.history.store import HistoryStore, HistoryUnavailable

    try:
        store = HistoryStore(path, readonly=True)
    except HistoryUnavailable:
        return []
    try:
        return query(store)
    except HistoryUnavailable:
        return []
    finally:
        store.close()


class FlakyLine(Static):
    """Hidden until the track has a flaky spec."""

    DEFAULT_CSS = "FlakyLine { display: none; padding: 0 1; color: $text-warning; }"

    def __init__(self, run: Run, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.run = run
        self.results: list[SpecResult] = []
        self.detail: RunDetail | None = None

    def on_mount(self) -> None:
        history = history_of(self)
        if self.run.provider == "currents" and history is not None:
            self.run_worker(self._read(history.path), exit_on_error=False)

    async def _read(self, path: Path | None) -> None:
        track = self.run.track
        results = await self.run_worker(
            lambda: read_history(path, lambda store: store.spec_results(*track)),
            thread=True, exit_on_error=False).wait()
        if isinstance(results, list):
            self.results = results
            self.set_detail(self.detail)

    def set_detail(self, detail: RunDetail | None) -> None:
        """This run's own spec results join the recorded runs' (newest, maybe not written)."""
        self.detail = detail
        text = summary(flaky(self.results, detail)) if detail is not None else ""
        self.update(text)
        self.display = bool(text)
