"""Issue 13, the screens that tell the whole truth: each screen's own help, an honest footer,
no focus traps, every source in full, notifications that hide no data, and a delete dialog
that says it cannot be undone. Snapshots at 80x24 and 200x50, dark and 16-colour, and the
footer without colour."""

from __future__ import annotations

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from runwatch.config import parse
from runwatch.demo import demo_config
from runwatch.http import RetryPolicy
from runwatch.http_record import RateLimit, RequestRecord, rate_limit_of
from runwatch.models import RunStatus
from runwatch.poll_events import RunTransition
from runwatch.providers import build_provider
from runwatch.sim import Fault, demo_tokens
from runwatch.tui.app import RunwatchApp
from runwatch.tui.dialogs import UNDOABLE, ConfirmDialog
from runwatch.tui.screens.help import HelpScreen, help_text
from runwatch.tui.screens.log import LogScreen
from runwatch.tui.screens.sources import SourcesScreen
from runwatch.tui.screens.spec_results import SpecResultsScreen
from runwatch.tui.widgets.footer import NOT_NOW, KeysFooter
from runwatch.tui.widgets.source_bar import health_text
from runwatch.tui.widgets.specs import SpecsTable
from runwatch.tui.widgets.timeline import Timeline
from test_tui_run_screen import open_run
from tui_helpers import PROVIDERS, app_on, loaded, make_app, messages, until

SIM_URL = "http://sim.invalid"


def help_of(app: RunwatchApp) -> str:
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    return help_text(screen.groups).plain


def listed(text: str) -> set[str]:
    """The keys the help lists, one token each ("g", "G", "/", "enter", ...)."""
    keys: set[str] = set()
    for line in text.splitlines():
        if line.startswith("  "):
            keys.update(line[2:].split("  ")[0].split())
    return keys


async def press_help(pilot: Pilot) -> str:
    await pilot.press("question_mark")
    await pilot.pause()
    return help_of(pilot.app)  # type: ignore[arg-type]


# -- 6. `?` lists the keys of the screen it is pressed on ----------------------------------


async def test_the_runs_screens_help_lists_its_own_keys(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        text = await press_help(pilot)
        keys = listed(text)
        assert {"enter", "/", "s", "o", "tab", "y", "r", "c", "R", "D", "p", "j", "k", "g",
                "G", "?", "q", "S", "^p"} <= keys
        assert "n" not in keys and "N" not in keys  # the log's keys are the log's
        assert "filter on id, title, branch, author" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_run_screens_help_lists_its_keys_not_the_runs_screens(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, "wercker")
        text = await press_help(pilot)
        keys = listed(text)
        assert {"esc", "y", "r", "c", "R", "D", "enter", "j", "k", "?", "q"} <= keys
        assert not {"/", "s", "o", "p"} & keys  # the runs screen's filter, sort and pause
        assert "tab" not in keys  # one part only (the steps): tab has nowhere to go
        assert "open the highlighted step's log" in text
        # A finished run: its cancel cannot apply, and the help says so.
        assert "abort the run (Wercker), after a confirmation  (not now)" in text


async def test_the_log_screens_help_lists_search_and_jumps_not_the_runs_filter(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "wercker")
        step = next(s for s in detail.steps if s.log_available)
        app.push_screen(LogScreen(screen.run, step))
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.loaded,
                    "the log")
        text = await press_help(pilot)
        keys = listed(text)
        assert {"/", "n", "N", "g", "G", "j", "k", "r", "esc", "?", "q"} <= keys
        assert not {"s", "o", "c", "R", "D", "p"} & keys
        assert "search (lower case matches any case)" in text
        assert "next match" in text and "previous match" in text


