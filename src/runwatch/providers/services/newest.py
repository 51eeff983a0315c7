"""The newest runs of a services list body, kept from one body to the next so that a body
whose items are nearly all unchanged costs what changed (issue 12).

The body is cut into its items' texts: from the last body's cut where the two bodies' bytes
pair up item for item (services.pieces: only the changed items are cut), else whole
(http_body.split_objects). Which items are new and which are gone is found by comparing
those texts with the last body's: position by position first (a server that lists in a
stable order: a C loop of byte comparisons), from either end (a run added first or last),
else as a set difference (hashing every text). The items stay sorted in one list, oldest
first, beside a list of their sort keys: a new item goes in by bisection and a gone one
comes out the same way. So at 10,000 items the Python work is that of the changed ones. An
unchanged item keeps its `Run`, and a body with no new or gone item
among the listed ones hands back the very same list (the poller skips it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import compress
from operator import attrgetter, ne
from typing import Any, cast

from runwatch.http_body import parse_object, split_objects
from runwatch.models import Run
from runwatch.providers.kit import same_runs
from runwatch.providers.services.pieces import piece_starts, recut

# A change touching more than 1 item in this many is sorted afresh (bisecting each one in
# costs a list move apiece; one sort of a nearly sorted list is a few comparisons an item).
REBUILD_SHARE = 32

# So few new texts are put in body order by a search of the body each (else one pass).
FEW = 8
# A body is cut from the last one's cut while at most this many items differ (past that, a
# whole cut costs about as much as comparing further).
RECUT_MOST = 64

Raw = dict[str, Any]
# (created, run id, -first seen): equal times list by run id, greatest first, as the full
# read (ServicesProvider._newest_runs) lists them; the body's order, which the server
# shuffles, never decides which of two tied runs makes the limit. The same id at the same
# time twice (one run listed twice) lists the text seen first.
Key = tuple[datetime, str, int]


@dataclass(slots=True, eq=False)  # compared by identity: list moves stay C loops
class _Item:
    """One item of the last body: its sort key, its text (parsed again to build its Run only
    if it makes the list) and its Run once it did."""

    key: Key
    piece: bytes
    raw: Raw | None = None  # the parsed text, until it is mapped (or not needed)
    run: Run | None = None


_run_of_item = attrgetter("run")
_key_of_item = attrgetter("key")


class NewestItems:
    """The newest `limit` runs of the last body, each id once, newest first. `sort_key` is an
    item's (created, run id), `build` its Run (raising what the provider raises for a bad
    one)."""

    def __init__(self, sort_key: Callable[[Raw], tuple[datetime, str]],
                 build: Callable[[Raw | None], Run], limit: int) -> None:
        self._sort_key = sort_key
        self._build = build
        self.limit = limit
        self.clear()

    def clear(self) -> None:
        """Forget the last body (the next one is read in full)."""
        self._items: dict[bytes, _Item] = {}  # by text: each text once
        self._pieces: list[bytes] = []  # the last body's texts, in its order
        self._order: list[_Item] = []  # oldest first
        # The same items' runs (None until mapped): a listing is a slice of it, not a walk
        # of 8,000 items (0.7-2 ms at 10,000 runs, each item a cache miss).
        self._order_runs: list[Run | None] = []
        self._keys: list[Key] = []  # the same items' keys
        self._ids: dict[str, int] = {}  # how many mapped items hold each run id
        self._repeated = 0  # run ids held by more than one mapped item
        self._mapped_from = 0  # every item from this index on has its Run
        self._seen = 0
        self.runs: list[Run] = []
        self._listed_limit = self.limit
        self._text: bytes | None = None  # the last body (stripped), when cut from it
        self._starts: list[int] | None = None  # where its pieces begin, once known

    def update_text(self, text: bytes) -> list[Run] | None:
        """The runs of a body (whitespace stripped), or None when it is not a compact array
        of whole objects (the caller parses it whole; this forgets)."""
        last, pieces = self._text, self._pieces
        if last is not None and pieces and len(self._items) == len(pieces):
            starts = self._starts if self._starts is not None else piece_starts(pieces)
            recut_ = recut(last, pieces, starts, text,
                           min(RECUT_MOST, len(pieces) // REBUILD_SHARE + 1))
            if recut_ is not None:
                cut, now_d, then_d, moved = recut_
                added, gone = _from_differing(now_d, then_d, self._items)
                runs = self._guarded(cut, (_once(added), gone))
                if runs is not None:
                    self._text, self._starts = text, moved
                return runs
        whole = split_objects(text)
        runs = None if whole is None else self.update(whole)
        if runs is None:
            self.clear()
        else:
            self._text, self._starts = text, None
        return runs

    def update(self, pieces: list[bytes]) -> list[Run] | None:
        """The runs of the body cut into `pieces`, or None when a new piece is not one whole
        object (a cut inside a string: the caller parses the body whole; this forgets)."""
        self._text = self._starts = None  # cut by the caller: no body to cut the next from
        return self._guarded(pieces, None)

    def _guarded(self, pieces: list[bytes],
                 changes: tuple[list[bytes], set[bytes]] | None) -> list[Run] | None:
        try:
            runs = self._update(pieces, changes)
        except BaseException:
            self.clear()  # half an update is no base for the next one
            raise
        if runs is None:
            self.clear()
        return runs

    def _update(self, pieces: list[bytes],
                changes: tuple[list[bytes], set[bytes]] | None) -> list[Run] | None:
        items = self._items
        added, gone = self._changes(pieces) if changes is None else changes
        self._pieces = pieces
        if not added and not gone and self.limit == self._listed_limit:
            return self.runs  # the same texts (in another order, or some twice)
        fresh = self._parse(added)
        if fresh is None:
            return None
        if (len(fresh) + len(gone)) * REBUILD_SHARE > len(self._order):
            for piece in gone:
                self._unmapped(items.pop(piece))
            for item in fresh:
                items[item.piece] = item
            self._sort()
        else:
            for piece in gone:
                self._remove(items.pop(piece))
            for item in fresh:
                items[item.piece] = item
                self._insert(item)
        runs = self._listing()
        for item in fresh:
            item.raw = None  # those not listed are parsed again should they ever be
        self._listed_limit = self.limit
        if same_runs(runs, self.runs):
            return self.runs  # what changed is not listed (beyond `limit`)
        self.runs = runs
        return runs

    def _changes(self, pieces: list[bytes]) -> tuple[list[bytes], set[bytes]]:
        """The texts new in `pieces` (in body order) and those gone since the last body."""
        items, last = self._items, self._pieces
        if last and len(items) == len(last):  # the last body held each text once
            # Forward first; the reversed copies only when the forward pass gives up.
            for new, old in _both_ways(pieces, last):
                differ = _differing(new, old)
                if differ is not None:
                    added, gone = _from_differing(*differ, items)
                    if new is not pieces:
                        added.reverse()
                    return _once(added), gone
        now = set(pieces)
        gone = set(items).difference(now)
        if len(now) - (len(items) - len(gone)) <= FEW:
            new_texts = now.difference(items)
            return sorted(new_texts, key=pieces.index), gone  # list.index: a C loop
        return _once(p for p in pieces if p not in items), gone

    def _parse(self, pieces: Iterable[bytes]) -> list[_Item] | None:
        fresh = []
        for piece in pieces:
            raw = parse_object(piece)
            if raw is None:
                return None
            self._seen += 1
            created, run_id = self._sort_key(raw)
            fresh.append(_Item((created, run_id, -self._seen), piece, raw))
        return fresh

    # -- the sorted items ----------------------------------------------------------------

    def _sort(self) -> None:
        order = sorted(self._items.values(), key=_key_of_item)
        self._order, self._keys = order, list(map(_key_of_item, order))
        self._order_runs = list(map(_run_of_item, order))
        self._mapped_from = len(order)  # mapped again from the top, as far as listed

    def _remove(self, item: _Item) -> None:
        at = bisect_left(self._keys, item.key)
        del self._keys[at], self._order[at], self._order_runs[at]
        if at < self._mapped_from:
            self._mapped_from -= 1
        self._unmapped(item)

    def _insert(self, item: _Item) -> None:
        at = bisect_left(self._keys, item.key)
        self._keys.insert(at, item.key)
        self._order.insert(at, item)
        self._order_runs.insert(at, item.run)
        if at < self._mapped_from:
            self._mapped_from += 1
        else:  # among the mapped ones: mapped too
            self._map(item, at)

    def _map(self, item: _Item, at: int) -> Run:
        """`item`'s run (built once), at `at` in the order."""
        if item.run is None:
            raw = item.raw if item.raw is not None else parse_object(item.piece)
            item.raw = None
            item.run = self._build(raw)
            self._order_runs[at] = item.run
            count = self._ids.get(item.run.id, 0) + 1
            self._ids[item.run.id] = count
            self._repeated += count == 2
        return item.run

    def _unmapped(self, item: _Item) -> None:
        """Forget `item`'s run in the id counts (it left the body)."""
        if item.run is not None:
            count = self._ids.pop(item.run.id) - 1
            if count:
                self._ids[item.run.id] = count
            self._repeated -= count == 1

    def _listing(self) -> list[Run]:
        order = self._order
        start = max(0, len(order) - self.limit)
        while self._mapped_from > start:
            self._mapped_from -= 1
            self._map(order[self._mapped_from], self._mapped_from)
        if not self._repeated:
            # Each id once among the mapped runs: the list is the newest `limit` (each one
            # mapped, from `start` on: no None in this slice).
            window = self._order_runs[start:]
            window.reverse()
            return cast(list[Run], window)
        runs: list[Run] = []
        seen: set[str] = set()
        at = len(order)
        while at > 0 and len(runs) < self.limit:
            at -= 1
            run = self._map(order[at], at)
            if run.id not in seen:
                seen.add(run.id)
                runs.append(run)
        self._mapped_from = min(self._mapped_from, at)
        return runs


