"""The Textual app: publishes the session's poll events as signals the screens subscribe to,
raises the toasts, and owns the app's keys and lifecycle. Acting on runs (the one
confirm-and-act flow, copy, open) is `runwatch.tui.app_actions`; themes and what the
terminal can show (`--ascii`, `NO_COLOR`) are `runwatch.tui.app_look`.

Screens see the app through `runwatch.tui.host.Host`, never through this class."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import Theme

from runwatch import collector
from runwatch.config import Config
from runwatch.models import RunStatus
from runwatch.poller import (
    DetailLoaded,
    HealthChanged,
    Poller,
    PollEvent,
    RunsChanged,
    RunTransition,
)
from runwatch.sanitize import clean_text
from runwatch.session import Session
from runwatch.state import load_state, save_state
from runwatch.tui import compositor_crop, partial_writes, styles_cache_fix
from runwatch.tui.app_actions import AppActions
from runwatch.tui.hangup import CHECK_EVERY_S, terminal_fd, terminal_gone
from runwatch.tui.look import ASCII, UNICODE
from runwatch.tui.terminal import AsciiOnly, NoColour, wants_ascii
from runwatch.tui.themes import config_look_problems

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.notifications import SeverityLevel

    from runwatch.tui.screens.kiosk import KioskScreen
    from runwatch.tui.screens.runs import RunsScreen

# Once, on one line: the DEMO badge says the rest for as long as the demo runs.
NO_CONFIG_NOTICE = "no config found: this is the demo · runwatch config init writes one"

# Keys that leave the app (q, Textual's ctrl+q, and ctrl+c) and that open a dialog.
QUIT_ACTIONS = frozenset({"quit", "help_quit"})
DIALOG_ACTIONS = frozenset({"help", "sources", "command_palette"})
# The kiosk's help closes by itself after this long: a wall display is not left covered.
KIOSK_HELP_S = 15.0


def _runwatch_commands() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (Textual takes a
    callable for that): the first screen does not need it."""
    from runwatch.tui.commands import RunwatchCommands

    return RunwatchCommands


