"""The run action keys (cancel/abort, rerun, delete, copy) shared by the runs and run screens:
their bindings, when the footer shows, dims or hides them, and what pressing them does.

A screen mixes in `RunActionsMixin`, splices `RUN_ACTION_BINDINGS` into its BINDINGS and says
which run the keys act on (`acted_run`) and whose provider that is (`provider_of`). How an
action is gated (kiosk, read-only, the provider's `why_not`) is decided here, once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

from runwatch.providers import Action

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel

    from runwatch.models import Run
    from runwatch.providers import Provider
    from runwatch.tui.app import RunwatchApp

# Bound action name → the provider action it performs. `cancel` and `abort` are one key
# with two footer labels: check_action hides the one the run's API does not use.
ACTION_KEYS: dict[str, Action] = {
    "cancel": Action.CANCEL,
    "abort": Action.CANCEL,
    "rerun": Action.RERUN,
    "delete": Action.DELETE,
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
]


class RunActionsMixin:
    """The run action keys of a Screen (list it before Screen among the bases)."""

    if TYPE_CHECKING:
        app: App[object]

        def notify(self, message: str, *, title: str = "",
                   severity: SeverityLevel = "information", timeout: float | None = None,
                   markup: bool = True) -> None: ...

    @property
    def rw_app(self) -> RunwatchApp:
        return self.app  # type: ignore[return-value]

    # -- what each screen says ---------------------------------------------------------

    @property
    def acted_run(self) -> Run | None:
        """The run the keys act on (None: no run selected)."""
        raise NotImplementedError

    def provider_of(self, run: Run) -> Provider | None:
        """The provider of `run` (None: no such source)."""
        raise NotImplementedError

    # -- the gate ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ACTION_KEYS:
            run = self.acted_run
            provider = self.provider_of(run) if run else None
            verb = provider.cancel_verb if provider else "cancel"
            if action in ("cancel", "abort") and action != verb:
                return False  # the other label of the same key
            if getattr(self.app, "kiosk", False):
                return False  # kiosk: no action keys in the footer at all
            if run is None:
                return None
            return None if self._blocker(ACTION_KEYS[action], run) else True
        if action == "copy":
            return self.acted_run is not None
        return True

    def _blocker(self, action: Action, run: Run) -> str | None:
        """Why `action` cannot apply to `run` now (the app's rules), or None when it can."""
        blocker = getattr(self.app, "action_blocker", None)
        if callable(blocker):
            return blocker(action, run)  # type: ignore[no-any-return]
        provider = self.provider_of(run)
        return provider.why_not(action, run) if provider else None

    # -- the keys ----------------------------------------------------------------------

    def _act(self, action: Action) -> None:
        run = self.acted_run
        if run is not None:
            self.rw_app.request_action(action, run.source, run)

    def action_cancel(self) -> None:
        self._act(Action.CANCEL)

    def action_abort(self) -> None:
        self._act(Action.CANCEL)

    def action_rerun(self) -> None:
        self._act(Action.RERUN)

    def action_delete(self) -> None:
        self._act(Action.DELETE)

    def action_explain(self, name: str) -> None:
        """Say why an action key does nothing (its binding is dimmed or hidden)."""
        run = self.acted_run
        if run is None:
            self.notify("no run selected", severity="warning")
            return
        action = Action(name)
        reason = self._blocker(action, run)
        if reason:
            provider = self.provider_of(run)
            verb = provider.verb(action) if provider else action.value
            self.notify(reason, title=f"cannot {verb}", severity="warning")

    def action_copy(self) -> None:
        run = self.acted_run
        if run is not None:
            self.rw_app.copy_run(run)
