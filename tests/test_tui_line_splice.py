"""A tick splices the runs table's changed cells into the lines it has drawn (line_splice)
instead of drawing those lines again: what the frame then draws must be what drawing every
line again draws, segment for segment and after every line filter, under the cursor, the
hover, NO_COLOR and a stale source, and the table must not have drawn those lines itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from rich.segment import Segment
from textual.geometry import Offset, Region
from textual.pilot import Pilot

from runwatch.tui.widgets import line_splice, table_cache
from runwatch.tui.widgets.runs_table import RunsTable
from tui_helpers import loaded, make_app


def drawn(table: RunsTable) -> list[list[Segment]]:
    """Every line of the table as the next frame draws it (filters applied)."""
    return [list(strip) for strip in table.render_lines(Region(0, 0, *table.size))]


def drawn_again(table: RunsTable) -> list[list[Segment]]:
    """Every line drawn from nothing: every render cache of the table dropped."""
    table._clear_caches()
    return drawn(table)


class Spy:
    """The lines each splice put in, and the table lines DataTable drew itself."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, table: RunsTable) -> None:
        self.spliced: list[int] = []
        self.redrawn: list[int] = []
        real_splice, real_line = line_splice.splice_lines, RunsTable.render_line

        def splice(*args: object, **kwargs: object) -> set[int]:
            done = real_splice(*args, **kwargs)  # type: ignore[arg-type]
            self.spliced += sorted(done)
            return done

        def render_line(widget: RunsTable, y: int) -> object:
            if widget is table:
                self.redrawn.append(y)
            return real_line(widget, y)

        monkeypatch.setattr(table_cache, "splice_lines", splice)
        monkeypatch.setattr(RunsTable, "render_line", render_line)

    def clear(self) -> None:
        self.spliced.clear()
        self.redrawn.clear()


@asynccontextmanager
async def loaded_table(sim, monkeypatch: pytest.MonkeyPatch
                       ) -> AsyncIterator[tuple[Pilot, RunsTable, Spy]]:
    """The app at 160x45 with every source's first poll on screen, its runs table, a spy."""
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        yield pilot, table, Spy(monkeypatch, table)


async def tick_and_draw(pilot: Pilot, sim, table: RunsTable) -> None:
    """One second on: the table's tick, then the frame it asks for."""
    sim.sim.clock.advance(1.0)
    table.refresh_times()
    await pilot.pause()


async def ticking_lines(pilot: Pilot, sim, table: RunsTable, spy: Spy) -> list[int]:
    """The table lines (the header is line 0) whose time cells move every second: those
    spliced by a tick after one that drew every time cell at its second. At least two."""
    await pilot.pause(0.2)
    await tick_and_draw(pilot, sim, table)
    spy.spliced.clear()
    await tick_and_draw(pilot, sim, table)
    lines = sorted(spy.spliced)
    assert len(lines) >= 2, "the running rows' durations and spinners tick"
    spy.clear()
    return lines


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "no-color"])
async def test_a_tick_draws_what_drawing_every_line_again_draws(
        sim, monkeypatch: pytest.MonkeyPatch, no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    async with loaded_table(sim, monkeypatch) as (pilot, table, spy):
        ticking = await ticking_lines(pilot, sim, table, spy)
        # The cursor onto a ticking row: drawn highlighted at the next frame, then spliced.
        table.move_cursor(row=ticking[-1] - 1)
        await tick_and_draw(pilot, sim, table)
        spy.clear()
        await tick_and_draw(pilot, sim, table)
        # A line whose minute turned over now was drawn under the cursor's old place, and
        # DataTable keys its rows' renders by the cursor: that one is drawn again instead.
        assert set(ticking) <= set(spy.spliced), "every ticking line, the cursor's too"
        assert not set(spy.spliced) & set(spy.redrawn), "a spliced line was drawn again"
        assert drawn(table) == drawn_again(table)


async def test_under_the_hover_and_a_moved_cursor_it_still_draws_the_same(
        sim, monkeypatch: pytest.MonkeyPatch) -> None:
    async with loaded_table(sim, monkeypatch) as (pilot, table, spy):
        running = await ticking_lines(pilot, sim, table, spy)
        # The mouse over one running row, the cursor onto another: both lines are drawn
        # again at the next frame, and spliced from the tick after.
        await pilot.hover(table, offset=Offset(20, running[0]))
        table.move_cursor(row=running[1] - 1)
        await tick_and_draw(pilot, sim, table)
        assert drawn(table) == drawn_again(table)
        await tick_and_draw(pilot, sim, table)
        assert {running[0], running[1]} <= set(spy.spliced)
        assert drawn(table) == drawn_again(table)


async def test_a_line_asked_to_be_drawn_again_is_not_spliced(
        sim, monkeypatch: pytest.MonkeyPatch) -> None:
    async with loaded_table(sim, monkeypatch) as (pilot, table, spy):
        ticking = await ticking_lines(pilot, sim, table, spy)
        # A ticking line asked to be drawn again, and the clock on with no frame between:
        # the tick leaves that line to the frame and splices the others.
        asked = ticking[0]
        table.refresh(Region(0, asked, table.size.width, 1))
        sim.sim.clock.advance(1.0)
        table.refresh_times()
        assert set(spy.spliced) == set(ticking) - {asked}
        await pilot.pause()
        assert spy.redrawn == [asked]
        assert drawn(table) == drawn_again(table)


async def test_after_the_cursor_moves_the_rows_are_drawn_again_once(
        sim, monkeypatch: pytest.MonkeyPatch) -> None:
    async with loaded_table(sim, monkeypatch) as (pilot, table, spy):
        ticking = await ticking_lines(pilot, sim, table, spy)
        # DataTable keys its rows' renders by the cursor: after it moves, no row's render
        # is the one drawn, so the next tick draws its lines again; the tick after splices.
        table.move_cursor(row=ticking[1] - 1)
        sim.sim.clock.advance(1.0)
        table.refresh_times()
        assert not spy.spliced
        await pilot.pause()
        assert set(ticking) <= set(spy.redrawn)
        assert drawn(table) == drawn_again(table)
        spy.redrawn.clear()
        await tick_and_draw(pilot, sim, table)
        assert set(ticking) <= set(spy.spliced) and not set(ticking) & set(spy.redrawn)
        assert drawn(table) == drawn_again(table)


async def test_a_stale_source_s_rows_draw_the_same(sim, monkeypatch: pytest.MonkeyPatch) -> None:
    async with loaded_table(sim, monkeypatch) as (pilot, table, spy):
        source = table.runs[table.shown_keys[0]].source
        table.set_stale(source, sim.sim.clock.now() - 30.0)
        await ticking_lines(pilot, sim, table, spy)
        for _ in range(2):
            await tick_and_draw(pilot, sim, table)
        assert drawn(table) == drawn_again(table)


def test_a_cell_off_its_line_s_segment_edges_is_left_to_be_drawn() -> None:
    segments = [Segment("ab"), Segment("cde"), Segment("f")]
    assert line_splice._spans(segments, [(2, 3, [Segment("xyz")])]) == [(1, 2)]
    assert line_splice._spans(segments, [(1, 3, [Segment("xyz")])]) is None  # inside "ab"
    assert line_splice._spans(segments, [(2, 3, [Segment("xy")])]) is None  # narrower
    assert line_splice._spans(segments, [(5, 3, [Segment("xyz")])]) is None  # past the end
