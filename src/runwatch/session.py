"""The session: the configured sources' providers and their poller, and the one gate and
dispatch for the actions on runs. No Textual here: the dashboard and the command line both
act through a Session, so a refusal reads the same wherever it is met.

`refusal` is the gate (kiosk, read-only, capability, a finished run); `perform` asks it, then
sends the action through the provider's table of actions and polls that source again. The
HTTP client's own read-only refusal (runwatch.http) stays under it as the last line.

A run stopped through the session on an API that reports a stop as a failure (services) is
remembered, and every run the session hands on (poll events, `get_run`) reads "canceled
(stopped here)" instead of failed for as long as this process lives: `stopped_here`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from runwatch.config import Config, SourceConfig
from runwatch.errors import RunwatchError
from runwatch.http_record import RateLimit, RequestRecord
from runwatch.models import Cancellation, Run, RunDetail, RunStatus, Spec, Step, TestResult
from runwatch.poll_events import DetailLoaded, PollEvent, RunsChanged, RunTransition, SourceHealth
from runwatch.providers import Provider, RunAction, build_providers
from runwatch.weblinks import WebLinks

if TYPE_CHECKING:
    from runwatch.alerts import Alerter
    from runwatch.history import Recorder
    from runwatch.poller import Poller

__all__ = ["Outcome", "Refused", "RunAction", "Session", "SourceFacts", "Traffic"]

# What an outcome says once an action went through, when the API says nothing more.
DONE = {"cancel": "canceled", "abort": "aborted", "rerun": "rerun started for",
        "delete": "deleted"}


class Refused(RunwatchError):
    """The gate refused the action (kiosk, read-only, no such action, a finished run); nothing
    was sent. Exit code 5."""

    exit_code = 5


@dataclass(frozen=True)
class Outcome:
    """An action that went through: what to tell a person, and the run a rerun started."""

    action: RunAction
    source: str
    run_id: str
    message: str
    new_run: Run | None = None


@dataclass(frozen=True)
class SourceFacts:
    """What a screen may know of a source without its provider: its config and what its API
    can do."""

    config: SourceConfig
    api: str
    cancel_verb: str
    has_logs: bool
    marks_stderr: bool
    has_spec_results: bool

    @property
    def name(self) -> str:
        return self.config.name

    def verb(self, action: RunAction) -> str:
        """The action in this API's own words (Wercker aborts)."""
        return self.cancel_verb if action is RunAction.CANCEL else action.value


@dataclass(frozen=True)
class Traffic:
    """A source's last request and the rate limit its API last announced (the sources
    view); None where nothing is known yet."""

    last_request: RequestRecord | None
    rate_limit: RateLimit | None


def _facts(provider: Provider) -> SourceFacts:
    return SourceFacts(config=provider.source, api=provider.name,
                       cancel_verb=provider.cancel_verb, has_logs=provider.has_logs,
                       marks_stderr=provider.marks_stderr,
                       has_spec_results=provider.has_spec_results)


def _ignore(event: PollEvent) -> None:
    """No one listens (the command line polls nothing)."""


