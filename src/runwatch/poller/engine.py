"""The polling engine (DESIGN section 4): one loop per source on asyncio, no Textual.

Each loop polls, then re-arms a one-shot wait, so polls never overlap or stack. A poll has a
deadline (a few request timeouts): one that takes longer fails as a timeout of that source,
never a source frozen on "ok". Changes, not snapshots, go out as events:

- `RunsChanged`: runs added or updated, ids removed (nothing when nothing changed);
- `HealthChanged`: a source's state or error changed (ok, stale, error, paused);
- `DetailLoaded`: the detail of the one run on screen;
- `RunTransition`: a run became terminal.

`last_success` and `next_poll` of `health(source)` are live between events, so a clock on
screen can show "updated 4 s ago" without an event per poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from runwatch.backoff import TOKEN_RETRY_S, backoff_s
from runwatch.errors import AuthError, RequestTimeout, RunwatchError
from runwatch.models import Run, RunDetail
from runwatch.poll_events import (
    DetailLoaded,
    HealthChanged,
    HealthState,
    PollEvent,
    RunsChanged,
    RunTransition,
    SourceHealth,
)
from runwatch.poller.merge import SourceRuns
from runwatch.providers import Provider
from runwatch.weblinks import WebLinks

T = TypeVar("T")

log = logging.getLogger(__name__)

TOKEN_PROGRESS_S = 1.0  # how often a slow token_cmd's "still running, N s" moves
MAX_STRETCH = 4.0
# A poll may page and retry, but not for ever: this many request timeouts, at least a minute.
POLL_DEADLINE_TIMEOUTS = 3
MIN_POLL_DEADLINE_S = 60.0


async def woken_or_after(wake: asyncio.Event, delay: float | None) -> None:
    """Return when `wake` is set or after `delay` seconds (None: only when woken).

    Not `asyncio.wait_for`: on Python 3.11 it hands back a wake that came with a cancel and
    drops the cancel, so a loop stopped just as a hub pushed a change slept on for a whole
    interval."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await wake.wait()


@dataclass
class _SourceState:
    provider: Provider
    base_interval: float
    known: SourceRuns = field(default_factory=SourceRuns)  # its runs, as last polled
    health: SourceHealth = field(default_factory=SourceHealth)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    stretch: float = 1.0
    polls: int = 0
    task: asyncio.Task[None] | None = None
    links: WebLinks = field(default_factory=lambda: WebLinks(None))


