"""The mechanics every provider shares, written once: a GET whose mapping is reused for a
byte-identical body, one paging walk with one stop rule, one way to say that a body does not
fit, and a run's path.

The poller skips diffing a list that `is` the one it had (poller.py); `ClientKit` keeps that
true for every provider: the HTTP client hands back the very same parsed object for a
byte-identical body (SourceClient.get_json), the kit hands back the very same mapping for it,
and `paginate` the very same list when every page is the same as last time. When something
did change, runs equal to the previous poll's keep their previous objects.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from runwatch.errors import BadResponse
from runwatch.http import SourceClient
from runwatch.models import Run
from runwatch.providers.wire import bad_body, parse

__all__ = ["ClientKit", "Page", "bad_body", "parse", "reuse_runs", "run_path"]

T = TypeVar("T")
C = TypeVar("C")

# Mappings kept per provider (least recently used out): a poll's pages plus a few details.
MAPPED_KEPT = 64


@dataclass(frozen=True)
class Page(Generic[C]):
    """One page of a runs list, mapped; `next_cursor` None: the last page."""

    runs: list[Run]
    next_cursor: C | None


def run_path(prefix: str, run_id: str) -> str:
    """`prefix/<run id>`, the id one path segment (a slash in it cannot reach elsewhere)."""
    return f"{prefix}/{quote(run_id, safe='')}"


def reuse_runs(runs: Sequence[Run], previous: Sequence[Run]) -> list[Run]:
    """`runs`, with each run equal to the previous list's run of that id replaced by that
    previous object, so that what did not change is the same object (cheap to diff)."""
    before = {run.id: run for run in previous}
    reused: list[Run] = []
    for run in runs:
        old = before.get(run.id)
        reused.append(old if old is not None and (old is run or old == run) else run)
    return reused


class ClientKit:
    """One provider's view of its client: mapped GETs and the paged list walk.

    `client` is the SourceClient, or a callable giving it (Conduct puts a header on before
    every request).
    """

    def __init__(self, source: str, client: SourceClient | Callable[[], SourceClient]) -> None:
        self.source = source
        self._client = client
        self._mapped: OrderedDict[str, tuple[object, object]] = OrderedDict()
        self._walk: tuple[list[object], list[Run]] | None = None

    @property
    def client(self) -> SourceClient:
        return self._client if isinstance(self._client, SourceClient) else self._client()

    async def get_mapped(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        mapper: Callable[[Any], T],
        *,
        reduce: Callable[[Any], Any] | None = None,
    ) -> T:
        """GET `path` and map its body with `mapper`; for a body byte-identical to the last
        one of this URL the very same mapped object comes back, `mapper` not called."""
        body = await self.client.get_json(path, params, reduce=reduce)
        key = _key(path, params)
        known = self._mapped.get(key)
        if known is not None and known[0] is body:
            self._mapped.move_to_end(key)
            return known[1]  # type: ignore[return-value]  # stored by this same call
        mapped = mapper(body)
        self._mapped[key] = (body, mapped)
        self._mapped.move_to_end(key)
        while len(self._mapped) > MAPPED_KEPT:
            self._mapped.popitem(last=False)
        return mapped

    def parse(self, schema: Any, body: Any, path: str) -> Any:
        """`body` as the wire model, or the one BadResponse (see runwatch.providers.wire)."""
        return parse(schema, body, source=self.source, path=path)

    def bad(self, path: str, problem: str) -> BadResponse:
        return bad_body(self.source, path, problem)

    async def paginate(
        self,
        fetch: Callable[[C | None, int], Awaitable[Page[C]]],
        *,
        limit: int,
        page_size: int,
        spare_pages: int,
    ) -> list[Run]:
        """The newest `limit` runs of a paged list, newest first, each id once.

        `fetch(cursor, size)` reads one page (cursor None: the first). The one stop rule:
        the walk ends at the first of `limit` distinct runs, a page without a next cursor, a
        cursor seen before in this walk, or ceil(limit / page_size) + `spare_pages` pages
        (runs created between two requests push runs onto later pages; a server that pages
        forever or ignores the cursor is asked a bounded number of times).

        When every page is the same object as in the last walk (see `get_mapped`), the same
        list comes back; otherwise runs equal to last time's keep their objects.
        """
        runs: dict[str, Run] = {}
        pages: list[object] = []
        seen: set[C] = set()
        cursor: C | None = None
        for _ in range(math.ceil(limit / page_size) + spare_pages):
            page = await fetch(cursor, min(page_size, limit - len(runs)))
            pages.append(page)
            for run in page.runs:
                runs.setdefault(run.id, run)  # a run that moved between pages counts once
            cursor = page.next_cursor
            if len(runs) >= limit or cursor is None or cursor in seen:
                break
            seen.add(cursor)
        last = self._walk
        if last is not None and len(last[0]) == len(pages) and all(
                a is b for a, b in zip(last[0], pages, strict=True)):
            return last[1]
        newest = sorted(runs.values(), key=lambda r: r.sort_time, reverse=True)[:limit]
        result = reuse_runs(newest, last[1]) if last is not None else newest
        self._walk = (pages, result)
        return result


def _key(path: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return path
    shown = sorted((k, str(v)) for k, v in params.items() if v is not None)
    return path + "?" + "&".join(f"{k}={v}" for k, v in shown)
