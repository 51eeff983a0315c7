"""`provider = "runwatch"`: another runwatch reading a hub, from the CLI, the dashboard and
the kiosk; a hub body it cannot read in part."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub_helpers import HUB_TOKEN, Hub, cli, hub_config, pilot_until
from loopback import Loopback, QuietHandler
from runwatch.sim import PROVIDERS


def test_a_runwatch_source_lists_the_hubs_runs_under_their_names(
        start_hub: Callable[..., Hub], tmp_path: Path) -> None:
    hub = start_hub(token=HUB_TOKEN)
    on_hub = sorted((r["source"], r["id"]) for r in hub.get("/api/v1/runs").json())
    reader = hub_config(tmp_path, ("wall", hub.url, {"token_env": "RW_READ"}))
    listed = cli(reader, "list", "--json", RW_READ=HUB_TOKEN)
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert sorted((r["source"], r["id"]) for r in runs) == on_hub
    assert {r["provider"] for r in runs} == set(PROVIDERS)  # the API each came from
    # two hubs: each hub's sources under its own name
    two = hub_config(tmp_path, ("a", hub.url, {"token_env": "RW_READ"}),
                     ("b", hub.url, {"token_env": "RW_READ", "hub_source": "wercker"}),
                     ("c", hub.url, {"token_env": "RW_READ"}))
    runs = json.loads(cli(two, "list", "--json", RW_READ=HUB_TOKEN).stdout)
    assert {r["source"] for r in runs} == {
        *(f"a/{p}" for p in PROVIDERS), "b", *(f"c/{p}" for p in PROVIDERS)}
    run = next(r for r in runs if r["source"] == "a/conduct")
    shown = cli(two, "show", "--json", "--source", "a/conduct", run["id"],
                 RW_READ=HUB_TOKEN)
    assert json.loads(shown.stdout)["id"] == run["id"] and "steps" in json.loads(shown.stdout)
    # always read-only: nothing is sent
    cancel = cli(two, "cancel", "--yes", "--source", "b", run["id"], RW_READ=HUB_TOKEN)
    assert cancel.returncode == 5 and "runwatch has no cancel" in cancel.stderr
    # without the token the hub says no, and the reader says so
    refused = cli(reader, "list", RW_READ="guess")
    assert refused.returncode == 4 and "401" in refused.stderr


async def test_the_dashboard_and_the_kiosk_on_a_hub(
        sim: Any, start_hub: Callable[..., Hub], tmp_path: Path) -> None:
    from runwatch.cli.common import expand_hubs
    from runwatch.config import load
    from runwatch.tui.app import RunwatchApp

    hub = await asyncio.to_thread(start_hub)
    on_hub = {(r["source"], r["id"]) for r in hub.get("/api/v1/runs").json()}
    # the reader polls the hub every 60 s: a change on screen sooner was pushed to it
    config = expand_hubs(load(hub_config(tmp_path, ("wall", hub.url, {}), interval=60.0)))
    assert [s.name for s in config.sources] == list(PROVIDERS)
    app = RunwatchApp(config)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot_until(pilot, lambda: all(app.poller.health(s).state == "ok" for s in PROVIDERS))
        table = app.runs_screen.table
        await pilot_until(pilot, lambda: {r.key for r in table.runs.values()} == on_hub)
        before = dict(table.runs)
        sim.sim.clock.advance(300)
        # pushed by the hub's event stream, long before the reader's own next poll
        await pilot_until(pilot, lambda: table.runs != before, 20.0)
    kiosk = RunwatchApp(config, kiosk=True)
    async with kiosk.run_test(size=(120, 40)) as pilot:
        await pilot_until(pilot, lambda: all(kiosk.poller.health(s).state == "ok"
                                             for s in PROVIDERS))

        def missing() -> list[str]:
            shown = kiosk.export_screenshot()  # the kiosk's screen as an SVG of its text
            return [p for p in PROVIDERS if p not in shown]

        with contextlib.suppress(AssertionError):  # drawn a frame after the polls: wait
            await pilot_until(pilot, lambda: not missing())
        assert missing() == []


async def test_a_hub_source_not_expanded_shows_every_hub_run_under_its_own_name(
        start_hub: Callable[..., Hub]) -> None:
    """What a `runwatch` source without hub_source is when the hub did not answer at start."""
    from runwatch.config import SourceConfig
    from runwatch.providers import build_provider

    hub = await asyncio.to_thread(start_hub)
    on_hub = await asyncio.to_thread(lambda: hub.get("/api/v1/runs").json())
    provider = build_provider(SourceConfig(name="wall", provider="runwatch", base_url=hub.url),
                              limit=500)
    try:
        runs = await provider.list_runs()
        assert {r.source for r in runs} == {"wall"}
        assert sorted(r.id for r in runs) == sorted(r["id"] for r in on_hub)
        assert await provider.list_runs() is runs  # 304 / same body: the same list
        run = next(r for r in on_hub if r["source"] == "conduct")
        detail = await provider.get_run(run["id"])  # asked of the run's own hub source
        assert detail.id == run["id"] and detail.source == "wall"
        assert provider.actions == frozenset() and provider.read_only
    finally:
        await provider.aclose()


# -- a hub body with bad runs in it ----------------------------------------------------------


class HubBody:
    """A loopback server answering `/api/v1/runs` and `/api/v1/sources` with given bodies, as
    a hub (a newer one, or a broken one) would send them."""

    def __init__(self, runs: list[Any], sources: list[dict[str, Any]]) -> None:
        bodies = {"/api/v1/runs": json.dumps(runs).encode(),
                  "/api/v1/sources": json.dumps(sources).encode()}

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                body = bodies.get(self.path.partition("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.loopback = Loopback(Handler)
        self.url = self.loopback.root

    def close(self) -> None:
        self.loopback.close()


async def test_a_bad_run_in_the_hubs_list_costs_that_run_or_that_field_not_the_list(
        sim: Any, tmp_path: Path) -> None:
    from runwatch.hub.feed import RUN_FIELDS

    provider = sim.provider("services")
    try:
        runs = await provider.list_runs()
    finally:
        await provider.aclose()
    # the objects as the hub encodes them (hub.feed.Feed._known)
    sent = [r.model_dump(mode="json", include=set(RUN_FIELDS)) for r in runs]
    timed = next(i for i, r in enumerate(sent) if r["started_at"])
    others = [i for i in range(len(sent)) if i != timed]
    bad, odd = sent[others[0]], sent[others[1]]
    no_id, bad_time, new_status = bad["id"], sent[timed]["id"], odd["id"]
    bad["id"] = {"not": "an id"}  # no id: that run cannot be shown
    sent[timed]["started_at"] = "yesterday"  # a bad time: that field only
    odd["status"] = "paused"  # a status of a newer hub: unknown
    body = [*sent, 42, None]  # and two items that are no run at all
    hub = HubBody(body, [{"name": "services", "provider": "services", "state": "ok",
                          "error": None}])
    try:
        reader = hub_config(tmp_path, ("wall", hub.url, {"hub_source": "services"}))
        listed = await asyncio.to_thread(cli, reader, "list", "--json")
        # the whole list is broken (not one run fits): said, as any unexpected shape
        broken = HubBody([{"id": None}, 7], [])
        alone = hub_config(tmp_path, ("wall", broken.url, {}))
        refused = await asyncio.to_thread(cli, alone, "list")
        broken.close()
    finally:
        hub.close()
    assert listed.returncode == 0, listed.stderr
    shown = {r["id"]: r for r in json.loads(listed.stdout)}
    assert set(shown) == {r.id for r in runs} - {no_id}
    assert shown[bad_time]["started_at"] is None
    assert shown[bad_time]["status"] == sent[timed]["status"]  # the rest of that run kept
    assert shown[bad_time]["created_at"] == sent[timed]["created_at"]
    assert shown[new_status]["status"] == "unknown"
    assert shown[new_status]["provider_status"] == odd["provider_status"]
    untouched = {r.id: r.model_dump(mode="json", include=set(RUN_FIELDS)) for r in runs}
    for run_id in set(shown) - {bad_time, new_status}:
        assert shown[run_id] == {**untouched[run_id], "source": "wall"}
    assert refused.returncode == 4
    assert "wall: /api/v1/runs returned an unexpected shape (run 0: " in refused.stderr


# -- the event stream ---------------------------------------------------------------------


class QuietHub:
    """A hub whose runs never change and whose event stream says only its hello, then holds
    the stream open: it counts the runs requests and the stream's openings."""

    def __init__(self) -> None:
        self.runs_gets: list[float] = []
        self.streams: list[float] = []
        self.closing = threading.Event()
        self.read_again = threading.Event()  # a runs request after the first
        hub = self
        body = b"[]"

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.partition("?")[0]
                if path == "/api/v1/events":
                    hub.streams.append(time.monotonic())
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(b'event: hello\ndata: {"version": 3}\n\n')
                    self.wfile.flush()
                    hub.closing.wait(30)
                    self.close_connection = True
                    return
                hub.runs_gets.append(time.monotonic())
                if len(hub.runs_gets) > 1:
                    hub.read_again.set()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.loopback = Loopback(Handler)
        self.url = self.loopback.root

    def close(self) -> None:
        self.closing.set()
        self.loopback.close()


async def test_a_change_made_before_the_event_stream_opened_is_read_at_its_hello() -> None:
    """The stream opens after the first list: whatever the hub saw in between was pushed to
    nobody, so the reader reads the runs once more at the hello, long before its own poll."""
    from runwatch.config import SourceConfig
    from runwatch.poller import Poller
    from runwatch.providers import build_provider

    hub = QuietHub()
    provider = build_provider(SourceConfig(name="wall", provider="runwatch", base_url=hub.url),
                              limit=50)
    poller = Poller({"wall": provider}, intervals={"wall": 60.0}, on_event=lambda e: None,
                    jitter=0.0)
    poller.start()
    try:
        await asyncio.to_thread(hub.read_again.wait, 10)
        assert len(hub.streams) == 1
        assert len(hub.runs_gets) == 2  # the first poll, then one at the hello
        assert hub.streams[0] < hub.runs_gets[1] < hub.runs_gets[0] + 10
    finally:
        await poller.aclose()
        hub.close()
