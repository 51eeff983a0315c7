"""The `runwatch` command line (DESIGN section 6).

Imports stay light: before argparse has parsed, this module loads only argparse and
`runwatch.cli.parser` (which loads nothing of runwatch but `__version__`). Everything else
(errors, config, providers, httpx, pydantic, logging) is imported after parsing, inside the
command that needs it, so `--version` and `--help` cost little more than argparse. Textual
loads only for the dashboard, the simulator only for `demo` and `sim`
(tests/test_import_hygiene.py pins this).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from runwatch import collector
from runwatch.cli.parser import build_parser

__all__ = ["main"]

INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in runwatch, not in the config or an API
INTERRUPTED_EXIT = 130
# Commands that run until stopped: the collector resumes as they begin, not as they end.
LONG_RUNNING = frozenset({"sim", "serve", "watch", "logs"})


# Each command as (module under runwatch.cli, function): only the module of the command that
# runs is imported, after parsing (`list` never loads the dashboard's admin module).
COMMANDS: dict[str, tuple[str, str]] = {
    "": ("admin", "cmd_dashboard"),
    "demo": ("admin", "cmd_demo"),
    "list": ("runs", "cmd_list"),
    "show": ("runs", "cmd_show"),
    "watch": ("watch", "cmd_watch"),
    "logs": ("logs", "cmd_logs"),
    "open": ("actions", "cmd_open"),
    "cancel": ("actions", "cmd_cancel"),
    "rerun": ("actions", "cmd_rerun"),
    "delete": ("actions", "cmd_delete"),
    "sim": ("admin", "cmd_sim"),
    "serve": ("admin", "cmd_serve"),
    "config": ("admin", "cmd_config"),
    "history": ("history", "cmd_history"),
}


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    import importlib

    module, function = COMMANDS[name]
    run: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(f"runwatch.cli.{module}"), function)
    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the command, and turn every failure into an exit code."""
    collector.pause()  # the imports ahead (runwatch.collector); the dashboard resumes it
    try:
        return _main(argv)
    finally:
        collector.resume()


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "completion":
        # Called by the shell on TAB: nothing heavy (no config validation, httpx, pydantic).
        from runwatch.cli.completion import cmd_completion

        return cmd_completion(args)
    # Before the first pydantic model: no plugin search when no plugin is installed.
    from runwatch.cli.plugins import skip_plugin_search

    skip_plugin_search()
    # Only now, after argparse: config, providers and httpx are the weight of every command.
    from runwatch.cli.common import report, say_error, silence_stdout
    from runwatch.errors import RunwatchError

    if args.debug:
        from runwatch.cli.debuglog import setup_debug_logging

        try:
            setup_debug_logging(args.command or "")
        except OSError as exc:
            say_error(f"--debug: cannot write the debug log: {exc}")
            return 4
    try:
        run = _command(args.command or "")
        if args.command in LONG_RUNNING:
            collector.resume()
        return run(args)
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
