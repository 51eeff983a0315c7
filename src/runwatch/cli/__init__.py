"""The `runwatch` command line (DESIGN section 6).

Imports stay light: argparse runs before anything heavy is imported (`--version` and
`--help` load no httpx, pydantic or Textual); Textual loads only for the dashboard, the
simulator only for `demo` and `sim` (tests/test_import_hygiene.py pins this).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from runwatch.cli.parser import build_parser
from runwatch.errors import RunwatchError
from runwatch.paths import debug_log_path
from runwatch.sanitize import clean_multiline

__all__ = ["main"]

INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in runwatch, not in the config or an API
INTERRUPTED_EXIT = 130


def _commands() -> dict[str, Callable[[argparse.Namespace], int]]:
    from runwatch.cli import actions, admin, logs, runs, watch

    return {
        "": admin.cmd_dashboard,
        "demo": admin.cmd_demo,
        "list": runs.cmd_list,
        "show": runs.cmd_show,
        "watch": watch.cmd_watch,
        "logs": logs.cmd_logs,
        "open": actions.cmd_open,
        "cancel": actions.cmd_cancel,
        "rerun": actions.cmd_rerun,
        "delete": actions.cmd_delete,
        "sim": admin.cmd_sim,
        "serve": admin.cmd_serve,
        "config": admin.cmd_config,
    }


# The commands that draw a full screen: their --debug log goes to a file, not over it.
SCREEN_COMMANDS = frozenset({"", "demo"})


class CleanFormatter(logging.Formatter):
    """Log records with API text in them (URLs, error bodies) made safe for a terminal: a
    debug log is read with `tail -f` too."""

    def format(self, record: logging.LogRecord) -> str:
        return clean_multiline(super().format(record))


def setup_debug_logging(command: str) -> None:
    """runwatch's debug lines and httpx's request lines (never headers): on stderr for the
    one-shot commands; in `debug_log_path()` for the dashboard and the kiosk, whose screen
    they would otherwise be written over (Textual draws on stderr)."""
    from runwatch.cli.common import say_error

    handler: logging.Handler
    if command in SCREEN_COMMANDS:
        path = debug_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(CleanFormatter("%(asctime)s %(name)s: %(message)s"))
        say_error(f"--debug: logging to {path}")
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(CleanFormatter("%(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("runwatch").setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.INFO)  # request lines, never headers


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the command, and turn every failure into an exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "completion":
        # Called by the shell on TAB: nothing heavy (no config validation, httpx, pydantic).
        from runwatch.cli.completion import cmd_completion

        return cmd_completion(args)
    # Only now, after argparse: config, providers and httpx are the weight of every command.
    from runwatch.cli.common import report, say_error, silence_stdout

    if args.debug:
        try:
            setup_debug_logging(args.command or "")
        except OSError as exc:
            say_error(f"--debug: cannot write the debug log: {exc}")
            return 4
    try:
        return _commands()[args.command or ""](args)
    except RunwatchError as exc:
        report(exc, args.debug)
        return exc.exit_code
    except KeyboardInterrupt:
        return INTERRUPTED_EXIT
    except BrokenPipeError:
        # `runwatch show ... | head`: the reader left, and what it read was all true. (A
        # command with more to say afterwards, `list`, catches this itself: reader_may_leave.)
        silence_stdout()
        return 0
    except Exception as exc:
        report(exc, args.debug)
        return INTERNAL_ERROR_EXIT
