"""`list` and `show`: reading the configured sources' runs (`watch`: cli.watch; the actions
and `open`: cli.actions; `logs`: cli.logs)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from runwatch import output
from runwatch.cli import listing
from runwatch.cli.common import (
    load_config,
    reader_may_leave,
    report,
    say_error,
    source_message,
)
from runwatch.cli.resolve import open_session, resolve
from runwatch.errors import ConfigError
from runwatch.models import Run, RunDetail
from runwatch.session import Session


def style() -> output.Style:
    return output.Style(output.use_color(sys.stdout))


# -- list ----------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    """Every (or each --source) source's runs merged, newest first; failing sources on stderr."""
    config = load_config(args)
    fields = listing.parse_fields(args.fields)  # a usage error before any request
    names = list(dict.fromkeys(args.sources or [s.name for s in config.sources]))
    for name in names:
        config.source(name)  # an unknown name is a usage error before any request
    filtered = any(v is not None for v in (args.status, args.branch, args.author,
                                           args.pipeline, args.since))
    session = Session.from_config(config, read_only=args.read_only, only=names)
    runs, errors = asyncio.run(_gather(session, names, None if filtered else args.limit))
    runs = listing.select(runs, status=args.status, branch=args.branch, author=args.author,
                          pipeline=args.pipeline, since_s=args.since)[: args.limit]
    painter = style()
    if args.json:
        text = listing.to_json(runs, fields) if args.fields else output.runs_json(runs)
    else:
        text = listing.render(runs, fields, painter, width=_width(args.wide))
    with reader_may_leave():
        output.emit(text, color=painter.color and not args.json)
    for name, exc in errors:
        if args.debug:
            report(exc, True)
        say_error(source_message(name, exc))
    if not errors:
        return 0
    return 3 if any(isinstance(e, ConfigError) for _, e in errors) else 4


def _width(wide: bool) -> int | None:
    """The terminal's width to fit, or None: every column (--wide, or not a terminal)."""
    if wide or not sys.stdout.isatty():
        return None
    try:  # the terminal's own size first: an exported $COLUMNS goes stale on a resize
        return os.get_terminal_size(sys.stdout.fileno()).columns or 80
    except OSError:
        import shutil  # here: shutil brings bz2 and lzma, and only this fallback needs it

        return shutil.get_terminal_size().columns


async def _gather(
    session: Session, names: list[str], limit: int | None
) -> tuple[list[Run], list[tuple[str, BaseException]]]:
    """Every source's runs, fetched concurrently; a failing source does not stop the rest."""
    if limit is not None:
        for provider in session.providers.values():
            # The newest N of the merged list never need more than N from one source.
            provider.limit = min(provider.limit, limit)
    try:
        results = await asyncio.gather(*(session.list_runs(n) for n in names),
                                       return_exceptions=True)
    finally:
        await session.aclose()
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


# -- show ----------------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    """One run as JSON or as a readable text view (--web: its page in the browser)."""
    config, session = open_session(args)
    run = asyncio.run(_get(session, args.run_id, args.source))
    if run.provider == "currents" and run.specs and config.history.enabled:
        _keep_specs(run)
    if args.web:
        from runwatch.cli.actions import open_link

        return open_link(run)
    painter = style()
    output.emit(output.detail_json(run) if args.json else output.detail_text(run, painter),
                color=painter.color)
    return 0


def _keep_specs(run: RunDetail) -> None:
    """A Currents detail read anyway: its spec results teach the history which specs flake
    (a history file that cannot be used is no reason to fail `show`)."""
    from runwatch.history import HistoryStore, HistoryUnavailable

    try:
        store = HistoryStore()
        try:
            store.upsert([run])
            store.upsert_specs(run)
        finally:
            store.close()
    except HistoryUnavailable:
        pass  # the dashboard says it once; `show` prints only the run


async def _get(session: Session, run_arg: str, source: str | None) -> RunDetail:
    try:
        return await resolve(session, run_arg, source)
    finally:
        await session.aclose()
