"""The kiosk (`--kiosk`) against the simulator: big counts, the clock, "updated N s ago", failing
runs first, sources taking turns, kiosk.lock, no dialogs, nothing written, errors outlived;
and how it looks at 80x24 and 160x45."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.content import Content
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from runwatch.config import KioskConfig
from runwatch.demo import demo_config
from runwatch.formatting import format_duration, format_wall_clock
from runwatch.models import Run, RunStatus
from runwatch.sim import Fault
from runwatch.tui import app as app_module
from runwatch.tui.app import RunwatchApp
from runwatch.tui.screens.help import HelpScreen
from runwatch.tui.screens.kiosk import KioskScreen
from runwatch.tui.widgets.kiosk import StatusCount, StatusCounts
from runwatch.tui.widgets.kiosk_runs import (
    KioskRuns,
    changed_cells,
    kiosk_sections,
    latest_verdicts,
)
from tui_helpers import PROVIDERS, all_polled, app_on, make_app, until

FAILING = (RunStatus.FAILED, RunStatus.TIMED_OUT)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    # The clock shows local time: one zone everywhere keeps the snapshots the same.
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def make_kiosk(sim, *, rotate: float = 0.0, lock: bool = False, **options: object) -> RunwatchApp:
    """The kiosk on the simulator: every source, a frozen clock, polls only when asked."""
    config = demo_config(sim.url, interval=60.0)
    config = config.model_copy(update={"kiosk": KioskConfig(rotate=rotate, lock=lock)})
    return make_app(sim, config=config, kiosk=True, **options)


async def loaded(pilot: Pilot) -> KioskScreen:
    """Wait for the first poll of every source; the kiosk screen."""
    app = await all_polled(pilot)
    screen = app.screen
    assert isinstance(screen, KioskScreen)
    return screen


def health_line(screen: KioskScreen, source: str) -> str:
    return str(screen.query_one(f"#health-{source}").render())


def counts_shown(screen: KioskScreen) -> dict[str, int]:
    """The big blocks on screen: "✗ failed" → 26."""
    return {block.label: block.count for block in screen.query_one(StatusCounts).shown}


def all_runs(app: RunwatchApp, source: str | None = None) -> list[Run]:
    names = [source] if source else list(app.session.providers)
    return [r for name in names for r in app.poller.runs(name).values()]


def red_tracks(runs: list[Run]) -> list[Run]:
    """Each track's newest passed-or-failed run, where that one failed: newest first."""
    latest: dict[tuple[str, str | None, str | None], Run] = {}
    for run in sorted(runs, key=lambda r: r.sort_time):
        if run.status in (*FAILING, RunStatus.PASSED):
            latest[run.track] = run
    return sorted((r for r in latest.values() if r.status in FAILING),
                  key=lambda r: r.sort_time, reverse=True)


def green_tracks(runs: list[Run]) -> int:
    return sum(r.status is RunStatus.PASSED for r in latest_verdicts(runs).values())


# -- what it shows ----------------------------------------------------------------------


