"""The scheduler's workflow snapshots (a run's title and owner, its steps' labels): fetched
once per `definitionHash`, a few new ones per list call, kept while a held run uses them.

A mixin of SchedulerProvider: these attributes are its own."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from runwatch.config import SourceConfig
from runwatch.errors import ApiError, NotFound
from runwatch.providers.scheduler.mapping import Definition
from runwatch.providers.scheduler.wire import WireWorkflow
from runwatch.providers.wire import parse


class Definitions:
    """Fetching and keeping the snapshots of the held runs."""

    source: SourceConfig
    max_new_definitions: int
    _held: OrderedDict[str, Any]  # run id -> _Held (its .wire, .run)
    _definitions: OrderedDict[str, Definition]
    _definitions_kept: int
    _gone: set[str]
    _definition_urls: set[str]

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError

    @staticmethod
    def _run_path(run_id: str) -> str:
        raise NotImplementedError

    def _wanted_definitions(self) -> dict[str, str]:
        """The snapshots to fetch this call (hash -> the newest held run that has it): those
        that name held runs, are not cached and did not answer 404, at most
        `max_new_definitions`. Those in use count as recently used."""
        wanted: dict[str, str] = {}  # hash -> run id, newest runs first
        for held in reversed(self._held.values()):
            definition_hash = held.wire.definition_hash
            if definition_hash is None or definition_hash in wanted:
                continue
            if definition_hash in self._definitions:
                self._definitions.move_to_end(definition_hash)  # in use: recently used
            elif definition_hash not in self._gone:
                wanted[definition_hash] = held.wire.run_id
        return dict(list(wanted.items())[:self.max_new_definitions])

    async def _fetch_new_definitions(self, wanted: dict[str, str]) -> None:
        """Fetch the `wanted` snapshots: one request per `definitionHash` (through the
        newest run that has it), so a first list of many workflows fans out over several
        polls. A failure leaves those runs untitled and does not fail the list: a 404 is
        not asked again by the list (the run screen still tries), anything else ends this
        call's fetching."""
        for definition_hash, run_id in wanted.items():
            try:
                await self._definition(run_id, definition_hash)
            except NotFound:
                if len(self._gone) >= self._definitions_kept:
                    self._gone.clear()
                self._gone.add(definition_hash)
            except ApiError:
                return  # a 5xx, 429 or timeout: try again on the next call

    async def _definition(self, run_id: str, definition_hash: str | None) -> Definition:
        """The run's workflow snapshot, fetched once per definitionHash."""
        if definition_hash is not None and definition_hash in self._definitions:
            self._definitions.move_to_end(definition_hash)
            return self._definitions[definition_hash]
        path = f"{self._run_path(run_id)}/definition"
        raw = await self._get(path)
        self._definition_urls.add(run_id)
        definition = Definition(raw, parse(WireWorkflow, raw, source=self.source.name, path=path))
        if definition_hash is not None:
            self._definitions[definition_hash] = definition
            self._gone.discard(definition_hash)
            if len(self._definitions) > self._definitions_kept:
                self._definitions.popitem(last=False)
            self._relabel(definition_hash)
        return definition

    async def _definition_or_none(self, run_id: str, definition_hash: str | None
                                  ) -> Definition | None:
        # A run whose snapshot is gone is still worth showing, with unlabelled steps.
        try:
            return await self._definition(run_id, definition_hash)
        except NotFound:
            return None

    def _relabel(self, definition_hash: str) -> None:
        """Have held runs of a newly known workflow mapped again, with its name."""
        for held in self._held.values():
            if held.wire.definition_hash == definition_hash:
                held.run = None
