"""The services list's newest runs kept between bodies (providers/services/newest.py): whatever
a body did since the last one (items changed, added, removed, moved, listed twice, the limit
changed), the runs are those a full read of the body gives, and an unchanged item keeps its
Run object."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

import pytest

from runwatch.http_body import split_objects
from runwatch.models import Run, RunStatus
from runwatch.providers.services import NewestItems
from runwatch.providers.services.wire import list_key


def build(raw: dict[str, Any] | None) -> Run:
    assert raw is not None
    return Run(source="s", provider="services", id=str(raw["id"]), status=RunStatus.PASSED,
               provider_status="SUCCESS", title=raw.get("commitMessage"),
               created_at=raw.get("createdAt"))


def item(run_id: str, minute: int, title: str = "t") -> dict[str, Any]:
    return {"id": run_id, "createdAt": f"2026-11-22T{minute // 60:02d}:{minute % 60:02d}:00Z",
            "commitMessage": title}


def pieces(items: list[dict[str, Any]]) -> list[bytes]:
    cut = split_objects(json.dumps(items, separators=(",", ":")).encode())
    assert cut is not None
    return cut


def expected(items: list[dict[str, Any]], limit: int) -> list[tuple[str, str]]:
    """What a full read gives: newest first (equal times by run id, greatest first), each id
    once."""
    ordered = sorted(items, key=lambda i: (datetime.fromisoformat(i["createdAt"]), i["id"]),
                     reverse=True)
    seen: set[str] = set()
    out = []
    for i in ordered:
        if i["id"] not in seen:
            seen.add(i["id"])
            out.append((i["id"], i["commitMessage"]))
    return out[:limit]


def listed(runs: list[Run]) -> list[tuple[str, str | None]]:
    return [(r.id, r.title) for r in runs]


def test_a_body_with_one_changed_item_builds_that_one_run_only():
    items = [item(f"r{n}", n) for n in range(200)]
    newest = NewestItems(list_key, build, limit=500)
    first = newest.update(pieces(items))
    assert first is not None
    items[57] = item("r57", 57, "changed")
    second = newest.update(pieces(items))

    assert second is not None and listed(second) == expected(items, 500)
    assert [r.id for a, r in zip(first, second, strict=True) if a is not r] == ["r57"]


def test_the_same_items_in_another_order_hand_back_the_same_list():
    items = [item(f"r{n}", n) for n in range(50)]
    newest = NewestItems(list_key, build, limit=20)
    first = newest.update(pieces(items))
    random.Random(1).shuffle(items)

    assert newest.update(pieces(items)) is first
    assert newest.update(pieces(items + items[:3])) is first  # some listed twice


def test_a_changed_limit_lists_that_many():
    items = [item(f"r{n}", n) for n in range(30)]
    newest = NewestItems(list_key, build, limit=10)
    newest.update(pieces(items))
    newest.limit = 25
    runs = newest.update(pieces(items))

    assert runs is not None and listed(runs) == expected(items, 25)


def test_a_piece_that_is_not_a_whole_object_asks_for_a_full_read():
    newest = NewestItems(list_key, build, limit=10)
    assert newest.update(pieces([item("a", 1)])) is not None
    cut = pieces([item("a", 1), item("b", 2, "x },{ y")])

    assert newest.update(cut) is None
    runs = newest.update(pieces([item("a", 1)]))  # what it forgot is read afresh
    assert runs is not None and listed(runs) == [("a", "t")]


def test_equal_times_list_by_run_id_whatever_the_body_order():
    items = [item("a", 5), item("d", 7), item("c", 5), item("b", 7)]
    runs = NewestItems(list_key, build, limit=10).update(pieces(items))

    assert runs is not None and [r.id for r in runs] == ["d", "b", "c", "a"]


def test_the_limit_keeps_the_same_one_of_two_tied_runs_however_the_body_is_shuffled():
    # The server lists in no order: which of two runs of one second makes the limit must not
    # depend on where they stand (nor on which one this reader saw first).
    items = [item("a", 9), item("b", 9), *[item(f"old{n}", n) for n in range(5)]]
    kept = set()
    newest = NewestItems(list_key, build, limit=1)
    for seed in range(6):
        random.Random(seed).shuffle(items)
        kept.add(tuple(r.id for r in newest.update(pieces(items)) or []))
        kept.add(tuple(r.id for r in NewestItems(list_key, build, 1).update(pieces(items)) or []))

    assert kept == {("b",)}


def test_new_items_of_equal_times_list_by_run_id_among_those_seen_before():
    items = [item(f"r{n}", 100 + n) for n in range(40)]
    items[20] = item("m", 5)
    newest = NewestItems(list_key, build, limit=100)
    newest.update(pieces(items))
    # Two new items amid the body (no position lines up): found by the set difference.
    runs = newest.update(pieces([*items[:10], item("z", 5), item("a", 5), *items[10:]]))

    assert runs is not None and [r.id for r in runs[-3:]] == ["z", "m", "a"]


@pytest.mark.parametrize("seed", range(24))
def test_any_sequence_of_bodies_lists_what_a_full_read_lists(seed):
    rng = random.Random(seed)
    limit = rng.choice([3, 20, 1000])
    serial = 0
    # Few times, so that many runs tie, also across the limit. One id is never given one time
    # twice: a run listed twice at one time has no right answer (the full read keeps the
    # first in the body, NewestItems the first it saw).
    minutes = rng.choice([8, 60, 1440])
    given: set[tuple[str, int]] = set()

    def fresh_item() -> dict[str, Any]:
        nonlocal serial
        serial += 1
        while True:
            run_id = f"r{rng.randrange(40)}" if rng.random() < 0.2 else f"n{serial}"
            minute = rng.randrange(minutes)
            if (run_id, minute) not in given:
                given.add((run_id, minute))
                return item(run_id, minute, f"v{serial}")  # ids sometimes repeat

    items = [fresh_item() for _ in range(rng.randrange(0, 120))]
    newest = NewestItems(list_key, build, limit=limit)
    last: list[Run] = []
    for _ in range(40):
        move = rng.random()
        if move < 0.3 and items:  # a few items change in place
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(items))
                items[at] = {**items[at], "commitMessage": f"c{rng.random()}"}
        elif move < 0.45:
            items.insert(0, fresh_item())
        elif move < 0.6:
            items.append(fresh_item())
        elif move < 0.7:
            items.insert(rng.randrange(len(items) + 1), fresh_item())
        elif move < 0.8 and items:
            del items[rng.randrange(len(items))]
        elif move < 0.85:
            rng.shuffle(items)
        elif move < 0.9:
            items = [fresh_item() for _ in range(rng.randrange(0, 120))]
        runs = newest.update(pieces(items))

        assert runs is not None and listed(runs) == expected(items, limit)
        before = {(r.id, r.title): r for r in last}
        kept = [r for r in runs if (r.id, r.title) in before]
        assert all(before[(r.id, r.title)] is r for r in kept)  # unchanged: the same Run
        if listed(runs) == listed(last):
            assert runs is last  # nothing listed changed: the very same list
        last = runs
