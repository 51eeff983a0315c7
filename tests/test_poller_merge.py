"""What one poll changed in a source's runs (poller/merge.py): the changed runs in the list's
order, the ids that left, the runs that finished, and whether every run has finished, the
same whether the list kept its order (compared by place) or not (compared as sets)."""

from __future__ import annotations

import random

import pytest

from runwatch.models import Run, RunStatus
from runwatch.poller.merge import SourceRuns


def run(run_id: str, status: RunStatus = RunStatus.PASSED, title: str = "t") -> Run:
    return Run(source="s", provider="p", id=run_id, status=status, provider_status="x",
               title=title)


def test_a_changed_run_in_its_place_is_the_only_change_and_the_order_stays():
    runs = [run(f"r{n}") for n in range(100)]
    known = SourceRuns()
    known.merge(runs)
    again = list(runs)
    again[40] = run("r40", title="new")
    again[41] = run("r41")  # a new object, equal: not a change
    merged = known.merge(again)

    assert [(r.id, r.title) for r in merged.changed] == [("r40", "new")]
    assert merged.removed == ()
    assert list(known.runs) == [r.id for r in again]
    assert known.runs["r40"] is again[40]


def test_an_id_listed_twice_is_one_run_and_counted_once():
    known = SourceRuns()
    known.merge([run("a", RunStatus.RUNNING), run("a", RunStatus.RUNNING)])
    assert list(known.runs) == ["a"] and known.unfinished == 1
    known.merge([run("a")])
    assert known.all_terminal and known.unfinished == 0


def test_runs_that_came_and_went_are_said_in_the_lists_order():
    runs = [run(f"r{n}") for n in range(100)]
    known = SourceRuns()
    known.merge(runs)
    again = [run("new1"), *runs[:50], run("new2"), *runs[51:]]  # r50 left
    merged = known.merge(again)

    assert [r.id for r in merged.changed] == ["new1", "new2"]
    assert merged.removed == ("r50",)
    assert list(known.runs) == [r.id for r in again]


def test_a_run_finishing_is_a_transition_and_the_count_of_unfinished_follows():
    runs = [run("a", RunStatus.RUNNING), run("b", RunStatus.QUEUED), run("c")]
    known = SourceRuns()
    known.merge(runs)
    assert not known.all_terminal
    merged = known.merge([run("a", RunStatus.FAILED), runs[1], runs[2]])

    assert [(before.status, now.status) for before, now in merged.finished] == [
        (RunStatus.RUNNING, RunStatus.FAILED)]
    assert not known.all_terminal  # b is still queued
    known.merge([known.runs["a"], known.runs["c"]])  # b left
    assert known.all_terminal


def test_a_first_page_adds_and_removes_nothing():
    known = SourceRuns()
    known.merge([run("a"), run("b")], partial=True)
    merged = known.merge([run("c")], partial=True)

    assert [r.id for r in merged.changed] == ["c"] and merged.removed == ()
    assert set(known.runs) == {"a", "b", "c"} and known.last_list is None


@pytest.mark.parametrize("seed", range(8))
def test_any_sequence_of_lists_merges_as_a_full_comparison_would(seed):
    rng = random.Random(seed)
    statuses = [RunStatus.RUNNING, RunStatus.PASSED, RunStatus.FAILED, RunStatus.QUEUED]
    serial = 0

    def fresh() -> Run:
        nonlocal serial
        serial += 1
        return run(f"n{serial}", rng.choice(statuses))

    known = SourceRuns()
    current: list[Run] = []
    for _ in range(30):
        before = dict(known.runs)
        nxt = list(current)
        move = rng.random()
        if move < 0.5 and nxt:
            at = rng.randrange(len(nxt))
            nxt[at] = run(nxt[at].id, rng.choice(statuses), f"{rng.random()}")
        elif move < 0.7:
            nxt.insert(rng.randrange(len(nxt) + 1), fresh())
        elif move < 0.85 and nxt:
            del nxt[rng.randrange(len(nxt))]
        else:
            rng.shuffle(nxt)
        merged = known.merge(nxt)

        assert [r.id for r in merged.changed] == [
            r.id for r in nxt if r.id not in before or before[r.id] != r]
        assert set(merged.removed) == set(before) - {r.id for r in nxt}
        assert list(known.runs) == [r.id for r in nxt]
        assert known.all_terminal == all(r.status.is_terminal for r in nxt)
        current = nxt
