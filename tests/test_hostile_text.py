"""Issue 8, points 1–3 and 11: a world whose APIs put escape sequences and Textual markup in
every string they send (the simulator's `hostile_text` and `hostile_error` faults).

Nothing of it reaches the terminal raw (the bytes runwatch writes to a pty are checked, for the
dashboard, the kiosk and each CLI command), nothing of it crashes the dashboard or the kiosk,
and clicking it runs no action and follows no link."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Markdown

from runwatch.demo import demo_config
from runwatch.errors import MESSAGE_MAX, RunwatchError
from runwatch.models import Run, RunDetail, Step
from runwatch.providers import Provider
from runwatch.sim import Fault
from runwatch.sim.hostile import ID_MARK, MARKUP, PAYLOAD, PAYLOAD_CLEANED
from runwatch.tui.app import RunwatchApp
from runwatch.tui.dialogs import ConfirmDialog
from runwatch.tui.screens.run import RunScreen
from runwatch.tui.widgets.source_bar import SourceBar
from tui_helpers import PROVIDERS, all_polled, app_on, until

# What must never reach the terminal from an API.
FORBIDDEN = {
    "OSC 52": b"\x1b]52",
    "OSC 0": b"\x1b]0;",
    "OSC 2": b"\x1b]2;",
    "OSC 8": b"\x1b]8;",
    "screen clear": b"\x1b[2J",
    "C1 CSI": "\x9b".encode(),
    "bidi override": "\u202e".encode(),
    "payload title": b"pwned-title",
}


def forbidden_in(stream: bytes) -> list[str]:
    return [name for name, sequence in FORBIDDEN.items() if sequence in stream]


def hostile_world(sim, *, error_source: str | None = None) -> None:
    for name in PROVIDERS:
        kind = "hostile_error" if name == error_source else "hostile_text"
        sim.sim.inject(name, Fault(kind=kind))


def is_clean(value: object) -> bool:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return not any(c in text for c in ("\x1b", "\x9b", "\x9d", "\u202e", "\x07"))


# -- the world is hostile, the models are not ------------------------------------------------


async def test_the_hostile_world_sends_raw_escapes_and_markup(sim) -> None:
    hostile_world(sim)
    async with httpx.AsyncClient(base_url=sim.url) as http:
        answer = await http.get("/wercker/api/v3/runs", params={"pipelineId": "pipeline-1"},
                                headers={"authorization": "Bearer sim-wercker-token"})
    assert b"\\u001b]52;c;" in answer.content  # JSON escapes it; its decoder does not
    run = answer.json()[0]
    assert run["message"].startswith(PAYLOAD) and run["id"].endswith(ID_MARK)


async def test_hostile_faults_are_injected_over_http_too(sim) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        for kind in ("hostile_text", "hostile_error"):
            answer = await http.put("/_sim/faults/scheduler", json={"kind": kind})
            assert answer.status_code == 200 and sim.sim.faults["scheduler"].kind == kind
        failed = await http.get("/scheduler/api/v1/runs",
                                headers={"authorization": "Bearer sim-scheduler-token"})
    assert failed.status_code == 400 and PAYLOAD in failed.json()["message"]


@pytest.mark.parametrize("name", PROVIDERS)
async def test_every_providers_models_come_out_clean(sim, name: str) -> None:
    hostile_world(sim)
    provider = sim.provider(name)
    try:
        runs = await provider.list_runs()
        assert runs and all(run.id.endswith(ID_MARK) for run in runs)  # still navigable
        finished = next(r for r in runs if r.status.is_terminal)
        detail = await provider.get_run(finished.id)
        for model in (*runs, detail):
            assert is_clean(model.model_dump(mode="json")), model
        texts = ([r.title or "" for r in runs] + [detail.content or ""]
                 + [f"{s.name} {s.message}" for s in detail.steps])
        assert any(PAYLOAD_CLEANED.strip() in text for text in texts)  # the words stay
        if provider.has_logs:
            step = next(s for s in detail.steps if s.log_available)
            assert PAYLOAD in await provider.get_log(finished.id, step)  # raw: the TUI cleans
    finally:
        await provider.aclose()


async def test_a_hostile_error_body_is_one_capped_clean_line(sim) -> None:
    hostile_world(sim, error_source="conduct")
    provider = sim.provider("conduct")
    try:
        with pytest.raises(RunwatchError) as caught:
            await provider.list_runs()
    finally:
        await provider.aclose()
    message = caught.value.message
    assert message.startswith("conduct: ") and "upstream exploded" in message
    assert len(message) <= MESSAGE_MAX and message.isprintable()


# -- no markup, no action, no link ----------------------------------------------------------


class HostileIds(Provider):
    """A simulator provider whose run ids carry markup that cannot route (`[/]` leads to no
    path): the ids a provider hands the TUI are what this tests, not the HTTP."""

    MARK = "[/][link=x]"

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.actions = inner.actions  # type: ignore[misc]
        self.cancel_verb = inner.cancel_verb  # type: ignore[misc]
        self.has_logs = inner.has_logs  # type: ignore[misc]
        self.has_spec_results = inner.has_spec_results  # type: ignore[misc]
        super().__init__(inner.source, inner.client, limit=inner.limit)

    def _mark(self, run: Run) -> dict:
        return {**run.model_dump(), "id": run.id + self.MARK}

    async def list_runs(self) -> list[Run]:
        return [Run.model_validate(self._mark(r)) for r in await self.inner.list_runs()]

    async def get_run(self, run_id: str) -> RunDetail:
        detail = await self.inner.get_run(run_id.removesuffix(self.MARK))
        return RunDetail.model_validate(self._mark(detail))

    async def get_log(self, run_id: str, step: Step) -> str:
        return await self.inner.get_log(run_id.removesuffix(self.MARK), step)

    async def aclose(self) -> None:
        await self.inner.aclose()


def hostile_app(sim, *, kiosk: bool = False) -> tuple[RunwatchApp, list[str]]:
    """The app over the hostile world; the list records every action and link it was made
    to run (screenshots, opened URLs, quitting)."""
    config = demo_config(sim.url, interval=60.0)
    providers: dict[str, Provider] = {p: sim.provider(p) for p in PROVIDERS}
    providers["wercker"] = HostileIds(providers["wercker"])
    app = app_on(sim, config, providers, kiosk=kiosk)
    ran: list[str] = []
    app.save_screenshot = lambda *a, **k: ran.append("screenshot")  # type: ignore[method-assign]
    app.open_url = lambda url, **k: ran.append(f"open {url}")  # type: ignore[method-assign]
    app.bell = lambda: ran.append("bell")  # type: ignore[method-assign]
    return app, ran


def actions_and_links(app: RunwatchApp) -> list[tuple[int, str, object, object]]:
    """Every cell of the screen (toasts and dialogs included) whose style carries a link or a
    click action, as Textual finds them when the mouse is clicked there."""
    found = []
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        for segment in strip:
            style = segment.style
            if style is not None and (style.link or (style.meta or {}).get("@click")):
                found.append((y, segment.text, style.link, style.meta.get("@click")))
    return found


def cells_of(app: RunwatchApp, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Screen cells where any of `words` is shown (where a click on injected text lands)."""
    cells = []
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        line = strip.text
        for word in words:
            cells += [(m.start() + 1, y) for m in re.finditer(re.escape(word), line)]
    return cells


