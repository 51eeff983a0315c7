"""What the app does to a run: the one confirm-and-act flow for mutating actions (the
session's gate decides), copying a run's link, and opening it. A base of
`runwatch.tui.app.RunwatchApp`, which sets the session."""

from __future__ import annotations

from runwatch.errors import RunwatchError
from runwatch.models import Run
from runwatch.session import RunAction, Session
from runwatch.tui.app_look import AppLook

__all__ = ["AppActions"]


class AppActions(AppLook):
    """Acting on runs; RunwatchApp sets these attributes."""

    session: Session
    # The run a rerun started: the cursor moves to it once a poll lists it.
    _follow: tuple[str, str] | None

    # -- acting on runs ------------------------------------------------------------

    def request_action(self, action: RunAction, run: Run) -> None:
        """The one confirm-and-act flow: say why not (the session's gate), or ask, then act
        in a worker.

        Never waits for the dialog, so it is safe to call from a key binding (awaiting a
        dialog there would block the very loop that delivers its keys). Not named
        `run_action`: that is Textual's App.run_action, which dispatches every binding."""
        verb = self.session.verb(action, run.source)
        reason = self.session.refusal(action, run)
        if reason:
            self.notify(reason, title=f"cannot {verb}", severity="warning")
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.run_worker(self._perform(action, run), group="actions",
                                exit_on_error=False)

        from runwatch.tui.dialogs import ConfirmDialog

        self.push_screen(ConfirmDialog(verb, run.source, run,
                                       destructive=action is RunAction.DELETE),
                         callback=answered)

    async def _perform(self, action: RunAction, run: Run) -> None:
        verb = self.session.verb(action, run.source)
        try:
            outcome = await self.session.perform(action, run)
        except RunwatchError as exc:
            self.notify(str(exc), title=f"{verb} failed", severity="error", timeout=10)
        except Exception as exc:  # a bug must not end the app: say so and carry on
            self.log.error(f"{verb} of {run.source}/{run.id} failed", exc)
            self.notify(f"{type(exc).__name__}: {exc}", title=f"{verb} failed",
                        severity="error", timeout=10)
        else:
            self.notify(outcome.message, title=outcome.source)
            if outcome.new_run is not None and outcome.new_run.id != run.id:
                self._follow = (outcome.source, outcome.new_run.id)
                self._follow_cursor()

    def _follow_cursor(self) -> None:
        """Put the runs table's cursor on the run a rerun started, once it is listed."""
        from runwatch.tui.runs_view import row_key
        from runwatch.tui.screens.runs import RunsScreen

        if self._follow is None or not isinstance(self.screen_stack[0], RunsScreen):
            return
        screen = self.screen_stack[0]
        assert isinstance(screen, RunsScreen)
        table = screen.table
        key = row_key(*self._follow)
        if key in table.rows:
            table.move_cursor(row=table.get_row_index(key))
            self._follow = None

    def copy_run(self, run: Run) -> None:
        """The run's web link (else its API URL, else its id) to the clipboard, with OSC 52
        so it works over SSH."""
        text, what = next((v, w) for v, w in ((run.web_url, "web link"), (run.url, "API URL"),
                                              (run.id, "id")) if v)
        self.copy_to_clipboard(text)
        self.notify(text, title=f"copied the run's {what}", timeout=3)

    def open_run(self, run: Run) -> None:
        """Show one run; its detail is polled while it is on screen."""
        # The run screen pulls in Textual's Markdown widget and its parser (~65 ms): it is
        # imported when a run is first opened, not on the way to the first frame.
        from runwatch.tui.screens.run import RunScreen

        mounted = self.push_screen(RunScreen(run))

        async def follow() -> None:
            # Polled once the screen listens: a detail published sooner would be lost.
            await mounted
            self.session.poller.focus(run.source, run.id)

        self.run_worker(follow(), group="open-run", exit_on_error=False)