class Poller:
    """Polls every source's run list, and the detail of the focused run."""

    def __init__(
        self,
        providers: Mapping[str, Provider],
        *,
        intervals: Mapping[str, float],
        on_event: Callable[[PollEvent], None],
        now: Callable[[], float] = time.time,
        jitter: float = 0.1,
        rng: random.Random | None = None,
        token_retry_s: float | None = None,
        poll_deadline_s: float | None = None,
    ) -> None:
        self.providers = providers
        self._token_retry_s = TOKEN_RETRY_S if token_retry_s is None else token_retry_s
        self._deliver = on_event
        self._stopping = False
        self._now = now
        self._jitter = jitter
        self._rng = rng or random.Random()
        self._poll_deadline_s = poll_deadline_s
        self._sources = {
            name: _SourceState(p, intervals.get(name, 5.0)) for name, p in providers.items()
        }
        for name, state in self._sources.items():
            state.health = SourceHealth(interval_s=state.base_interval)
            state.provider.on_partial = functools.partial(self._partial, name)
            state.links = WebLinks.for_source(state.provider.source)
        self._paused = False
        self._focus: tuple[str, str] | None = None
        self._detail_task: asyncio.Task[None] | None = None
        self._detail_wake = asyncio.Event()

    # -- control ---------------------------------------------------------------------

    def start(self) -> None:
        """Start one loop per source; call inside the running event loop."""
        self._stopping = False
        for name, state in self._sources.items():
            if state.task is None:
                state.task = asyncio.create_task(self._source_loop(name), name=f"poll:{name}")
                # A provider whose server pushes changes (a runwatch hub) wakes its loop.
                push = getattr(state.provider, "push_to", None)
                if push is not None:
                    push(functools.partial(self.refresh, name))

    async def stop(self) -> None:
        self._stopping = True
        tasks = [s.task for s in self._sources.values() if s.task] + (
            [self._detail_task] if self._detail_task else []
        )
        for state in self._sources.values():
            push = getattr(state.provider, "push_to", None)
            if push is not None:
                push(None)
        for task in tasks:
            task.cancel()
        # gather, not a loop of `await task` under suppress(CancelledError): that swallowed
        # the cancel of stop() itself, so a caller's timeout on it could never fire.
        await asyncio.gather(*tasks, return_exceptions=True)
        for state in self._sources.values():
            state.task = None
        self._detail_task = None

    async def aclose(self) -> None:
        """Stop polling and close every provider's connections."""
        await self.stop()
        await asyncio.gather(*(p.aclose() for p in self.providers.values()))

    def refresh(self, source: str | None = None) -> None:
        """Poll now: one source, or all of them (and the focused run's detail)."""
        for name, state in self._sources.items():
            if source is None or name == source:
                state.stretch = 1.0
                state.wake.set()
        if self._focus and (source is None or self._focus[0] == source):
            self._detail_wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        self._paused = True
        for name, state in self._sources.items():
            self._set_health(name, replace(state.health, state="paused", next_poll=None))

    def resume(self) -> None:
        self._paused = False
        for name, state in self._sources.items():
            restored: HealthState = (
                "ok" if state.health.error is None and state.health.last_success else
                "starting" if state.health.last_success is None and not state.health.error else
                "stale" if state.health.last_success else "error"
            )
            self._set_health(name, replace(state.health, state=restored))
        self.refresh()

    def focus(self, source: str | None, run_id: str | None) -> None:
        """Poll the detail of this run (the one on screen); None stops detail polling."""
        target = (source, run_id) if source and run_id else None
        if target == self._focus:
            return
        self._focus = target
        if self._detail_task is not None:
            # Nobody looks at the old run any more: dropping its request is harmless.
            self._detail_task.cancel()
            self._detail_task = None
        if target is not None:
            self._detail_wake = asyncio.Event()
            self._detail_task = asyncio.create_task(self._detail_loop(*target), name="detail")

    # -- reading ---------------------------------------------------------------------

    def runs(self, source: str) -> Mapping[str, Run]:
        return self._sources[source].known.runs

    def health(self, source: str) -> SourceHealth:
        return self._sources[source].health

    def links(self, source: str) -> WebLinks:
        """What sets the web link of `source`'s runs (every run the poller keeps has it)."""
        return self._sources[source].links

    def poll_count(self, source: str) -> int:
        return self._sources[source].polls

    def _on_event(self, event: PollEvent) -> None:
        if self._stopping:
            return  # a poll finishing while we wind down must not reach an unmounting UI
        try:
            self._deliver(event)
        except Exception:
            # A subscriber's bug must not end polling: the loop would die silently and the
            # screen would show stale data as if it were live.
            log.exception("a poll event handler failed on %r", event)

    # -- the loops -------------------------------------------------------------------

    async def _source_loop(self, name: str) -> None:
        state = self._sources[name]
        while not self._stopping:
            if not self._paused:
                await self.poll_once(name)
            delay = None if self._paused else self._next_delay(state)
            if delay is not None:
                state.health = replace(state.health, next_poll=self._now() + delay)
            await woken_or_after(state.wake, delay)
            state.wake.clear()

    async def poll_once(self, name: str) -> None:
        """One list poll of one source: diff, events, health. Never raises."""
        state = self._sources[name]
        state.polls += 1
        try:
            runs = state.links.runs(
                await self._within_deadline(name, self._list_runs(name, state)))
        except RunwatchError as exc:
            self._failed(name, exc)
            return
        except Exception as exc:  # a bug must not stop the loop: report it, keep polling
            log.exception("poll of %s failed", name)
            self._failed(name, RunwatchError(f"{name}: internal error: {exc!r}"))
            return
        # Providers hand back the very same list when the body was byte-identical: nothing
        # to diff, even at 10,000 runs.
        changed = runs is not state.known.last_list and self._apply(name, runs)
        state.stretch = 1.0 if changed or not state.known.all_terminal else min(
            MAX_STRETCH, state.stretch * 2
        )
        self._set_health(
            name,
            SourceHealth(
                state="ok",
                last_success=self._now(),
                interval_s=state.base_interval * state.stretch,
                next_poll=state.health.next_poll,
            ),
        )

    async def _list_runs(self, name: str, state: _SourceState) -> list[Run]:
        """The source's runs, its token fetched first (a slow command's progress on its line)
        and fetched again once after a 401, since a token_cmd may give a fresh one."""
        client = state.provider.client
        if client.token_source is not None and not client.token_source.known:
            await self._showing_token_progress(name, client.ensure_token())
        try:
            return await state.provider.list_runs()
        except AuthError:
            if not await self._showing_token_progress(name, client.renew_token()):
                raise
        return await state.provider.list_runs()

    async def _showing_token_progress(self, name: str, step: Awaitable[T]) -> T:
        """Await a token step; while its command runs, the source's line says so each second
        (the other sources' loops are not held up: each source has its own)."""
        state = self._sources[name]
        task = asyncio.ensure_future(step)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=TOKEN_PROGRESS_S)
                if done:
                    return task.result()
                source = state.provider.client.token_source
                waiting = source.pending() if source is not None else None
                if waiting is not None and not self._paused:
                    before = state.health
                    self._set_health(name, replace(
                        before, state="stale" if before.last_success else "error",
                        error=waiting, next_poll=None,
                    ))
        finally:
            task.cancel()  # the poller stopped: the command itself ends at aclose

    def deadline_s(self, name: str) -> float:
        """How long one poll of `name` may take."""
        if self._poll_deadline_s is not None:
            return self._poll_deadline_s
        timeout = self._sources[name].provider.client.timeout_s
        return max(MIN_POLL_DEADLINE_S, POLL_DEADLINE_TIMEOUTS * timeout)

    async def _within_deadline(self, name: str, call: Awaitable[T]) -> T:
        deadline = self.deadline_s(name)
        try:
            async with asyncio.timeout(deadline) as scope:
                return await call
        except TimeoutError:
            if not scope.expired():
                raise
            raise RequestTimeout(
                f"{name}: the poll did not finish within {deadline:g} s"
            ) from None

    def _partial(self, name: str, runs: list[Run]) -> None:
        """The runs a source's first list has read so far: on screen at once (its later
        pages, or its titles, fill in when the poll ends)."""
        if self._sources[name].known.last_list is None:
            self._apply(name, list(runs), partial=True)

    def _apply(self, name: str, runs: list[Run], *, partial: bool = False) -> bool:
        """Merge a fresh list into the source's runs (poller.merge: what changed costs, not
        the rows); emit what changed. True if anything did. A `partial` list (a first page
        while later pages load) adds and updates, and removes nothing."""
        merged = self._sources[name].known.merge(runs, partial=partial)
        if not merged.changed and not merged.removed:
            return False
        self._on_event(RunsChanged(name, merged.changed, merged.removed))
        for before, run in merged.finished:
            self._on_event(RunTransition(run, before.status))
        if self._focus and self._focus[0] == name and any(
            r.id == self._focus[1] for r in merged.changed
        ):
            self._detail_wake.set()  # the run on screen moved: fetch its detail now
        return True

    def _failed(self, name: str, exc: RunwatchError) -> None:
        state = self._sources[name]
        previous = state.health
        self._set_health(
            name,
            SourceHealth(
                state="stale" if previous.last_success else "error",
                error=str(exc),
                last_success=previous.last_success,
                next_poll=previous.next_poll,
                interval_s=backoff_s(
                    exc, previous.failures + 1, base_interval=state.base_interval,
                    token_source=state.provider.client.token_source,
                    token_retry_s=self._token_retry_s,
                ),
                failures=previous.failures + 1,
            ),
        )

    def _next_delay(self, state: _SourceState) -> float:
        interval = state.health.interval_s
        return interval * self._rng.uniform(1 - self._jitter, 1 + self._jitter)

    def _set_health(self, name: str, health: SourceHealth) -> None:
        state = self._sources[name]
        before = state.health
        state.health = health
        if health._visible() != before._visible():
            self._on_event(HealthChanged(name, health))

    async def _detail_loop(self, source: str, run_id: str) -> None:
        state = self._sources[source]
        last: RunDetail | None = None
        while not self._stopping:
            if not self._paused:
                try:
                    detail = state.links.run(
                        await self._within_deadline(source, state.provider.get_run(run_id)))
                except RunwatchError as exc:
                    self._on_event(DetailLoaded(source, run_id, None, str(exc)))
                except Exception as exc:
                    log.exception("detail of %s/%s failed", source, run_id)
                    self._on_event(DetailLoaded(source, run_id, None, f"internal error: {exc!r}"))
                else:
                    if detail != last:
                        self._on_event(DetailLoaded(source, run_id, detail, None))
                    last = detail
            finished = last is not None and last.status.is_terminal
            delay = None if self._paused else state.base_interval * (
                MAX_STRETCH if finished else 1.0
            )
            await woken_or_after(self._detail_wake, delay)
            self._detail_wake.clear()

