"""Writes the runs the poller saw changing into the history file, on a thread of its own:
the UI thread only puts the changed runs on a queue (a poll that changed nothing puts
nothing, so it costs no query). The thread opens the file and prunes it first; a file that
cannot be used turns the history off, said once through `on_problem`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

TYPE_CHECKING = False  # pydantic's models only for mypy: `runwatch history` builds none
if TYPE_CHECKING:
    from runwatch.history.store import HistoryStore
    from runwatch.models import Run, RunDetail, Spec, TestResult

log = logging.getLogger(__name__)

_STOP = object()


class Recorder:
    """Upserts runs into the history file off the caller's thread."""

    def __init__(self, path: Path | None = None, *, keep_days: float = 90.0,
                 on_problem: Callable[[str], None] | None = None,
                 busy_timeout_ms: int | None = None) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms  # None: the store's own
        self.keep_days = keep_days
        # Called once, from the writer thread, when the history turns off.
        self.on_problem: Callable[[str], None] = on_problem or (lambda text: log.warning(text))
        self.problem: str | None = None
        self.written = 0  # runs upserted so far (tests, benchmarks)
        self.batches = 0  # transactions so far
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.problem is None

    def record(self, runs: Sequence[Run]) -> None:
        """Queue these runs for the file (cheap: no I/O on the caller's thread)."""
        if not runs or self.problem is not None:
            return
        self._start()
        self._queue.put(tuple(runs))

    def record_specs(self, detail: RunDetail) -> None:
        """Queue the spec results of a run whose detail was loaded anyway (flaky specs)."""
        if detail.specs and self.problem is None:
            self._start()
            self._queue.put(detail)

    def record_tests(self, run: Run, spec: Spec, results: Sequence[TestResult]) -> None:
        """Queue the test outcomes of a spec whose results were loaded anyway (flaky
        tests)."""
        if results and self.problem is None:
            from runwatch.history.flaky_tests import TestsSeen

            self._start()
            self._queue.put(TestsSeen(run, spec, tuple(results)))

    def start(self) -> None:
        """Open (and prune) the file now, not at the first change."""
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="runwatch-history",
                                                daemon=True)
                self._thread.start()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until what was queued so far is written (tests; shutdown)."""
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        thread = self._thread
        if thread is None:
            return
        self._queue.put(_STOP)
        thread.join(timeout)

    def _work(self) -> None:
        # Here, on the recording thread: the store (sqlite3 and the readers' modules, ~5 ms)
        # is not imported on the dashboard's way to its first screen. The models neither:
        # `runwatch history` builds none.
        from runwatch.history.flaky_tests import TestsSeen
        from runwatch.history.store import BUSY_TIMEOUT_MS, HistoryStore, HistoryUnavailable
        from runwatch.models import RunDetail

        busy_ms = BUSY_TIMEOUT_MS if self.busy_timeout_ms is None else self.busy_timeout_ms
        store: HistoryStore | None = None
        try:
            store = HistoryStore(self.path, busy_timeout_ms=busy_ms)
            store.prune(self.keep_days)
        except HistoryUnavailable as exc:
            self._turn_off(str(exc), store)
            store = None
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            if isinstance(item, threading.Event):
                item.set()
                continue
            if store is None:
                continue  # off: drain what was queued before it turned off
            if isinstance(item, RunDetail | TestsSeen):
                try:
                    if isinstance(item, TestsSeen):
                        store.upsert_tests(item)
                    else:
                        store.upsert_specs(item)
                except HistoryUnavailable as exc:
                    self._turn_off(str(exc), store)
                    store = None
                continue
            batch: list[Run] = list(item)  # type: ignore[call-overload]
            # Several polls' changes queued while the last write ran: one transaction.
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(more, tuple):
                    batch.extend(more)
                else:
                    self._queue.put(more)  # a flush or stop mark: after this write
                    break
            try:
                self.written += store.upsert(batch)
                self.batches += 1
            except HistoryUnavailable as exc:
                self._turn_off(str(exc), store)
                store = None
        if store is not None:
            store.close()

    def _turn_off(self, text: str, store: HistoryStore | None) -> None:
        self.problem = text
        if store is not None:
            store.close()
        try:
            self.on_problem(text)
        except Exception:
            log.exception("history: reporting %r failed", text)
