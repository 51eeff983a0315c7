"""The run screen's header and step lines, as Content: pure functions of a run (no widget),
so the screen only places them."""

from __future__ import annotations

from textual.content import Content

from runwatch.config import SourceConfig
from runwatch.formatting import STOPPED_HERE, format_duration, relative_time
from runwatch.models import (
    Cancellation,
    Run,
    RunStatus,
    Step,
    cancellation_text,
    run_duration,
    step_duration,
)
from runwatch.tui.look import rich_color, status_look

MUTED = "$foreground-muted"  # secondary text (labels, units) in Content spans


def _muted(text: str) -> tuple[str, str]:
    return text, MUTED


def title_line(run: Run) -> Content:
    """"✗ failed  feat: add the abort button"; "⊘ canceled (stopped here)  ..." for a run
    this process stopped."""
    look = status_look(run.status)
    return Content.assemble(
        (look.label, f"${look.variable} bold"),
        *((_muted(f" ({STOPPED_HERE})"),) if run.stopped_here else ()),
        "  ",
        (run.title or run.id, "bold"),
    )


def meta_line(run: Run, source: SourceConfig, now: float,
              cancellation: Cancellation | None = None) -> Content:
    """Where and when: source, id, branch, commit, author, started, duration, and who
    canceled it when the API says."""
    parts: list[Content] = []
    colour = rich_color(source.color)
    badge_style = f"bold reverse {colour}" if colour else "bold reverse"
    badge = Content.assemble((f" {source.label} ", badge_style)) if source.label else None
    parts.append(Content.assemble(*((badge, " ") if badge else ()), source.name,
                                  _muted(" run "), run.id))
    if run.branch:
        parts.append(Content.assemble(_muted("branch "), run.branch))
    if run.commit:
        parts.append(Content.assemble(_muted("commit "), run.commit[:7]))
    if run.author:
        parts.append(Content.assemble(_muted("by "), run.author))
    started = run.started_at or run.created_at
    if started is not None:
        verb = "started " if run.started_at else "created "
        parts.append(Content.assemble(_muted(verb), relative_time(started, now)))
    duration = run_duration(run, now)
    if duration is not None:
        parts.append(Content.assemble(_muted("took " if run.status.is_terminal else "for "),
                                      format_duration(duration)))
    if run.provider_status and run.status is RunStatus.UNKNOWN:
        parts.append(Content.assemble(_muted("says "), run.provider_status))
    if cancellation is not None:
        said = cancellation_text(cancellation, lambda at: relative_time(at, now))
        parts.append(Content.assemble(_muted("canceled "), said))
    return Content(" · ").join(parts)


def step_line(step: Step, now: float, *, has_logs: bool) -> Content:
    """Everything about the highlighted step, including a check's message."""
    look = status_look(step.status)
    parts: list[Content] = [Content.assemble((look.label, f"${look.variable}"), " ",
                                             (step.name, "bold"))]
    if step.provider_status and step.status is RunStatus.UNKNOWN:
        parts.append(Content.assemble(_muted("says "), step.provider_status))
    if step.started_at is not None:
        parts.append(Content.assemble(_muted("started "), relative_time(step.started_at, now)))
    took = step_duration(step, now)
    if took is not None:
        verb = "for " if step.status.is_active else "took "  # still going: not done yet
        parts.append(Content.assemble(_muted(verb), format_duration(took)))
    if step.message:
        parts.append(Content(step.message))
    if has_logs:
        parts.append(Content.assemble(_muted("enter: log")) if step.log_available
                     else Content.assemble(_muted("no log yet")))
    return Content(" · ").join(parts)
