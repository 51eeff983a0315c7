"""The runs table as the terminal's size and the view shape it: sort and filter show the top,
columns follow the width, empty views say why, stale sources look stale, and a time turning
over repaints its own cell only."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from rich.style import Style
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets.data_table import ColumnKey

from runwatch.demo import demo_config
from runwatch.models import RunStatus
from runwatch.sim import Fault
from runwatch.tui.runs_view import RunsView, row_key
from runwatch.tui.screens.runs import empty_text
from runwatch.tui.widgets.lines import MARKER
from runwatch.tui.widgets.runs_table import RunsTable
from tui_helpers import PROVIDERS, app_on, loaded, make_app, shown_runs, until


def empty_message(pilot: Pilot) -> str | None:
    widget = pilot.app.screen.query_one("#runs-empty", Static)
    return str(widget.render()) if widget.display and pilot.app.screen.has_class("-empty") \
        else None


def width_of(table: RunsTable, column: str) -> int:
    return table.columns[ColumnKey(column)].width


# -- sort and filter keep the top in view ------------------------------------------------


async def test_o_shows_the_top_failures_first_and_the_sorted_on_column(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        await pilot.press(*["j"] * 30)  # far below the first screen
        assert table.scroll_y > 0
        await pilot.press("o")  # status: failures first
        await pilot.pause()
        assert table.view.sort == "status"
        assert table.scroll_y == 0 and table.cursor_row == 0  # the top, not the old run
        assert shown_runs(table)[0].status is RunStatus.FAILED
        assert app.runs_screen.selected == shown_runs(table)[0]
        await pilot.press("o", "o")  # duration: its column comes, even at 80 columns
        await pilot.pause()
        assert table.view.sort == "duration" and "duration" in table.columns_shown
        await pilot.press("o")
        assert table.view.sort == "newest" and "started" in table.columns_shown


async def test_the_cursor_stays_on_its_run_only_while_that_run_is_on_the_first_screen(
    sim,
) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        await pilot.press("j")
        selected = app.runs_screen.selected
        await pilot.press("s")  # active runs: the newest active one is near the top
        await pilot.pause()
        assert table.scroll_y == 0
        if selected is not None and selected.status.is_active:
            assert app.runs_screen.selected == selected
        else:
            assert table.cursor_row == 0
        await pilot.press("s", "s")  # back to all
        await pilot.press(*["j"] * 25)
        await pilot.press("tab")  # one source: from its top
        await pilot.pause()
        assert table.scroll_y == 0 and table.cursor_row == 0
        assert {r.source for r in shown_runs(table)} == {"services"}


async def test_a_filter_with_no_match_says_so_and_escape_clears(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        total = table.row_count
        assert empty_message(pilot) is None
        await pilot.press("slash", *"zzzz", "enter")
        await pilot.pause()
        assert table.row_count == 0
        assert empty_message(pilot) == "no runs match 'zzzz' · escape clears"
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == total and empty_message(pilot) is None


def test_an_empty_view_says_why() -> None:
    assert empty_text(RunsView(source="ci"), runs=40, source_runs=0, polled=True) == \
        "ci has no runs"
    assert empty_text(RunsView(), runs=0, source_runs=0, polled=False) == \
        "no runs from any source yet"
    assert empty_text(RunsView(status="failed"), runs=40, source_runs=40, polled=True) == \
        "no failed runs · escape clears"


async def test_a_source_with_no_runs_says_so(sim) -> None:
    # A services source scoped to a service the simulator has no runs for.
    config = demo_config(sim.url, interval=60.0)
    sources = [s.model_copy(update={"service_id": "svc-none"}) if s.name == "services" else s
               for s in config.sources]
    config = config.model_copy(update={"sources": sources})
    providers = {p: sim.provider(p) for p in PROVIDERS}
    providers["services"] = sim.provider("services", service_id="svc-none")
    app = app_on(sim, config, providers)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        assert not app.poller.runs("services")
        await pilot.press("tab")
        await pilot.pause()
        assert table.view.source == "services" and table.row_count == 0
        assert empty_message(pilot) == "services has no runs"


# -- columns follow the width ------------------------------------------------------------


async def test_at_200_columns_ids_branches_and_authors_are_whole(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await loaded(pilot)
        runs = shown_runs(table)
        for column, value in (("id", "id"), ("branch", "branch"), ("author", "author")):
            longest = max(len(getattr(r, value) or "") for r in runs)
            assert width_of(table, column) >= longest, column
        widths = [width_of(table, c) + 2 for c in (MARKER, *table.columns_shown)]
        assert sum(widths) == table.size.width - table.styles.scrollbar_size_vertical
        assert width_of(table, "title") > 24  # and the title takes the rest


async def test_empty_columns_and_the_one_source_column_go(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await loaded(pilot)
        for _ in range(PROVIDERS.index("conduct") + 1):
            await pilot.press("tab")
        await pilot.pause()
        runs = shown_runs(table)
        assert table.view.source == "conduct"
        assert not any(r.branch for r in runs) and not any(r.author for r in runs)
        assert "branch" not in table.columns_shown and "author" not in table.columns_shown
        assert "source" not in table.columns_shown


async def test_one_configured_source_has_no_source_column(sim) -> None:
    # As with --source: the session holds one source, the view is "all" of it.
    config = demo_config(sim.url, interval=60.0)
    config = config.model_copy(update={"sources": [s for s in config.sources
                                                   if s.name == "wercker"]})
    app = app_on(sim, config, {"wercker": sim.provider("wercker")})
    async with app.run_test(size=(200, 50)) as pilot:
        table = await loaded(pilot)
        assert table.view.source is None and table.row_count
        assert "source" not in table.columns_shown and "branch" in table.columns_shown


# -- stale rows ----------------------------------------------------------------------------


async def test_a_stale_sources_rows_are_dimmed_marked_and_stop_counting(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await loaded(pilot)
        running = next(r for r in shown_runs(table) if r.status is RunStatus.RUNNING
                       and r.started_at is not None and table.get_cell(
                           row_key(r.source, r.id), "duration").plain != "–")
        source = running.source
        key = row_key(source, running.id)
        sim.sim.inject(source, Fault(kind="500"))
        app.poller.refresh(source)
        await until(pilot, lambda: app.poller.health(source).state == "stale", "stale")
        await pilot.pause()
        status = table.get_cell(key, "status")
        assert status.plain.endswith(" ▲")  # a mark, not colour alone: NO_COLOR keeps it
        assert any(span.style == Style(dim=True) for span in status.spans)
        frozen = table.get_cell(key, "duration").plain
        sim.sim.clock.advance(90)
        table.refresh_times()
        assert table.get_cell(key, "duration").plain == frozen  # stopped with its data
        sim.sim.clear_faults()
        app.poller.refresh(source)
        await until(pilot, lambda: app.poller.health(source).state == "ok", "recovery")
        await pilot.pause()
        table.refresh_times()
        assert not table.get_cell(key, "status").plain.endswith("▲")
        assert table.get_cell(key, "duration").plain != frozen  # live again: counting


# -- a time turning over -----------------------------------------------------------------


async def test_a_time_turning_over_repaints_that_cell_only(
    sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        await pilot.pause(0.2)
        repainted: list[Region] = []
        calls: list[int] = []
        monkeypatch.setattr(table, "refresh", lambda *regions, **_: calls.append(len(regions))
                            or repainted.extend(regions) or table)
        table.refresh_times()
        assert repainted == []  # nothing turned over: nothing written
        sim.sim.clock.advance(60)  # every "N m ago" turns over
        table.refresh_times()
        assert repainted
        # One refresh for all (each clears the widget's style and size caches).
        assert calls == [len(repainted)] and len(repainted) > 1
        started_x, started_w = table._column_x["started"]
        timed = {table._column_x[c] for c in ("started", "duration", "progress")
                 if c in table._column_x}
        assert all(r.height == 1 and (r.x + int(table.scroll_x), r.width) in timed
                   for r in repainted)
        assert any((r.x, r.width) == (started_x, started_w) for r in repainted)
        assert max(r.width for r in repainted) < table.size.width // 2  # never a whole row


async def test_a_turned_over_cell_is_all_that_is_written(
    sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What reaches the terminal: every write of a tick starts at a time column, none at
    # the row's left edge (Textual alone writes a line up to the last cell that changed).
    app = make_app(sim)
    written: list[str] = []
    render = Compositor.render_partial_update

    def spy(self: Compositor) -> ChopsUpdate | None:
        update = render(self)
        if update is not None:
            written.append(update.render_segments(app.console))
        return update

    monkeypatch.setattr(Compositor, "render_partial_update", spy)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await loaded(pilot)
        await pilot.pause(0.3)
        written.clear()
        sim.sim.clock.advance(60)  # spinners, durations and every "ago" move
        await pilot.pause(1.3)
        columns = [int(m.group(1)) - 1 for w in written
                   for m in re.finditer(r"\x1b\[\d+;(\d+)H", w)]
        assert columns
        left = table.region.x + min(x for c, (x, _) in table._column_x.items()
                                    if c in ("started", "duration", "progress"))
        assert min(columns) >= left
        # And what is drawn is the new value: no render cache kept the old one.
        for index, key in enumerate(table.shown_keys[:10]):
            started = table.get_cell(key, "started").plain
            line = table.render_line(index + table.header_height).text
            x, width = table._column_x["started"]
            assert line[x:x + width].strip() == started, line


async def test_a_tick_patches_its_rows_cached_lines_as_a_fresh_render_draws_them(
    sim,
) -> None:
    # The tick re-renders only the changed cells into the rows' cached lines (table_cache):
    # what is drawn must be what DataTable draws from nothing, cursor row included.
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        ticking = [i for i, r in enumerate(shown_runs(table)) if not r.status.is_terminal]
        assert ticking
        table.move_cursor(row=ticking[0])
        await pilot.pause()
        sim.sim.clock.advance(1)  # running durations and spinners move
        table.refresh_times()
        key = table.shown_keys[ticking[0]]
        assert any(k[0].value == key for k in table._row_render_cache.keys())  # noqa: SIM118 (no __iter__): kept
        await pilot.pause()
        lines = range(table.size.height)
        drawn = [list(table.render_line(y)) for y in lines]
        table._clear_caches()
        assert drawn == [list(table.render_line(y)) for y in lines]


async def test_a_sort_key_that_changes_without_moving_its_row_repaints_no_other_line(
    sim,
) -> None:
    # DataTable.sort drops every render cache even when the order stays: only a row that
    # moves costs a full repaint.
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        await pilot.pause()
        runs = shown_runs(table)
        key = row_key(runs[1].source, runs[1].id)
        table._sort_keys[key] = (-1.0,)  # a cached key that no longer holds: recomputed
        count, order = table._update_count, table.shown_keys
        table._sort_keys.pop(key)
        assert not table._sort() and table._update_count == count
        assert table.shown_keys == order
        # The last run made newer than every other moves up, the rest keep their order.
        last = runs[-1]
        moved = row_key(last.source, last.id)
        newest = max(r.created_at for r in runs if r.created_at) + timedelta(minutes=1)
        table.apply_changes(last.source, [last.model_copy(update={"created_at": newest})])
        assert table._update_count > count
        assert table.shown_keys.index(moved) < len(order) - 1
        assert [k for k in table.shown_keys if k != moved] == order[:-1]


async def test_a_run_of_unknown_status_keeps_its_spinner_turning(sim) -> None:
    # UNKNOWN is neither active nor ended: its progress is a spinner, which moves each second.
    app = make_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await loaded(pilot)
        running = next(r for r in shown_runs(table) if r.status is RunStatus.RUNNING)
        unknown = running.model_copy(update={"status": RunStatus.UNKNOWN, "progress": None})
        table.apply_changes(unknown.source, [unknown])
        key = row_key(unknown.source, unknown.id)
        table.refresh_times()
        before = table.get_cell(key, "progress").plain
        assert before  # a spinner frame
        sim.sim.clock.advance(1)
        table.refresh_times()
        assert table.get_cell(key, "progress").plain != before


async def test_a_rebuilt_table_forgets_when_its_old_rows_were_due(sim) -> None:
    # What the tick skips (rows not due to turn over yet) is of the rows before a rebuild:
    # after it, rows of another source (gone) or another staleness must be looked at anew.
    app = make_app(sim)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await loaded(pilot)
        table.refresh_times()
        assert table._due.rows()
        columns = table.columns_shown
        await pilot.press("tab")  # one source: its column goes, so the table is rebuilt
        await pilot.pause()
        assert table.columns_shown != columns
        assert table._due.rows() <= {key.value for key in table.rows}


# -- the cursor's marker -----------------------------------------------------------------


def marked(table: RunsTable) -> list[str]:
    return [key for key in table.shown_keys if table.get_cell(key, MARKER).plain.strip()]


@pytest.mark.parametrize(("ascii_", "glyph"), [(False, "▶"), (True, "#")])
async def test_the_cursor_row_is_marked_by_a_glyph_and_a_move_repaints_two_cells(
    sim, monkeypatch: pytest.MonkeyPatch, ascii_: bool, glyph: str
) -> None:
    app = make_app(sim, ascii=ascii_)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await loaded(pilot)
        await pilot.pause(0.2)
        keys = table.shown_keys
        assert marked(table) == [keys[0]]
        assert table.get_cell(keys[0], MARKER).plain == glyph
        assert table.render_line(table.header_height).text.lstrip().startswith(glyph)
        repainted: list[Region] = []
        monkeypatch.setattr(table, "_refresh_region",
                            lambda region, *a, **k: repainted.append(region))
        monkeypatch.setattr(table, "refresh", lambda *regions, **_: repainted.extend(
            regions or [Region(0, 0, *table.size)]) or table)
        await pilot.press("j")
        assert marked(table) == [keys[1]]
        # The marker's own two cells, and (DataTable's highlight) the two rows the cursor
        # left and reached: nothing else.
        marker, header = table._column_x[MARKER], table.header_height
        cells = sorted(r.y for r in repainted if (r.x, r.width) == marker)
        assert cells == [header, header + 1]
        assert all(r.height == 1 and r.y in cells for r in repainted)
        await pilot.press("o")  # a new order: the marker follows the cursor to the top
        assert marked(table) == [table.shown_keys[table.cursor_row]]


# -- snapshots ----------------------------------------------------------------------------


async def _settle(pilot: Pilot) -> None:
    await loaded(pilot)
    await pilot.pause(0.1)


@pytest.mark.parametrize("theme", ["runwatch-dark", "runwatch-ansi"])
def test_snapshot_runs_200x50(sim, snap_compare, theme: str) -> None:
    assert snap_compare(make_app(sim, theme=theme), terminal_size=(200, 50),
                        run_before=_settle)


def test_snapshot_runs_stale_no_color_80x24(sim, snap_compare,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    # The retry's jitter would move "next try in 58s" from run to run: none here.
    monkeypatch.setattr(random.Random, "uniform", lambda self, low, high: (low + high) / 2)

    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        sim.sim.inject("services", Fault(kind="500"))
        pilot.app.poller.refresh("services")  # type: ignore[attr-defined]
        await until(pilot, lambda: pilot.app.poller.health("services").state  # type: ignore[attr-defined]
                    == "stale", "stale")
        await pilot.pause(0.1)

    assert snap_compare(make_app(sim), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_runs_filter_no_match_80x24(sim, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("slash", *"zzzz", "enter")
        await pilot.pause(0.1)

    assert snap_compare(make_app(sim), terminal_size=(80, 24), run_before=run_before)


async def test_a_table_not_yet_laid_out_fits_the_screens_width(sim) -> None:
    """The first fit (on mount) comes before the table's first layout, when it has no
    size: fitted to 20 cells, the first frame with runs showed the status column alone
    until a resize rebuilt the table."""
    app = make_app(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        fresh = RunsTable(now=app.now)
        assert fresh.size.width == 0 and table.size.width == 160
        assert fresh._available_width() == table._available_width() > 100
