"""Flaky Currents specs (issue 16): learnt from the run details loaded anyway (the run screen's
detail through the session, `runwatch show`) — no extra request; a spec that failed in one and
passed in another of the track's last 20 recorded runs is flaky, rate = failed / recorded."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

from runwatch.demo import demo_config
from runwatch.history import HistoryStore
from runwatch.history.flaky import FLAKY_RUNS, RED
from runwatch.models import RunDetail, RunStatus
from runwatch.tui.screens.run import RunScreen
from runwatch.tui.widgets.flaky import FlakyLine
from test_cli import Cli
from tui_helpers import make_app, until


def expected(details: list[RunDetail]) -> dict[tuple[str | None, str], tuple[int, int]]:
    """(failed, recorded) of each flaky spec, worked out here from the details themselves."""
    newest = sorted(details, key=lambda d: d.sort_time, reverse=True)[:FLAKY_RUNS]
    counts: dict[tuple[str | None, str], list[int]] = defaultdict(lambda: [0, 0])
    for detail in newest:
        for spec in detail.specs:
            if spec.status in RED or spec.status is RunStatus.PASSED:
                counts[(spec.group, spec.spec)][0] += spec.status in RED
                counts[(spec.group, spec.spec)][1] += 1
    return {key: (f, n) for key, (f, n) in counts.items() if 0 < f < n}


async def test_flaky_specs_are_learnt_from_the_currents_runs_opened(sim) -> None:
    app = make_app(sim)
    app.session.remember(demo_config(sim.url, interval=60.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: all(app.poller.health(s).state == "ok"
                                       for s in app.session.sources), "the first polls")
        runs = [r for r in app.poller.runs("currents").values() if r.status.is_terminal]
        tracks = defaultdict(list)
        for run in runs:
            tracks[run.track].append(run)
        track, members = max(tracks.items(), key=lambda item: len(item[1]))
        details: list[RunDetail] = []
        for run in members:  # a person opens each run of the track, then goes back
            app.open_run(run)
            await until(pilot, lambda: isinstance(app.screen, RunScreen)
                        and app.screen.detail is not None, "the run's detail")
            assert isinstance(app.screen, RunScreen) and app.screen.detail is not None
            details.append(app.screen.detail)
            app.screen.dismiss()
            await pilot.pause()
        assert app.session.history is not None
        app.session.history.flush()
        want = expected(details)
        assert want, "the simulator's track has no flaky spec"
        app.open_run(members[0])
        await until(pilot, lambda: isinstance(app.screen, RunScreen)
                    and app.screen.detail is not None, "the run's detail")
        line = app.screen.query_one(FlakyLine)
        await until(pilot, lambda: bool(line.results), "the history read")
        await pilot.pause()
        text = str(line.render())
        assert line.display and text.startswith("flaky in recent runs: ")
        for (group, spec), (f, n) in list(want.items())[:3]:
            assert f"{spec.rsplit('/', 1)[-1]} ({group}) {f}/{n}" in text
    store = HistoryStore(readonly=True)  # what `runwatch history --json` reads (below)
    try:
        got = {(f.group, f.spec): (f.failed, f.runs) for f in store.flaky_specs(*track)}
        others = [t for t in store.spec_tracks() if t != track]
    finally:
        store.close()
    assert got == want and others == []


def test_runwatch_show_teaches_the_history_too(sim, tmp_path: Path) -> None:
    cli = Cli(sim, tmp_path)
    runs = [r for r in cli.runs("currents") if r.status.is_terminal]
    tracks = defaultdict(list)
    for run in runs:
        tracks[run.track].append(run)
    track, members = max(tracks.items(), key=lambda item: len(item[1]))

    async def details() -> list[RunDetail]:
        provider = sim.provider("currents")
        try:
            return [await provider.get_run(r.id) for r in members]
        finally:
            await provider.aclose()

    want = expected(asyncio.run(details()))
    assert want
    for run in members:
        done = cli("show", run.id, "--source", "currents", "--json")
        assert done.returncode == 0, done.stderr
    answer = cli("history", "--json", "--source", "currents")
    assert answer.returncode == 0, answer.stderr
    rows = {(t["source"], t["pipeline"], t["branch"]): t for t in json.loads(answer.stdout)}
    assert {(f["group"], f["spec"]): (f["failed"], f["runs"])
            for f in rows[track]["flaky_specs"]} == want
    # The text table, as a person reads it: one row per flaky spec under the tracks.
    table = cli("history", "--source", "currents")
    assert table.returncode == 0, table.stderr
    flaky_rows = table.stdout.split("\n\nFlaky (", 1)[1].splitlines()[2:]
    source, pipeline, branch = track
    for (group, spec), (f, n) in want.items():
        cells = [source, pipeline or "–", branch or "–", f"{spec} ({group})" if group else spec,
                 "(the spec)", f"{f} in {n}", f"{f / n:.0%}"]
        assert any(row.split() == " ".join(cells).split() for row in flaky_rows), cells
    assert len(flaky_rows) == len(want)
