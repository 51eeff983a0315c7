"""`list`, `show`, `watch` and `cancel`: one-shot commands on the configured sources. An action
goes through a `Session`, whose gate says why it cannot apply (exit 5, nothing sent)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from runwatch import output
from runwatch.cli.common import (
    UsageError,
    load_config,
    open_provider,
    reader_may_leave,
    report,
    say_error,
    source_message,
)
from runwatch.config import Config
from runwatch.errors import (
    BadResponse,
    ConfigError,
    RateLimited,
    RequestTimeout,
    ServerError,
    Unreachable,
)
from runwatch.formatting import format_duration, status_words
from runwatch.models import Run, RunDetail, RunStatus, run_duration

if TYPE_CHECKING:
    from runwatch.session import Session
from runwatch.providers import Provider
from runwatch.sanitize import clean_text

DEFAULT_WATCH_INTERVAL = 5.0
# Errors a watch outlives (reported, then polled again) up to this many times in a row.
TRANSIENT = (Unreachable, RequestTimeout, ServerError, RateLimited, BadResponse)
WATCH_MAX_MISSES = 5
WATCH_EXIT = {RunStatus.PASSED: 0, RunStatus.FAILED: 1,
              RunStatus.CANCELED: 2, RunStatus.TIMED_OUT: 2, RunStatus.SKIPPED: 2}


def _style() -> output.Style:
    return output.Style(output.use_color(sys.stdout))


# -- list ----------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    """Every (or each --source) source's runs merged, newest first; failing sources on stderr."""
    config = load_config(args)
    names = list(dict.fromkeys(args.sources or [s.name for s in config.sources]))
    for name in names:
        config.source(name)  # an unknown name is a usage error before any request
    runs, errors = asyncio.run(_gather(config, names, args))
    runs = filter_runs(runs, args.status)[: args.limit]
    style = _style()
    with reader_may_leave():
        output.emit(output.runs_json(runs) if args.json else output.runs_text(runs, style),
                    color=style.color)
    for name, exc in errors:
        if args.debug:
            report(exc, True)
        say_error(source_message(name, exc))
    if not errors:
        return 0
    return 3 if any(isinstance(e, ConfigError) for _, e in errors) else 4


async def _gather(
    config: Config, names: list[str], args: argparse.Namespace
) -> tuple[list[Run], list[tuple[str, BaseException]]]:
    """Every source's runs, fetched concurrently; a failing source does not stop the rest."""
    limit = args.limit if args.status is None else None
    results = await asyncio.gather(
        *(_fetch(config, n, args.read_only, limit) for n in names), return_exceptions=True
    )
    runs: list[Run] = []
    errors: list[tuple[str, BaseException]] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result  # KeyboardInterrupt, SystemExit, cancellation
            errors.append((name, result))
        else:
            runs.extend(result)
    runs.sort(key=lambda r: r.sort_time, reverse=True)
    return runs, errors


async def _fetch(config: Config, name: str, read_only: bool, limit: int | None) -> list[Run]:
    provider = open_provider(config, name, read_only)
    if limit is not None:
        # The newest N of the merged list never need more than N from one source.
        provider.limit = min(provider.limit, limit)
    try:
        return await provider.list_runs()
    finally:
        await provider.aclose()


def filter_runs(runs: list[Run], status: str | None) -> list[Run]:
    """Runs whose normalized status is `status` ("active": queued, running or waiting)."""
    if status is None:
        return runs
    if status == "active":
        return [r for r in runs if r.status.is_active]
    return [r for r in runs if r.status == RunStatus(status)]


# -- show ----------------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    """One run as JSON or as a readable text view."""
    config = load_config(args)
    run = asyncio.run(_get(open_provider(config, args.source, args.read_only), args.run_id))
    style = _style()
    output.emit(output.detail_json(run) if args.json else output.detail_text(run, style),
                color=style.color)
    return 0


async def _get(provider: Provider, run_id: str) -> RunDetail:
    try:
        return await provider.get_run(run_id)
    finally:
        await provider.aclose()


# -- watch ---------------------------------------------------------------------------------


def cmd_watch(args: argparse.Namespace) -> int:
    """Follow one run until it ends; the exit code says how it ended."""
    config = load_config(args)
    provider = open_provider(config, args.source, args.read_only)
    interval = getattr(args, "interval", None) or DEFAULT_WATCH_INTERVAL
    return asyncio.run(_watch(provider, args.run_id, interval, args.debug))


async def _watch(provider: Provider, run_id: str, interval: float, debug: bool) -> int:
    """Poll until the run is terminal, printing a line whenever its state changes."""
    style = _style()
    try:
        run = await provider.get_run(run_id)
        output.emit(f"watching run {run.id} ({output.truncate(run.title, 60)}) on "
                    f"{provider.source.name}, every {interval:g} s")
        last = None
        while True:
            state = output.watch_state(run)
            if state != last:
                output.emit(output.watch_line(run, datetime.now(UTC), style), color=style.color)
                last = state
            if run.status.is_terminal:
                took = format_duration(run_duration(run, datetime.now(UTC).timestamp()))
                output.emit(f"run {run.id} {status_words(run)} after {took}")
                return WATCH_EXIT[run.status]
            await asyncio.sleep(interval)
            run = await _poll(provider, run_id, interval, debug)
    finally:
        await provider.aclose()


async def _poll(provider: Provider, run_id: str, interval: float, debug: bool) -> RunDetail:
    """The next state of the run; transient errors are reported and polled again."""
    misses = 0
    while True:
        try:
            return await provider.get_run(run_id)
        except TRANSIENT as exc:
            misses += 1
            if misses >= WATCH_MAX_MISSES:
                raise
            if debug:
                report(exc, True)
            say_error(f"{exc.message} (trying again in {interval:g} s)")
            await asyncio.sleep(interval)


# -- cancel --------------------------------------------------------------------------------


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel (Wercker: abort) one run, after a confirmation or with --yes."""
    config = load_config(args)
    from runwatch.session import RunAction, Session  # only cancel acts: list and show do not

    session = Session.from_config(config, read_only=args.read_only, only=[args.source])
    # Refusals come before any request: the gate's (exit 5), then a missing confirmation
    # channel (exit 3).
    session.check(RunAction.CANCEL, source=args.source)
    if not args.yes and not sys.stdin.isatty():
        verb = session.verb(RunAction.CANCEL, args.source)
        raise UsageError(f"{verb} needs confirmation: pass --yes (stdin is not a terminal)")
    return asyncio.run(_cancel(session, args.source, args.run_id, args.yes))


async def _cancel(session: Session, name: str, run_id: str, assume_yes: bool) -> int:
    from runwatch.session import RunAction

    verb = session.verb(RunAction.CANCEL, name)
    try:
        run = await session.get_run(name, run_id)
        session.check(RunAction.CANCEL, run)  # a finished run: nothing to cancel
        if not assume_yes and not _confirm(
            f"{verb.capitalize()} run {run.id} ({output.truncate(run.title, 60)}) "
            f"on source {name}? [y/N] "
        ):
            say_error(f"{verb} not confirmed; nothing was sent")
            return 3
        outcome = await session.perform(RunAction.CANCEL, run)
    finally:
        await session.aclose()
    output.emit(f"{outcome.message} on {name}")
    return 0


def _confirm(prompt: str) -> bool:
    sys.stderr.write(clean_text(prompt))
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")

