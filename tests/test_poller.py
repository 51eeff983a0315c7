"""The polling engine, driven with scripted providers and short intervals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from runwatch.config import SourceConfig
from runwatch.errors import AuthError, RateLimited, ServerError
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, RunStatus
from runwatch.poll_events import (
    DetailLoaded,
    HealthChanged,
    PollEvent,
    RunsChanged,
    RunTransition,
)
from runwatch.poller import Poller
from runwatch.providers import Provider


def run(run_id: str, status: str = "running", progress: float = 10.0) -> Run:
    return Run(source="ci", provider="fake", id=run_id, status=RunStatus(status),
               provider_status=status, progress=progress)


class ScriptedProvider(Provider):
    """Answers each list poll from a script; the last answer repeats."""

    name = "fake"

    # 4 ms to answer, as a provider on loopback takes: a test that waits for a poll to
    # start and then asserts its result fails here, as it would against real latency.
    def __init__(self, answers: list[list[Run] | Exception], delay: float = 0.004) -> None:
        source = SourceConfig(name="ci", provider="services", base_url="http://127.0.0.1:9")
        super().__init__(source, SourceClient(source="ci", base_url=source.base_url))
        self.answers = answers
        self.delay = delay
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.completed = 0
        self.detail_calls = 0

    async def list_runs(self) -> list[Run]:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            answer = self.answers[min(self.calls, len(self.answers) - 1)]
            self.calls += 1
            await asyncio.sleep(self.delay)
            if isinstance(answer, Exception):
                raise answer
            self.completed += 1
            return answer
        finally:
            self.in_flight -= 1

    async def get_run(self, run_id: str) -> RunDetail:
        self.detail_calls += 1
        base = self.answers[min(self.calls, len(self.answers)) - 1]
        found = next(r for r in base if isinstance(base, list) and r.id == run_id)
        return RunDetail.model_validate(found.model_dump())


def make_poller(provider: Provider, interval: float = 0.02) -> tuple[Poller, list[PollEvent]]:
    events: list[PollEvent] = []
    poller = Poller({"ci": provider}, intervals={"ci": interval}, on_event=events.append,
                    jitter=0.0)
    return poller, events


async def until(predicate: Callable[[], bool], limit_s: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


def of(kind: type, events: list[PollEvent]) -> list:
    return [e for e in events if isinstance(e, kind)]


async def test_first_poll_emits_every_run_then_unchanged_polls_emit_nothing():
    provider = ScriptedProvider([[run("1"), run("2")]])
    poller, events = make_poller(provider)
    poller.start()
    await until(lambda: provider.calls >= 4)
    await poller.stop()
    changes = of(RunsChanged, events)
    assert len(changes) == 1
    assert [r.id for r in changes[0].changed] == ["1", "2"]
    assert poller.health("ci").state == "ok"


async def test_only_changed_runs_and_removed_ids_are_emitted():
    provider = ScriptedProvider([[run("1"), run("2"), run("3")],
                                 [run("1"), run("2", progress=50.0)]])
    poller, events = make_poller(provider)
    poller.start()
    await until(lambda: provider.calls >= 3)
    await poller.stop()
    second = of(RunsChanged, events)[1]
    assert [r.id for r in second.changed] == ["2"]
    assert second.removed == ("3",)


async def test_a_run_turning_failed_is_a_transition_event():
    provider = ScriptedProvider([[run("1")], [run("1", "failed")]])
    poller, events = make_poller(provider)
    poller.start()
    # the second poll's result, not its start: a provider takes time to answer
    await until(lambda: bool(of(RunTransition, events)))
    await poller.stop()
    (transition,) = of(RunTransition, events)
    assert transition.run.status is RunStatus.FAILED
    assert transition.previous is RunStatus.RUNNING


async def test_polls_never_overlap_and_a_slow_poll_is_never_cancelled():
    provider = ScriptedProvider([[run("1")]], delay=0.1)
    poller, _ = make_poller(provider, interval=0.01)
    poller.start()
    await until(lambda: provider.completed >= 2)
    poller.refresh()
    poller.refresh()
    await until(lambda: provider.completed >= 3)
    await poller.stop()
    assert provider.max_in_flight == 1
    assert provider.completed >= 3


async def test_failure_keeps_data_marks_stale_backs_off_and_recovers():
    boom = ServerError("ci: HTTP 500 Internal Server Error", status_code=500)
    provider = ScriptedProvider([[run("1")], boom, boom, [run("1")]])
    poller, events = make_poller(provider, interval=0.01)
    poller.start()
    # each failed poll's result, not its start: a provider takes time to answer
    await until(lambda: poller.health("ci").failures >= 1)
    health = poller.health("ci")
    assert health.state == "stale"
    assert "HTTP 500" in (health.error or "")
    assert health.interval_s == pytest.approx(0.02)  # doubled
    assert list(poller.runs("ci")) == ["1"]  # last good data kept
    await until(lambda: poller.health("ci").failures >= 2)
    assert poller.health("ci").interval_s == pytest.approx(0.04)
    await until(lambda: poller.health("ci").state == "ok")
    await poller.stop()
    states = [e.health.state for e in of(HealthChanged, events)]
    assert states == ["ok", "stale", "stale", "ok"]


async def test_backoff_honours_retry_after_and_is_capped_at_60s():
    provider = ScriptedProvider([RateLimited("ci: slow down", retry_after=45.0)])
    poller, _ = make_poller(provider, interval=0.01)
    await poller.poll_once("ci")
    assert poller.health("ci").interval_s == 45.0
    assert poller.health("ci").state == "error"  # never succeeded yet
    provider.answers = [ServerError("ci: down")]
    for _ in range(12):
        await poller.poll_once("ci")
    assert poller.health("ci").interval_s == 60.0


async def test_auth_errors_retry_slowly_with_the_token_origin_in_the_message():
    provider = ScriptedProvider(
        [AuthError("ci: token rejected (token from env CI_TOKEN): HTTP 401", status_code=401)]
    )
    poller, _ = make_poller(provider)
    await poller.poll_once("ci")
    health = poller.health("ci")
    assert health.interval_s == 300.0
    assert "env CI_TOKEN" in (health.error or "")


async def test_a_bug_in_a_provider_is_reported_not_raised():
    provider = ScriptedProvider([KeyError("status")])
    poller, _ = make_poller(provider)
    await poller.poll_once("ci")
    assert "internal error" in (poller.health("ci").error or "")


async def test_all_terminal_stretches_up_to_4x_and_a_change_snaps_back():
    done = [run("1", "passed", 100.0)]
    provider = ScriptedProvider([done])
    poller, _ = make_poller(provider, interval=1.0)
    for _ in range(5):
        await poller.poll_once("ci")
    assert poller.health("ci").interval_s == 4.0
    provider.answers = [[*done, run("2", "queued")]]
    provider.calls = 0
    await poller.poll_once("ci")
    assert poller.health("ci").interval_s == 1.0


async def test_pause_stops_polling_and_resume_polls_at_once():
    provider = ScriptedProvider([[run("1")]])
    poller, _ = make_poller(provider, interval=0.01)
    poller.start()
    await until(lambda: provider.calls >= 1)
    poller.pause()
    assert poller.health("ci").state == "paused"
    await asyncio.sleep(0.05)
    calls = provider.calls
    await asyncio.sleep(0.1)
    assert provider.calls == calls
    poller.resume()
    await until(lambda: provider.calls > calls)
    assert poller.health("ci").state == "ok"
    await poller.stop()


async def test_refresh_polls_now_instead_of_waiting():
    provider = ScriptedProvider([[run("1")]])
    poller, _ = make_poller(provider, interval=30.0)
    poller.start()
    await until(lambda: provider.calls == 1)
    poller.refresh("ci")
    await until(lambda: provider.calls == 2, limit_s=1.0)
    await poller.stop()


@pytest.mark.parametrize("turns", range(6))
async def test_stop_ends_the_loop_when_a_wake_and_the_stop_come_together(turns: int) -> None:
    """A hub's push sets the wake just as the dashboard quits: on Python 3.11
    `asyncio.wait_for` returned the wake and swallowed the cancel, so the loop polled on
    and slept a whole interval (a 60 s hang at exit, seen in CI)."""
    provider = ScriptedProvider([[run("1")]])
    poller, _ = make_poller(provider, interval=60.0)
    poller.focus("ci", "1")
    poller.start()
    await until(lambda: provider.calls == 1 and provider.detail_calls >= 1)
    await asyncio.sleep(0.05)  # both loops asleep on their wake
    poller.refresh("ci")
    for _ in range(turns):  # the waits' inner tasks finish at some turn: try each
        await asyncio.sleep(0)
    await asyncio.wait_for(poller.stop(), 2.0)
    assert provider.calls <= 2


async def test_detail_is_polled_only_for_the_focused_run():
    provider = ScriptedProvider([[run("1"), run("2")]])
    poller, events = make_poller(provider)
    poller.start()
    await until(lambda: provider.calls >= 2)
    assert provider.detail_calls == 0
    poller.focus("ci", "2")
    await until(lambda: bool(of(DetailLoaded, events)))
    loaded = of(DetailLoaded, events)[0]
    assert (loaded.run_id, loaded.detail.id if loaded.detail else None) == ("2", "2")
    poller.focus(None, None)
    calls = provider.detail_calls
    await asyncio.sleep(0.1)
    await poller.stop()
    assert provider.detail_calls == calls


async def test_a_failing_event_handler_does_not_stop_polling():
    provider = ScriptedProvider([[run("1")], [run("1", progress=20.0)], [run("1", progress=30.0)]])
    seen: list[PollEvent] = []

    def handler(event: PollEvent) -> None:
        seen.append(event)
        raise KeyError("the table had no columns yet")

    poller = Poller({"ci": provider}, intervals={"ci": 0.01}, on_event=handler, jitter=0.0)
    poller.start()
    # the third poll's result, not its start: a provider takes time to answer
    await until(lambda: len(of(RunsChanged, seen)) >= 3)
    await poller.stop()
    assert [e.changed[0].progress for e in of(RunsChanged, seen)][:3] == [10.0, 20.0, 30.0]


@pytest.mark.parametrize("asked", [float("inf"), 999_999_999.0, float("nan"), -5.0])
async def test_any_retry_after_leaves_a_finite_wait_of_at_most_60s(asked):
    provider = ScriptedProvider([RateLimited("ci: slow down", retry_after=asked)])
    poller, _ = make_poller(provider, interval=0.01)
    poller.start()
    await until(lambda: poller.health("ci").next_poll is not None)
    health = poller.health("ci")
    await poller.stop()
    assert 0 < health.interval_s <= 60.0
    assert health.interval_s == (60.0 if asked > 60 else pytest.approx(0.02))
    assert health.next_poll is not None and health.next_poll - time.time() <= 66.0


async def test_a_poll_past_its_deadline_is_a_timeout_and_the_loop_goes_on():
    provider = ScriptedProvider([[run("1")]], delay=5.0)
    poller = Poller({"ci": provider}, intervals={"ci": 0.01}, on_event=lambda _: None,
                    jitter=0.0, poll_deadline_s=0.2)
    poller.start()
    await until(lambda: provider.calls >= 2)
    health = poller.health("ci")
    await poller.stop()
    assert health.state == "error"
    assert health.error == "ci: the poll did not finish within 0.2 s"
    assert provider.completed == 0


def test_the_poll_deadline_is_three_request_timeouts_and_at_least_a_minute():
    slow = ScriptedProvider([[run("1")]])
    slow.client.timeout_s = 30.0
    poller, _ = make_poller(slow)
    assert poller.deadline_s("ci") == 90.0
    slow.client.timeout_s = 10.0
    assert poller.deadline_s("ci") == 60.0
