"""The `runwatch` command line (DESIGN section 6).

Imports stay light: Textual loads only for the dashboard, the simulator only for
`demo` and `sim`.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence

from runwatch.cli.common import report, silence_stdout
from runwatch.cli.parser import build_parser
from runwatch.errors import RunwatchError

__all__ = ["main"]

INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in runwatch, not in the config or an API
INTERRUPTED_EXIT = 130


def _commands() -> dict[str, Callable[[argparse.Namespace], int]]:
    from runwatch.cli import admin, runs

    return {
        "": admin.cmd_dashboard,
        "demo": admin.cmd_demo,
        "list": runs.cmd_list,
        "show": runs.cmd_show,
        "watch": runs.cmd_watch,
        "cancel": runs.cmd_cancel,
        "sim": admin.cmd_sim,
        "serve": admin.cmd_serve,
        "config": admin.cmd_config,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the command, and turn every failure into an exit code."""
    args = build_parser().parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
        logging.getLogger("runwatch").setLevel(logging.DEBUG)
        logging.getLogger("httpx").setLevel(logging.INFO)  # request lines, never headers
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
