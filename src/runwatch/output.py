"""Plain-text and JSON rendering for `runwatch list`, `show` and `watch`.

Text is plain unless colour is asked for (a TTY on stdout and no `NO_COLOR`); status is
always a word, so colour only ever repeats what the text already says.

Every line of text the CLI writes goes through `emit` (stdout) or `emit_error` (stderr): the
sanitizer's last pass, so no escape sequence from an API reaches the terminal even if a string
slipped past the model's (only runwatch's own SGR colours survive, and only when colour is
on). Every formatter is total over its input type: what cannot be shown prints as "–", the
dash the screen uses too.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO

from runwatch import formatting
from runwatch.formatting import (
    format_clock,
    format_date_time,
    format_duration,
    format_percent,
    status_words,
)

# The models' pydantic module is imported only by what uses it (runs_json, a run's header):
# `runwatch history` writes its tables through here and builds no model (~100 ms).
from runwatch.models.status import RunStatus
from runwatch.models.times import run_duration, step_duration
from runwatch.sanitize import clean_multiline, clean_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runwatch.models import Group, Run, RunDetail, Spec, Step, TestCounts

_ANSI = {
    RunStatus.PASSED: "32",  # green
    RunStatus.FAILED: "31;1",  # bold red
    RunStatus.RUNNING: "33",  # yellow
    RunStatus.QUEUED: "36",  # cyan
    RunStatus.WAITING: "35",  # magenta
    RunStatus.CANCELED: "2",  # dim
    RunStatus.TIMED_OUT: "31",  # red
    RunStatus.SKIPPED: "34",  # blue
}
TITLE_WIDTH = 40


def use_color(stream: IO[str]) -> bool:
    """Colour only on a terminal, never with `NO_COLOR` set (no-color.org) or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Style:
    """Paints status words when colour is on; a no-op otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def status(self, status: RunStatus, text: str | None = None) -> str:
        text = text if text is not None else status.value
        code = _ANSI.get(status)
        if not self.color or not code:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if self.color else text


# -- writing -------------------------------------------------------------------------------


def emit(text: str, stream: IO[str] | None = None, *, color: bool = False) -> None:
    """Write `text` and a newline, cleaned: the CLI's one write point for stdout."""
    stream = stream if stream is not None else sys.stdout
    print(clean_multiline(text, keep_sgr=color), file=stream, flush=True)


def emit_error(text: str, *, multiline: bool = False) -> None:
    """Write `text` to stderr, cleaned (one line unless `multiline`, e.g. a traceback)."""
    print(clean_multiline(text) if multiline else clean_text(text), file=sys.stderr,
          flush=True)


# -- small formatters ----------------------------------------------------------------------

# Times, durations and shares are written by runwatch.formatting, as on screen.
NO_VALUE = formatting.NO_VALUE


def fmt_tests(tests: TestCounts | None) -> str:
    """`12 passed, 1 failed, 3 pending of 16`: only the counts the provider reports."""
    if tests is None:
        return NO_VALUE
    parts = [
        f"{value} {word}"
        for value, word in (
            (tests.passes, "passed"),
            (tests.failures, "failed"),
            (tests.pending, "pending"),
            (tests.skipped, "skipped"),
            (tests.flaky, "flaky"),
        )
        if value
    ]
    if tests.overall is not None:
        parts.append(f"of {tests.overall}")
    return ", ".join(parts) or NO_VALUE


def short_tests(tests: TestCounts | None) -> str:
    """`12/1`: passed/failed, as the list's TESTS P/F column reads."""
    if tests is None or (tests.passes is None and tests.failures is None):
        return NO_VALUE
    return f"{tests.passes or 0}/{tests.failures or 0}"


