"""`S` (or "Sources" in the palette): every source in full, where a health line has room
for one line only. For each source: its state, the whole error, the last success, the next
try, the last request and its answer, the rate limit its API announced, and where its token
comes from (the variable's name or the command: never the token).

Read live from the session (the poller's health, the HTTP client's last request) on every
health change and every second, so the countdown to the next try moves."""

from __future__ import annotations

from typing import ClassVar, cast

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from runwatch.config import SourceConfig
from runwatch.poll_events import SourceHealth
from runwatch.session import SourceFacts, Traffic
from runwatch.tui.formatting import format_clock, format_duration, relative_time
from runwatch.tui.host import Host
from runwatch.tui.look import UNICODE, Glyphs, glyphs_of
from runwatch.tui.widgets.cells import SourceStyle
from runwatch.tui.widgets.footer import KeysFooter
from runwatch.tui.widgets.source_bar import seconds_until, without_source

LABEL_WIDTH = 14
STATE_WORDS = {"ok": "ok", "stale": "stale: polls fail, the last good runs are kept",
               "error": "error: no poll has succeeded yet", "paused": "paused",
               "starting": "connecting"}


def token_origin(config: SourceConfig) -> str:
    """Where the token comes from, in words: never the token itself."""
    origin = config.token_origin
    if origin is None:
        return "none (requests go without a token)"
    return origin.replace("env ", "environment variable ", 1)


def password_origin(config: SourceConfig) -> str | None:
    """The scheduler's login password, if it logs in: where it comes from."""
    if config.password_env:
        return f"environment variable {config.password_env} (user {config.username})"
    if config.password_cmd:
        return f"command `{config.password_cmd}` (user {config.username})"
    return None


def source_facts(facts: SourceFacts, health: SourceHealth | None, traffic: Traffic,
                 now: float, *, glyphs: Glyphs = UNICODE) -> tuple[Text, list[tuple[str, Text]]]:
    """One source's heading, and its facts as (label, value) pairs."""
    config = facts.config
    state = health.state if health else "starting"
    heading = Text(end="")
    heading.append(f"{glyphs.health.get(state, glyphs.health['starting'])} ")
    heading.append_text(SourceStyle(config.name, config.label, config.color).text())
    heading.append(f"  {state}", Style(bold=True))
    heading.append(f"  {facts.api} at {config.base_url}", Style(dim=True))
    pairs: list[tuple[str, Text]] = []

    def fact(label: str, value: str, style: Style | None = None) -> None:
        pairs.append((label, Text(value, style or Style(), end="")))

    fact("state", STATE_WORDS.get(state, state))
    if health is not None and health.error:
        fact("error", without_source(health.error, config.name), Style(bold=True))
    if health is not None and health.failures:
        fact("failures", f"{health.failures} in a row")
    last = health.last_success if health else None
    fact("last success", "never" if last is None
         else f"{format_clock(last)} ({relative_time(last, now)})")
    fact("next try", _next_try(health, now))
    interval = health.interval_s if health else None
    if interval is not None:
        fact("interval", f"every {format_duration(interval)}")
    fact("last request", traffic.last_request.describe() if traffic.last_request
         else "none yet")
    fact("rate limit", traffic.rate_limit.describe() if traffic.rate_limit
         else "none announced")
    fact("token", token_origin(config))
    if (password := password_origin(config)) is not None:
        fact("password", password)
    return heading, pairs


def source_text(facts: SourceFacts, health: SourceHealth | None, traffic: Traffic,
                now: float, *, glyphs: Glyphs = UNICODE) -> Text:
    """One source's block as plain lines: the heading, then a labelled fact a line."""
    heading, pairs = source_facts(facts, health, traffic, now, glyphs=glyphs)
    text = heading.copy()
    for label, value in pairs:
        text.append(f"\n  {label:<{LABEL_WIDTH}}", Style(dim=True))
        text.append_text(value)
    return text


def source_block(facts: SourceFacts, health: SourceHealth | None, traffic: Traffic,
                 now: float, *, glyphs: Glyphs = UNICODE) -> Group:
    """The block on screen: a long value (an error, a path) wraps under itself, not under
    its label."""
    heading, pairs = source_facts(facts, health, traffic, now, glyphs=glyphs)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=LABEL_WIDTH + 1, style=Style(dim=True))
    grid.add_column(ratio=1, overflow="fold")
    for label, value in pairs:
        grid.add_row(f" {label}", value)
    heading.end = "\n"
    return Group(heading, grid)


def _next_try(health: SourceHealth | None, now: float) -> str:
    if health is None or health.state == "starting":
        return "now (the first poll)"
    if health.state == "paused":
        return "paused (p resumes on the runs screen)"
    wait = seconds_until(health.next_poll, now)
    if wait is None:
        return "when the poll under way ends"
    return f"in {wait} s (at {format_clock(now + wait)})"


class SourcesScreen(Screen[None]):
    """Every source in full; escape goes back."""

    DEFAULT_CSS = """
    SourcesScreen {
        #sources-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
        #sources-body { height: 1fr; padding: 0 1; }
        .source-block { margin-bottom: 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back", tooltip="back to where you were"),
        Binding("r", "refresh", "refresh", tooltip="poll every source now"),
        Binding("j", "scroll('down')", show=False),
        Binding("k", "scroll('up')", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown: dict[int, str] = {}

    @property
    def host(self) -> Host:
        """The app, as a screen may know it."""
        return cast(Host, self.app)

    def compose(self) -> ComposeResult:
        yield Static("sources: state, whole error, next try, last request, rate limit, token",
                     id="sources-title", markup=False)
        with VerticalScroll(id="sources-body"):
            for index, _name in enumerate(self.host.session.sources):
                yield Static(id=f"source-{index}", classes="source-block", markup=False)
        yield KeysFooter(show_command_palette=False)

    def on_mount(self) -> None:
        self.host.health_signal.subscribe(self, lambda _event: self.refresh_sources())
        self.refresh_sources()
        self.set_interval(1.0, self.refresh_sources)
        self.query_one("#sources-body").focus()

    def refresh_sources(self) -> None:
        """Re-render the blocks whose text changed (an idle second writes nothing)."""
        session, now, glyphs = self.host.session, self.host.now(), glyphs_of(self)
        shown = self._shown
        for index, (name, facts) in enumerate(session.sources.items()):
            health, traffic = session.health(name), session.traffic(name)
            text = source_text(facts, health, traffic, now, glyphs=glyphs)
            if shown.get(index) != text.markup:
                shown[index] = text.markup
                self.query_one(f"#source-{index}", Static).update(
                    source_block(facts, health, traffic, now, glyphs=glyphs))

    def block_text(self, name: str) -> str:
        """The plain text of a source's block, as a person reads it."""
        session = self.host.session
        return source_text(session.sources[name], session.health(name),
                           session.traffic(name), self.host.now()).plain

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#sources-body", VerticalScroll)
        if direction == "down":
            body.scroll_down()
        else:
            body.scroll_up()

    def action_refresh(self) -> None:
        self.host.refresh_now()

    def action_back(self) -> None:
        self.dismiss(None)
