"""Progress bars: the run's overall one, and one per Currents group (a platform/browser slice
of a run) with its instances done and its test counts.

Bars are eighth blocks on a `░` track, so filled and empty differ without colour too.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from runwatch.models import Group, RunStatus, TestCounts
from runwatch.tui.look import UNICODE, Glyphs, glyphs_of, progress_bar, status_look, truncate
from runwatch.tui.widgets.lines import LinesWidget

MUTED = "$foreground-muted"  # secondary text (labels, units) in Content spans

LABEL_MIN, LABEL_MAX = 10, 32
METER_MIN = 8
METER_MAX = 60  # longer bars say no more, and push the counts away from their group
COUNT_WIDTH = 7  # "120/120"
NUMBER_WIDTH = 6  # "passed"


def meter(percent: float | None, width: int, style: str, glyphs: Glyphs = UNICODE) -> Content:
    """A `width`-cell bar for `percent` (0–100) in `style`; all track when unknown."""
    if width <= 0:
        return Content("")
    filled = progress_bar(percent, width, glyphs).rstrip()
    return Content.assemble((filled, style), (glyphs.bar_track * (width - len(filled)), MUTED))


def counts_colour(tests: TestCounts | None, complete: bool) -> str:
    """A group's bar colour: failed if anything failed, passed when done, else running."""
    if tests is not None and (tests.failures or 0) > 0:
        return "$run-failed"
    return "$run-passed" if complete else "$run-running"


def number(value: int | None, style: str, width: int = NUMBER_WIDTH) -> tuple[str, str]:
    """A right-aligned count, coloured only when it is worth a look (non-zero)."""
    if value is None:
        return "–".rjust(width), MUTED
    return str(value).rjust(width), style if value else MUTED


def group_platform(group: Group) -> str:
    """"Chrome 124 · linux Debian 12": what the group ran on ("" when the API says nothing)."""
    return " · ".join(p for p in (group.browser, group.platform) if p)


class GroupBars(LinesWidget):
    """Per group: its id, instances bar, instances done/all, passed, failed, flaky; and
    under it, what it ran on (browser and platform)."""

    DEFAULT_CSS = """
    GroupBars {
        height: auto;
        text-wrap: nowrap;
    }
    """

    def __init__(
        self,
        groups: Sequence[Group] = (),
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._groups: list[Group] = list(groups)

    @property
    def groups(self) -> list[Group]:
        return list(self._groups)

    def set_groups(self, groups: Sequence[Group]) -> None:
        """Show `groups`; an unchanged list re-renders nothing."""
        groups = list(groups)
        if groups != self._groups:
            resized = len(groups) != len(self._groups)
            self._groups = groups
            self.refresh(layout=resized)

    def _lines(self, width: int) -> list[Content]:
        glyphs = glyphs_of(self)
        fixed = 1 + COUNT_WIDTH + 3 * (1 + NUMBER_WIDTH)
        longest = max((len(g.id) for g in self._groups), default=LABEL_MIN)
        label_width = max(LABEL_MIN, min(LABEL_MAX, longest, width - fixed - 1 - METER_MIN))
        meter_width = max(0, min(METER_MAX, width - fixed - label_width - 1))
        header = Content.assemble(
            ("group".ljust(label_width), MUTED),
            " ",
            ("instances".ljust(meter_width + 1 + COUNT_WIDTH), MUTED),
            *((" " + word.rjust(NUMBER_WIDTH), MUTED)
              for word in ("passed", "failed", "flaky")),
        ).stylize("bold")
        rows = [header]
        for group in self._groups:
            label = truncate(group.id, label_width, glyphs)
            done, total = _instances(group)
            percent = group.instances_progress
            tests = group.tests
            rows.append(Content.assemble(
                (label.ljust(label_width), "bold"),
                " ",
                meter(percent, meter_width, counts_colour(tests, done == total and total > 0),
                      glyphs),
                " ",
                f"{done}/{total}".rjust(COUNT_WIDTH) if total else "–".rjust(COUNT_WIDTH),
                " ",
                number(tests.passes if tests else None, "$run-passed"),
                " ",
                number(tests.failures if tests else None, "$run-failed bold"),
                " ",
                number(tests.flaky if tests else None, "$run-waiting"),
            ))
            if platform := group_platform(group):
                rows.append(Content.assemble(("  " + platform, MUTED)).truncate(
                    width, ellipsis=True))
        return rows


def _instances(group: Group) -> tuple[int, int]:
    if group.instances is None:
        return 0, 0
    return group.instances.passes or 0, group.instances.overall or 0


def tests_summary(tests: TestCounts | None) -> Content:
    """"120 passed · 3 failed · 2 flaky · 4 skipped": only the counts the API gave."""
    if tests is None:
        return Content("")
    parts = [
        (tests.passes, "passed", "$run-passed"),
        (tests.failures, "failed", "$run-failed bold"),
        (tests.flaky, "flaky", "$run-waiting"),
        (tests.skipped, "skipped", MUTED),
        (tests.pending, "pending", MUTED),
    ]
    shown = [
        Content.assemble((str(value), style if value else MUTED), f" {word}")
        for value, word, style in parts
        if value is not None and (value or word in ("passed", "failed"))
    ]
    if not shown:
        return Content("")
    return Content.assemble(("tests ", MUTED), Content(" · ").join(shown))


def progress_label(status: RunStatus, progress: float | None, done: tuple[int, int] | None,
                   glyphs: Glyphs = UNICODE) -> tuple[float | None, str]:
    """The overall bar's fill and label. A run that ended short of passing is no full bar:
    it shows how far it got ("failed at 3/7"), or only its word when that is unknown."""
    if status.is_terminal and status is not RunStatus.PASSED:
        word = status_look(status).word
        if done is not None and done[1]:
            return 100.0 * done[0] / done[1], f"{word} at {done[0]}/{done[1]}"
        if progress is not None:
            return progress, f"{word} at {progress:.0f}%"
        return None, word
    return progress, glyphs.dash if progress is None else f"{progress:.0f}%"


class RunProgress(LinesWidget):
    """The run's overall progress bar, coloured by its status, with its test counts."""

    DEFAULT_CSS = """
    RunProgress {
        height: auto;
        text-wrap: nowrap;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state: tuple[RunStatus, float | None, TestCounts | None,
                           tuple[int, int] | None] = (RunStatus.UNKNOWN, None, None, None)

    def set_run(self, status: RunStatus, progress: float | None, tests: TestCounts | None,
                done: tuple[int, int] | None = None) -> None:
        """`done`: (steps done, all steps), for a run that ended short of passing."""
        state = (status, progress, tests, done)
        if state != self._state:
            self._state = state
            self.refresh(layout=True)

    def _lines(self, width: int) -> list[Content]:
        glyphs = glyphs_of(self)
        status, progress, tests, done = self._state
        percent, label = progress_label(status, progress, done, glyphs)
        summary = tests_summary(tests)
        meter_width = width - len(label) - 1
        colour = f"${status_look(status).variable}"
        if not summary.cell_length:
            return [Content.assemble(meter(percent, meter_width, colour, glyphs), " ", label)]
        if meter_width - summary.cell_length - 2 >= METER_MIN:
            meter_width -= summary.cell_length + 2
            return [Content.assemble(meter(percent, meter_width, colour, glyphs), " ", label, "  ",
                                     summary)]
        # Too narrow for both on one line: the counts go under the bar.
        return [Content.assemble(meter(percent, meter_width, colour, glyphs), " ", label),
                summary.truncate(width, ellipsis=True)]