def truncate(text: str | None, width: int) -> str:
    text = " ".join((text or NO_VALUE).split())  # one line, whatever the commit message held
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]],
          widths_of: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart. `widths_of` holds each row's unpainted text
    so ANSI codes never count towards a column's width."""
    rows = list(rows)
    plain = [list(headers)] + [list(r) for r in widths_of]
    widths = [max(len(row[i]) for row in plain) for i in range(len(headers))]
    lines = []
    for painted, raw in zip([list(headers), *rows], plain, strict=True):
        cells = [p + " " * (w - len(r)) for p, r, w in zip(painted, raw, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# -- runs list -----------------------------------------------------------------------------

LIST_HEADERS = ("SOURCE", "STATUS", "ID", "TITLE", "BRANCH", "AUTHOR", "PROGRESS",
                "TESTS P/F", "CREATED", "DURATION")


def runs_json(runs: Sequence[Run]) -> str:
    """One JSON array of `Run` objects (DESIGN section 2 field names), in the given order."""
    from runwatch.models import Run

    fields = set(Run.model_fields)
    return json.dumps([r.model_dump(mode="json", include=fields) for r in runs], indent=2)


def _run_row(run: Run, now: float) -> list[str]:
    return [
        run.source,
        status_words(run),
        run.id,
        truncate(run.title, TITLE_WIDTH),
        truncate(run.branch, 24),
        truncate(run.author, 16),
        format_percent(run.progress),
        short_tests(run.tests),
        format_date_time(run.created_at or run.started_at),
        format_duration(run_duration(run, now)),
    ]


def runs_text(runs: Sequence[Run], style: Style, now: float | None = None) -> str:
    """The runs as a table; a running run's duration is the one it has had until `now`."""
    if not runs:
        return "no runs"
    now = time.time() if now is None else now
    raw = [_run_row(r, now) for r in runs]
    painted = [[row[0], style.status(r.status, row[1]), *row[2:]]
               for row, r in zip(raw, runs, strict=True)]
    return table(LIST_HEADERS, painted, raw)


# -- one run -------------------------------------------------------------------------------


def detail_json(run: RunDetail) -> str:
    return json.dumps(run.model_dump(mode="json"), indent=2)


def detail_text(run: RunDetail, style: Style, now: float | None = None) -> str:
    """Header, then steps, groups and specs where the provider has them, then content."""
    now = time.time() if now is None else now
    parts = [_header(run, style, now)]
    if run.steps:
        parts.append(style.bold("Steps") + "\n" + _steps(run.steps, style, now))
    if run.groups:
        parts.append(style.bold("Groups") + "\n" + _groups(run.groups))
    if run.specs:
        parts.append(style.bold("Specs") + "\n" + _specs(run.specs, style))
    if run.content:
        parts.append(style.bold("Content") + "\n" + run.content.rstrip())
    return "\n\n".join(parts)


def _header(run: RunDetail, style: Style, now: float) -> str:
    status = style.status(run.status, status_words(run))
    if run.provider_status and run.provider_status.lower() != run.status.value:
        status += f" ({run.provider_status})"
    lines = [
        style.bold(f"Run {run.id}") + f"  {run.source} ({run.provider})",
        f"  status    {status}",
        f"  title     {truncate(run.title, 100)}",
        f"  branch    {run.branch or NO_VALUE}",
        f"  commit    {run.commit or NO_VALUE}",
        f"  author    {run.author or NO_VALUE}",
        f"  created   {format_date_time(run.created_at)}",
        f"  started   {format_date_time(run.started_at)}",
        f"  finished  {format_date_time(run.finished_at)}",
        f"  duration  {format_duration(run_duration(run, now))}",
        f"  progress  {_progress(run)}",
        f"  tests     {fmt_tests(run.tests)}",
    ]
    if run.cancellation:
        from runwatch.models import cancellation_text

        when = cancellation_text(run.cancellation, lambda at: f"at {format_date_time(at)}")
        lines.insert(10, f"  canceled  {when}")  # after "finished"
    lines.append(f"  web       {run.web_url or '- (no web page known: set the source web_url)'}")
    if run.url:
        lines.append(f"  api url   {run.url}")
    return "\n".join(lines)


def _progress(run: RunDetail) -> str:
    """"43%", and how far a run that ended short of passing got: "43% (3 of 7 ran)"."""
    done = run.steps_done
    text = format_percent(run.progress)
    if done is not None and run.status.is_terminal and run.status is not RunStatus.PASSED:
        text += f" ({done[0]} of {done[1]} ran)"
    return text


def _steps(steps: Sequence[Step], style: Style, now: float) -> str:
    ordered = sorted(steps, key=lambda s: s.order)
    raw = [
        [str(i), s.name, s.status.value, format_clock(s.started_at),
         format_duration(step_duration(s, now)), "yes" if s.log_available else NO_VALUE]
        for i, s in enumerate(ordered, start=1)
    ]
    painted = [[r[0], r[1], style.status(s.status), *r[3:]] for r, s in zip(raw, ordered,
                                                                           strict=True)]
    return table(("#", "STEP", "STATUS", "STARTED", "DURATION", "LOG"), painted, raw)


def _groups(groups: Sequence[Group]) -> str:
    raw = []
    for g in groups:
        where = " / ".join(p for p in (g.platform, g.browser) if p) or NO_VALUE
        inst = g.instances
        instances = f"{inst.passes or 0}/{inst.overall}" if inst and inst.overall else NO_VALUE
        raw.append([g.id, where, instances, fmt_tests(g.tests)])
    return table(("GROUP", "PLATFORM", "INSTANCES", "TESTS"), raw, raw)


def _specs(specs: Sequence[Spec], style: Style) -> str:
    raw = [
        [truncate(s.spec, 60), s.group or NO_VALUE, s.status.value, fmt_tests(s.tests),
         format_duration(s.duration_s)]
        for s in specs
    ]
    painted = [[r[0], r[1], style.status(s.status), *r[3:]] for r, s in zip(raw, specs,
                                                                           strict=True)]
    return table(("SPEC", "GROUP", "STATUS", "TESTS", "DURATION"), painted, raw)


# -- watch ---------------------------------------------------------------------------------


def current_step(run: RunDetail) -> tuple[int, Step] | None:
    """The step a person would call "where it is now", with its 1-based position."""
    ordered = list(enumerate(sorted(run.steps, key=lambda s: s.order), start=1))
    for i, step in ordered:
        if step.status in (RunStatus.RUNNING, RunStatus.WAITING, RunStatus.FAILED):
            return i, step
    started = [(i, s) for i, s in ordered if s.started_at or s.status.is_terminal]
    return started[-1] if started else None


def watch_state(run: RunDetail) -> str:
    """What a watch line says, without the time: a new line is printed when this changes."""
    parts = [status_words(run), format_percent(run.progress)]
    current = current_step(run)
    if current is not None:
        i, step = current
        parts.append(f"step {i}/{len(run.steps)} {step.name} {step.status.value}")
    if run.tests is not None:
        parts.append(f"tests {fmt_tests(run.tests)}")
    return "  ".join(parts)


def watch_line(run: RunDetail, now: datetime, style: Style) -> str:
    """The clock, the state, and how long the run has run so far (not part of the state:
    a new line comes when the run changes, not every second)."""
    state = watch_state(run)
    word = status_words(run)
    took = run_duration(run, now.timestamp())
    verb = "took" if run.status.is_terminal else "for"
    tail = f"  {verb} {format_duration(took)}" if took is not None else ""
    return f"{format_clock(now)}  {style.status(run.status, word)}{state[len(word):]}{tail}"
