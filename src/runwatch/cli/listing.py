"""What `runwatch list` prints: which runs (filters), which columns (`--fields`, the
terminal's width), and how (a fitted table on a terminal, every column for a pipe).

On a terminal the columns drop in the dashboard's order of importance (runwatch.columns'
COLUMNS, plain data the dashboard reads too), so a row never wraps; the title is cut to
what is left first. Piped (or `--wide`), every column is printed at full width, each value on
one line with single spaces inside it, columns two or more spaces apart: `awk -F '  +'` splits
them the same way whatever the data.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from runwatch import output
from runwatch.cli.common import UsageError
from runwatch.formatting import format_date_time, format_duration, format_percent
from runwatch.models import Run, RunStatus, run_duration

__all__ = ["DEFAULT_FIELDS", "FIELDS", "fit", "parse_fields", "render", "select"]


def _time(value: datetime | None) -> str:
    return format_date_time(value)


def _text(value: object) -> str:
    return output.NO_VALUE if value is None or value == "" else " ".join(str(value).split())


# Every key of `list --json` (DESIGN section 2), and how its column reads.
FIELDS: dict[str, tuple[str, Callable[[Run], str]]] = {
    "source": ("SOURCE", lambda r: r.source),
    "provider": ("PROVIDER", lambda r: r.provider),
    "id": ("ID", lambda r: r.id),
    "status": ("STATUS", lambda r: r.status.value),
    "provider_status": ("PROVIDER STATUS", lambda r: _text(r.provider_status)),
    "title": ("TITLE", lambda r: _text(r.title)),
    "branch": ("BRANCH", lambda r: _text(r.branch)),
    "commit": ("COMMIT", lambda r: _text(r.commit)),
    "author": ("AUTHOR", lambda r: _text(r.author)),
    "created_at": ("CREATED", lambda r: _time(r.created_at or r.started_at)),
    "started_at": ("STARTED", lambda r: _time(r.started_at)),
    "finished_at": ("FINISHED", lambda r: _time(r.finished_at)),
    "duration_s": ("DURATION", lambda r: format_duration(run_duration(r, time.time()))),
    "progress": ("PROGRESS", lambda r: format_percent(r.progress)),
    "tests": ("TESTS P/F", lambda r: output.short_tests(r.tests)),
    "url": ("URL", lambda r: _text(r.url)),
    "pipeline": ("PIPELINE", lambda r: _text(r.pipeline)),
    "web_url": ("WEB URL", lambda r: _text(r.web_url)),
}
DEFAULT_FIELDS = ("source", "status", "id", "title", "branch", "author", "progress", "tests",
                  "created_at", "duration_s")
# The dashboard's column names, where they differ from the JSON keys.
_DASHBOARD_KEY = {"created_at": "started", "duration_s": "duration"}
TITLE_MIN = 16  # the title is cut down to this before a column is dropped
GAP = "  "


def priority(field: str) -> int:
    """Lower stays longer; a field the dashboard has no column for goes first."""
    return _priorities().get(_DASHBOARD_KEY.get(field, field), 99)


@functools.cache
def _priorities() -> dict[str, int]:
    # Imported when a table is fitted to a terminal, not for `--json` or a pipe.
    from runwatch.columns import COLUMNS

    return {c.key: c.priority for c in COLUMNS}


def parse_fields(text: str | None) -> tuple[str, ...]:
    """The --fields list, checked (an unknown one is a usage error naming the valid ones)."""
    if text is None:
        return DEFAULT_FIELDS
    fields = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in fields if f not in FIELDS]
    if unknown or not fields:
        what = f"unknown field {unknown[0]!r}" if unknown else "no field"
        raise UsageError(f"--fields: {what}; valid fields: {', '.join(FIELDS)}")
    return tuple(dict.fromkeys(fields))


def select(runs: list[Run], *, status: str | None = None, branch: str | None = None,
           author: str | None = None, pipeline: str | None = None,
           since_s: float | None = None, now: datetime | None = None) -> list[Run]:
    """The runs every given filter keeps."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=since_s) if since_s else None
    needle = author.casefold() if author else None

    def keep(run: Run) -> bool:
        if status == "active" and not run.status.is_active:
            return False
        if status not in (None, "active") and run.status != RunStatus(status):
            return False
        if branch is not None and run.branch != branch:
            return False
        if pipeline is not None and run.pipeline != pipeline:
            return False
        if needle is not None and needle not in (run.author or "").casefold():
            return False
        if cutoff is not None:
            when = run.created_at or run.started_at
            # A queued run often has no time yet: it is new.
            return run.status.is_active if when is None else when >= cutoff
        return True

    return [r for r in runs if keep(r)]


def fit(fields: Sequence[str], widths: dict[str, int], width: int, *,
        may_drop: bool) -> tuple[list[str], dict[str, int]]:
    """The fields (in their order) and widths that fit `width` cells: the least important
    column goes (unless not `may_drop`: --fields) while even a title cut to TITLE_MIN does not
    fit, then the title takes what is left."""
    chosen = list(fields)
    widths = dict(widths)
    natural_title = widths.get("title", 0)

    def total(title: int) -> int:
        others = sum(widths[f] for f in chosen if f != "title")
        return others + (title if "title" in chosen else 0) + len(GAP) * (len(chosen) - 1)

    while (total(min(natural_title, TITLE_MIN)) > width and may_drop and len(chosen) > 1):
        chosen.remove(max(chosen, key=lambda f: (priority(f), chosen.index(f))))
    if "title" in chosen:
        left = width - total(0)
        widths["title"] = max(min(natural_title, left), min(natural_title, TITLE_MIN))
    return chosen, widths


def render(runs: Sequence[Run], fields: Sequence[str], style: output.Style, *,
           width: int | None) -> str:
    """The table: fitted to `width` (a terminal), or every column whole (width None)."""
    if not runs:
        return "no runs"
    cells = [{f: FIELDS[f][1](r) for f in fields} for r in runs]
    natural = {f: max(len(FIELDS[f][0]), *(len(c[f]) for c in cells)) for f in fields}
    chosen, widths = list(fields), natural
    if width is not None:
        if "title" in natural:
            natural["title"] = min(natural["title"], output.TITLE_WIDTH)
        chosen, widths = fit(fields, natural, width, may_drop=tuple(fields) == DEFAULT_FIELDS)
    raw = [[output.truncate(c[f], widths[f]) if width is not None else c[f] for f in chosen]
           for c in cells]
    painted = [[style.status(r.status, cell) if f == "status" else cell
                for f, cell in zip(chosen, row, strict=True)] for row, r in zip(raw, runs,
                                                                               strict=True)]
    return output.table([FIELDS[f][0] for f in chosen], painted, raw)


def to_json(runs: Sequence[Run], fields: Sequence[str]) -> str:
    """One JSON array of runs with these keys only, in this order."""
    dumped = json.loads(output.runs_json(runs))
    return json.dumps([{f: run[f] for f in fields} for run in dumped], indent=2)