class RunwatchApp(AppActions):
    """A dashboard of CI and test runs across every configured source."""

    CSS_PATH = "runwatch.tcss"
    TITLE = "runwatch"
    COMMANDS = App.COMMANDS | {_runwatch_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "help", key_display="?",
                tooltip="the keys of this screen"),
        Binding("S", "sources", "sources",
                tooltip="every source in full: state, whole error, next try, last request, "
                        "rate limit, token origin"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        config: Config,
        *,
        read_only: bool = False,
        kiosk: bool = False,
        only_sources: list[str] | None = None,
        interval: float | None = None,
        theme: str | None = None,
        demo: bool = False,
        no_config: bool = False,
        ascii: bool = False,
        now: Callable[[], float] = time.time,
        session: Session | None = None,
        theme_dirs: Iterable[Path] = (),
    ) -> None:
        if kiosk:
            # The palette is a dialog (and changes themes): a wall display has neither. Set
            # before App.__init__, which adds its ctrl+p binding from this.
            self.ENABLE_COMMAND_PALETTE = False  # type: ignore[misc]  # per app, on purpose
        super().__init__()
        self._base_screen: RunsScreen | KioskScreen | None = None  # get_default_screen's
        self.config = config
        self.kiosk = kiosk
        # kiosk.lock: nothing on the keyboard ends the kiosk (a wall display in a hallway).
        self.kiosk_lock = kiosk and config.kiosk.lock
        # Kiosk mode never mutates anything (DESIGN section 9).
        self.read_only = read_only or kiosk or config.runwatch.read_only
        # What the poller sees, for the screens that subscribe on mount.
        self.runs_signal: Signal[RunsChanged] = Signal(self, "runs")
        self.health_signal: Signal[HealthChanged] = Signal(self, "health")
        self.detail_signal: Signal[DetailLoaded] = Signal(self, "detail")
        self.ascii = ascii
        self.glyphs = ASCII if ascii else UNICODE
        self.set_class(ascii, "-ascii")  # runwatch.tcss swaps borders for ASCII ones
        self.set_class(self.no_color, "-no-colour")  # and marks toasts without colour
        self._terminal_filters: list[LineFilter] = [AsciiOnly()] if ascii else []
        if self.no_color:
            self._terminal_filters.append(NoColour())
        self.demo = demo
        self.now = now
        self._notice = NO_CONFIG_NOTICE if no_config else None
        # The run a rerun started: the cursor moves to it once a poll lists it.
        self._follow: tuple[str, str] | None = None
        if session is None:
            session = Session.from_config(config, read_only=self.read_only, kiosk=kiosk,
                                          only=only_sources, interval=interval, now=now)
            session.remember(config)  # the history file: the user's own sources only
            session.alert(config)  # [notify]: never for the demo's simulated runs
        # The session's gate is the one rule: the app's own flags only ever add to it.
        session.read_only = session.read_only or self.read_only
        session.kiosk = session.kiosk or kiosk
        self.session = session
        self.read_only = session.read_only
        session.on_event = self.poll_event
        self._theme_errors = self._register_themes(theme_dirs)
        # What `runwatch config check` reports, said at start too: a config mistake is seen.
        self._config_warnings = config_look_problems(config, self.available_themes)
        self.theme = self._initial_theme(theme)
        self._saved_theme = self.theme

    # -- themes (the rest: AppLook) -------------------------------------------------

    def _theme_changed(self, theme: Theme) -> None:
        # Rich text in the table carries resolved colours: re-render it in the new ones.
        if self.screen_stack and self.screen_stack[0] is self._base_screen:
            self.base_screen.restyle()
        if theme.name != self._saved_theme and not self.kiosk:
            self._saved_theme = theme.name
            try:
                save_state({**load_state(), "theme": theme.name})
            except OSError as exc:
                self.notify(f"could not save the theme: {exc}", severity="warning")

    # -- lifecycle -------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        # Only the screen this mode shows is imported: the kiosk's big digits are no part
        # of the runs screen's start, nor the runs table of the kiosk's.
        if self.kiosk:
            from runwatch.tui.screens.kiosk import KioskScreen

            self._base_screen = KioskScreen()
        else:
            from runwatch.tui.screens.runs import RunsScreen

            self._base_screen = RunsScreen()
        return self._base_screen

    @property
    def base_screen(self) -> RunsScreen | KioskScreen:
        """The screen at the bottom of the stack: the runs, or the kiosk."""
        screen = self.screen_stack[0]
        assert screen is self._base_screen and screen is not None
        return screen

    @property
    def runs_screen(self) -> RunsScreen:
        from runwatch.tui.screens.runs import RunsScreen

        screen = self.screen_stack[0]
        assert isinstance(screen, RunsScreen)
        return screen

    @property
    def poller(self) -> Poller:
        return self.session.poller

    def on_mount(self) -> None:
        # All app-wide: the leak kept every gone widget (footer keys, toasts), every partial
        # update (a table cell, a kiosk line) wrote the line up to it and rendered every
        # widget on the screen.
        styles_cache_fix.install()
        partial_writes.install()
        compositor_crop.install()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for error in self._theme_errors:
            self.notify(error, title="theme skipped", severity="warning", timeout=10)
        for warning in self._config_warnings:
            self.notify(warning, title="config", severity="warning", timeout=10, markup=False)
        if self._notice:
            self.notify(self._notice, timeout=8)
        if self.session.history is not None:
            self.session.history.on_problem = self._history_off
            self.session.history.start()  # opened and pruned now, off this thread
        if self.session.alerts is not None:
            self.session.alerts.write = self._write_to_terminal
            # `--ascii` (the C locale): the terminal gets no other byte from us outside ASCII
            self.session.alerts.ascii = self.ascii
            self.session.alerts.on_problem = self._alert_failed
        self.poller.start()
        if collector.paused():  # started by the command line, which paused it for the start
            self.set_timer(collector.START_S, lambda: collector.resume(freeze=True))
        fd = None if self.is_headless else terminal_fd()
        if fd is not None:
            self.set_interval(CHECK_EVERY_S, lambda: self._exit_if_hung_up(fd))

    def _history_off(self, text: str) -> None:
        """The history file cannot be used: said once (from its writer thread)."""
        with contextlib.suppress(RuntimeError):  # the app is already gone
            self.call_from_thread(self.notify, text, title="history", severity="warning",
                                  timeout=10)

    def _write_to_terminal(self, sequence: str) -> None:
        """An alert's OSC 9/777 or bell, through Textual's writer: between frames, never
        inside one (as App.bell writes)."""
        if self._driver is not None and not self.is_headless:
            self._driver.write(sequence)  # ASCII under --ascii: the alerts' `ascii`

    def _alert_failed(self, text: str) -> None:
        with contextlib.suppress(RuntimeError):  # from an alert thread; the app may be gone
            self.call_from_thread(self.notify, text, title="alert", severity="warning",
                                  timeout=10)

    def _exit_if_hung_up(self, fd: int) -> None:
        if terminal_gone(fd):
            self.exit(return_code=129)  # 128 + SIGHUP, what a shell reports for a hang-up

    async def on_unmount(self) -> None:
        await self.session.aclose()

    # -- poller events ---------------------------------------------------------------

    def poll_event(self, event: PollEvent) -> None:
        """Called on Textual's loop by the poller, for every change it sees: published to
        the screens that subscribed, and a failing run said out loud."""
        if isinstance(event, RunsChanged):
            self.runs_signal.publish(event)
            if self._follow is not None and self._follow[0] == event.source:
                self.call_after_refresh(self._follow_cursor)  # once the table has its rows
        elif isinstance(event, HealthChanged):
            self.health_signal.publish(event)
        elif isinstance(event, DetailLoaded):
            self.detail_signal.publish(event)
        elif isinstance(event, RunTransition):
            self._transition(event)

    def _transition(self, event: RunTransition) -> None:
        """A run that turns failed: what `notify` says (toast, bell or off). The kiosk shows
        failures in its counts and its FAILING group, so it raises no toast."""
        run = event.run
        if run.status not in (RunStatus.FAILED, RunStatus.TIMED_OUT):
            return
        notify = self.config.runwatch.notify
        if notify == "toast" and not self.kiosk:
            word = "failed" if run.status is RunStatus.FAILED else "timed out"
            details = " · ".join(p for p in (run.title, run.branch) if p)
            self.notify(details or run.id, title=f"{run.source}: run {run.id} {word}",
                        severity="error", timeout=10)
        if notify == "bell" or (notify == "toast" and self.config.runwatch.bell):
            self.bell()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast, from any screen or widget, is plain text: its words quote APIs (a
        run's title, id or URL, an error body), and markup there would crash the app on a
        `[/]` or run an action on a click (`[@click=app.quit]`). `markup` is ignored.

        A toast is one line ("title: message") on the footer's row, so it covers no data
        (runwatch.tcss); a longer one is cut with an ellipsis."""
        title, message = clean_text(title), clean_text(message)
        line = f"{title}: {message}" if title and message else title or message
        super().notify(" ".join(line.split()), severity=severity, timeout=timeout,
                       markup=False)

    # -- the app's verbs -------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.poller.paused

    def set_paused(self, paused: bool) -> None:
        if paused:
            self.poller.pause()
        else:
            self.poller.resume()
        self.notify("polling paused" if paused else "polling resumed", timeout=2)
        self.base_screen.refresh_chrome()
        self.refresh_bindings()
        self.screen.refresh_bindings()

    def refresh_now(self, source: str | None = None) -> None:
        self.poller.refresh(source)
        self.notify(f"refreshing {source or 'every source'}", timeout=2)

    def action_help(self) -> None:
        from runwatch.tui.screens.help import HelpScreen  # imported when first opened
        from runwatch.tui.screens.sources import SourcesScreen

        if not isinstance(self.screen, HelpScreen | SourcesScreen):
            self.push_screen(HelpScreen(self.screen,
                                        close_after=KIOSK_HELP_S if self.kiosk else None))

    def show_sources(self) -> None:
        """Every source in full (`S`, the palette)."""
        from runwatch.tui.screens.sources import SourcesScreen

        if not isinstance(self.screen, SourcesScreen):
            self.push_screen(SourcesScreen())

    def action_sources(self) -> None:
        self.show_sources()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides the key from the footer and blocks it.
        if self.kiosk and action in DIALOG_ACTIONS:
            # A kiosk opens no dialog but its keys (closing by itself, see action_help);
            # locked, the keyboard does nothing at all.
            return action == "help" and not self.kiosk_lock
        if action == "sources" and type(self.screen).__name__ == "SourcesScreen":
            return False  # already there (by name: the screen's module loads when opened)
        # kiosk.lock: q, ctrl+q and ctrl+c do nothing, and the footer offers no quit.
        return not (self.kiosk_lock and action in QUIT_ACTIONS)

    def action_help_quit(self) -> None:
        # Textual's ctrl+c only says how to quit; a kiosk has no footer hint to read, so
        # ctrl+c quits, as a person at the keyboard of a wall display would expect.
        if self.kiosk:
            self.exit()
        else:
            super().action_help_quit()

    # -- command palette -------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's "Keys" panel and "Screenshot" are noise here; keep theme, quit, help.
        for command in super().get_system_commands(screen):
            if command.title in ("Theme", "Quit"):
                yield command
        yield SystemCommand("Help", "The keys of this screen", self.action_help)
        if not self.kiosk:
            yield SystemCommand("Sources", "Every source in full: state, whole error, next "
                                "try, last request, rate limit, token origin",
                                self.show_sources)


def run_dashboard(config: Config, *, ascii: bool | None = None, **options: Any) -> int:
    """Run the dashboard until the user quits; the process exit code. `ascii=None`: ASCII
    when the terminal's locale is not UTF-8."""
    app = RunwatchApp(config, ascii=wants_ascii() if ascii is None else ascii, **options)
    app.run()
    return app.return_code or 0
