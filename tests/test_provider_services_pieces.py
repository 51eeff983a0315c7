"""A services body cut from the last body's cut (providers/services/pieces.py): whatever the
next body did (items changed in place, longer or shorter, the first or the last one, a `},{`
inside a string, items added or removed), the cut is the one split_objects gives, or None;
and NewestItems.update_text lists what a full read lists, building only the changed runs."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from runwatch.http_body import split_objects
from runwatch.models import Run, RunStatus
from runwatch.providers.services import NewestItems
from runwatch.providers.services.pieces import first_difference, piece_starts, recut
from runwatch.providers.services.wire import list_key


def body(items: list[dict[str, Any]]) -> bytes:
    return json.dumps(items, separators=(",", ":")).encode()


def item(n: int, title: str = "t") -> dict[str, Any]:
    return {"id": f"r{n}", "createdAt": f"2026-11-22T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:"
            f"{n % 60:02d}Z", "commitMessage": title}


def cut_of(text: bytes) -> list[bytes]:
    cut = split_objects(text)
    assert cut is not None
    return cut


def recut_of(old: bytes, new: bytes, most: int = 1000) -> Any:
    pieces = cut_of(old)
    return recut(old, pieces, piece_starts(pieces), new, most)


def test_piece_starts_are_where_each_piece_begins():
    text = body([item(n) for n in range(5)])
    pieces = cut_of(text)
    starts = piece_starts(pieces)
    assert [text[s:s + len(p)] for s, p in zip(starts, pieces, strict=False)] == pieces
    assert starts[-1] == len(text) + 1


@pytest.mark.parametrize("sizes", [(0, 0), (1, 7), (5000, 4999), (20000, 20000)])
def test_first_difference_finds_the_first_differing_byte(sizes):
    rng = random.Random(sum(sizes))
    a = bytes(rng.randrange(256) for _ in range(sizes[0]))
    b = bytearray(a[:sizes[1]] + bytes(max(0, sizes[1] - len(a))))
    if sizes == (0, 0):
        assert first_difference(memoryview(a), 0, bytes(b), 0) is None
        return
    at = rng.randrange(min(len(a), len(b)))
    b[at] ^= 0xFF
    assert first_difference(memoryview(a), 0, bytes(b), 0) == at
    assert first_difference(memoryview(a), at + 1, bytes(b), at + 1) == (
        None if len(a) == len(b) else min(len(a), len(b)) - at - 1)


def test_items_changed_in_place_are_cut_anew_and_the_rest_kept():
    items = [item(n) for n in range(300)]
    old = body(items)
    for n, title in ((0, "first, longer"), (57, ""), (123, "braces } , { inside"), (299, "last")):
        items[n] = item(n, title)
    new = body(items)

    got = recut_of(old, new)
    assert got is not None
    cut, fresh, before, starts = got
    assert cut == cut_of(new)
    assert starts == piece_starts(cut)
    assert len(fresh) == len(before) >= 4
    assert all(a != b for a, b in zip(fresh, before, strict=True))
    unchanged = [p for p, q in zip(cut, cut_of(old), strict=False) if p == q]
    assert len(unchanged) >= 300 - 5


@pytest.mark.parametrize("seed", range(40))
def test_any_edit_cuts_as_split_objects_does_or_gives_up(seed):
    rng = random.Random(seed)
    titles = ["t", "x },{ y", "long " * 5]
    items = [item(n, rng.choice(titles)) for n in range(rng.randrange(1, 80))]
    old = body(items)
    for _ in range(rng.randrange(1, 6)):
        what = rng.choice(["edit", "edit", "edit", "add", "remove"])
        n = rng.randrange(len(items))
        if what == "edit":
            items[n] = item(n, rng.choice(["", "changed", "},{", "much longer " * 3]))
        elif what == "add":
            items.insert(n, item(1000 + n))
        elif len(items) > 1:
            del items[n]
    new = body(items)
    got = recut_of(old, new)
    if got is not None:
        assert got[0] == cut_of(new)
        assert got[3] == piece_starts(got[0])
    if old == new:
        assert got is None


def test_more_differences_than_asked_for_gives_up():
    items = [item(n) for n in range(40)]
    old = body(items)
    for n in range(0, 40, 4):
        items[n] = item(n, "changed")
    assert recut_of(old, body(items), most=5) is None
    assert recut_of(old, body(items), most=10) is not None


@pytest.mark.parametrize("new", [b"[]", b"[{}", b'{"a":1}', b"[{\"id\":1}] "])
def test_a_body_of_another_shape_gives_up(new):
    assert recut_of(body([item(1), item(2)]), new) is None


def test_update_text_lists_what_a_full_read_lists_and_builds_only_what_changed():
    built: list[str] = []

    def build(raw: dict[str, Any] | None) -> Run:
        assert raw is not None
        built.append(raw["id"])
        return Run(source="s", provider="services", id=raw["id"], status=RunStatus.PASSED,
                   provider_status="SUCCESS", title=raw["commitMessage"],
                   created_at=raw["createdAt"])

    rng = random.Random(5)
    items = [item(n) for n in range(400)]
    newest = NewestItems(list_key, build, limit=1000)
    runs = newest.update_text(body(items))
    for step in range(6):
        changed = rng.sample(range(len(items)), 3)
        for n in changed:
            items[n] = item(int(items[n]["id"][1:]), f"step {step}")
        if step == 3:
            items.append(item(5000))  # one more: cut whole, then from that cut again
        built.clear()
        before = runs
        runs = newest.update_text(body(items))
        assert runs is not None
        mine = sorted(built)
        full = NewestItems(list_key, build, limit=1000).update(cut_of(body(items)))
        assert full is not None
        assert [(r.id, r.title) for r in runs] == [(r.id, r.title) for r in full]
        assert newest._order_runs == [i.run for i in newest._order]  # kept beside the order
        if newest._starts is not None:  # cut from the last cut: where its pieces begin
            assert newest._starts == piece_starts(newest._pieces)
        kept = {r.id for r in runs if any(r is b for b in before)}
        assert len(kept) >= len(runs) - 4
        ids = [items[n]["id"] for n in changed] + (["r5000"] if step == 3 else [])
        assert mine == sorted(ids)