async def test_big_counts_clock_and_a_line_per_source(sim) -> None:
    app = make_kiosk(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        runs = all_runs(app)
        shown = counts_shown(screen)
        # Failures first; every count is a big number with its glyph and word beneath.
        assert next(iter(shown)) == "✗ failed"
        # Tracks by their latest result: a failure followed by a pass is not counted.
        red = red_tracks(runs)
        assert 0 < shown["✗ failed"] == sum(r.status is RunStatus.FAILED for r in red)
        assert shown["✗ failed"] < sum(r.status is RunStatus.FAILED for r in runs)
        assert shown["✓ passed"] == green_tracks(runs)
        assert shown["● running"] == sum(r.status is RunStatus.RUNNING for r in runs)
        block = screen.query_one("#count-failed", StatusCount)
        assert block.query_one("BigNumber").value == str(shown["✗ failed"])
        assert screen.clock == format_wall_clock(sim.sim.clock.now()) == "12:00"
        assert str(screen.query_one("#kiosk-where").render()) == "all 5 sources"
        for source in PROVIDERS:
            failed = len(red_tracks(all_runs(app, source)))
            line = health_line(screen, source)
            assert "updated" not in line  # fresh: no freshness mark
            assert (f"{source}  ok · ✗ {failed} failed" in line) if failed else (
                f"{source}  ok · " in line and "failed" not in line)
        assert screen.query_one("#badge-read-only").display and app.read_only
        assert app.theme == "runwatch-contrast"


async def test_a_source_name_with_brackets_is_shown_as_written(sim) -> None:
    # Names are free text from the config: "[bold]" in one is part of the name, not markup.
    name = "ci[bold]x"
    config = demo_config(sim.url, interval=60.0)
    sources = [s.model_copy(update={"name": name}) if s.name == "services" else s
               for s in config.sources]
    config = config.model_copy(update={"sources": sources,
                                       "kiosk": KioskConfig(rotate=3600.0)})
    providers = {(name if p == "services" else p): sim.provider(p) for p in PROVIDERS}
    app = app_on(sim, config, providers, kiosk=True)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await loaded(pilot)
        assert screen.source == name
        where = screen.query_one("#kiosk-where")
        assert str(where.render()) == f"source 1/5: {name}"
        assert f"source 1/5: {name}" in "".join(
            strip.text for strip in where.render_lines(where.region.reset_offset))


async def test_failing_runs_are_listed_first(sim) -> None:
    app = make_kiosk(sim, rotate=20.0)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await loaded(pilot)
        lines = screen.query_one(KioskRuns).lines
        screen.rotate()  # wercker: failed tracks, and failures since passed (history)
        await pilot.pause()
        lines = screen.query_one(KioskRuns).lines
        runs = all_runs(app, "wercker")
        failing = red_tracks(runs)
        assert failing, "the simulator's wercker has failing tracks"
        history = [r for r in runs if r.status in FAILING and r not in failing]
        assert history, "and failures already followed by a pass"
        assert lines[0].strip() == f"FAILING {len(failing)}"
        for line, run in zip(lines[1:], failing, strict=False):
            assert line.lstrip().startswith("✗ failed") and run.id[:9] in line
        active = lines.index(next(line for line in lines if line.strip().startswith("ACTIVE")))
        assert active == 1 + len(failing)
        recent = lines.index(next(ln for ln in lines if ln.strip().startswith("RECENT")))
        assert recent > active
        # A failure already followed by a pass is history: listed under RECENT.
        assert any(history[0].id[:9] in line for line in lines[recent:])
        assert not any(r.id[:9] in line for r in history for line in lines[:active])


def test_kiosk_failing_holds_the_latest_verdict_of_each_track_only() -> None:
    def run(run_id: str, status: RunStatus, minute: int, pipeline: str = "web",
            branch: str = "main") -> Run:
        return Run(source="s", provider="services", id=run_id, status=status,
                   provider_status=status.value, pipeline=pipeline, branch=branch,
                   created_at=datetime(2025, 1, 1, 12, minute, tzinfo=UTC))

    runs = [
        run("f-old", RunStatus.FAILED, 1), run("p-new", RunStatus.PASSED, 4),  # history
        run("t1", RunStatus.TIMED_OUT, 3, pipeline="api"),  # api/main is red
        run("f2", RunStatus.FAILED, 2, branch="dev"),  # web/dev is red, being rerun:
        run("r1", RunStatus.RUNNING, 5, branch="dev"),  # still red until that passes
        run("c1", RunStatus.CANCELED, 6, pipeline="api"),  # says nothing either way
        run("q1", RunStatus.QUEUED, 8), run("p2", RunStatus.PASSED, 0, pipeline="api"),
    ]
    sections = kiosk_sections(runs, recent=2)
    assert [s.title for s in sections] == ["FAILING", "ACTIVE", "RECENT"]
    assert [[r.id for r in s.runs] for s in sections] == [
        ["t1", "f2"], ["q1", "r1"], ["c1", "p-new"]]
    assert [s.total for s in sections] == [2, 2, 4]


async def test_a_freshness_mark_only_once_a_source_is_two_intervals_late(sim) -> None:
    app = make_kiosk(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        # Polled every 60 s: fresh for two intervals, so no mark on any line.
        assert "updated" not in health_line(screen, "conduct")
        sim.sim.clock.advance(119)
        await pilot.pause(1.2)  # a tick has passed: still within two intervals
        assert "updated" not in health_line(screen, "conduct")
        sim.sim.clock.advance(2)
        await until(pilot, lambda: "updated 2 min ago" in health_line(screen, "conduct"),
                    "the late mark")
        assert screen.clock == "12:02"  # a wall clock: minutes, not a redraw every second
        sim.sim.clock.advance(60)
        await until(pilot, lambda: screen.clock == "12:03", "the next minute")


async def test_sources_take_turns_every_rotate_seconds(sim) -> None:
    # 1 s a turn: long enough that a loaded machine reads wercker's counts before the next.
    app = make_kiosk(sim, rotate=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        where = screen.query_one("#kiosk-where")
        await until(pilot, lambda: str(where.render()) == "source 2/5: wercker", "a turn")
        await pilot.pause()
        wercker = all_runs(app, "wercker")
        shown = counts_shown(screen)
        assert shown["✗ failed"] == len(red_tracks(wercker))
        assert shown["✓ passed"] == green_tracks(wercker)
        assert shown["✓ passed"] < green_tracks(all_runs(app))
        assert health_line(screen, "wercker").startswith("▸")
        assert not health_line(screen, "services").startswith("▸")
        await until(pilot, lambda: str(where.render()) == "source 3/5: currents", "a turn")


async def test_rotation_wraps_and_rotate_zero_shows_every_source(sim) -> None:
    app = make_kiosk(sim, rotate=20.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        assert screen.source == "services"
        for _ in range(5):
            screen.rotate()
        assert screen.source == "services" and screen.where_text() == "source 1/5: services"
        screen.rotate(-1)
        assert screen.where_text() == "source 5/5: scheduler"
        # One source's runs: its column goes, its ids are the ones listed.
        ids = {r.id[:9] for r in all_runs(app, "scheduler")}
        listed = [line for line in screen.query_one(KioskRuns).lines
                  if line.lstrip()[:1] in "✗●○✓◷" and "nothing failing" not in line]
        assert listed and all(any(i in line for i in ids) for line in listed)
        assert not any("scheduler" in line for line in listed)
    app = make_kiosk(sim, rotate=0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        screen.rotate()
        assert screen.source is None and screen.where_text() == "all 5 sources"


# -- keys, dialogs, disk ----------------------------------------------------------------


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_and_ctrl_c_quit_the_kiosk(sim, key: str) -> None:
    app = make_kiosk(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        footer = {k for k, b in app.screen.active_bindings.items() if b.binding.show}
        assert footer == {"q", "question_mark"}  # no action keys, no palette: its help
        await pilot.press(key)
        await pilot.pause()
        assert app.return_code == 0


async def test_kiosk_lock_ignores_every_quit_key(sim) -> None:
    app = make_kiosk(sim, lock=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await loaded(pilot)
        await pilot.press("q", "ctrl+q", "ctrl+c")
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert app.screen is screen
        assert not any(b.binding.show for b in app.screen.active_bindings.values())
        assert not screen.query_one("Footer").display
        assert not app._notifications  # ctrl+c does not even say how to quit


async def test_kiosk_opens_no_dialog_and_sends_nothing(sim) -> None:
    app = make_kiosk(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await loaded(pilot)
        await pilot.press("c", "y", "R", "D", "enter", "S", "slash", "ctrl+p", "p")
        await pilot.pause()
        assert app.screen_stack == [screen]
        assert not CommandPalette.is_open(app)
        assert sim.sim.mutating_requests() == []
        assert not app.poller.paused


async def test_the_kiosks_help_closes_by_itself_and_never_stops_rotation_or_polls(
    sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "KIOSK_HELP_S", 3.0)  # 15 s in the app
    app = make_kiosk(sim, rotate=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the kiosk's help")
        shown, polls = screen.where_text(), len(sim.sim.requests_to("wercker"))
        app.poller.refresh("wercker")
        await until(pilot, lambda: screen.where_text() != shown, "a rotation under the help")
        await until(pilot, lambda: len(sim.sim.requests_to("wercker")) > polls,
                    "a poll under the help")
        assert isinstance(app.screen, HelpScreen)  # all of that with the help still up
        await until(pilot, lambda: app.screen is screen, "the help closing by itself")


async def test_a_locked_kiosk_opens_not_even_its_help(sim) -> None:
    app = make_kiosk(sim, lock=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen_stack == [screen]


async def test_kiosk_writes_no_state_file(sim, tmp_path: Path) -> None:
    app = make_kiosk(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        for theme in ("runwatch-light", "runwatch-dark", "runwatch-ansi"):
            app.theme = theme
            await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
    assert written(tmp_path) == []


def written(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*"))


# -- errors --------------------------------------------------------------------------


async def test_a_failing_source_is_shown_stale_and_recovers(sim) -> None:
    app = make_kiosk(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await loaded(pilot)
        before = counts_shown(screen)
        sim.sim.inject("wercker", Fault(kind="500"))
        app.poller.refresh("wercker")
        await until(pilot, lambda: app.poller.health("wercker").state == "stale", "stale")
        await pilot.pause()
        line = health_line(screen, "wercker")
        assert "wercker  stale since 12:00:00" in line
        assert "simulated internal error" in line and "next try in" in line
        assert counts_shown(screen) == before  # the last good runs stay
        assert app.is_running
        sim.sim.clear_faults()
        app.poller.refresh("wercker")
        await until(pilot, lambda: app.poller.health("wercker").state == "ok", "recovery")
        await pilot.pause()
        assert "wercker  ok · " in health_line(screen, "wercker")
        assert "updated" not in health_line(screen, "wercker")


# -- snapshots ----------------------------------------------------------------------------


async def _settle(pilot: Pilot) -> None:
    await loaded(pilot)
    await pilot.pause(0.1)


def test_snapshot_kiosk_80x24(sim, snap_compare) -> None:
    assert snap_compare(make_kiosk(sim, demo=True), terminal_size=(80, 24), run_before=_settle)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_snapshot_kiosk_help(sim, snap_compare, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "the help")
        await pilot.pause(0.1)

    assert snap_compare(make_kiosk(sim), terminal_size=size, run_before=run_before)


def test_snapshot_kiosk_160x45(sim, snap_compare) -> None:
    assert snap_compare(make_kiosk(sim), terminal_size=(160, 45), run_before=_settle)


def test_snapshot_kiosk_one_source_turn(sim, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = await loaded(pilot)
        screen.rotate()  # wercker's turn
        await pilot.pause(0.1)
        assert screen.where_text() == "source 2/5: wercker"

    app = make_kiosk(sim, rotate=600.0)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_kiosk_ascii_ansi_locked(sim, snap_compare) -> None:
    # An old terminal over SSH: no UTF-8, 16 colours, and a locked wall display.
    app = make_kiosk(sim, ascii=True, theme="runwatch-ansi", lock=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


async def test_a_finished_currents_run_shows_how_long_it_took(sim) -> None:
    # Currents lists carry durationMs: the kiosk says how long each finished run took.
    app = make_kiosk(sim, rotate=20.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        screen.rotate()
        screen.rotate()
        assert screen.where_text() == "source 3/5: currents"
        await pilot.pause()
        finished = [r for r in all_runs(app, "currents")
                    if r.status.is_terminal and r.duration_s is not None]
        assert finished
        lines = [str(line) for line in screen.query_one(KioskRuns).lines]
        for run in finished:
            line = next((x for x in lines if run.id[:9] in x), None)
            if line is not None:  # on screen: its duration is there, beside "ago"
                assert f"{format_duration(run.duration_s)} " in line, line
                break
        else:
            raise AssertionError("no finished currents run on screen")


# -- what a second costs, and a large screen ------------------------------------------------


async def test_a_ticking_duration_repaints_its_own_cells_only(sim, monkeypatch) -> None:
    app = make_kiosk(sim, rotate=20.0)  # services: two runs running
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        runs = screen.query_one(KioskRuns)
        await pilot.pause(0.2)
        repainted: dict[int, list[Region]] = {}

        def refresh(*regions: Region, **_: object) -> None:
            assert regions, "the whole list repainted"
            for region in regions:
                repainted.setdefault(region.y, []).append(region)

        monkeypatch.setattr(runs, "refresh", refresh)
        before = list(runs.lines)
        sim.sim.clock.advance(1)
        runs.refresh_times()
        running = [i for i, text in enumerate(runs.lines) if text.lstrip().startswith("●")]
        assert running and sorted(repainted) == running  # the running lines, and only those
        for i in running:
            (region,) = repainted[i]  # one region: the cells that moved, not the line
            assert region.height == 1 and region.width < 8, region
            old, new = before[i], runs.lines[i]
            assert old[:region.x] == new[:region.x]
            assert old[region.right:] == new[region.right:]
        repainted.clear()
        runs.refresh_times()
        assert repainted == {}  # nothing moved: nothing written


def test_changed_cells_are_the_span_that_reads_differently() -> None:
    line = Content.assemble(("● running", "$run-running"), " svc  ", ("1m 05s", "bold"))
    same_length = Content.assemble(("● running", "$run-running"), " svc  ", ("1m 06s", "bold"))
    assert changed_cells(line, same_length) == (19, 20)
    assert changed_cells(line, line) == (0, 0)
    assert changed_cells(Content("漢字 1s"), Content("漢字 2s")) == (5, 6)  # wide: cells
    assert changed_cells(Content("1s"), Content("10s")) is None  # what follows moves
    assert changed_cells(line, Content(line.plain)) is None  # other styles
    assert changed_cells(Content("a漢b"), Content("abbb")) is None  # other widths


async def test_the_durations_and_the_ago_times_are_separate_columns(sim) -> None:
    app = make_kiosk(sim, rotate=20.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        lines = screen.query_one(KioskRuns).lines
        running = [ln for ln in lines if ln.lstrip().startswith("● running")]
        finished = [ln for ln in lines if ln.lstrip().startswith("✓ passed")]
        assert running and finished
        for line in running + finished:
            assert line.rstrip().endswith(" ago"), line
            assert re.search(r"\d+(s|m \d\ds) +(<1m|\d+[mhd]) ago$", line.rstrip()), line


async def test_at_200x50_the_digits_grow_and_the_runs_fill_the_screen(sim) -> None:
    app = make_kiosk(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await loaded(pilot)
        await pilot.pause(0.2)
        digits = screen.query_one("#count-failed BigNumber")
        assert digits.large and digits.size.height == 5
        assert screen.query_one("#kiosk-bigclock").size.height == 5
        runs = screen.query_one(KioskRuns)
        assert len(runs.lines) == runs.content_region.height
        assert max(len(line.rstrip()) for line in runs.lines) > 180  # the width too
    app = make_kiosk(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        assert not screen.query_one("#count-failed BigNumber").large


async def test_a_stale_sources_kiosk_lines_are_marked_and_stop_counting(sim) -> None:
    app = make_kiosk(sim, rotate=20.0)  # services
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        runs = screen.query_one(KioskRuns)
        before = [ln for ln in runs.lines if ln.lstrip().startswith("● running")]
        sim.sim.inject("services", Fault(kind="500"))
        app.poller.refresh("services")
        await until(pilot, lambda: app.poller.health("services").state == "stale", "stale")
        await pilot.pause()
        sim.sim.clock.advance(30)
        runs.refresh_times()
        after = [ln for ln in runs.lines if ln.lstrip().startswith("● running ▲")]
        assert len(after) == len(before)
        # The same durations as when the data stopped.
        durations = [re.findall(r"(\d+m \d\ds|\d+s) ", ln) for ln in after]
        assert durations == [re.findall(r"(\d+m \d\ds|\d+s) ", ln) for ln in before]


@pytest.mark.parametrize("theme", ["runwatch-contrast", "runwatch-ansi"])
def test_snapshot_kiosk_200x50(sim, snap_compare, theme: str) -> None:
    assert snap_compare(make_kiosk(sim, theme=theme), terminal_size=(200, 50),
                        run_before=_settle)


async def test_a_rotation_lays_out_only_what_changed_size(sim, monkeypatch) -> None:
    # A turn changes the header's name and the trend lines: the name's box is the header's,
    # and trend lines are laid out again only when their number changed (each a layout of
    # the whole screen), not on every rotation.
    app = make_kiosk(sim, rotate=600.0)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await loaded(pilot)
        trends = screen.query_one("#kiosk-trends")
        asked: list[str | None] = []
        refresh = Widget.refresh

        def spy(self: Widget, *regions: object, layout: bool = False, **options: object):
            if layout and self.id in ("kiosk-where", "kiosk-trends"):
                asked.append(self.id)
            return refresh(self, *regions, layout=layout, **options)  # type: ignore[arg-type]

        monkeypatch.setattr(Widget, "refresh", spy)
        changed = 0
        for _ in range(10):
            lines = trends.render().plain.count("\n") if trends.display else -1
            asked.clear()
            screen.rotate()
            await pilot.pause()
            resized = (trends.render().plain.count("\n") if trends.display else -1) != lines
            changed += resized
            assert "kiosk-where" not in asked
            assert ("kiosk-trends" in asked) == resized, (asked, resized)
        assert changed < 10
