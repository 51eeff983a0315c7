"""The argparse tree of DESIGN section 6.

`--config`, `--read-only` and `--debug` are accepted before or after the subcommand: every
subparser repeats them with `default=SUPPRESS`, so a value given before the subcommand is
not overwritten by the subparser's default. Usage errors exit 3, not argparse's 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from runwatch import __version__

# Not `typing.TYPE_CHECKING`: importing typing costs ~3 ms of `runwatch --version`, and these
# names are only ever read by mypy (annotations are not evaluated at run time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn, TypeVar

    _N = TypeVar("_N", int, float)

USAGE_EXIT = 3
STATUS_CHOICES = ("queued", "running", "waiting", "passed", "failed", "canceled",
                  "timed_out", "skipped", "unknown", "active")
SIM_HOST = "127.0.0.1"
SIM_PORT = 8765
SERVE_HOST = "127.0.0.1"  # loopback: exposing the kiosk is a deliberate --host
SERVE_PORT = 8000
SERVE_MAX_VIEWERS = 20  # one kiosk process each: a cap keeps a small machine standing
SIM_URL = f"http://{SIM_HOST}:{SIM_PORT}"


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() reads it ($COLUMNS, else stdout's
    terminal, else 80), without importing shutil (and its bz2 and lzma): ~3-6 ms of
    `--version` and `--help`."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:  # as shutil: 0 or less means ask the terminal
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class Formatter(argparse.HelpFormatter):
    """argparse's help formatter, told the width so that it need not ask shutil."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 3 with one `runwatch: ...` line, and whose
    help is formatted by Formatter (every subparser is a Parser too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_EXIT, f"runwatch: {message}\n")


def _number(text: str, cast: type[_N], what: str, low: _N, high: _N | None,
            out_of_range: str) -> _N:
    try:
        value = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(out_of_range.format(text))
    return value


def interval(text: str) -> float:
    return _number(text, float, "a number of seconds", 0.5, None, "at least 0.5 seconds, not {}")


def positive_int(text: str) -> int:
    return _number(text, int, "a whole number", 1, None, "must be 1 or more, not {}")


def port(text: str) -> int:
    return _number(text, int, "a port number", 0, 65535, "not a port number: {}")


def http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")) or text.endswith("://"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not the simulator's URL (http://HOST:PORT); a PATH goes before --sim"
        )
    return text.rstrip("/")


