"""The command palette (ctrl+p): themes, sources, views and actions on the selected run.

Names and help quote APIs (a run's id and title): they go to the palette as plain `Content`,
never as markup (Textual parses a `str` hit as markup, and `[@click=...]` would be an action).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from runwatch.providers import Action
from runwatch.tui.runs_view import SORTS, STATUS_FILTERS

if TYPE_CHECKING:
    from runwatch.tui.app import RunwatchApp


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[], object]


class RunwatchCommands(Provider):
    """runwatch's own commands, built fresh each time so they follow the selected run."""

    @property
    def rw_app(self) -> RunwatchApp:
        return cast("RunwatchApp", self.app)

    def commands(self) -> Iterator[Command]:
        app = self.rw_app
        for name in sorted(app.available_themes):
            yield Command(f"Theme: {name}", "switch to this theme (remembered)",
                          partial(setattr, app, "theme", name))
        runs = app.runs_screen
        yield Command("Show all sources", "every source's runs", partial(runs.show_source, None))
        for name, provider in app.providers.items():
            yield Command(f"Show source: {name}", f"only the runs of {name} ({provider.name})",
                          partial(runs.show_source, name))
        for status in STATUS_FILTERS:
            yield Command(f"Status filter: {status}", "which runs to show",
                          partial(runs.set_status_filter, status))
        for sort in SORTS:
            yield Command(f"Sort by {sort}", "order of the runs", partial(runs.set_sort, sort))
        yield Command("Refresh now", "poll every source now", app.refresh_now)
        if app.paused:
            yield Command("Resume polling", "poll again", partial(app.set_paused, False))
        else:
            yield Command("Pause polling", "stop polling until resumed",
                          partial(app.set_paused, True))
        run = runs.selected
        if run is not None:
            yield Command(f"Copy run {run.id}", "its URL, or its id", partial(app.copy_run, run))
            if not app.kiosk:
                for action in Action:
                    if app.action_blocker(action, run) is None:
                        verb = app.verb(action, run)
                        yield Command(f"{verb.capitalize()} run {run.id}",
                                      f"{run.source}: {run.title or ''} (asks first)",
                                      partial(app.request_action, action, run.source, run))

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
