"""The run action keys (cancel/abort, rerun, delete, copy, web) shared by the runs and run screens:
their bindings, when the footer shows, dims or hides them, and what pressing them does.

A screen mixes in `RunActionsMixin`, splices `RUN_ACTION_BINDINGS` into its BINDINGS and says
which run the keys act on (`acted_run`). Whether an action applies is the session's gate
(`Session.refusal`): a key is dimmed, and says why, with the gate's own words."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

from textual.binding import Binding, BindingType

from runwatch.session import RunAction
from runwatch.tui.host import Host
from runwatch.weblinks import has_display, open_in_browser

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel

    from runwatch.models import Run

# Bound action name → the provider action it performs. `cancel` and `abort` are one key
# with two footer labels: check_action hides the one the run's API does not use.
ACTION_KEYS: dict[str, RunAction] = {
    "cancel": RunAction.CANCEL,
    "abort": RunAction.CANCEL,
    "rerun": RunAction.RERUN,
    "delete": RunAction.DELETE,
}

# A dimmed action blocks its binding; the second binding of the key then says why.
RUN_ACTION_BINDINGS: list[BindingType] = [
    Binding("c", "cancel", "cancel"),
    Binding("c", "abort", "abort"),
    Binding("c", "explain('cancel')", show=False),
    Binding("R", "rerun", "rerun"),
    Binding("R", "explain('rerun')", show=False),
    Binding("D", "delete", "delete"),
    Binding("D", "explain('delete')", show=False),
    Binding("y", "copy", "copy", show=False),
    Binding("w", "web", "web"),  # gh's --web: the run's page in the browser
]


class RunActionsMixin:
    """The run action keys of a Screen (list it before Screen among the bases)."""

    if TYPE_CHECKING:
        app: App[object]

        def notify(self, message: str, *, title: str = "",
                   severity: SeverityLevel = "information", timeout: float | None = None,
                   markup: bool = True) -> None: ...

    @property
    def host(self) -> Host:
        """The app, as a screen may know it."""
        return cast(Host, self.app)

    # -- what each screen says ---------------------------------------------------------

    @property
    def acted_run(self) -> Run | None:
        """The run the keys act on (None: no run selected)."""
        raise NotImplementedError

    # -- the gate ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ACTION_KEYS:
            run = self.acted_run
            session = self.host.session
            verb = session.verb(RunAction.CANCEL, run.source) if run else "cancel"
            if action in ("cancel", "abort") and action != verb:
                return False  # the other label of the same key
            if self.host.kiosk:
                return False  # kiosk: no action keys in the footer at all
            if run is None:
                return None
            return None if session.refusal(ACTION_KEYS[action], run) else True
        if action == "copy":
            return self.acted_run is not None
        if action == "web":  # a wall display opens no browser
            return None if self.host.kiosk else self.acted_run is not None
        return True

    # -- the keys ----------------------------------------------------------------------

    def _act(self, action: RunAction) -> None:
        run = self.acted_run
        if run is not None:
            self.host.request_action(action, run)

    def action_cancel(self) -> None:
        self._act(RunAction.CANCEL)

    def action_abort(self) -> None:
        self._act(RunAction.CANCEL)

    def action_rerun(self) -> None:
        self._act(RunAction.RERUN)

    def action_delete(self) -> None:
        self._act(RunAction.DELETE)

    def action_explain(self, name: str) -> None:
        """Say why an action key does nothing (its binding is dimmed or hidden)."""
        run = self.acted_run
        if run is None:
            self.notify("no run selected", severity="warning")
            return
        action = RunAction(name)
        session = self.host.session
        reason = session.refusal(action, run)
        if reason:
            self.notify(reason, title=f"cannot {session.verb(action, run.source)}",
                        severity="warning")

    def action_web(self) -> None:
        """Open the run's web page; without a display (SSH), copy its link with OSC 52."""
        run = self.acted_run
        if run is None:
            return
        if run.web_url is None:
            self.notify("set the source's web_url to open runs in the browser",
                        title="no web page known for this run", severity="warning")
        elif has_display():
            threading.Thread(target=open_in_browser, args=(run.web_url,), daemon=True).start()
            self.notify(run.web_url, title="opening in the browser", timeout=3)
        else:
            self.app.copy_to_clipboard(run.web_url)
            self.notify(run.web_url, title="no display: copied the link (OSC 52)", timeout=5)

    def action_copy(self) -> None:
        run = self.acted_run
        if run is not None:
            self.host.copy_run(run)
