"""RUN as a person gives it (DESIGN section 6): an id, or a unique prefix of one as the
dashboard shows it, with or without `--source`.

With `--source` an exact id is read at once (one request); otherwise, or when that id is not
found, the sources' newest runs are searched for the id, then for ids starting with it. A run
older than every list is still found by its full id: each source is asked for it. Ambiguous
(several runs match) is a usage error, exit 3, that lists the matches.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from runwatch import output
from runwatch.cli.common import UsageError, load_config, say_error, source_message
from runwatch.config import Config
from runwatch.errors import NotFound
from runwatch.models import Run, RunDetail
from runwatch.session import Session

__all__ = ["Ambiguous", "open_session", "resolve"]

SHOWN_MATCHES = 20  # an ambiguous prefix lists this many of its matches at most


class Ambiguous(UsageError):
    """RUN matches several runs: the message, then `details` (one line per match)."""

    def __init__(self, message: str, details: Sequence[str]) -> None:
        super().__init__(message)
        self.details = list(details)


def open_session(args: argparse.Namespace) -> tuple[Config, Session]:
    """The config and a session on the sources RUN may be in: --source's, else all."""
    config = load_config(args)
    only = [args.source] if args.source else None
    return config, Session.from_config(config, read_only=args.read_only, only=only)


def _wanted(text: str) -> str:
    # A cell the dashboard cut ("a1b2c3…") is pasted with its ellipsis.
    wanted = text.strip().removesuffix("…").removesuffix("...")
    if not wanted:
        raise UsageError("RUN is empty: give a run id or the start of one")
    return wanted


async def resolve(session: Session, run_arg: str, source: str | None) -> RunDetail:
    """The one run RUN names, read now. NotFound (exit 4) when none does; Ambiguous (exit 3)
    when several do."""
    wanted = _wanted(run_arg)
    names = [source] if source else list(session)
    if source:
        try:
            return await session.get_run(source, wanted)
        except NotFound:
            pass  # perhaps the start of an id
    found, failed = await _listed(session, names)
    exact = [r for r in found if r.id == wanted]
    matches = exact or [r for r in found if r.id.startswith(wanted)]
    if len(matches) == 1:
        return await session.get_run(matches[0].source, matches[0].id)
    if matches:
        raise _ambiguous(wanted, matches, source)
    if not source and len(names) > 1:
        hits = await asyncio.gather(*(session.get_run(n, wanted) for n in names),
                                    return_exceptions=True)
        runs = [h for h in hits if isinstance(h, RunDetail)]
        if len(runs) == 1:
            return runs[0]
        if runs:
            raise _ambiguous(wanted, runs, source)
    for name, exc in failed:
        say_error(source_message(name, exc))
    where = f"source {source}" if source else "any source"
    raise NotFound(f"no run {wanted!r} in {where} (neither an id nor the start of one)")


async def _listed(session: Session, names: list[str]
                  ) -> tuple[list[Run], list[tuple[str, Exception]]]:
    results = await asyncio.gather(*(session.list_runs(n) for n in names),
                                   return_exceptions=True)
    found: list[Run] = []
    failed: list[tuple[str, Exception]] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            failed.append((name, result))
        else:
            found.extend(result)
    return found, failed


def _ambiguous(wanted: str, matches: Sequence[Run], source: str | None) -> Ambiguous:
    rows = [[r.source, r.id, output.truncate(r.title, 50)] for r in matches[:SHOWN_MATCHES]]
    lines = output.table(("SOURCE", "ID", "TITLE"), rows, rows).splitlines()
    if len(matches) > SHOWN_MATCHES:
        lines.append(f"... and {len(matches) - SHOWN_MATCHES} more")
    hint = "give more of the id" + ("" if source else ", or --source")
    return Ambiguous(f"{wanted!r} matches {len(matches)} runs: {hint}",
                     ["  " + line for line in lines])
