"""Paying only for what changed (issue 12): per-item reuse, the same list for an unchanged
body, paged lists re-reading older pages only when they must, the scheduler's capped and
shared refreshes, and caches that hold only what the latest list shows. Real HTTP to the
simulator; requests counted as the server saw them."""

from __future__ import annotations

import asyncio

import httpx

from runwatch.poller import Poller, RunsChanged
from runwatch.providers.kit import REREAD_EVERY
from runwatch.sim import demo_tokens

RUNS = "/api/v1/runs"


def listed(sim, provider: str, mark: int = 0) -> list[tuple[str, str]]:
    return [(r.path, r.query) for r in sim.sim.requests_to(provider)[mark:]]


def count(sim, provider: str) -> int:
    return len(sim.sim.requests_to(provider))


# -- per-item reuse --------------------------------------------------------------------------


async def test_an_unchanged_services_body_hands_back_the_same_list_and_runs(sim):
    provider = sim.provider("services", limit=100)
    first = await provider.list_runs()
    second = await provider.list_runs()

    assert second is first
    assert len(listed(sim, "services")) == 2  # each poll is one request, nothing more


async def test_a_changed_services_item_is_the_only_new_run(sim):
    provider = sim.provider("services", limit=100)
    first = await provider.list_runs()
    new = await provider.rerun(first[-1].id)  # one more run in the body
    second = await provider.list_runs()

    assert second is not first
    fresh = [run for run in second if not any(run is old for old in first)]
    assert [run.id for run in fresh] == [new.id]
    assert {run.id for run in second} == {run.id for run in first} | {new.id}


