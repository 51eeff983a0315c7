"""The mechanics every provider shares, written once: a GET whose mapping is reused for a
byte-identical body, per-item reuse, one paging walk with one stop rule and one re-read rule,
one way to say that a body does not fit, and a run's path.

The poller skips diffing a list that `is` the one it had (poller.py); `ClientKit` keeps that
true for every provider: the HTTP client hands back the very same parsed object for a
byte-identical body (SourceClient.get_json), the kit hands back the very same mapping for it,
and `paginate` the very same list when no run in it changed. When something did change, an
item whose raw JSON is unchanged keeps its previous `Run` object (`ItemRuns`), so the
poller's diff is identity checks but for the changed runs.

Paged lists (`paginate`): the first page is read every poll; the older pages only while one
of them holds a run that has not finished, and otherwise every `REREAD_EVERY`-th poll (a run
deleted from an older page, or one changed there after it finished, shows within that many
polls). So an unchanged paged poll is one request.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from operator import is_
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from runwatch.errors import BadResponse
from runwatch.http import SourceClient
from runwatch.http_cache import cache_key
from runwatch.models import Run
from runwatch.providers.wire import bad_body, parse

__all__ = ["ClientKit", "ItemRuns", "Page", "bad_body", "parse", "reuse_runs", "run_path"]

T = TypeVar("T")
C = TypeVar("C")

# Mappings kept per provider (least recently used out): a poll's pages plus a few details.
MAPPED_KEPT = 64
# A paged list's older pages are read again every this many polls even when every run on
# them has finished (a minute at the default 5 s interval): what changes there is rare
# (a deletion, a late edit), and reading them every poll is what made a limit of 1,000 cost
# 50 Wercker requests a poll.
REREAD_EVERY = 12
# At most this many pages of an offset-paged list (Wercker) are asked for at once.
PAGES_AT_ONCE = 4


@dataclass(frozen=True)
class Page(Generic[C]):
    """One page of a runs list, mapped; `next_cursor` None: the last page."""

    runs: list[Run]
    next_cursor: C | None


def run_path(prefix: str, run_id: str) -> str:
    """`prefix/<run id>`, the id one path segment (a slash in it cannot reach elsewhere)."""
    return f"{prefix}/{quote(run_id, safe='')}"


class ItemRuns:
    """The `Run` of each list item by the item's key (its id, or its raw bytes) together
    with the raw item it was built from: an item whose raw form is unchanged gets its
    previous `Run` object back, without validating or mapping it again. `keep` bounds it to
    the runs the latest list shows."""

    def __init__(self) -> None:
        self._runs: dict[Hashable, tuple[object, Run]] = {}

    def run(self, key: Hashable, raw: object, build: Callable[[], Run]) -> Run:
        """The run built from `raw` last time under `key` when `raw` is the same (the very
        object, or equal), else `build()`, remembered."""
        known = self._runs.get(key)
        if known is not None and (known[0] is raw or _equal(known[0], raw)):
            return known[1]
        run = build()
        self._runs[key] = (raw, run)
        return run

    def keep(self, runs: Sequence[Run]) -> None:
        """Forget every item whose run is not in `runs` (the list as shown)."""
        shown = {id(run) for run in runs}
        self._runs = {k: v for k, v in self._runs.items() if id(v[1]) in shown}

    def __len__(self) -> int:
        return len(self._runs)


def _equal(a: object, b: object) -> bool:
    try:
        return a == b
    except RecursionError:  # a deeply nested item: treat it as changed
        return False


def same_runs(runs: Sequence[Run], previous: Sequence[Run]) -> bool:
    """Whether `runs` holds the very objects of `previous`, in order."""
    # map(is_): a C loop (a generator of `a is b` cost 0.5 ms at 8,000 runs).
    return len(runs) == len(previous) and all(map(is_, runs, previous))


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
    """One provider's view of its client: mapped GETs, per-item reuse and the paged list walk.

    `client` is the SourceClient, or a callable giving it (Conduct puts a header on before
    every request).
    """

    def __init__(self, source: str, client: SourceClient | Callable[[], SourceClient]) -> None:
        self.source = source
        self._client = client
        self._mapped: OrderedDict[str, tuple[object, object]] = OrderedDict()
        self.items = ItemRuns()
        # The last walk: its pages (their URLs, to forget those a later walk does not read),
        # the list it gave, and whether a run on its older pages has not finished (known
        # once per walk, not walked again every poll).
        self._walk: tuple[list[Page[Any]], list[Run], bool] | None = None
        self._walk_urls: dict[str, tuple[str, Mapping[str, Any] | None]] = {}
        self._reading: dict[str, tuple[str, Mapping[str, Any] | None]] | None = None
        self.polls = 0

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
        if self._reading is not None:
            self._reading[key] = (path, params)
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

    def item_run(self, item: Any, key: str, build: Callable[[], Run]) -> Run:
        """The run of one list item: the previous object when the item's raw JSON (a dict
        as parsed) is unchanged, else `build()`. Items without a usable id are built."""
        ident = item.get(key) if isinstance(item, dict) else None
        if not isinstance(ident, str | int) or isinstance(ident, bool):
            return build()
        return self.items.run(ident, item, build)

    async def paginate(
        self,
        fetch: Callable[[C | None, int], Awaitable[Page[C]]],
        *,
        limit: int,
        page_size: int,
        spare_pages: int,
        offsets: Callable[[int], C] | None = None,
        on_partial: Callable[[list[Run]], None] | None = None,
    ) -> list[Run]:
        """The newest `limit` runs of a paged list, newest first, each id once. A first walk
        tells `on_partial` the first page's runs as soon as they are in.

        `fetch(cursor, size)` reads one page (cursor None: the first). The first page is
        read every call; the older ones only while the last walk found a run that has not
        finished on one of them, on every `REREAD_EVERY`-th call, or when the list is new
        (see the module docstring). Between those, the first page's runs are merged with the
        last walk's older runs.

        The one stop rule of a walk: it ends at the first of `limit` distinct runs, a page
        without a next cursor, a cursor seen before in this walk, or ceil(limit / page_size)
        + `spare_pages` pages (runs created between two requests push runs onto later pages;
        a server that pages forever or ignores the cursor is asked a bounded number of
        times). With `offsets` (the cursor of the n-th page is known before reading it:
        Wercker's `skip`), the older pages are asked for together, `PAGES_AT_ONCE` at a time.

        When no run changed, the very same list comes back; otherwise runs whose raw JSON did
        not change keep their objects.
        """
        self.polls += 1
        last = self._walk
        # This walk's own record of what it read: a refresh while a poll is in flight runs a
        # second walk at once, and must neither clear nor fill the other's.
        reading: dict[str, tuple[str, Mapping[str, Any] | None]] = {}
        self._reading = reading
        merged = False
        try:
            first = await fetch(None, min(page_size, limit))
            if first.next_cursor is None or len(first.runs) >= limit:
                pages = [first]
            elif last is not None and not self._reread_due(last):
                if first is last[0][0]:
                    return last[1]  # one request, nothing changed
                pages, merged = [first, _older_than(first, last[1])], True
            else:
                if on_partial is not None and last is None:
                    on_partial(_distinct(first.runs, limit))
                pages = [first, *await self._older(fetch, first, limit, page_size, spare_pages,
                                                   offsets)]
            read = reading
        finally:
            if self._reading is reading:
                self._reading = None
        if last is not None and len(last[0]) == len(pages) and all(
                a is b for a, b in zip(last[0], pages, strict=True)):
            return last[1]
        runs: dict[str, Run] = {}
        for page in pages:
            for run in page.runs:
                runs.setdefault(run.id, run)  # a run that moved between pages counts once
        newest = sorted(runs.values(), key=lambda r: r.sort_time, reverse=True)[:limit]
        if last is not None and same_runs(newest, last[1]):
            newest = last[1]  # pages changed, no run did: the poller skips the diff
        self._walk = (pages, newest, any(not run.status.is_terminal
                                         for page in pages[1:] for run in page.runs))
        self._forget_unread(read, merged=merged)
        if last is None or newest is not last[1]:
            self.items.keep(newest)
        return newest

    def _reread_due(self, last: tuple[list[Page[Any]], list[Run], bool]) -> bool:
        """Whether this call reads the older pages again (see `paginate`)."""
        if self.polls % REREAD_EVERY == 0:
            return True
        return last[2]

    async def _older(
        self,
        fetch: Callable[[C | None, int], Awaitable[Page[C]]],
        first: Page[C],
        limit: int,
        page_size: int,
        spare_pages: int,
        offsets: Callable[[int], C] | None,
    ) -> list[Page[C]]:
        """The pages after `first`, by the one stop rule."""
        seen: set[str] = {run.id for run in first.runs}
        cursors: set[C] = set()
        pages: list[Page[C]] = []
        cursor = first.next_cursor
        most = math.ceil(limit / page_size) + spare_pages - 1  # pages after the first
        while cursor is not None and len(pages) < most and len(seen) < limit:
            if offsets is not None:
                # Where each page starts is known in advance: ask for a few at once.
                n = len(pages) + 1
                regular = math.ceil(limit / page_size) - n  # pages `limit` needs still
                count = min(PAGES_AT_ONCE, most - len(pages), max(1, regular))
                sizes = [limit - (n + k) * page_size for k in range(count)]
                spare = min(page_size, max(1, limit - len(seen)))
                batch: Sequence[Page[C]] = await asyncio.gather(*(
                    fetch(offsets(n + k), min(page_size, size) if size > 0 else spare)
                    for k, size in enumerate(sizes)))
            else:
                if cursor in cursors:
                    break
                cursors.add(cursor)
                batch = [await fetch(cursor, min(page_size, limit - len(seen)))]
            for page in batch:
                pages.append(page)
                seen.update(run.id for run in page.runs)
                cursor = page.next_cursor
                if cursor is None or len(seen) >= limit:
                    return pages
        return pages

    def _forget_unread(self, read: dict[str, tuple[str, Mapping[str, Any] | None]],
                       *, merged: bool) -> None:
        """Let go of the pages the last walk read and this one did not (old cursors and
        offsets): the client's remembered bodies and their mappings. A call that read only
        the first page and kept the older ones keeps their URLs too."""
        if merged:
            read = {**self._walk_urls, **read}
        for key, (path, params) in self._walk_urls.items():
            if key not in read:
                self._mapped.pop(key, None)
                self.client.forget(path, params)
        self._walk_urls = read


def _older_than(first: Page[C], previous: list[Run]) -> Page[C]:
    """The last list's runs that belong after `first` (a page of its own, no cursor): those
    not on it and not newer than its oldest run (one newer than that and missing from it was
    deleted)."""
    on_first = {run.id for run in first.runs}
    floor = min((run.sort_time for run in first.runs), default=None)
    return Page([run for run in previous if run.id not in on_first
                 and (floor is None or run.sort_time <= floor)], None)


def _distinct(runs: list[Run], limit: int) -> list[Run]:
    seen: dict[str, Run] = {}
    for run in runs:
        seen.setdefault(run.id, run)
    return list(seen.values())[:limit]


def _key(path: str, params: Mapping[str, Any] | None) -> str:
    """The kit's key of a URL: the HTTP layer's (built once per URL, see cache_key), of the
    params it sends (those not None)."""
    if not params:
        return path
    return cache_key(path, {k: v for k, v in params.items() if v is not None})