def _globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes; only the top-level parser sets their defaults."""
    group = parser.add_argument_group("global options")
    unset = None if top else argparse.SUPPRESS
    off = False if top else argparse.SUPPRESS
    group.add_argument("--config", metavar="PATH", default=unset,
                       help="config file (default: $RUNWATCH_CONFIG, "
                       "else $XDG_CONFIG_HOME/runwatch/config.toml)")
    group.add_argument("--read-only", action="store_true", default=off,
                       help="send no request that changes anything")
    group.add_argument("--debug", action="store_true", default=off,
                       help="show tracebacks and HTTP logging")
    group.add_argument("--ascii", action=argparse.BooleanOptionalAction, default=unset,
                       help="draw with ASCII only, no box drawing or Unicode glyphs (default: "
                       "when the locale is not UTF-8)")


def _sub(subs: argparse._SubParsersAction[Parser], name: str, help_text: str,
         description: str | None = None) -> argparse.ArgumentParser:
    parser = subs.add_parser(name, help=help_text, description=description or help_text)
    _globals(parser, top=False)
    return parser


def build_parser() -> Parser:
    parser = Parser(
        prog="runwatch",
        description="Watch CI and test runs across several runs APIs. Without a command, "
        "open the dashboard (the demo when no config exists).",
        epilog="Exit codes: 0 ok; 1/2 watch, rerun --watch: run failed / canceled, timed out "
        "or skipped; 3 usage or config error; 4 API error; 5 refused (read-only, or the "
        "provider cannot do it).",
    )
    parser.add_argument("--version", action="version", version=f"runwatch {__version__}")
    _globals(parser, top=True)
    dash = parser.add_argument_group("dashboard options")
    dash.add_argument("--kiosk", action="store_true", help="wall-display mode (read-only)")
    dash.add_argument("--source", dest="sources", action="append", metavar="NAME",
                      help="show only this source (repeatable)")
    dash.add_argument("--interval", type=interval, metavar="S", help="poll every S seconds")
    dash.add_argument("--theme", metavar="T", help="theme name")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _add_demo(subs)
    _add_list(subs)
    _add_show(subs)
    _add_watch(subs)
    _add_logs(subs)
    _add_open(subs)
    _add_actions(subs)
    _add_sim(subs)
    _add_serve(subs)
    _add_config(subs)
    from runwatch.cli import history  # its own module: the command and its options

    history.add_parser(subs, _sub)
    _add_completion(subs)
    return parser


def _dashboard_options(group: argparse._ActionsContainer) -> None:
    """The dashboard options a subcommand accepts too; SUPPRESS keeps a value given before it."""
    group.add_argument("--source", dest="sources", action="append", metavar="NAME",
                       default=argparse.SUPPRESS, help="show only this source (repeatable)")
    group.add_argument("--interval", type=interval, metavar="S", default=argparse.SUPPRESS,
                       help="poll every S seconds")
    group.add_argument("--theme", metavar="T", default=argparse.SUPPRESS, help="theme name")


def _add_demo(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "demo", "the dashboard on the embedded simulator")
    dash = p.add_argument_group("dashboard options (also accepted before `demo`)")
    dash.add_argument("--kiosk", action="store_true", default=argparse.SUPPRESS,
                      help="wall-display mode (read-only)")
    _dashboard_options(dash)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+|\d+(?:\.\d+)?")


def duration(text: str) -> float:
    """`30m`, `2h`, `7d`, `1w`, `1h30m` (or plain seconds) as seconds."""
    text = text.strip().lower()
    if _DURATION.fullmatch(text):
        total = sum(float(n) * _UNITS[u or "s"]
                    for n, u in re.findall(r"(\d+(?:\.\d+)?)([smhdw]?)", text))
        if total > 0:
            return total
    raise argparse.ArgumentTypeError(f"not a duration like 30m, 2h or 7d: {text!r}")


def _add_list(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "list", "list runs of all sources, newest first",
             "List runs of all sources, newest first. On a terminal the columns fit its width "
             "(the dashboard's order of importance); piped, every column, full values, "
             "columns two or more spaces apart: awk -F '  +'.")
    p.add_argument("--source", dest="sources", action="append", metavar="NAME",
                   default=argparse.SUPPRESS, help="only this source (repeatable)")
    p.add_argument("--status", type=str.lower, choices=STATUS_CHOICES, metavar="S",
                   help="only runs with this status: " + ", ".join(STATUS_CHOICES)
                   + " (active = queued, running or waiting)")
    p.add_argument("--branch", metavar="B", help="only runs of this branch (exact)")
    p.add_argument("--author", metavar="A", help="only runs whose author contains A (any case)")
    p.add_argument("--pipeline", metavar="P", help="only runs of this pipeline (exact)")
    p.add_argument("--since", type=duration, metavar="DURATION",
                   help="only runs created in the last DURATION: 30m, 2h, 7d, 1w")
    p.add_argument("--limit", type=positive_int, metavar="N", help="at most N runs in all")
    p.add_argument("--fields", metavar="F,...",
                   help="these columns (or JSON keys) only, in this order: any of the --json "
                   "keys, e.g. id,status,title,web_url")
    p.add_argument("--wide", action="store_true",
                   help="every column at full width, even on a narrow terminal")
    p.add_argument("--json", action="store_true", help="print one JSON array of runs")


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", metavar="RUN",
                   help="a run id, or a unique prefix of one as the dashboard shows it")
    p.add_argument("--source", metavar="NAME",
                   help="the configured source (default: the one source that has RUN)")


def _add_show(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "show", "one run with steps, groups and specs")
    _run_args(p)
    p.add_argument("--json", action="store_true", help="print the run as one JSON object")
    p.add_argument("--web", action="store_true",
                   help="open the run's web page instead (as `runwatch open`)")


def _add_watch(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "watch", "print a run's progress until it ends",
             "Print a line whenever the run changes, until it ends. Exit 0 when it passed, "
             "1 failed, 2 canceled, timed out or skipped.")
    _run_args(p)
    _watch_args(p)


def _watch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interval", type=interval, metavar="S", default=argparse.SUPPRESS,
                   help="poll every S seconds (default 5)")
    p.add_argument("--log-failed", action="store_true",
                   help="when it fails, end with the last log lines of each failed step")


def _add_logs(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "logs", "print a run's step logs, or a Currents run's failed tests",
             "Print the log of every step with one (or of --step, or of the failed steps), "
             "or a Currents run's failed tests with their errors. Lines the API says went to "
             "stderr start with 'err| '.")
    _run_args(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--step", metavar="NAME",
                       help="this step only: its name (any case) or its number (1 = first)")
    which.add_argument("--failed", action="store_true", help="the failed steps (or specs) only")
    p.add_argument("--follow", "-f", action="store_true",
                   help="keep printing what is added until the step (or run) ends")
    p.add_argument("--interval", type=interval, metavar="S", default=argparse.SUPPRESS,
                   help="with --follow: read again every S seconds (default 5)")


def _add_open(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "open", "open a run's web page in the browser",
             "Open the run's web page with the platform's opener ($BROWSER first). Without a "
             "display (over SSH, or no X or Wayland), copy the link to the clipboard with "
             "OSC 52 instead and say so. Exit 4 when the run has no web page (set the "
             "source's web_url).")
    _run_args(p)


# What each action command says in its help: (name, summary, description).
_ACTIONS = (
    ("cancel", "cancel (Wercker: abort) a run",
     "Cancel a run. Asks first on a terminal; without one, --yes is required."),
    ("rerun", "start a run again and print the new run's id",
     "Start a run again (services, wercker, scheduler) and print the new run's id; --watch "
     "then follows it, with watch's exit codes. Asks first on a terminal; without one, --yes "
     "is required."),
    ("delete", "delete a run (services, currents, conduct)",
     "Delete a run. Asks first on a terminal; without one, --yes is required."),
)


def _add_actions(subs: argparse._SubParsersAction[Parser]) -> None:
    for name, summary, description in _ACTIONS:
        p = _sub(subs, name, summary, description)
        _run_args(p)
        p.add_argument("--yes", "-y", action="store_true", help="do not ask")
        if name == "rerun":
            p.add_argument("--watch", action="store_true",
                           help="follow the new run until it ends (exit 0 passed, 1 failed, "
                           "2 canceled, timed out or skipped)")
            _watch_args(p)


def _add_completion(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "completion", "print a shell completion script",
             "Print a script that completes commands, options, source names and theme names. "
             "bash: source <(runwatch completion bash) in ~/.bashrc; zsh: the same in "
             "~/.zshrc; fish: runwatch completion fish > "
             "~/.config/fish/completions/runwatch.fish")
    p.add_argument("shell", choices=("bash", "zsh", "fish"), nargs="?", help="the shell")
    # What the scripts call back for the names that change: not for people.
    p.add_argument("--names", choices=("sources", "themes"), help=argparse.SUPPRESS)


def _add_sim(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "sim", "serve the simulator of all five APIs")
    p.add_argument("--host", default=SIM_HOST, help=f"address to bind (default {SIM_HOST})")
    p.add_argument("--port", type=port, default=SIM_PORT,
                   help=f"port (default {SIM_PORT}; 0 picks a free one)")
    p.add_argument("--seed", type=int, default=7, help="world seed (default 7)")
    p.add_argument("--runs", type=positive_int, default=24,
                   help="runs per API before now (default 24)")


def _add_serve(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "serve", "serve the read-only kiosk to web browsers (needs runwatch[serve])",
             "The hub: poll the config's sources once (the demo when there is none) and serve "
             "the read-only kiosk to web browsers (each its own screen, all fed by this one "
             "poller), the /api/v1/ feed, /cctray.xml and /metrics on one port. Binds only "
             "--host; pass --host 0.0.0.0 to let other machines in, deliberately.")
    p.add_argument("--host", default=SERVE_HOST, help=f"address to bind (default {SERVE_HOST})")
    p.add_argument("--port", type=port, default=SERVE_PORT,
                   help=f"port (default {SERVE_PORT}; 0 picks a free one)")
    p.add_argument("--public-url", metavar="URL",
                   help="the address browsers use, when not http://HOST:PORT (a proxy, or a "
                   "wildcard --host); pages and websockets for any other Host or Origin are "
                   "refused")
    p.add_argument("--max-viewers", type=positive_int, metavar="N", default=SERVE_MAX_VIEWERS,
                   help=f"browsers watching at once (default {SERVE_MAX_VIEWERS}); each runs "
                   "its own kiosk on the hub's feed, and one more is turned away")
    p.add_argument("--token-env", metavar="VAR",
                   help="every page, feed and metrics request must carry the token in $VAR "
                   "(Authorization: Bearer, or as the basic-auth password)")
    _dashboard_options(p.add_argument_group("kiosk options (also accepted before `serve`)"))


def _add_config(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "config", "create or check the config file")
    actions = p.add_subparsers(dest="config_command", metavar="ACTION", required=True,
                               parser_class=Parser)
    init = actions.add_parser("init", help="write a starter config (never overwrites)",
                              description="Write a starter config to PATH (default: --config, "
                              "$RUNWATCH_CONFIG, else the XDG location). Never overwrites.")
    _globals(init, top=False)
    init.add_argument("path", nargs="?", metavar="PATH", help="where to write it")
    init.add_argument("--sim", nargs="?", const=SIM_URL, type=http_url, metavar="URL",
                      help="a config for `runwatch sim` at URL instead (default "
                      f"{SIM_URL}): its scope ids and token variables")
    check = actions.add_parser("check", help="validate the config and reach every source",
                               description="Validate the config, then reach every source once.")
    _globals(check, top=False)