async def click_injected_text(pilot: Pilot, app: RunwatchApp) -> int:
    """Click where injected text is shown; the number of such cells. Each word is clicked at
    its first, middle and last place on screen: more clicks on the same text prove nothing
    more, and 40 of them took 15 s of a test that must finish on a loaded machine."""
    words = ("click", "[link=x]", "screenshot", "evil-link")
    cells = cells_of(app, words)
    chosen: list[tuple[int, int]] = []
    for word in words:
        if at := cells_of(app, (word,)):
            chosen += [c for c in dict.fromkeys(at[i] for i in (0, len(at) // 2, -1))
                       if c not in chosen]
    for x, y in chosen:
        await pilot.click(offset=(x, y))
        if app.screen is not app.screen_stack[0] and not isinstance(app.screen, RunScreen):
            await pilot.press("escape")  # a click opened something: back to the screen
    return len(cells)


def assert_still_running(app: RunwatchApp, ran: list[str]) -> None:
    assert app.is_running and app.return_code is None
    assert ran == []
    assert actions_and_links(app) == []


async def test_no_api_string_carries_an_action_or_a_link_into_the_dashboard(sim) -> None:
    hostile_world(sim)
    app, ran = hostile_app(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await all_polled(pilot, pause=0.1)
        table = app.runs_screen.table
        assert any(MARKUP in (run.title or "") for run in table.runs.values())
        assert_still_running(app, ran)
        # The confirmation of an action quotes the run's id, title, branch and author.
        table.focus()
        active = next(k for k, r in table.runs.items() if r.source == "wercker"
                      and r.status.is_active)
        table.move_cursor(row=table.get_row_index(active))
        await until(pilot, lambda: app.runs_screen.selected is table.runs[active], "the run")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert HostileIds.MARK in str(app.screen.query_one("#confirm-details").render())
        assert_still_running(app, ran)
        await click_injected_text(pilot, app)
        while app.screen is not app.screen_stack[0]:  # a click may have opened a run
            await pilot.press("n" if isinstance(app.screen, ConfirmDialog) else "escape")
            await pilot.pause()
        # Runs fail between two polls: the failure toasts quote their titles.
        sim.sim.clock.advance(3600)
        later = sim.sim.clock.now()
        app.refresh_now()
        await until(pilot, lambda: all((app.poller.health(s).last_success or 0) >= later
                                       for s in PROVIDERS), "every source's next poll")
        await until(pilot, lambda: any("failed" in n.message and "[@click" in n.message
                                       for n in app._notifications), "a failure toast")
        # y copies a Wercker URL (its id carries `[/]`); c on a finished run quotes its id.
        table.focus()
        wercker = next(k for k, r in table.runs.items() if r.source == "wercker"
                       and r.status.is_terminal)
        table.move_cursor(row=table.get_row_index(wercker))
        await until(pilot, lambda: app.runs_screen.selected is table.runs[wercker], "the run")
        await pilot.press("y", "c")
        await pilot.pause(0.2)
        said = " ".join(n.message for n in app._notifications)
        assert HostileIds.MARK in said and "has already finished" in said
        assert_still_running(app, ran)
        assert await click_injected_text(pilot, app) > 5
        assert_still_running(app, ran)
        # The palette lists the selected run's commands with its id and title.
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"copy run")
        await pilot.pause(0.5)
        assert_still_running(app, ran)
        await pilot.press("escape")
        assert sim.sim.mutating_requests() == []


@pytest.mark.parametrize("name", ["wercker", "conduct", "scheduler"])
async def test_the_run_screen_and_its_report_show_it_all_as_text(sim, name: str) -> None:
    hostile_world(sim)
    app, ran = hostile_app(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await all_polled(pilot, pause=0.1)
        run = next(r for r in app.runs_screen.table.runs.values()
                   if r.source == name and r.status.is_terminal)
        app.open_run(run)
        await until(pilot, lambda: isinstance(app.screen, RunScreen)
                    and app.screen.detail is not None, "the run's detail")
        await pilot.pause(0.2)
        assert_still_running(app, ran)
        await click_injected_text(pilot, app)
        if app.screen.detail.content:
            report = app.screen.query_one(Markdown)
            report.post_message(Markdown.LinkClicked(report, "https://evil.example/"))
            await pilot.pause(0.1)
            assert "open https://evil.example/" not in ran  # shown, not opened
            assert any("evil.example" in n.message for n in app._notifications)
        if name == "wercker":  # a step's log: colours kept, OSC 8 links and the rest gone
            from runwatch.tui.screens.log import LogScreen

            screen = app.screen
            step = next(s for s in screen.detail.steps if s.log_available)
            app.push_screen(LogScreen(screen.run, step))
            await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.loaded,
                        "the log")
            await pilot.pause(0.1)
            lines = [line.plain for line in app.screen.log_view.lines_widget.lines]
            assert any(PAYLOAD_CLEANED.strip() in line for line in lines)
            assert all(is_clean(line) for line in lines)
            assert_still_running(app, ran)
            await click_injected_text(pilot, app)
        assert_still_running(app, ran)


async def test_a_specs_test_errors_show_as_text(sim) -> None:
    from runwatch.tui.screens.spec_results import SpecResultsScreen

    hostile_world(sim)
    app, ran = hostile_app(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await all_polled(pilot, pause=0.1)
        provider = app.session.providers["currents"]
        for run in [r for r in app.poller.runs("currents").values() if r.status.is_terminal]:
            detail = await provider.get_run(run.id)
            failed = [s for s in detail.specs if s.status.value == "failed"]
            if failed:
                break
        app.push_screen(SpecResultsScreen(run, failed[0]))
        await until(pilot, lambda: isinstance(app.screen, SpecResultsScreen)
                    and app.screen.results is not None, "the tests")
        await pilot.pause(0.1)
        errors = [r.error for r in app.screen.results if r.error]
        assert errors and all(PAYLOAD_CLEANED.strip() in e for e in errors)
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "evil-link" in shown and not any(c in shown for c in "\x1b\x9b\u202e")
        await click_injected_text(pilot, app)
        assert_still_running(app, ran)


async def test_the_kiosk_keeps_a_long_hostile_error_on_its_line(sim) -> None:
    hostile_world(sim, error_source="conduct")
    app, ran = hostile_app(sim, kiosk=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until(pilot, lambda: all(app.poller.health(s).state in ("ok", "error")
                                       for s in app.session.providers), "every source's first poll")
        await pilot.pause(0.3)
        assert app.poller.health("conduct").state == "error"
        bar = app.screen.query_one(SourceBar)
        lines = list(bar.query(".source-health"))
        assert len(lines) == 5 and all(line.size.height == 1 for line in lines)
        shown = [strip.text for strip in app.screen._compositor.render_strips()]
        for name in PROVIDERS:  # every source keeps its line
            assert any(name in line for line in shown), name
        error_line = next(line for line in shown if "conduct" in line and "error" in line)
        assert "upstream" in error_line and "…" in error_line and "next try" in error_line
        await click_injected_text(pilot, app)
        assert_still_running(app, ran)


def test_an_unterminated_sequence_cut_by_a_column_never_reaches_the_table() -> None:
    # Truncation used to cut sequences in half; now they are gone before any column sees them.
    run = Run(source="s", provider="p", id="1", status="failed", provider_status="x",
              title="x" * 30 + "\x1b]52;c;" + "A" * 100 + "\x07 tail")
    assert run.title == "x" * 30 + " tail"