def _differing(new: list[bytes], old: list[bytes]) -> tuple[list[bytes], list[bytes]] | None:
    """The texts of `new` and of `old` where the two differ, compared position by position,
    the longer one's tail included; None when that is more than a few."""
    size = min(len(new), len(old))
    most = max(len(new), len(old)) // REBUILD_SHARE
    if abs(len(new) - len(old)) > most:
        return None
    # compress/map/ne: C loops, each a byte comparison that stops at the first difference.
    at = list(compress(range(size), map(ne, new, old)))
    if len(at) + abs(len(new) - len(old)) > most:
        return None
    return [new[i] for i in at] + new[size:], [old[i] for i in at] + old[size:]


def _from_differing(now_d: list[bytes], then_d: list[bytes], items: dict[bytes, _Item]
                    ) -> tuple[list[bytes], set[bytes]]:
    """The texts new (in the order given, maybe twice) and gone, from those that differ
    position by position (new, old)."""
    then = set(then_d)
    # A text listed elsewhere in the last body is there twice now: not new.
    return [p for p in now_d if p not in then and p not in items], then.difference(now_d)


def _once(pieces: Iterable[bytes]) -> list[bytes]:
    """`pieces` in order, each text once."""
    return list(dict.fromkeys(pieces))


def _both_ways(pieces: list[bytes], last: list[bytes]) -> Iterator[tuple[list[bytes], list[bytes]]]:
    yield pieces, last
    yield pieces[::-1], last[::-1]
