"""The command palette (ctrl+p): themes, sources, views and actions on the selected run.

Names and help quote APIs (a run's id and title): they go to the palette as plain `Content`,
never as markup (Textual parses a `str` hit as markup, and `[@click=...]` would be an action).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from runwatch.session import RunAction
from runwatch.tui.host import Host
from runwatch.tui.runs_view import SORTS, STATUS_FILTERS
from runwatch.tui.screens.runs import RunsScreen


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[], object]


class RunwatchCommands(Provider):
    """runwatch's own commands, built fresh each time so they follow the selected run."""

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    def commands(self) -> Iterator[Command]:
        app, host = self.app, self.host
        session = host.session
        for name in sorted(app.available_themes):
            yield Command(f"Theme: {name}", "switch to this theme (remembered)",
                          partial(setattr, app, "theme", name))
        runs = app.screen_stack[0]
        if not isinstance(runs, RunsScreen):
            return  # the kiosk has no palette
        yield Command("Show all sources", "every source's runs", partial(runs.show_source, None))
        for name, facts in session.sources.items():
            yield Command(f"Show source: {name}", f"only the runs of {name} ({facts.api})",
                          partial(runs.show_source, name))
        for status in STATUS_FILTERS:
            yield Command(f"Status filter: {status}", "which runs to show",
                          partial(runs.set_status_filter, status))
        for sort in SORTS:
            yield Command(f"Sort by {sort}", "order of the runs", partial(runs.set_sort, sort))
        yield Command("Refresh now", "poll every source now", host.refresh_now)
        if host.paused:
            yield Command("Resume polling", "poll again", partial(host.set_paused, False))
        else:
            yield Command("Pause polling", "stop polling until resumed",
                          partial(host.set_paused, True))
        run = runs.selected
        if run is not None:
            yield Command(f"Copy run {run.id}", "its URL, or its id", partial(host.copy_run, run))
            for action in RunAction:
                if session.refusal(action, run) is None:
                    verb = session.verb(action, run.source)
                    yield Command(f"{verb.capitalize()} run {run.id}",
                                  f"{run.source}: {run.title or ''} (asks first)",
                                  partial(host.request_action, action, run))

    async def discover(self) -> Hits:
        for command in self.commands():
            if not command.name.startswith("Theme: "):  # the Theme command lists those
                yield DiscoveryHit(Content(command.name), command.run, text=command.name,
                                   help=Content(command.help))  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, highlight(matcher, command.name), command.run,
                          text=command.name, help=Content(command.help))  # type: ignore[arg-type]


def highlight(matcher: Matcher, candidate: str) -> Content:
    """`candidate` as plain Content with the matched letters styled (Matcher.highlight would
    parse it as markup)."""
    content = Content(candidate)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