class Session:
    """The sources being watched, their poller, and what may be done to their runs.

    `read_only` is the global switch (`--read-only`, the config's `read_only`); a source's own
    `read_only` is its provider's. `kiosk` never acts (DESIGN section 9)."""

    def __init__(
        self,
        providers: Mapping[str, Provider],
        *,
        read_only: bool = False,
        kiosk: bool = False,
        intervals: Mapping[str, float] | None = None,
        on_event: Callable[[PollEvent], None] = _ignore,
        now: Callable[[], float] = time.time,
        owns_providers: bool = False,
    ) -> None:
        # Who hears the poller's events; the dashboard sets it once it is built.
        self.on_event = on_event
        self.providers: Mapping[str, Provider] = providers
        self.kiosk = kiosk
        self.read_only = read_only or kiosk
        self.owns_providers = owns_providers
        self.sources: Mapping[str, SourceFacts] = {
            name: _facts(p) for name, p in providers.items()
        }
        # The poller is built when first asked for: the commands that read once (list, show,
        # logs, the actions) never poll, and its modules are ~2 % of their start.
        self._poller: Poller | None = None
        self._intervals = dict(intervals or {})
        self._links: dict[str, WebLinks] = {}
        self._now = now
        # (source, run id) -> when this process sent the stop: see stopped_here.
        self._stopped: dict[tuple[str, str], float] = {}
        # The history file's writer (DESIGN section 13), when the session keeps one.
        self.history: Recorder | None = None
        # The `[notify]` alerts (DESIGN section 14), when the session raises them.
        self.alerts: Alerter | None = None

    @property
    def poller(self) -> Poller:
        """The sources' poller (built on first use; see __init__)."""
        if self._poller is None:
            from runwatch.poller import Poller

            self._poller = Poller(self.providers, intervals=self._intervals,
                                  on_event=self._deliver, now=self._now)
        return self._poller

    def links(self, source: str) -> WebLinks:
        """What sets the web link of `source`'s runs: the poller's once there is one (its
        memo keeps an unchanged list the same object), else one of the session's own."""
        if self._poller is not None:
            return self._poller.links(source)
        links = self._links.get(source)
        if links is None:
            links = self._links[source] = WebLinks.for_source(self._provider(source).source)
        return links

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        read_only: bool = False,
        kiosk: bool = False,
        only: list[str] | None = None,
        interval: float | None = None,
        now: Callable[[], float] = time.time,
    ) -> Session:
        """A session on the configured sources (or the `only` ones); it owns their clients."""
        read_only = read_only or kiosk or config.runwatch.read_only
        providers = build_providers(config, read_only=read_only, only=only)
        return cls.on(config, providers, read_only=read_only, kiosk=kiosk, interval=interval,
                      now=now, owns_providers=True)

    @classmethod
    def on(
        cls,
        config: Config,
        providers: Mapping[str, Provider],
        *,
        read_only: bool = False,
        kiosk: bool = False,
        interval: float | None = None,
        now: Callable[[], float] = time.time,
        owns_providers: bool = False,
    ) -> Session:
        """A session on providers already built (tests, the demo), with the config's rules:
        its global read-only switch and each source's poll interval (unless `interval`)."""
        intervals = {name: interval or config.interval_for(p.source)
                     for name, p in providers.items()}
        return cls(providers, read_only=read_only or kiosk or config.runwatch.read_only,
                   kiosk=kiosk, intervals=intervals, now=now, owns_providers=owns_providers)

    def remember(self, config: Config) -> None:
        """Keep the history file as `[history]` says: every changed run is written there
        off this thread (the dashboard and the kiosk; never the demo's simulated runs)."""
        if config.history.enabled and self.history is None:
            from runwatch.history import Recorder

            self.history = Recorder(keep_days=config.history.keep_days)

    def alert(self, config: Config) -> Alerter:
        """Raise `[notify]` alerts for the runs this session sees end (the dashboard, the
        kiosk, serve's kiosks); the command never sees a source's token variables."""
        if self.alerts is None:
            from runwatch.alerts import Alerter

            secrets = [name for s in config.sources for name in (s.token_env, s.password_env)
                       if name]
            self.alerts = Alerter(config.notify, secrets=secrets)
        return self.alerts

    def _deliver(self, event: PollEvent) -> None:
        event = self._as_stopped(event) if self._stopped else event
        # Only a poll that changed something sends RunsChanged: an unchanged one costs nothing.
        if self.history is not None and isinstance(event, RunsChanged):
            self.history.record(event.changed)
        elif (self.history is not None and isinstance(event, DetailLoaded)
              and event.detail is not None and event.detail.provider == "currents"):
            self.history.record_specs(event.detail)  # flaky specs: a detail loaded anyway
        elif self.alerts is not None and isinstance(event, RunTransition):
            self.alerts.offer(event.run, self.poller.runs(event.run.source).values())
        self.on_event(event)

    # -- runs this process stopped -------------------------------------------------------

    def stopped_here(self, run: Run) -> bool:
        """Whether `run` ended because this process stopped it, on an API that reports the
        stop as a failure: it is shown as canceled (stopped here), and no failure is
        announced for it."""
        return run.stopped_here or (
            run.key in self._stopped and run.status is RunStatus.FAILED)

    def _stopped_view(self, run: Run) -> Run:
        if run.stopped_here or not self.stopped_here(run):
            return run
        update: dict[str, object] = {"status": RunStatus.CANCELED, "stopped_here": True}
        if isinstance(run, RunDetail) and run.cancellation is None:
            at = datetime.fromtimestamp(self._stopped[run.key], UTC)
            update["cancellation"] = Cancellation(by="runwatch", at=at, reason="stopped here")
        return run.model_copy(update=update)

    def _as_stopped(self, event: PollEvent) -> PollEvent:
        if isinstance(event, RunsChanged):
            return replace(event, changed=tuple(self._stopped_view(r) for r in event.changed))
        if isinstance(event, DetailLoaded) and event.detail is not None:
            detail = self._stopped_view(event.detail)
            assert isinstance(detail, RunDetail)
            return replace(event, detail=detail)
        if isinstance(event, RunTransition):
            return replace(event, run=self._stopped_view(event.run))
        return event

    def __iter__(self) -> Iterator[str]:
        return iter(self.providers)

    # -- reading -------------------------------------------------------------------------

    def runs(self, source: str) -> Mapping[str, Run]:
        """The source's runs as last polled (by id), as the session shows them."""
        runs = self.poller.runs(source)
        if not any(key[0] == source for key in self._stopped):
            return runs
        return {run_id: self._stopped_view(run) for run_id, run in runs.items()}

    def health(self, source: str) -> SourceHealth | None:
        return self.poller.health(source) if source in self.providers else None

    def traffic(self, source: str) -> Traffic:
        """What the source's HTTP client last sent and heard (read live, no I/O)."""
        client = self.providers[source].client
        return Traffic(client.last_request, client.rate_limit)

    async def log(self, run: Run, step: Step) -> str:
        """The log text of one step of `run` (not yet cleaned: see runwatch.sanitize)."""
        return await self._provider(run.source).get_log(run.id, step)

    async def tests(self, run: Run, spec: Spec) -> list[TestResult]:
        """The tests of one spec of `run`, with their errors (kept in the history, when
        the session keeps one: flaky tests are learnt from the specs a person opens)."""
        results = await self._provider(run.source).get_spec_results(run.id, spec)
        if self.history is not None:
            self.history.record_tests(run, spec, results)
        return results

    async def get_run(self, source: str, run_id: str) -> RunDetail:
        """One run, read now (not through the poller), with its web link."""
        detail = self.links(source).run(await self._provider(source).get_run(run_id))
        if not self._stopped:
            return detail
        view = self._stopped_view(detail)
        assert isinstance(view, RunDetail)
        return view

    async def list_runs(self, source: str) -> list[Run]:
        """One source's runs, read now (not through the poller), with their web links."""
        return self.links(source).runs(await self._provider(source).list_runs())

    # -- acting --------------------------------------------------------------------------

    def verb(self, action: RunAction, source: str) -> str:
        """`action` in the words of `source`'s API ("abort" on Wercker)."""
        facts = self.sources.get(source)
        return facts.verb(action) if facts else action.value

    def refusal(self, action: RunAction, run: Run | None = None, *,
                source: str | None = None) -> str | None:
        """Why `action` cannot apply to `run` now, or None when it can: the one gate.

        Without a run (the command line before it has read one), `source` names where it
        would be sent, and only the rules that need no run are asked."""
        name = source if source is not None else run.source if run is not None else ""
        verb = self.verb(action, name)
        if self.kiosk:
            return f"kiosk mode is read-only: no {verb}"
        if self.read_only:
            return f"read-only mode: {verb} is disabled"
        provider = self.providers.get(name)
        if provider is None:
            return f"no source named {name}"
        if action not in provider.actions:
            return f"{provider.name} has no {verb}"
        if provider.read_only:
            return f"{name} is read-only"
        if action is RunAction.CANCEL and run is not None and run.status.is_terminal:
            return f"run {run.id} has already finished"
        return None

    def check(self, action: RunAction, run: Run | None = None, *,
              source: str | None = None) -> None:
        """Raise Refused with the gate's reason when `action` cannot apply; no I/O."""
        reason = self.refusal(action, run, source=source)
        if reason is not None:
            name = source if source is not None else run.source if run is not None else ""
            named = not name or reason.startswith(f"{name} ")
            raise Refused(reason if named else f"{name}: {reason}")

    async def perform(self, action: RunAction, run: Run) -> Outcome:
        """Send `action` for `run` if the gate allows it (else Refused, nothing sent), then
        poll its source again whatever the answer. An API's error is raised as it came."""
        self.check(action, run)
        provider = self.providers[run.source]
        verb = provider.verb(action)
        stopping = action is RunAction.CANCEL and provider.stop_reads_as_failure
        if stopping:
            # Before the request: a poll may see the run fail before the answer comes back.
            self._stopped[run.key] = self._now()
        try:
            sent = await provider.action_table()[action](run.id)
        except BaseException:
            if stopping:
                self._stopped.pop(run.key, None)  # not stopped by us after all
            raise
        finally:
            if self._poller is not None:  # no poller, nothing polls: nothing to wake
                self._poller.refresh(run.source)
        message = sent.said or f"{DONE.get(verb, verb + 'd')} run {run.id}"
        if sent.new_run is not None and sent.new_run.id != run.id:
            message += f" as run {sent.new_run.id}"
        return Outcome(action, run.source, run.id, message, sent.new_run)

    # -- lifecycle -----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop polling; close the clients the session built (not ones it was handed)."""
        if self._poller is not None:
            await self._poller.stop()
        if self.owns_providers:
            await asyncio.gather(*(p.aclose() for p in self.providers.values()))
        if self.history is not None:
            self.history.close()
        if self.alerts is not None:
            self.alerts.close()

    def _provider(self, source: str) -> Provider:
        try:
            return self.providers[source]
        except KeyError:
            raise Refused(f"no source named {source}") from None
