"""The hub (`runwatch serve`, DESIGN section 12), end to end: `runwatch serve` in its own
process on this test's simulator, read over HTTP as CCMenu, Prometheus, a browser or another
runwatch would: the feed, its ETags and events, cctray.xml, /metrics, the token rule, and a
`runwatch` source reading the hub."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from runwatch.sim import PROVIDERS, Fault, demo_tokens
from test_serve import _free_port, _stop_group, _without_config

SCOPES = {"services": {}, "wercker": {"pipeline_id": "pipeline-1"},
          "currents": {"project_id": "proj-1"}, "conduct": {}, "scheduler": {}}
STARTUP_S = 15.0
HUB_TOKEN = "hub-secret-token"


def token_var(provider: str) -> str:
    return f"RW_HUB_TEST_{provider.upper()}"


def sources_toml(sim: Any) -> str:
    parts = []
    for p in PROVIDERS:
        fields = {"name": p, "provider": p, "base_url": sim.base_url(p),
                  "token_env": token_var(p), **SCOPES[p]}
        parts.append("[[sources]]\n" + "\n".join(f"{k} = {json.dumps(v)}"
                                                for k, v in fields.items()))
    return "\n\n".join(parts) + "\n"


@dataclass
class Hub:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **options: Any) -> httpx.Response:
        headers = {**self.headers, **options.pop("headers", {})}
        return httpx.get(self.url + path, headers=headers, timeout=10, **options)

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = self.get("/metrics").text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def until(self, condition: Callable[[], bool], what: str, timeout: float = STARTUP_S
              ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                pytest.fail(f"runwatch serve exited {self.proc.returncode}:\n"
                            + self.log.read_text())
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)


def _all_ok(hub: Hub) -> bool:
    try:
        sources = hub.get("/api/v1/sources").json()
    except (httpx.TransportError, ValueError):
        return False
    return all(s["state"] == "ok" for s in sources)


@pytest.fixture
def start_hub(sim: Any, tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    """Start `runwatch serve` on this test's simulator (every source, every `interval` s)."""
    started: list[Hub] = []

    def start(*options: str, interval: float = 1.0, token: str | None = None,
              config_text: str | None = None) -> Hub:
        folder = tmp_path / f"hub{len(started)}"
        folder.mkdir()
        config = folder / "config.toml"
        config.write_text(config_text if config_text is not None else sources_toml(sim))
        port = _free_port()
        env = {**_without_config(os.environ), "XDG_CONFIG_HOME": str(folder / "xdg"),
               "XDG_STATE_HOME": str(folder / "state"),
               **{token_var(p): t for p, t in demo_tokens().items()}}
        args = ["--port", str(port), "--interval", str(interval), *options]
        if token is not None:
            env["RW_HUB_TOKEN"] = token
            args += ["--token-env", "RW_HUB_TOKEN"]
        log = folder / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "runwatch", "--config", str(config), "serve", *args],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        hub = Hub(f"http://127.0.0.1:{port}", proc, log,
                  {"Authorization": f"Bearer {token}"} if token else {})
        started.append(hub)
        hub.until(lambda: _all_ok(hub), "the hub's first poll of every source")
        return hub

    yield start
    for hub in started:
        try:
            hub.proc.send_signal(signal.SIGTERM)
            assert hub.proc.wait(timeout=15) == 0, hub.log.read_text()
        finally:
            _stop_group(hub.proc)


