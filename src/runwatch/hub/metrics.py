"""`/metrics`: what the hub knows, in the Prometheus text format, by `prometheus_client`.

Counters and histograms that grow with time (polls, their duration, requests, finished runs'
durations) are kept as they happen; gauges of the present (runs by status, source up and
stale, age of the last good poll, each track's latest status) are read from the feed at
scrape time by a collector, so a scrape always tells what the screens show.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from runwatch.hub.feed import Feed
from runwatch.models import Run, RunStatus
from runwatch.poller import PollEvent, RunTransition

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
POLL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
RUN_BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)


class HubMetrics:
    """The registry `/metrics` renders, fed by the feed's events and the providers' polls."""

    def __init__(self, feed: Feed, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.feed = feed
        self._clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        self.poll_seconds = Histogram(
            "runwatch_poll_duration_seconds", "How long one poll of a source's run list took",
            ["source"], buckets=POLL_BUCKETS, registry=self.registry)
        self.polls = Counter(
            "runwatch_polls", "Polls of a source's run list, by outcome (ok, error)",
            ["source", "outcome"], registry=self.registry)
        self.run_seconds = Histogram(
            "runwatch_run_duration_seconds", "Durations of the runs seen to finish",
            ["source"], buckets=RUN_BUCKETS, registry=self.registry)
        for name in feed.session:
            self.poll_seconds.labels(name)
            self.run_seconds.labels(name)
            for outcome in ("ok", "error"):
                self.polls.labels(name, outcome)
        self.registry.register(_Present(feed))
        feed.listeners.append(self._on_event)
        for name, provider in feed.session.providers.items():
            # The hub owns these providers: timing their list call is timing the poll.
            provider.list_runs = self._timed(  # type: ignore[method-assign,assignment]
                name, provider.list_runs)

    def _timed(self, name: str, call: Callable[[], Awaitable[list[Run]]]
               ) -> Callable[[], Awaitable[list[Run]]]:
        @functools.wraps(call)
        async def timed() -> list[Run]:
            started = self._clock()
            outcome = "error"
            try:
                runs = await call()
                outcome = "ok"
                return runs
            finally:
                self.poll_seconds.labels(name).observe(self._clock() - started)
                self.polls.labels(name, outcome).inc()
        return timed

    def _on_event(self, event: PollEvent) -> None:
        if isinstance(event, RunTransition) and event.run.duration_s is not None:
            self.run_seconds.labels(event.run.source).observe(event.run.duration_s)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Present(Collector):
    """The gauges of now, read from the feed when Prometheus scrapes."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed

    def collect(self) -> Iterator[Metric]:
        feed = self.feed
        runs = GaugeMetricFamily("runwatch_runs", "Runs listed, by source and status",
                                 labels=["source", "status"])
        up = GaugeMetricFamily("runwatch_source_up", "1 when the last poll of the source "
                               "succeeded", labels=["source"])
        stale = GaugeMetricFamily("runwatch_source_stale", "1 when the source's runs are the "
                                  "last good ones of a failing source", labels=["source"])
        age = GaugeMetricFamily("runwatch_source_last_success_age_seconds",
                                "Seconds since the last good poll of the source",
                                labels=["source"])
        requests = CounterMetricFamily("runwatch_api_requests",
                                       "HTTP requests sent to the source's API",
                                       labels=["source"])
        latest = GaugeMetricFamily("runwatch_track_status",
                                   "1 for the status of the newest run of each track "
                                   "(source, pipeline, branch)",
                                   labels=["source", "pipeline", "branch", "status"])
        streams = GaugeMetricFamily("runwatch_event_streams",
                                    "Clients following /api/v1/events now (each viewer's "
                                    "kiosk follows one per source)")
        streams.add_metric([], len(feed.subscribers))
        now = time.time()
        for name in feed.session:
            health = feed.health(name)
            listed = feed.session.poller.runs(name).values()
            counts = dict.fromkeys(RunStatus, 0)
            tracks: dict[tuple[str, str], Run] = {}
            for run in listed:
                counts[run.status] += 1
                key = (run.pipeline or "", run.branch or "")
                if key not in tracks or run.sort_time > tracks[key].sort_time:
                    tracks[key] = run
            for status, count in counts.items():
                runs.add_metric([name, status.value], count)
            up.add_metric([name], 1.0 if health.state == "ok" else 0.0)
            stale.add_metric([name], 1.0 if health.state == "stale" else 0.0)
            if health.last_success is not None:
                age.add_metric([name], max(0.0, now - health.last_success))
            requests.add_metric([name], _request_count(feed.session.providers[name]))
            for (pipeline, branch), run in sorted(tracks.items()):
                latest.add_metric([name, pipeline, branch, run.status.value], 1.0)
        yield from (runs, up, stale, age, requests, latest, streams)


def _request_count(provider: Any) -> float:
    return float(getattr(provider.client, "request_count", 0))
