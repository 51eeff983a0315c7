"""A track's trend on screen (issue 16): the sparkline (colour, NO_COLOR and ASCII forms),
"red for ... since <commit> by <author>" ([kiosk] blame = false leaves the author out),
"N green since the last red", "slower than usual", the history file's older runs merged in,
and snapshots of the run screen and the kiosk at 80x24 and 200x50."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from runwatch.config import KioskConfig
from runwatch.demo import demo_config
from runwatch.formatting import format_span
from runwatch.history import HistoryStore, Point, TrackStats
from runwatch.history.stats import RED
from runwatch.models import Run, RunStatus
from runwatch.poller import RunsChanged
from runwatch.tui.kiosk_hold import KioskHold
from runwatch.tui.look import ASCII, UNICODE
from runwatch.tui.screens.run import RunScreen
from runwatch.tui.widgets.trend import (
    KioskTrends,
    TrackTrend,
    merged,
    sparkline,
    trend_words,
)
from tui_helpers import make_app, until

TRACK = ("ci", "build", "main")


def pt(run_id: str, status: RunStatus, duration: float | None, at: float,
       author: str = "ana") -> Point:
    return Point("ci", run_id, "build", "main", status, at, duration, f"{run_id}abcdef0123",
                 author, finished_at=None if duration is None else at + duration)


def stats_of(*points: Point) -> TrackStats:
    return TrackStats(TRACK, tuple(reversed(points)))  # given oldest first


def test_the_sparkline_in_colour_without_colour_and_in_ascii() -> None:
    s = stats_of(pt("1", RunStatus.PASSED, 10, 0), pt("2", RunStatus.PASSED, 80, 100),
                 pt("3", RunStatus.FAILED, 40, 200), pt("4", RunStatus.RUNNING, None, 300))
    assert sparkline(s, UNICODE, {}, plain=False).plain == "▂█▅●"
    assert sparkline(s, UNICODE, {}, plain=True).plain == "▂█✗●"
    assert sparkline(s, ASCII, {}, plain=True).plain == "_#x>"
    colours = [str(span.style.color.name) for span in sparkline(s, UNICODE, {}, plain=False).spans]
    assert colours == ["#3fb950", "#3fb950", "#f85149", "#4ea1ff"]
    many = stats_of(*(pt(str(i), RunStatus.PASSED, 10, i) for i in range(30)))
    assert len(sparkline(many, UNICODE, {}, plain=False).plain) == 20  # the last 20 only


def test_red_for_since_the_first_red_commit_by_its_author_and_blame_off() -> None:
    s = stats_of(pt("g", RunStatus.PASSED, 60, 0), pt("r1", RunStatus.FAILED, 60, 1000, "priya"),
                 pt("c", RunStatus.CANCELED, 5, 2000), pt("r2", RunStatus.TIMED_OUT, 60, 3000))
    now = 1060 + 2 * 3600 + 13 * 60
    assert trend_words(s, now) == ["red for 2h 13m since r1abcde by priya"]
    assert trend_words(s, now, blame=False) == ["red for 2h 13m since r1abcde"]
    green = stats_of(pt("r", RunStatus.FAILED, 60, 0),
                     *(pt(str(i), RunStatus.PASSED, 60, 100 + i) for i in range(12)))
    assert trend_words(green, 5000) == ["12 green since the last red"]
    assert trend_words(stats_of(pt("a", RunStatus.PASSED, 1, 0)), 5) == ["1 green"]
    assert [format_span(s) for s in (59, 13 * 60, 2 * 3600 + 13 * 60, 3 * 86400 + 4 * 3600)] == [
        "0m", "13m", "2h 13m", "3d 4h"]


def test_slower_than_usual_for_a_finished_and_a_running_run() -> None:
    past = [pt(str(i), RunStatus.PASSED, 100 + i, i * 1000.0) for i in range(10)]
    s = stats_of(*past)
    slow = Run(source="ci", provider="services", id="new", status=RunStatus.PASSED,
               provider_status="ok", pipeline="build", branch="main", duration_s=200)
    assert trend_words(s, 0, run=slow)[0] == "slower than usual"
    from datetime import UTC, datetime

    running = slow.model_copy(update={"status": RunStatus.RUNNING, "duration_s": None,
                                      "started_at": datetime.fromtimestamp(50_000, UTC)})
    assert trend_words(s, 50_000 + 100, run=running) == ["10 green"]
    assert trend_words(s, 50_000 + 150, run=running) == ["slower than usual", "10 green"]


def red_track_run(app) -> Run:  # type: ignore[no-untyped-def]
    """The newest finished run of a simulated track whose latest finished run failed."""
    for source in app.session.sources:
        runs = sorted(app.poller.runs(source).values(), key=lambda r: r.sort_time, reverse=True)
        for run in runs:
            if not run.status.is_terminal:
                continue
            latest = next(r for r in runs if r.track == run.track and r.status.is_terminal)
            if latest.status in RED and latest.commit and latest.author:
                return latest
    raise AssertionError("no red track in the simulator")


async def test_the_run_screen_says_since_when_a_track_is_red(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: all(app.poller.health(s).state == "ok"
                                       for s in app.session.sources), "the first polls")
        run = red_track_run(app)
        app.open_run(run)
        await until(pilot, lambda: isinstance(app.screen, RunScreen)
                    and app.screen.detail is not None, "the run's detail")
        trend = app.screen.query_one(TrackTrend)
        stats = merged(run.track, app.poller.runs(run.source).values())
        red = stats.red_since
        assert red is not None
        line = str(trend.content)
        spark = sparkline(stats, UNICODE, {}, plain=False).plain
        assert line.startswith(spark + "  ")
        assert f"since {red.commit[:7]} by {red.author}" in line


async def test_the_history_files_older_runs_join_the_sparkline(sim) -> None:
    app = make_app(sim)
    config = demo_config(sim.url, interval=60.0)
    app.session.remember(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: all(app.poller.health(s).state == "ok"
                                       for s in app.session.sources), "the first polls")
        run = red_track_run(app)
        live = [r for r in app.poller.runs(run.source).values() if r.track == run.track]
        oldest = min(r.created_at.timestamp() for r in live)
        store = HistoryStore()
        older = [run.model_copy(update={
            "id": f"old-{i}", "status": RunStatus.PASSED, "created_at": None,
            "started_at": None, "finished_at": None, "duration_s": 30.0})
            for i in range(25)]
        store.upsert(older)
        with store._db:
            for i, r in enumerate(older):
                store._db.execute("UPDATE runs SET created_at = ? WHERE id = ?",
                                  (oldest - 3600 * (i + 1), r.id))
        store.close()
        app.open_run(run)
        await until(pilot, lambda: isinstance(app.screen, RunScreen)
                    and app.screen.detail is not None, "the run's detail")
        trend = app.screen.query_one(TrackTrend)
        await until(pilot, lambda: bool(trend.kept), "the history read")
        await pilot.pause()
        stats = merged(run.track, live, trend.kept[run.track])
        assert len(stats.recent) == 20 and stats.runs == len(live) + 25
        assert str(trend.content).startswith(sparkline(stats, UNICODE, {}, plain=False).plain)


def make_kiosk(sim, *, blame: bool = True, **options: object):  # type: ignore[no-untyped-def]
    config = demo_config(sim.url, interval=60.0)
    config = config.model_copy(update={"kiosk": KioskConfig(rotate=0.0, blame=blame)})
    return make_app(sim, config=config, kiosk=True, **options)


@pytest.mark.parametrize("blame", [True, False])
async def test_the_kiosk_shows_red_tracks_first_and_blame_off_names_no_one(
        sim, blame: bool) -> None:
    app = make_kiosk(sim, blame=blame)
    async with app.run_test(size=(200, 50)) as pilot:
        await _kiosk_settled(pilot)
        trends = app.screen.query_one(KioskTrends)
        lines = str(trends.content).splitlines()
        assert len(lines) == trends.lines_allowed() == 5
        assert all(line.startswith("✗ ") and " red for " in line for line in lines)
        assert (" by " in lines[0]) is blame


def _on_red_run():  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: all(app.poller.health(s).state == "ok"
                                       for s in app.session.sources), "the first polls")
        app.open_run(red_track_run(app))
        await until(pilot, lambda: isinstance(app.screen, RunScreen)
                    and app.screen.detail is not None, "the run's detail")
        await pilot.pause(0.1)
    return run_before


def test_snapshot_trend_run_screen_80x24(sim, snap_compare) -> None:
    assert snap_compare(make_app(sim), terminal_size=(80, 24),
                        run_before=_on_red_run())


def test_snapshot_trend_run_screen_200x50_ascii(sim, snap_compare) -> None:
    assert snap_compare(make_app(sim, ascii=True), terminal_size=(200, 50),
                        run_before=_on_red_run())


async def _kiosk_settled(pilot: Pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: all(app.poller.health(s).state == "ok"
                                   for s in app.session.sources), "the first polls")
    await pilot.pause(0.1)


def test_snapshot_trend_kiosk_80x24_no_color(sim, snap_compare, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make_kiosk(sim), terminal_size=(80, 24), run_before=_kiosk_settled)


def test_snapshot_trend_kiosk_200x50(sim, snap_compare) -> None:
    assert snap_compare(make_kiosk(sim, blame=False), terminal_size=(200, 50),
                        run_before=_kiosk_settled)


# -- the kiosk's hold ------------------------------------------------------------------------


def live(source: str, run_id: str, status: RunStatus, branch: str = "main") -> Run:
    return Run(source=source, provider="services", id=run_id, status=status,
               provider_status=status.value, pipeline="build", branch=branch)


def test_the_hold_starts_when_a_track_turns_red_and_ends_on_time_or_green() -> None:
    clock = [1000.0]
    hold = KioskHold(120, lambda: clock[0])
    assert hold.changed([live("a", "1", RunStatus.FAILED)]) is None  # first seen failed: old
    assert hold.changed([live("b", "2", RunStatus.RUNNING)]) is None
    assert hold.changed([live("b", "2", RunStatus.FAILED)]) == "b"
    assert hold.holds("b") and not hold.holds("a") and not hold.holds(None)
    clock[0] += 119
    assert hold.holds("b")
    clock[0] += 1
    assert not hold.holds("b")  # 120 s are up
    hold.changed([live("b", "3", RunStatus.RUNNING)])
    assert hold.changed([live("b", "3", RunStatus.TIMED_OUT)]) == "b"
    hold.changed([live("b", "4", RunStatus.PASSED, branch="dev")])  # another track: no
    assert hold.holds("b")
    hold.changed([live("b", "5", RunStatus.PASSED)])  # the track is green again
    assert not hold.holds("b")


async def test_the_kiosk_jumps_to_and_holds_on_the_source_that_turned_red(sim) -> None:
    config = demo_config(sim.url, interval=60.0)
    config = config.model_copy(update={"kiosk": KioskConfig(rotate=20.0, hold=120.0)})
    app = make_app(sim, config=config, kiosk=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _kiosk_settled(pilot)
        screen = app.screen
        assert screen.source == "services"
        app.runs_signal.publish(RunsChanged("conduct", (live("conduct", "x", RunStatus.RUNNING),),
                                            ()))
        screen.rotate()
        assert screen.source == "wercker"  # nothing red yet: rotation as before
        app.runs_signal.publish(RunsChanged("conduct", (live("conduct", "x", RunStatus.FAILED),),
                                            ()))
        await pilot.pause()
        assert screen.source == "conduct" and screen.where_text() == "source 4/5: conduct"
        screen.rotate()
        assert screen.source == "conduct"  # held
        sim.sim.clock.advance(121)
        screen.rotate()
        assert screen.source == "scheduler"