def _cli(hub: Hub, config: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runwatch", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**_without_config(os.environ), **env})


# -- the feed ----------------------------------------------------------------------------


def test_runs_sources_and_one_run_as_the_cli_prints_them(
        sim: Any, start_hub: Callable[..., Hub], tmp_path: Path) -> None:
    hub = start_hub()
    runs = hub.get("/api/v1/runs")
    assert runs.status_code == 200 and runs.headers["Content-Type"].startswith("application/json")
    # the very objects `runwatch list --json` prints, on the same (frozen) world
    direct = tmp_path / "direct.toml"
    direct.write_text(sources_toml(sim))
    tokens = {token_var(p): t for p, t in demo_tokens().items()}
    listed = _cli(hub, direct, "list", "--json", **tokens)
    assert listed.returncode == 0, listed.stderr
    assert sorted(runs.json(), key=lambda r: (r["source"], r["id"])) == sorted(
        json.loads(listed.stdout), key=lambda r: (r["source"], r["id"]))
    assert {r["source"] for r in runs.json()} == set(PROVIDERS)

    only = hub.get("/api/v1/runs", params={"source": "wercker"})
    assert only.status_code == 200 and {r["source"] for r in only.json()} == {"wercker"}
    assert hub.get("/api/v1/runs", params={"source": "nope"}).status_code == 404

    sources = hub.get("/api/v1/sources").json()
    assert [s["name"] for s in sources] == list(PROVIDERS)
    assert {s["state"] for s in sources} == {"ok"}
    assert all(s["last_success"] and s["error"] is None and s["runs"] > 0 for s in sources)

    run = next(r for r in runs.json() if r["source"] == "conduct")
    before = len(sim.sim.requests_to("conduct"))
    detail = hub.get(f"/api/v1/runs/conduct/{run['id']}")
    assert detail.status_code == 200
    assert hub.get(f"/api/v1/runs/conduct/{run['id']}").json() == detail.json()
    # cached for one interval: a second reader in it costs the API nothing (polls aside)
    asked = [r for r in sim.sim.requests_to("conduct")[before:] if run["id"] in r.path]
    assert len(asked) == 1
    shown = _cli(hub, direct, "show", "--json", "--source", "conduct", run["id"], **tokens)
    assert detail.json() == json.loads(shown.stdout)
    assert "steps" in detail.json() and "specs" in detail.json()  # the detail, not the row
    missing = hub.get("/api/v1/runs/conduct/RUN-99999")
    assert missing.status_code == 404 and "not found" in missing.json()["error"]
    assert hub.get("/api/v1/runs/nope/1").status_code == 404

    # no body the hub serves carries a source's token
    bodies = [hub.get(p).text for p in ("/api/v1/runs", "/api/v1/sources", "/cctray.xml",
                                         "/metrics", "/", f"/api/v1/runs/conduct/{run['id']}")]
    for token in demo_tokens().values():
        assert not any(token in body for body in bodies)


def test_an_unchanged_list_is_304_and_a_change_a_new_etag(
        sim: Any, start_hub: Callable[..., Hub]) -> None:
    hub = start_hub()
    first = hub.get("/api/v1/runs")
    etag = first.headers["ETag"]
    again = hub.get("/api/v1/runs", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    sim.sim.clock.advance(300)  # running runs move on
    hub.until(lambda: hub.get("/api/v1/runs").headers["ETag"] != etag, "a new ETag", 5)
    changed = hub.get("/api/v1/runs", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json() != first.json()


def test_an_event_stream_client_is_told_of_a_change_within_an_interval(
        sim: Any, start_hub: Callable[..., Hub]) -> None:
    interval = 1.0
    hub = start_hub(interval=interval)
    with httpx.stream("GET", hub.url + "/api/v1/events", timeout=10) as stream:
        assert stream.status_code == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        events = _events(stream)
        kind, hello = next(events)
        assert kind == "hello" and hello["version"] >= 5  # one list per source so far
        changed_at = time.monotonic()
        sim.sim.clock.advance(300)
        kind, payload = next(events)
        took = time.monotonic() - changed_at
        assert kind == "runs" and payload["source"] in PROVIDERS
        assert payload["changed"] and payload["version"] > hello["version"]
        # one jittered interval and the poll itself (seconds on a loaded 2-core machine)
        assert took < interval * 1.1 + 2.0, took
        ids = {r["id"] for r in hub.get("/api/v1/runs").json()}
        assert {r["id"] for r in payload["changed"]} <= ids


def _events(stream: httpx.Response) -> Iterator[tuple[str, Any]]:
    kind, data = "message", ""
    for line in stream.iter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield kind, json.loads(data)
            kind, data = "message", ""


# -- cctray.xml and /metrics ------------------------------------------------------------------


CC_STATUS = {"passed": "Success", "failed": "Failure", "timed_out": "Failure"}


def test_cctray_has_one_project_per_track_with_its_status(
        sim: Any, start_hub: Callable[..., Hub], tmp_path: Path) -> None:
    hub = start_hub()
    answer = hub.get("/cctray.xml")
    assert answer.status_code == 200 and "xml" in answer.headers["Content-Type"]
    projects = ET.fromstring(answer.content).findall("Project")
    runs = hub.get("/api/v1/runs").json()  # newest first
    tracks: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        name = " / ".join(p for p in (run["source"], run["pipeline"], run["branch"]) if p)
        tracks.setdefault(name, []).append(run)
    assert sorted(p.get("name") for p in projects) == sorted(tracks)
    statuses = set()
    for project in projects:
        members = tracks[project.get("name")]
        finished = next((r for r in members if r["status"] in
                         ("passed", "failed", "timed_out", "canceled", "skipped")), None)
        want = CC_STATUS.get(finished["status"], "Unknown") if finished else "Unknown"
        assert project.get("lastBuildStatus") == want, project.attrib
        active = any(r["status"] in ("queued", "running", "waiting") for r in members)
        assert project.get("activity") == ("Building" if active else "Sleeping")
        shown = finished or members[0]
        assert project.get("lastBuildLabel") == shown["id"]
        assert project.get("webUrl") == (shown["web_url"] or hub.url)
        assert project.get("lastBuildTime", "").endswith("Z")
        statuses.add(want)
    assert {"Success", "Failure"} <= statuses
    assert any(p.get("activity") == "Building" for p in projects)

    # a failing source: its projects say Exception, the others keep theirs
    sim.sim.inject("wercker", Fault(kind="500"))
    hub.until(lambda: any(s["name"] == "wercker" and s["state"] == "stale"
                          for s in hub.get("/api/v1/sources").json()), "wercker stale", 40)
    projects = ET.fromstring(hub.get("/cctray.xml").content).findall("Project")
    assert {p.get("lastBuildStatus") for p in projects if p.get("name").startswith("wercker")
            } == {"Exception"}
    assert "Exception" not in {p.get("lastBuildStatus") for p in projects
                               if not p.get("name").startswith("wercker")}
    # and a runwatch source reading that hub source says so, as its own failure
    reader = tmp_path / "reader.toml"
    reader.write_text(f'[[sources]]\nname = "w"\nprovider = "runwatch"\n'
                      f'base_url = "{hub.url}"\nhub_source = "wercker"\n')
    listed = _cli(hub, reader, "list")
    assert listed.returncode == 4 and "w: at the hub: wercker:" in listed.stderr


def test_cctray_escapes_what_the_apis_say() -> None:
    from datetime import UTC, datetime

    from runwatch.hub.cctray import cctray_xml
    from runwatch.models import Run, RunStatus

    hostile = '"/><Project name="forged" a=\'&amp;\' <![CDATA[ ]]> \x00\x1b[31m\ufffe'
    runs = [Run(source="ci", provider="services", id=f"1{hostile}", status=RunStatus.FAILED,
                provider_status="x", pipeline=hostile, branch=hostile, web_url=hostile,
                finished_at=datetime(2026, 1, 2, tzinfo=UTC))]
    (project,) = ET.fromstring(cctray_xml(runs, {}, "http://hub")).findall("Project")
    assert project.get("lastBuildStatus") == "Failure"
    assert project.get("lastBuildTime") == "2026-01-02T00:00:00Z"
    assert '"/><Project name="forged"' in project.get("name")  # text, not markup
    assert "\x00" not in project.get("name") and "\x1b" not in project.get("webUrl")


def test_metrics_parse_and_say_what_the_feed_says(
        sim: Any, start_hub: Callable[..., Hub]) -> None:
    hub = start_hub()
    answer = hub.get("/metrics")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    for name in ("runwatch_runs", "runwatch_source_up", "runwatch_source_stale",
                 "runwatch_source_last_success_age_seconds", "runwatch_poll_duration_seconds",
                 "runwatch_polls", "runwatch_api_requests", "runwatch_track_status",
                 "runwatch_run_duration_seconds", "runwatch_event_streams"):
        assert name in families, name
    assert families["runwatch_poll_duration_seconds"].type == "histogram"
    assert families["runwatch_run_duration_seconds"].type == "histogram"
    metrics = hub.metrics()
    runs = hub.get("/api/v1/runs").json()
    for source in PROVIDERS:
        for status in ("passed", "failed", "running"):
            want = sum(1 for r in runs if r["source"] == source and r["status"] == status)
            assert metrics[("runwatch_runs", (("source", source), ("status", status)))] == want
        assert metrics[("runwatch_source_up", (("source", source),))] == 1
        assert metrics[("runwatch_source_stale", (("source", source),))] == 0
        assert metrics[("runwatch_polls_total", (("outcome", "ok"), ("source", source)))] >= 1
        assert metrics[("runwatch_poll_duration_seconds_count", (("source", source),))] >= 1
        assert metrics[("runwatch_api_requests_total", (("source", source),))] >= 1
        assert 0 <= metrics[("runwatch_source_last_success_age_seconds",
                             (("source", source),))] < 5
    latest = [labels for (name, labels), value in metrics.items()
              if name == "runwatch_track_status" and value == 1]
    conduct = {dict(labels)["pipeline"] for labels in latest if dict(labels)["source"] == "conduct"}
    assert conduct == {r["pipeline"] for r in runs if r["source"] == "conduct"}
    # a run seen to finish lands in the durations histogram
    sim.sim.clock.advance(3600)
    hub.until(lambda: sum(v for (n, _), v in hub.metrics().items()
                          if n == "runwatch_run_duration_seconds_count") > 0,
              "a finished run's duration", 10)


# -- access ----------------------------------------------------------------------------------


def test_with_a_token_every_endpoint_needs_it(start_hub: Callable[..., Hub]) -> None:
    hub = start_hub(token=HUB_TOKEN)
    paths = ("/", "/api/v1/runs", "/api/v1/sources", "/api/v1/events", "/cctray.xml",
             "/metrics", "/static/css/xterm.css", "/api/v1/runs/wercker/1")
    basic = base64.b64encode(f"wall:{HUB_TOKEN}".encode()).decode()
    wrong_basic = base64.b64encode(b"wall:guess").decode()
    for path in paths:
        for refused in ({}, {"Authorization": "Bearer guess"},
                        {"Authorization": f"Basic {wrong_basic}"},
                        {"Authorization": f"Bearer {HUB_TOKEN}x"}, {"Authorization": "Basic %%"}):
            answer = httpx.get(hub.url + path, headers=refused, timeout=5)
            assert answer.status_code == 401, (path, refused)
            assert answer.headers["WWW-Authenticate"].startswith('Basic realm="runwatch"')
            assert HUB_TOKEN not in answer.text
        if path == "/api/v1/events":
            continue  # a stream: its status is enough, read below
        for allowed in ({"Authorization": f"Bearer {HUB_TOKEN}"},
                        {"Authorization": f"Basic {basic}"}):
            answer = httpx.get(hub.url + path, headers=allowed, timeout=5)
            assert answer.status_code in (200, 404), (path, answer.status_code)
            assert answer.status_code == 200 or path == "/api/v1/runs/wercker/1"
    with httpx.stream("GET", hub.url + "/api/v1/events", timeout=5,
                      headers={"Authorization": f"Basic {basic}"}) as stream:
        assert stream.status_code == 200
    # a browser viewer (it sends the basic-auth password it was asked for): its kiosk reads
    # the feed with the token too, and follows each source's events
    asyncio.run(_one_viewer(hub, {"Authorization": f"Basic {basic}"}))


async def _one_viewer(hub: Hub, headers: dict[str, str]) -> None:
    import aiohttp

    async with aiohttp.ClientSession(headers=headers) as client, client.ws_connect(
            f"{hub.url}/ws?width=120&height=40", origin=hub.url) as ws:
        reading = asyncio.create_task(ws.receive())
        deadline = time.monotonic() + 30
        while (await asyncio.to_thread(hub.metrics))[("runwatch_event_streams", ())] < len(
                PROVIDERS):
            assert time.monotonic() < deadline, hub.log.read_text()[-2000:]
            await asyncio.sleep(0.2)
        reading.cancel()


def test_an_unset_token_variable_is_exit_3(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runwatch", "serve", "--port", "0", "--token-env", "RW_UNSET_X"],
        capture_output=True, text=True, timeout=30,
        env={**_without_config(os.environ), "XDG_CONFIG_HOME": str(tmp_path)})
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1] == (
        "runwatch: --token-env RW_UNSET_X: the variable is not set or empty")


def test_the_page_loads_nothing_from_outside(start_hub: Callable[..., Hub]) -> None:
    hub = start_hub()
    page = hub.get("/")
    assert page.status_code == 200
    assert "fonts.googleapis.com" not in page.text and "https://" not in page.text
    assert "fonts/RobotoMono-VariableFont_wght.ttf" in page.text
    font = hub.get("/static/fonts/RobotoMono-VariableFont_wght.ttf")
    assert font.status_code == 200 and len(font.content) > 10_000


# -- `provider = "runwatch"`: another runwatch reading the hub ---------------------------------


def hub_config(tmp_path: Path, *hubs: tuple[str, str, dict[str, str]],
               interval: float = 5.0) -> Path:
    path = tmp_path / f"reader{len(list(tmp_path.glob('reader*')))}.toml"
    path.write_text(f"[runwatch]\ninterval = {interval}\n\n" + "\n".join(
        f'[[sources]]\nname = "{name}"\nprovider = "runwatch"\nbase_url = "{url}"\n'
        + "".join(f'{k} = "{v}"\n' for k, v in extra.items())
        for name, url, extra in hubs))
    return path


def test_a_runwatch_source_lists_the_hubs_runs_under_their_names(
        start_hub: Callable[..., Hub], tmp_path: Path) -> None:
    hub = start_hub(token=HUB_TOKEN)
    on_hub = sorted((r["source"], r["id"]) for r in hub.get("/api/v1/runs").json())
    reader = hub_config(tmp_path, ("wall", hub.url, {"token_env": "RW_READ"}))
    listed = _cli(hub, reader, "list", "--json", RW_READ=HUB_TOKEN)
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert sorted((r["source"], r["id"]) for r in runs) == on_hub
    assert {r["provider"] for r in runs} == set(PROVIDERS)  # the API each came from
    # two hubs: each hub's sources under its own name
    two = hub_config(tmp_path, ("a", hub.url, {"token_env": "RW_READ"}),
                     ("b", hub.url, {"token_env": "RW_READ", "hub_source": "wercker"}),
                     ("c", hub.url, {"token_env": "RW_READ"}))
    runs = json.loads(_cli(hub, two, "list", "--json", RW_READ=HUB_TOKEN).stdout)
    assert {r["source"] for r in runs} == {
        *(f"a/{p}" for p in PROVIDERS), "b", *(f"c/{p}" for p in PROVIDERS)}
    run = next(r for r in runs if r["source"] == "a/conduct")
    shown = _cli(hub, two, "show", "--json", "--source", "a/conduct", run["id"],
                 RW_READ=HUB_TOKEN)
    assert json.loads(shown.stdout)["id"] == run["id"] and "steps" in json.loads(shown.stdout)
    # always read-only: nothing is sent
    cancel = _cli(hub, two, "cancel", "--yes", "--source", "b", run["id"], RW_READ=HUB_TOKEN)
    assert cancel.returncode == 5 and "runwatch has no cancel" in cancel.stderr
    # without the token the hub says no, and the reader says so
    refused = _cli(hub, reader, "list", RW_READ="guess")
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
        await _until(pilot, lambda: all(app.poller.health(s).state == "ok" for s in PROVIDERS))
        table = app.runs_screen.table
        await _until(pilot, lambda: {r.key for r in table.runs.values()} == on_hub)
        before = dict(table.runs)
        sim.sim.clock.advance(300)
        # pushed by the hub's event stream, long before the reader's own next poll
        await _until(pilot, lambda: table.runs != before, 20.0)
    kiosk = RunwatchApp(config, kiosk=True)
    async with kiosk.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: all(kiosk.poller.health(s).state == "ok" for s in PROVIDERS))
        await pilot.pause(0.3)
        shown = kiosk.export_screenshot()  # the kiosk's screen as an SVG of its text
        assert all(p in shown for p in PROVIDERS)


async def _until(pilot: Any, condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await pilot.pause(0.05)


# -- what a wall of screens costs the APIs -----------------------------------------------------

VIEWERS = 3


def _open_pages(url: str, count: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    """Headless Chromium with `count` tabs on `url` (each tab one viewer, one kiosk)."""
    from test_serve import _chromium

    profile = tmp_path / "chromium"
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1280,800",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--remote-debugging-port=0", "about:blank",
    ]
    browser = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "HOME": str(tmp_path / "home")},
                               start_new_session=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + STARTUP_S
    while not (port_file.is_file() and "\n" in port_file.read_text()):
        if browser.poll() is not None or time.monotonic() > deadline:
            _stop_group(browser)
            pytest.fail("chromium's DevTools endpoint did not start")
        time.sleep(0.05)
    devtools = f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    for _ in range(count):  # headless Chromium opens one tab per /json/new
        httpx.put(f"{devtools}/json/new?{url}/", timeout=5).raise_for_status()
    return browser


def _api_counts(sim: Any, hub: Hub) -> tuple[dict[str, int], dict[str, float], dict[str, float]]:
    """(requests the simulator saw, requests the hub says it sent, the hub's polls), by API."""
    metrics = hub.metrics()
    seen = {p: len(sim.sim.requests_to(p)) for p in PROVIDERS}
    sent = {p: metrics[("runwatch_api_requests_total", (("source", p),))] for p in PROVIDERS}
    polls = {p: metrics[("runwatch_polls_total", (("outcome", "ok"), ("source", p)))]
             for p in PROVIDERS}
    return seen, sent, polls


async def test_viewers_and_readers_cost_each_api_what_the_hub_alone_costs(
        sim: Any, start_hub: Callable[..., Hub], tmp_path: Path) -> None:
    from runwatch.cli.common import expand_hubs
    from runwatch.config import load
    from runwatch.session import Session

    interval = 1.0
    hub = await asyncio.to_thread(start_hub, interval=interval)
    # two `runwatch` sources (a and b) reading the hub, in this process
    config = expand_hubs(load(hub_config(tmp_path, ("a", hub.url, {}), ("b", hub.url, {}))))
    assert len(config.sources) == 2 * len(PROVIDERS)
    readers = Session.from_config(config, kiosk=True)
    readers.poller.start()
    browser = await asyncio.to_thread(_open_pages, hub.url, VIEWERS, tmp_path)
    try:
        # Each viewer's kiosk follows the hub's events once its first read of each source
        # succeeded, as each reader source does: then every screen is live.
        streams = VIEWERS * len(PROVIDERS) + len(config.sources)
        deadline = time.monotonic() + 60
        while (now := (await asyncio.to_thread(hub.metrics))[
                ("runwatch_event_streams", ())]) < streams:
            assert time.monotonic() < deadline, f"{now} of {streams} event streams"
            await asyncio.sleep(0.2)
        assert all(len(readers.poller.runs(s.name)) > 0 for s in config.sources)
        seen0, sent0, polls0 = await asyncio.to_thread(_api_counts, sim, hub)
        window = 5.0
        await asyncio.sleep(window)
        seen1, sent1, polls1 = await asyncio.to_thread(_api_counts, sim, hub)
    finally:
        _stop_group(browser)
        await readers.aclose()
    for p in PROVIDERS:
        seen, sent, polls = seen1[p] - seen0[p], sent1[p] - sent0[p], polls1[p] - polls0[p]
        # every request the API saw is one the hub sent (a poll may be in flight at an edge)
        assert abs(seen - sent) <= 3, (p, seen, sent)
        # and the hub polled at most once per (jittered) interval, whoever watched (fewer
        # on a starved machine: each wait starts when the poll ends)
        assert 1 <= polls <= window / (interval * 0.9) + 1, (p, polls)
        assert seen <= polls * 3 + 3, (p, seen, polls)  # one list (paged: 3 pages at most)


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
