"""The scheduler's unfinished runs, read again by id: a few a list call, a few at once, and
never twice in one call for the run on screen (its detail and the list share the read).

A mixin of SchedulerProvider: these attributes are its own."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from runwatch.config import SourceConfig
from runwatch.errors import NotFound
from runwatch.providers.scheduler.wire import WireRun, scheduler_status
from runwatch.providers.wire import parse


class Refreshes:
    """Reading held runs again by id, shared between the list and the run screen."""

    source: SourceConfig
    refresh_per_poll: int
    refresh_at_once: int
    _held: OrderedDict[str, Any]  # run id -> _Held (its .raw, .wire)
    _calls: int
    _edits: int
    # id -> (the list call it was read in, "list" / "detail" / "shared", the body)
    _read_in: dict[str, tuple[int, str, Any]]
    _reading: dict[str, asyncio.Future[Any]]

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError

    @staticmethod
    def _run_path(run_id: str) -> str:
        raise NotImplementedError

    def _hold(self, raw: object, wire: WireRun) -> None:
        raise NotImplementedError

    def _unfinished(self, exclude: set[str]) -> list[str]:
        """The held runs that have not finished and were not on a page just read."""
        return [run_id for run_id, held in self._held.items()
                if run_id not in exclude and not scheduler_status(held.wire.status).is_terminal]

    def _stale(self, pending: list[str]) -> list[str]:
        """The `pending` runs to GET again: those not read by the run screen since the last
        call; at most `refresh_per_poll` of them, read longest ago first."""
        stale = [run_id for run_id in pending if not self._read_by_detail_lately(run_id)]
        stale.sort(key=lambda run_id: self._read_in.get(run_id, (-1, "", None))[0])
        return stale[:self.refresh_per_poll]

    async def _refresh_unfinished(self, stale: list[str]) -> None:
        """GET the `stale` runs, `refresh_at_once` at a time."""
        gate = asyncio.Semaphore(self.refresh_at_once)

        async def refresh(run_id: str) -> None:
            async with gate:
                path = self._run_path(run_id)
                try:
                    raw = await self._run_body(run_id, detail=False)
                except NotFound:
                    self._held.pop(run_id, None)
                    self._edits += 1
                    return
                held = self._held.get(run_id)
                if held is None or not _same(held.raw, raw):
                    self._hold(raw, parse(WireRun, raw, source=self.source.name, path=path))

        await asyncio.gather(*(refresh(run_id) for run_id in stale))

    async def _run_body(self, run_id: str, *, detail: bool) -> Any:
        """GET /runs/{id}, once per list call for both readers: the run screen takes the
        body that this call's refresh read (once, without a request), the refresh skips a
        run the run screen read since the last call, and a read in flight is shared."""
        read = self._read_in.get(run_id)
        if detail and read is not None and read[0] == self._calls and read[1] == "list":
            self._read_in[run_id] = (self._calls, "shared", read[2])
            return read[2]
        pending = self._reading.get(run_id)
        if pending is None:
            pending = asyncio.ensure_future(self._get(self._run_path(run_id)))
            self._reading[run_id] = pending
            pending.add_done_callback(lambda task: self._done_reading(run_id, task))
        raw = await asyncio.shield(pending)  # a detail dropped mid-read leaves it to the list
        self._read_in[run_id] = (self._calls, "detail" if detail else "list", raw)
        return raw

    def _done_reading(self, run_id: str, task: asyncio.Future[Any]) -> None:
        self._reading.pop(run_id, None)
        if not task.cancelled():
            task.exception()  # seen by whoever awaited it; never "never retrieved"

    def _read_by_detail_lately(self, run_id: str) -> bool:
        read = self._read_in.get(run_id)
        return read is not None and read[1] == "detail" and read[0] >= self._calls - 1


def _same(held: object, raw: object) -> bool:
    """Whether a body is the one already mapped: the very object (the HTTP layer hands an
    unchanged body back as is), or an equal one (a page's item, then the run by id)."""
    return held is raw or held == raw