async def test_the_spec_results_help_lists_its_keys(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, detail = await open_run(pilot, "currents")
        spec = next(s for s in detail.specs if s.status is RunStatus.FAILED)
        app.push_screen(SpecResultsScreen(screen.run, spec))
        await until(pilot, lambda: isinstance(app.screen, SpecResultsScreen)
                    and app.screen.results is not None, "the tests")
        keys = listed(await press_help(pilot))
        assert {"esc", "r", "j", "k", "?", "q"} <= keys
        assert not {"/", "n", "s", "o", "c", "tab"} & keys


async def test_the_kiosks_help_lists_its_keys_from_its_bindings_and_any_key_closes_it(
    sim,
) -> None:
    """`?` on the kiosk lists what works there (read from its bindings, as on every screen),
    none of the keys it refuses, and any key closes it: a wall display is got back at once."""
    app = make_app(sim, kiosk=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: all(app.poller.health(s).state == "ok" for s in PROVIDERS),
                    "every source's first poll")
        kiosk = app.screen
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the kiosk's help")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen) and help_screen.target is kiosk
        keys = listed(help_text(help_screen.groups).plain)
        assert {"q", "?"} <= keys
        assert not {"c", "R", "D", "y", "/", "S", "^p"} & keys  # no action, no other dialog
        assert help_screen.close_after == 15
        assert "closes by itself in 15 s" in str(help_screen.query_one("#help").border_subtitle)
        await pilot.press("x")  # not a key of the help: it closes all the same
        await until(pilot, lambda: app.screen is kiosk, "the help closing on any key")
        assert app.is_running


# -- 7. an honest footer --------------------------------------------------------------------


def footer_text(app: RunwatchApp) -> str:
    footer = app.screen.query_one(KeysFooter)
    return " ".join(str(w.render()) for w in footer.children)


async def test_the_footer_shows_the_keys_that_apply_first(sim) -> None:
    app = make_app(sim, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.pause()
        entries = app.screen.query_one(KeysFooter).entries
        labels = [(e.binding.description, e.enabled) for e in entries]
        applying = [label for label, enabled in labels if enabled]
        assert applying[:7] == ["open", "filter", "status", "sort", "source", "copy", "refresh"]
        not_now = [label for label, enabled in labels if not enabled]
        assert {"cancel", "rerun", "delete"} <= set(not_now)
        # Every key of the screen that applies comes before every one that does not; the
        # app's keys (sources, quit, the palette) come last.
        screen_keys = [e.enabled for e in entries if not e.everywhere]
        first_off = screen_keys.index(False)
        assert all(not enabled for enabled in screen_keys[first_off:])
        assert all(e.everywhere for e in entries[len(screen_keys):])
        # A dimmed key still says why when pressed.
        await pilot.press("D")
        assert "cannot delete: read-only mode: delete is disabled" in messages(app)


async def test_the_footer_is_built_again_only_when_what_it_shows_changes(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        await loaded(pilot)
        await pilot.pause()
        footer = app.screen.query_one(KeysFooter)
        keys = list(footer.children)
        assert "pause" in footer_text(app)
        app.screen.refresh_bindings()  # what Textual does on each focus move and key press
        for _ in range(3):
            await pilot.pause()
        assert list(footer.children) == keys  # the same widgets: nothing was rebuilt
        await pilot.press("p")
        await until(pilot, lambda: "resume" in footer_text(app), "the footer's resume key")
        assert not set(footer.children) & set(keys)


def test_snapshot_footer_80x24_no_colour_marks_what_cannot_apply(sim, snap_compare,
                                                                  monkeypatch) -> None:
    """A finished run, read-only: "not now:" before the keys that cannot apply, which
    survives NO_COLOR (the snapshot is written without a colour)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim, read_only=True)

    async def run_before(pilot: Pilot) -> None:
        await open_run(pilot, "currents")
        assert NOT_NOW in footer_text(app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# -- 8. no focus traps ----------------------------------------------------------------------


async def test_tab_on_a_currents_run_stays_on_what_can_be_seen_and_used(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _detail = await open_run(pilot, "currents")
        specs = screen.query_one(SpecsTable)
        assert app.focused is specs
        for _ in range(3):
            await pilot.press("tab")
            await pilot.pause()
            assert app.focused is specs  # the only part with keys: no invisible stop
        await pilot.press("j")
        assert specs.cursor_row == 1  # and its keys still work
        # The cursor row carries a marker, not a colour alone.
        assert str(specs.get_row_at(1)[0]).startswith("▶")
        assert not str(specs.get_row_at(0)[0]).startswith("▶")


async def test_tab_on_a_run_with_a_report_visits_the_report_and_marks_it(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _detail = await open_run(pilot, "conduct")
        timeline = screen.query_one(Timeline)
        assert app.focused is timeline
        title = screen.query_one("#content-title", Static)
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "run-body"
        assert str(title.render()).startswith("▶ Report")
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is timeline
        assert str(title.render()) == "Report"
        assert "tab" in listed(text := await press_help(pilot))
        assert "next part of the screen" in text


async def test_at_200_columns_the_report_column_is_the_stop_and_no_page_is(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        screen, _detail = await open_run(pilot, "scheduler")
        chain = [w.id for w in screen.focus_chain]
        assert chain == ["timeline", "run-right"]
        screen2, _ = await open_run(pilot, "currents")
        assert [w.id for w in screen2.focus_chain] == ["specs"]


# -- 5. every source in full ----------------------------------------------------------------


def broken_wercker_app(sim, monkeypatch) -> RunwatchApp:
    """Every source on the simulator in-process (as the demo runs it: no port, so the
    sources view reads the same on every run); wercker's token from an environment variable,
    with a PROD label. Polls without jitter, so "next try" is the same on every run."""
    monkeypatch.setenv("WERCKER_TOKEN", demo_tokens()["wercker"])
    config = demo_config(SIM_URL, interval=60.0)
    wercker = config.source("wercker").model_copy(
        update={"token": None, "token_env": "WERCKER_TOKEN", "label": "PROD"})
    sources = [wercker if s.name == "wercker" else s for s in config.sources]
    config = config.model_copy(update={"sources": sources})
    transport = httpx.ASGITransport(app=sim.sim.app, raise_app_exceptions=False)
    providers = {s.name: build_provider(s, retry=RetryPolicy(attempts=1), timeout_s=5.0,
                                        transport=transport) for s in sources}
    app = app_on(sim, config, providers)
    app.session.poller._jitter = 0.0  # the one random part of a schedule
    return app


async def test_the_sources_view_shows_the_whole_error_the_schedule_and_the_token_origin(
    sim, monkeypatch
) -> None:
    app = broken_wercker_app(sim, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        sim.sim.inject("wercker", Fault(kind="429", retry_after=30))
        app.poller.refresh("wercker")
        await until(pilot, lambda: app.poller.health("wercker").state == "stale", "stale")
        await pilot.pause()
        health = app.poller.health("wercker")
        assert health.error is not None and health.error.startswith("wercker: ")
        line = str(app.screen.query_one("#health-wercker").render())
        assert "wercker: " not in line.split("stale", 1)[1]  # the name once, at the start
        assert "next try in" in line

        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, SourcesScreen)
        block = app.screen.block_text("wercker")
        assert health.error.removeprefix("wercker: ") in block  # the whole error, uncut
        assert "next try      in " in block
        assert "last success  " in block
        assert "last request  GET /wercker/api/v3/runs?pipelineId=" in block
        assert f"wercker at {SIM_URL}/wercker" in block
        assert "→ 429 Too Many Requests" in block
        assert "asked to wait 30 s (Retry-After)" in block
        assert "token         environment variable WERCKER_TOKEN" in block
        assert demo_tokens()["wercker"] not in block  # never the token
        ok = app.screen.block_text("services")
        assert "→ 200 OK" in ok and "rate limit    none announced" in ok
        await pilot.press("escape")
        assert not isinstance(app.screen, SourcesScreen)


async def test_the_palette_offers_the_sources_view(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Sources" in titles
        next(c for c in app.get_system_commands(app.screen) if c.title == "Sources").callback()
        await pilot.pause()
        assert isinstance(app.screen, SourcesScreen)


def test_the_health_line_keeps_the_schedule_at_80_columns_and_shortens_the_error() -> None:
    from runwatch.poll_events import SourceHealth
    from runwatch.tui.widgets.cells import SourceStyle

    error = "a-long-source-name: " + "the server said something very long " * 5
    health = SourceHealth(state="stale", error=error, last_success=1_000.0, next_poll=1_012.0)
    style = SourceStyle("a-long-source-name", label="PRODUCTION")
    line = health_text(style, health, 1_000.0, width=80).plain
    assert len(line) <= 80
    assert line.endswith("next try in 12s")
    assert line.count("a-long-source-name") == 1
    narrow = health_text(style, health, 1_000.0, width=60).plain
    assert narrow.endswith("next try in 12s") and "the server" not in narrow


def test_rate_limit_headers_are_read_and_checked() -> None:
    said = rate_limit_of(200, {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "7",
                               "x-ratelimit-reset": "40"}, 0.0)
    assert said == RateLimit(100, 7, 40.0, None)
    assert "7 of 100 requests left" in said.describe()
    assert rate_limit_of(200, {}, 0.0) is None
    assert rate_limit_of(200, {"x-ratelimit-limit": "1e400", "x-ratelimit-remaining": "-3"},
                         0.0) is None
    assert rate_limit_of(429, {"retry-after": "30"}, 0.0) == RateLimit(None, None, None, 30.0)
    record = RequestRecord("GET", "/api/runs", None, "timed out")
    assert record.describe() == "GET /api/runs → no answer (timed out)"


# -- 11. notifications never hide data -------------------------------------------------------


async def test_a_toast_is_one_line_on_the_footers_row(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        app.notify("first", title="one")
        app.notify("a second message that is long " * 4, title="two", severity="error")
        await pilot.pause(0.2)
        toasts = [t for t in app.screen.query("Toast") if t.display and t.parent.display]
        assert len(toasts) == 1  # the newest; the older one waits underneath
        region = toasts[0].region
        assert region.height == 1 and region.y == 23  # the footer's row, no table row
        assert "two: a second message" in messages(app)[1]


@pytest.mark.parametrize(("notify", "toasts", "bells"),
                         [("toast", 1, 0), ("bell", 0, 1), ("off", 0, 0)])
async def test_notify_chooses_what_a_failure_does(sim, notify, toasts, bells) -> None:
    config = parse({"runwatch": {"interval": 60.0, "notify": notify},
                    "sources": [s.model_dump(exclude_none=True)
                                for s in demo_config(sim.url).sources]})
    app = make_app(sim, config=config)
    rung: list[bool] = []
    app.bell = lambda: rung.append(True)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        before = len(messages(app))
        run = next(iter(app.poller.runs("wercker").values()))
        failed = run.model_copy(update={"status": RunStatus.FAILED})
        app.poll_event(RunTransition(failed, RunStatus.RUNNING))
        await pilot.pause()
        said = [m for m in messages(app)[before:] if "failed" in m]
        assert len(said) == toasts and len(rung) == bells


def test_notify_must_be_one_of_its_words() -> None:
    with pytest.raises(Exception, match="'popup' is not one of 'toast', 'bell' or 'off'"):
        parse({"runwatch": {"notify": "popup"}})
    with pytest.raises(Exception, match="did you mean 'toast'"):
        parse({"runwatch": {"notify": "tost"}})


async def test_the_demo_notice_is_one_short_line(sim) -> None:
    app = make_app(sim, no_config=True, demo=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        notices = [m for m in messages(app) if "demo" in m]
        assert len(notices) == 1 and len(notices[0]) < 80


# -- 12. the delete dialog ------------------------------------------------------------------


async def test_the_delete_dialog_says_it_cannot_be_undone(sim) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, "services")
        await pilot.press("D")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.has_class("-destructive")
        assert str(dialog.query_one("#confirm-undoable", Static).render()) == UNDOABLE
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert not app.screen.has_class("-destructive")
        assert not app.screen.query("#confirm-undoable")


# -- snapshots ------------------------------------------------------------------------------


async def _settle(pilot: Pilot) -> None:
    await loaded(pilot)
    await pilot.pause(0.1)


SIZES = [(80, 24), (200, 50)]
THEMES = ["runwatch-dark", "runwatch-ansi"]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "200x50"])
@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_help_of_the_runs_screen(sim, snap_compare, size, theme) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(sim, theme=theme), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "200x50"])
@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_sources_view(sim, snap_compare, monkeypatch, size, theme) -> None:
    app = broken_wercker_app(sim, monkeypatch)
    app.theme = theme

    async def run_before(pilot: Pilot) -> None:
        await _settle(pilot)
        sim.sim.inject("wercker", Fault(kind="500"))
        app.poller.refresh("wercker")
        await until(pilot, lambda: app.poller.health("wercker").state == "stale", "stale")
        await pilot.press("S")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "200x50"])
@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_delete_dialog(sim, snap_compare, size, theme) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_run(pilot, "services")
        await pilot.press("D")
        await pilot.pause()

    assert snap_compare(make_app(sim, theme=theme), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "200x50"])
def test_snapshot_runs_footer_no_colour(sim, snap_compare, monkeypatch, size) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim, read_only=True)
    assert snap_compare(app, terminal_size=size, run_before=_settle)
