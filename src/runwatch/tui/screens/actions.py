"""The run action keys (cancel/abort, rerun, delete, copy, web) shared by the runs and run screens:
their bindings, when the footer shows, dims or hides them, and what pressing them does.

A screen mixes in `RunActionsMixin`, splices `RUN_ACTION_BINDINGS` into its BINDINGS and says
which run the keys act on (`acted_run`). Whether an action applies is the session's gate
(`Session.refusal`): a key is dimmed, and says why, with the gate's own words."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.widgets import Input

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

# A dimmed action blocks its binding; the second binding of the key then says why. `y`
# comes first: it applies to every run, and the footer keeps the declared order.
RUN_ACTION_BINDINGS: list[BindingType] = [
    Binding("y", "copy", "copy", tooltip="copy the run's web link (else API URL, else id)"),
    Binding("y", "explain('copy')", show=False),
    Binding("c", "cancel", "cancel", tooltip="cancel the run, after a confirmation"),
    Binding("c", "abort", "abort", tooltip="abort the run (Wercker), after a confirmation"),
    Binding("c", "explain('cancel')", show=False),
    Binding("R", "rerun", "rerun", tooltip="rerun the run, after a confirmation"),
    Binding("R", "explain('rerun')", show=False),
    Binding("D", "delete", "delete",
            tooltip="delete the run, after a confirmation (cannot be undone)"),
    Binding("D", "explain('delete')", show=False),
    # gh's --web: the run's page in the browser (over SSH, its link copied with OSC 52).
    Binding("w", "web", "web", tooltip="open the run's web page (over SSH: copy the link)"),
    Binding("w", "explain('web')", show=False),
]
# `enter` on a list of runs: a priority binding, so that the footer and the help name it
# (the table's own enter is hidden); it steps aside for an input (SkipAction).
OPEN_BINDING = Binding("enter", "open_run", "open", key_display="enter", priority=True,
                       tooltip="open the selected run (escape comes back)")
OPEN_EXPLAIN = Binding("enter", "explain('open')", show=False, priority=True)


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
        if action == "web":  # a wall display opens no browser
            return False if self.host.kiosk else None if self.acted_run is None else True
        if action in ("copy", "open_run"):
            if action == "open_run" and isinstance(self.app.focused, Input):
                return False  # enter is the input's
            return None if self.acted_run is None else True
        if action == "explain":
            return not isinstance(self.app.focused, Input)
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
            self.notify("no run selected", title=f"cannot {name}", severity="warning")
            return
        if name in ("copy", "open", "web"):
            raise SkipAction()  # it applies: the key was someone else's
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

    def action_open_run(self) -> None:
        run = self.acted_run
        if run is None or isinstance(self.app.focused, Input):
            raise SkipAction()
        self.host.open_run(run)

    def action_copy(self) -> None:
        run = self.acted_run
        if run is not None:
            self.host.copy_run(run)
