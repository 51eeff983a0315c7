"""`watch`: follow one run until it ends, and end with why it failed (the failed steps and,
with --log-failed, their last log lines; or the failed specs and their first error)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from runwatch import output
from runwatch.cli.common import report, say_error
from runwatch.cli.resolve import open_session, resolve
from runwatch.cli.runs import style
from runwatch.errors import (
    BadResponse,
    RateLimited,
    RequestTimeout,
    RunwatchError,
    ServerError,
    Unreachable,
)
from runwatch.formatting import format_duration, status_words
from runwatch.models import RunDetail, RunStatus, run_duration
from runwatch.sanitize import clean_log
from runwatch.session import Session

DEFAULT_WATCH_INTERVAL = 5.0
# Errors a watch outlives (reported, then polled again) up to this many times in a row.
TRANSIENT = (Unreachable, RequestTimeout, ServerError, RateLimited, BadResponse)
WATCH_MAX_MISSES = 5
WATCH_EXIT = {RunStatus.PASSED: 0, RunStatus.FAILED: 1,
              RunStatus.CANCELED: 2, RunStatus.TIMED_OUT: 2, RunStatus.SKIPPED: 2}
FAILED = (RunStatus.FAILED, RunStatus.TIMED_OUT)
LOG_TAIL = 10  # --log-failed: this many last lines of each failed step
SPECS_SHOWN = 5  # the failed specs whose first error is read


def cmd_watch(args: argparse.Namespace) -> int:
    """Follow one run until it ends; the exit code says how it ended."""
    _, session = open_session(args)
    return asyncio.run(_watch_arg(session, args))


async def _watch_arg(session: Session, args: argparse.Namespace) -> int:
    try:
        run = await resolve(session, args.run_id, args.source)
        return await follow(session, run, interval_of(args), debug=args.debug,
                            log_failed=args.log_failed)
    finally:
        await session.aclose()


def interval_of(args: argparse.Namespace) -> float:
    return getattr(args, "interval", None) or DEFAULT_WATCH_INTERVAL


async def follow(session: Session, run: RunDetail, interval: float, *, debug: bool,
                 log_failed: bool) -> int:
    """Poll until the run is terminal, printing a line whenever its state changes."""
    painter = style()
    name = run.source
    output.emit(f"watching run {run.id} ({output.truncate(run.title, 60)}) on "
                f"{name}, every {interval:g} s")
    last = None
    while True:
        state = output.watch_state(run)
        if state != last:
            output.emit(output.watch_line(run, datetime.now(UTC), painter), color=painter.color)
            last = state
        if run.status.is_terminal:
            if run.status in FAILED:
                for line in await why(session, run, log_failed=log_failed):
                    output.emit(line)
            took = format_duration(run_duration(run, datetime.now(UTC).timestamp()))
            output.emit(f"run {run.id} {status_words(run)} after {took}")
            return WATCH_EXIT[run.status]
        await asyncio.sleep(interval)
        run = await _poll(session, name, run.id, interval, debug)


async def _poll(session: Session, name: str, run_id: str, interval: float,
                debug: bool) -> RunDetail:
    """The next state of the run; transient errors are reported and polled again."""
    misses = 0
    while True:
        try:
            return await session.get_run(name, run_id)
        except TRANSIENT as exc:
            misses += 1
            if misses >= WATCH_MAX_MISSES:
                raise
            if debug:
                report(exc, True)
            say_error(f"{exc.message} (trying again in {interval:g} s)")
            await asyncio.sleep(interval)


async def why(session: Session, run: RunDetail, *, log_failed: bool) -> list[str]:
    """The lines that say why `run` failed: its failed steps (their last log lines with
    `log_failed`), else its failed specs and each one's first error."""
    facts = session.sources[run.source]
    lines: list[str] = []
    steps = sorted(run.steps, key=lambda s: s.order)
    for number, step in enumerate(steps, start=1):
        if step.status not in FAILED:
            continue
        lines.append(f"{step.status.value}: step {number}/{len(steps)} {step.name}"
                     + (f": {step.message}" if step.message else ""))
        if log_failed and facts.has_logs and step.log_available:
            try:
                text = clean_log(await session.log(run, step))
            except RunwatchError as exc:
                lines.append(f"    (no log: {exc.message})")
            else:
                lines.extend(f"    | {line}" for line in text.splitlines()[-LOG_TAIL:])
    failed_specs = [s for s in run.specs if s.status in FAILED]
    for spec in failed_specs[:SPECS_SHOWN]:
        lines.append(f"{spec.status.value}: spec {spec.spec}"
                     + (f" ({spec.group})" if spec.group else ""))
        if facts.has_spec_results and spec.instance_id:
            try:
                tests = await session.tests(run, spec)
            except RunwatchError as exc:
                lines.append(f"    (no results: {exc.message})")
                continue
            broken = next((t for t in tests if t.status in FAILED), None)
            if broken is not None:
                error = (broken.error or "").strip().splitlines()
                lines.append(f"    {broken.title}: {error[0] if error else 'no error text'}")
    if len(failed_specs) > SPECS_SHOWN:
        lines.append(f"... and {len(failed_specs) - SPECS_SHOWN} more failed specs")
    return lines