async def patch(sim, run_id: str, **fields: object) -> None:
    """A change made on the server by someone else: `PATCH /api/runs/{id}`."""
    token = demo_tokens()["services"]
    async with httpx.AsyncClient(base_url=sim.base_url("services"),
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.patch(f"/api/runs/{run_id}", json=fields)
    assert answer.status_code == 200


def same_objects(a, b) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


async def test_a_changed_services_item_is_a_new_run_and_every_other_keeps_its_object(sim):
    provider = sim.provider("services", limit=100)
    first = await provider.list_runs()
    target = first[len(first) // 2]
    await patch(sim, target.id, committer="Someone Else")
    second = await provider.list_runs()

    assert second is not first
    assert [run.id for run in second] == [run.id for run in first]
    moved = [new for old, new in zip(first, second, strict=True) if new is not old]
    assert [(run.id, run.author) for run in moved] == [(target.id, "Someone Else")]


async def test_a_deleted_services_run_leaves_and_every_other_keeps_its_object(sim):
    provider = sim.provider("services", limit=100)
    first = await provider.list_runs()
    gone = first[3]
    await provider.delete(gone.id)
    second = await provider.list_runs()

    assert same_objects(second, [run for run in first if run is not gone])


async def test_a_change_beyond_the_limit_hands_back_the_same_list(sim):
    every = await sim.provider("services", limit=100).list_runs()
    provider = sim.provider("services", limit=5)
    first = await provider.list_runs()
    await patch(sim, every[-1].id, committer="Nobody Shown")  # the oldest run: not listed
    mark = count(sim, "services")
    second = await provider.list_runs()

    assert count(sim, "services") == mark + 1  # the body was read again, and differed
    assert second is first


async def test_a_poll_that_changes_one_services_run_says_exactly_that_one(sim):
    provider = sim.provider("services", limit=100)
    events: list[RunsChanged] = []
    poller = Poller({"s": provider}, intervals={"s": 5.0},
                    on_event=lambda e: events.append(e) if isinstance(e, RunsChanged) else None)
    await poller.poll_once("s")
    before = dict(poller.runs("s"))
    target = next(iter(before.values()))
    await patch(sim, target.id, commitMessage="a new title")
    await poller.poll_once("s")
    await poller.poll_once("s")  # the same body again: nothing to say

    assert [len(e.changed) for e in events] == [len(before), 1]
    assert [(r.id, r.title) for r in events[-1].changed] == [(target.id, "a new title")]
    assert events[-1].removed == ()
    after = poller.runs("s")
    assert list(after) == list(before)  # the list's order kept
    assert all(after[k] is run for k, run in before.items() if k != target.id)
    await poller.aclose()


async def test_services_items_cut_inside_a_string_still_read_right(sim):
    # A commit message holding `},{` cuts its item's text in two: that body is parsed whole.
    provider = sim.provider("services", limit=100)
    await provider.list_runs()
    items = [b'{"id":"a","createdAt":"2026-11-22T11:00:00Z","commitMessage":"x"}',
             b'{"id":"b","createdAt":"2026-11-22T12:00:00Z","commitMessage":"a },{ b"}']
    runs = provider._newest_from_bytes(b"[" + b",".join(items) + b"]")

    assert [(r.id, r.title) for r in runs] == [("b", "a },{ b"), ("a", "x")]
    again = provider._newest_from_bytes(b"[" + b",".join(items[:1]) + b"]")
    assert [(r.id, r.title) for r in again] == [("a", "x")]


async def test_paged_items_that_did_not_change_keep_their_runs(sim):
    provider = sim.provider("currents", limit=50)
    first = await provider.list_runs()
    sim.sim.clock.advance(20)  # the active runs move on; the finished ones do not
    second = await provider.list_runs()

    kept = {run.id for run in second if any(run is old for old in first)}
    finished = {run.id for run in first if run.status.is_terminal}
    assert finished and finished <= kept
    assert len(provider.kit.items) == len(second)  # bounded to what the list shows


# -- paging ------------------------------------------------------------------------------------


async def test_a_paged_unchanged_poll_is_one_request(sim):
    provider = sim.provider("wercker", limit=50)
    first = await provider.list_runs()
    assert len(listed(sim, "wercker")) == 3  # the first walk: every page
    mark = count(sim, "wercker")
    second = await provider.list_runs()

    assert listed(sim, "wercker", mark) == [("/api/v3/runs", "pipelineId=pipeline-1&limit=20")]
    assert second is first


async def test_two_walks_at_once_both_finish_with_the_same_runs(sim):
    # A refresh (`r`) while a poll is in flight walks the pages a second time at once: the
    # walk that ends first must not take the other's record of what it read (it crashed
    # with "argument of type 'NoneType' is not iterable").
    import asyncio

    provider = sim.provider("wercker", limit=50)
    first, second = await asyncio.gather(provider.list_runs(), provider.list_runs())
    assert [r.id for r in first] == [r.id for r in second] and len(first) > 20  # two pages
    again = await provider.list_runs()
    assert [r.id for r in again] == [r.id for r in first]


async def test_older_pages_are_reread_every_nth_poll_when_all_their_runs_finished(sim):
    provider = sim.provider("wercker", limit=50)
    first = await provider.list_runs()
    assert all(run.status.is_terminal for run in first[20:])
    per_poll = []
    for _ in range(REREAD_EVERY):
        mark = count(sim, "wercker")
        await provider.list_runs()
        per_poll.append(len(listed(sim, "wercker", mark)))

    # Polls 2 .. REREAD_EVERY - 1 read the first page only; the REREAD_EVERY-th all three.
    assert per_poll[:REREAD_EVERY - 2] == [1] * (REREAD_EVERY - 2)
    assert per_poll[REREAD_EVERY - 2] == 3


async def test_older_pages_are_reread_while_they_hold_an_active_run(sim):
    provider = sim.provider("wercker", limit=50)
    first = await provider.list_runs()
    for _ in range(20):  # twenty new (queued) runs fill the first page
        await provider.rerun(first[0].id)
    mark = count(sim, "wercker")
    second = await provider.list_runs()
    assert len(listed(sim, "wercker", mark)) == 1  # merged: the older pages were all finished
    assert any(not run.status.is_terminal for run in second[20:])  # now one of them is not
    mark = count(sim, "wercker")
    await provider.list_runs()

    assert len(listed(sim, "wercker", mark)) == 3


async def test_a_new_run_on_the_first_page_merges_with_the_older_pages_kept(sim):
    provider = sim.provider("wercker", limit=50)
    first = await provider.list_runs()
    new = await provider.rerun(first[0].id)  # a new run pushes one onto the second page
    mark = count(sim, "wercker")
    second = await provider.list_runs()

    assert len(listed(sim, "wercker", mark)) == 1  # the older pages were not read again
    assert [r.id for r in second] == [new.id] + [r.id for r in first]
    assert all(a is b for a, b in zip(second[1:], first, strict=True))  # the same objects


async def test_the_first_page_is_on_screen_before_the_later_pages(sim):
    provider = sim.provider("wercker", limit=50)
    events: list[RunsChanged] = []
    poller = Poller({"w": provider}, intervals={"w": 5.0},
                    on_event=lambda e: events.append(e) if isinstance(e, RunsChanged) else None)
    await poller.poll_once("w")

    assert [len(e.changed) for e in events] == [20, 4]
    assert not events[1].removed
    await poller.aclose()


# -- the scheduler -----------------------------------------------------------------------------


async def _with_unfinished(sim, provider, n: int) -> list[str]:
    """`n` new unfinished runs (reruns), listed once; pages of one run, so that only the
    newest is on the page read from the cursor and the others are refreshed by id."""
    provider.page_size = 1
    first = await provider.list_runs()
    ids = [(await provider.rerun(first[-1].id)).id for _ in range(n)]
    await provider.list_runs()
    return ids


async def test_the_scheduler_refreshes_at_most_its_cap_of_unfinished_runs_a_poll(sim):
    provider = sim.provider("scheduler")
    provider.refresh_per_poll, provider.refresh_at_once = 3, 2
    new = await _with_unfinished(sim, provider, 6)
    unfinished = {r.id for r in await provider.list_runs() if not r.status.is_terminal}
    assert set(new) <= unfinished

    seen: list[set[str]] = []
    for _ in range(3):
        mark = count(sim, "scheduler")
        await provider.list_runs()
        by_id = {p.rsplit("/", 1)[1] for p, _ in listed(sim, "scheduler", mark)
                 if p.startswith(RUNS + "/") and not p.endswith("/definition")}
        seen.append(by_id)
        assert len(by_id) <= 3
    # Round the unfinished runs: those refreshed longest ago go first.
    assert len(set().union(*seen)) > 3


async def test_the_scheduler_refreshes_concurrently_up_to_its_cap(sim):
    provider = sim.provider("scheduler")
    provider.refresh_per_poll, provider.refresh_at_once = 6, 3
    await _with_unfinished(sim, provider, 6)
    in_flight, most = 0, 0
    get = provider._get

    async def counting(path, params=None):
        nonlocal in_flight, most
        if path.startswith(RUNS + "/") and params is None:
            in_flight += 1
            most = max(most, in_flight)
            try:
                await asyncio.sleep(0.01)
                return await get(path, params)
            finally:
                in_flight -= 1
        return await get(path, params)

    provider._get = counting
    await provider.list_runs()
    assert most == 3


async def test_the_run_on_screen_is_read_once_a_poll_by_the_list_and_the_detail(sim):
    provider = sim.provider("scheduler")
    runs = await provider.list_runs()
    run = next(r for r in runs if not r.status.is_terminal)
    path = f"{RUNS}/{run.id}"

    def reads(mark: int) -> int:
        return sum(1 for p, _ in listed(sim, "scheduler", mark) if p == path)

    mark = count(sim, "scheduler")
    await provider.list_runs()  # refreshes it
    await provider.get_run(run.id)  # takes what the refresh read
    assert reads(mark) == 1
    mark = count(sim, "scheduler")
    await provider.get_run(run.id)  # a later detail poll reads it anew
    await provider.list_runs()  # and the list does not read it again
    assert reads(mark) == 1


async def test_the_scheduler_holds_only_what_its_list_shows(sim):
    provider = sim.provider("scheduler", limit=5)
    first = await provider.list_runs()
    gone = {run.id for run in first}
    for _ in range(6):  # newer runs push every one of the first five off the list
        await provider.rerun(first[0].id)
        await provider.list_runs()
    held = {run.id for run in await provider.list_runs()}
    used = {h.wire.definition_hash for h in provider._held.values()}
    assert set(provider._definitions) <= used
    assert set(provider._created) <= held
    assert set(provider._read_in) <= held
    # The client remembers bodies of the held runs only (by id, and their snapshots).
    by_id = {key.split("?")[0].split("/")[4] for key in provider.client._bodies
             if key.startswith(RUNS + "/")}
    assert by_id <= held and not gone & held
