"""`cancel`, `rerun`, `delete` and `open`. Every action goes through the session's one gate
(`Session.refusal`, the same as the dashboard's keys): a refusal is exit 5 with nothing sent;
a confirmation that cannot be asked (no terminal, no --yes) is exit 3, before any request."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from runwatch import output
from runwatch.cli.common import UsageError, say_error
from runwatch.cli.resolve import open_session, resolve
from runwatch.errors import RunwatchError
from runwatch.models import RunDetail
from runwatch.sanitize import clean_text
from runwatch.session import RunAction, Session


class NoWebPage(RunwatchError):
    """The run has no web page runwatch knows of: exit 4."""


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel (Wercker: abort) one run, after a confirmation or with --yes."""
    return _act(args, RunAction.CANCEL)


def cmd_rerun(args: argparse.Namespace) -> int:
    """Start a run again; print the new run's id (and follow it with --watch)."""
    return _act(args, RunAction.RERUN)


def cmd_delete(args: argparse.Namespace) -> int:
    return _act(args, RunAction.DELETE)


def _act(args: argparse.Namespace, action: RunAction) -> int:
    _, session = open_session(args)
    # Refusals come before any request: the gate's (exit 5; without --source only the rules
    # that need no source), then a missing confirmation channel (exit 3).
    if args.source or session.read_only:
        session.check(action, source=args.source or "")
    if not args.yes and not sys.stdin.isatty():
        verb = session.verb(action, args.source) if args.source else action.value
        raise UsageError(f"{verb} needs confirmation: pass --yes (stdin is not a terminal)")
    return asyncio.run(_send(session, action, args))


async def _send(session: Session, action: RunAction, args: argparse.Namespace) -> int:
    try:
        run = await resolve(session, args.run_id, args.source)
        name = run.source
        verb = session.verb(action, name)
        session.check(action, run)  # e.g. a finished run: nothing to cancel
        if not args.yes and not _confirm(
            f"{verb.capitalize()} run {run.id} ({output.truncate(run.title, 60)}) "
            f"on source {name}? [y/N] "
        ):
            say_error(f"{verb} not confirmed; nothing was sent")
            return 3
        outcome = await session.perform(action, run)
        if action is not RunAction.RERUN:
            output.emit(f"{outcome.message} on {name}")
            return 0
        # A rerun's new id alone on stdout (new=$(runwatch rerun ...)); the words on stderr.
        say_error(f"{outcome.message} on {name}")
        if outcome.new_run is None:
            if args.watch:
                raise RunwatchError(f"{name}: the API did not say which run the rerun "
                                    "started: nothing to watch")
            return 0
        output.emit(outcome.new_run.id)
        if not args.watch:
            return 0
        from runwatch.cli.watch import follow, interval_of

        new = await session.get_run(name, outcome.new_run.id)
        return await follow(session, new, interval_of(args), debug=args.debug,
                            log_failed=args.log_failed)
    finally:
        await session.aclose()


def _confirm(prompt: str) -> bool:
    sys.stderr.write(clean_text(prompt))
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


# -- open ----------------------------------------------------------------------------------


def cmd_open(args: argparse.Namespace) -> int:
    """The run's web page in the browser; without a display, its link on the clipboard."""
    _, session = open_session(args)
    return open_link(asyncio.run(_read(session, args)))


async def _read(session: Session, args: argparse.Namespace) -> RunDetail:
    try:
        return await resolve(session, args.run_id, args.source)
    finally:
        await session.aclose()


def open_link(run: RunDetail) -> int:
    """Open `run`'s web page, or copy it with OSC 52 where no browser would be seen."""
    from runwatch.weblinks import has_display, open_in_browser, osc52

    url = run.web_url
    if url is None:
        api = f" (its API address: {run.url})" if run.url else ""
        raise NoWebPage(f"{run.source}: run {run.id} has no web page runwatch knows of{api}; "
                        "set the source's web_url")
    if has_display() and open_in_browser(url):
        output.emit(f"opened {url}")
        return 0
    if _write_to_terminal(osc52(url)):
        output.emit(f"no display here: copied {url} to the clipboard (OSC 52)")
    else:
        output.emit(url)
        say_error("no display and no terminal to copy to: the link is above")
    return 0


def _write_to_terminal(sequence: str) -> bool:
    """Write an escape sequence to the terminal (stdout's, else stderr's, else /dev/tty)."""
    for stream in (sys.stdout, sys.stderr):
        if stream.isatty():
            stream.write(sequence)
            stream.flush()
            return True
    try:
        fd = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        os.write(fd, sequence.encode("ascii"))
    finally:
        os.close(fd)
    return True
