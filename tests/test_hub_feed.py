"""The hub's feed (`runwatch serve`, DESIGN section 12), end to end: `runwatch serve` in its
own process on this test's simulator, `/api/v1/` read over HTTP as another runwatch or a script
would: the runs, the sources, one run's detail, ETags and the event stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from hub_helpers import Hub, cli, sources_toml, sse_events, token_var
from runwatch.sim import PROVIDERS, demo_tokens


def test_runs_sources_and_one_run_as_the_cli_prints_them(
        sim: Any, start_hub: Callable[..., Hub], tmp_path: Path) -> None:
    hub = start_hub()
    runs = hub.get("/api/v1/runs")
    assert runs.status_code == 200 and runs.headers["Content-Type"].startswith("application/json")
    # the very objects `runwatch list --json` prints, on the same (frozen) world
    direct = tmp_path / "direct.toml"
    direct.write_text(sources_toml(sim))
    tokens = {token_var(p): t for p, t in demo_tokens().items()}
    listed = cli(direct, "list", "--json", **tokens)
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
    shown = cli(direct, "show", "--json", "--source", "conduct", run["id"], **tokens)
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


def test_an_event_stream_client_is_told_of_a_change_by_the_poll_that_saw_it(
        sim: Any, start_hub: Callable[..., Hub]) -> None:
    # How soon (one interval) is bench_hub.py's figure; here: what the push says, and when.
    hub = start_hub(interval=1.0)
    with httpx.stream("GET", hub.url + "/api/v1/events", timeout=20) as stream:
        assert stream.status_code == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        events = sse_events(stream)
        kind, hello = next(events)
        assert kind == "hello" and hello["version"] >= 5  # one list per source so far
        before = {(r["source"], r["id"]): r for r in hub.get("/api/v1/runs").json()}
        asked = len(sim.sim.requests)
        sim.sim.clock.advance(300)  # running runs move on
        kind, payload = next((k, p) for k, p in events if k == "runs")
        source = payload["source"]
        # pushed by a poll of that source sent after the clock moved: it is that poll's news,
        # the first change the hub saw since the hello (nothing in between was left out) ...
        assert source in PROVIDERS
        assert any(r.provider == source for r in sim.sim.requests[asked:])
        assert payload["version"] == hello["version"] + 1 and payload["changed"]
        assert all(before.get((source, r["id"])) != r for r in payload["changed"])
        # ... and the very runs the hub serves from then on (the clock stays where it is)
        now = {r["id"]: r for r in hub.get("/api/v1/runs", params={"source": source}).json()}
        assert {r["id"]: r for r in payload["changed"]} == {
            r["id"]: now[r["id"]] for r in payload["changed"]}
