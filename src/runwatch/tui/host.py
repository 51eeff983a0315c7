"""What the screens and the command palette know of the app that hosts them: a Protocol, so
that they depend on the session, the clock and the mode flags, never on the App class (and
tui/app.py imports them, not the other way round)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.signal import Signal

from runwatch.config import Config
from runwatch.models import Run
from runwatch.poller import DetailLoaded, HealthChanged, RunsChanged
from runwatch.session import RunAction, Session


class Host(Protocol):
    """The dashboard as a screen sees it."""

    session: Session
    config: Config
    now: Callable[[], float]
    kiosk: bool
    kiosk_lock: bool
    read_only: bool
    demo: bool
    # A source's runs changed, its health changed, the focused run's detail was polled.
    runs_signal: Signal[RunsChanged]
    health_signal: Signal[HealthChanged]
    detail_signal: Signal[DetailLoaded]

    @property
    def paused(self) -> bool: ...

    def set_paused(self, paused: bool) -> None: ...

    def refresh_now(self, source: str | None = None) -> None: ...

    def copy_run(self, run: Run) -> None: ...

    def open_run(self, run: Run) -> None: ...

    def request_action(self, action: RunAction, run: Run) -> None: ...

    def show_sources(self) -> None: ...
