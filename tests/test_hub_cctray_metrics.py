"""The hub's `/cctray.xml` and `/metrics`, read as CCMenu and Prometheus would, and what a
failing source does to them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from hub_helpers import Hub, cli
from runwatch.sim import PROVIDERS, Fault

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
    listed = cli(reader, "list")
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
