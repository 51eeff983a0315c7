"""A step's log, full screen: `/` searches, `n`/`N` jump between matches, `r` reloads,
escape goes back. The log is fetched in a worker; an error shows in place of the log (or
above the last good copy) and `r` tries again. While the step runs, the log is fetched again
every few seconds (a one-shot timer re-armed after each fetch, so fetches never overlap), and
once more when the run screen learns that the step has finished (its `steps_signal`)."""

from __future__ import annotations

from typing import ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.signal import Signal
from textual.timer import Timer
from textual.widgets import Static

from runwatch.errors import RunwatchError
from runwatch.formatting import format_duration
from runwatch.models import Run, Step
from runwatch.sanitize import clean_log
from runwatch.tui.host import Host
from runwatch.tui.look import glyphs_of, status_look
from runwatch.tui.widgets.footer import KeysFooter
from runwatch.tui.widgets.log_view import LogLines, LogView

MUTED = "$foreground-muted"  # secondary text (labels, units) in Content spans


def log_title(run: Run, step: Step) -> Content:
    look = status_look(step.status)
    parts: list[str | tuple[str, str]] = [
        ("log ", MUTED),
        (step.name, "bold"),
        "  ",
        (look.label, f"${look.variable}"),
    ]
    if step.duration_s is not None:
        parts += ["  ", (format_duration(step.duration_s), MUTED)]
    parts += [("  · ", MUTED), run.source, (" run ", MUTED), run.id]
    return Content.assemble(*parts)


FOLLOW_S = 3.0  # how often a running step's log is fetched again


class LogScreen(Screen[None]):
    """One step's log."""

    DEFAULT_CSS = """
    LogScreen {
        #log-title { height: 1; padding: 0 1; background: $panel; text-wrap: nowrap;
                     text-overflow: ellipsis; }
        #log-error { display: none; background: $error-muted; color: $text-error;
                     padding: 0 1; }
        #log-error.-shown { display: block; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back", tooltip="back to the run"),
        Binding("r", "reload", "reload", tooltip="fetch it again"),
    ]

    def __init__(self, run: Run, step: Step, *, steps: Signal[list[Step]] | None = None) -> None:
        """`steps`: where the run's newer steps are published (the run screen's signal)."""
        super().__init__()
        self.run = run
        self.step = step
        self._steps = steps
        self.loaded = False
        self._follow: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(log_title(self.run, self.step), id="log-title")
        yield Static(id="log-error", markup=False)
        yield LogView(id="log-view")
        yield KeysFooter()

    @property
    def host(self) -> Host:
        """The app, as a screen may know it."""
        return cast(Host, self.app)

    def on_mount(self) -> None:
        if self._steps is not None:
            self._steps.subscribe(self, self._steps_changed)
        self.query_one(LogLines).focus()
        self.query_one(LogView).loading = True
        self.load()

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    @work(exclusive=True, exit_on_error=False, group="log")
    async def load(self) -> None:
        """Fetch the log; a failure is shown on the screen, never raised."""
        if self._follow is not None:
            self._follow.stop()
            self._follow = None
        error: str | None = None
        try:
            # Logs keep their colours and lose every other escape (issue 8): here, the one
            # place a log is fetched, whichever provider sent it.
            text = clean_log(await self.host.session.log(self.run, self.step))
        except RunwatchError as exc:
            error = str(exc)
        except Exception as exc:  # a bug must not end the app: say so and carry on
            self.log.error("get_log failed", exc)
            error = f"{type(exc).__name__}: {exc}"
        else:
            self.loaded = True
            marks_stderr = self.host.session.sources[self.run.source].marks_stderr
            self.log_view.set_text(text, marks_stderr=marks_stderr)
        self.log_view.loading = False
        if self.step.status.is_active:
            self._follow = self.set_timer(FOLLOW_S, self.load)
        line = self.query_one("#log-error", Static)
        if error is None:
            line.remove_class("-shown")
        else:
            kept = " · showing the last copy" if self.loaded else ""
            warning = glyphs_of(self).warning
            line.update(f"{warning} could not load the log: {error}{kept} · r tries again")
            line.add_class("-shown")

    def _steps_changed(self, steps: list[Step]) -> None:
        for step in steps:
            if step.id == self.step.id:
                self.update_step(step)

    def update_step(self, step: Step) -> None:
        """The run screen's newer view of this step: a step that has just finished gets its
        log fetched once more (the end of it), then no more."""
        if step.id != self.step.id or step == self.step:
            return
        finished = self.step.status.is_active and not step.status.is_active
        self.step = step
        self.query_one("#log-title", Static).update(log_title(self.run, step))
        if finished:
            self.load()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)
