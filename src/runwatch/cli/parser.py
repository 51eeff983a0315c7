"""The argparse tree of DESIGN section 6.

`--config`, `--read-only` and `--debug` are accepted before or after the subcommand: every
subparser repeats them with `default=SUPPRESS`, so a value given before the subcommand is
not overwritten by the subparser's default. Usage errors exit 3, not argparse's 2.
"""

from __future__ import annotations

import argparse
import sys

from runwatch import __version__

# Not `typing.TYPE_CHECKING`: importing typing costs ~3 ms of `runwatch --version`, and these
# names are only ever read by mypy (annotations are not evaluated at run time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn, TypeVar

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


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 3 with one `runwatch: ...` line."""

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
        epilog="Exit codes: 0 ok; 1/2 watch: run failed / canceled, timed out or skipped; "
        "3 usage or config error; 4 API error; 5 refused (read-only, or the provider cannot "
        "do it).",
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
    _add_cancel(subs)
    _add_sim(subs)
    _add_serve(subs)
    _add_config(subs)
    from runwatch.cli import history  # its own module: the command and its options

    history.add_parser(subs, _sub)
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


def _add_list(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "list", "list runs of all sources, newest first")
    p.add_argument("--source", dest="sources", action="append", metavar="NAME",
                   default=argparse.SUPPRESS, help="only this source (repeatable)")
    p.add_argument("--status", type=str.lower, choices=STATUS_CHOICES, metavar="S",
                   help="only runs with this status: " + ", ".join(STATUS_CHOICES)
                   + " (active = queued, running or waiting)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="at most N runs in all")
    p.add_argument("--json", action="store_true", help="print one JSON array of runs")


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", metavar="RUN_ID", help="the provider's run id")
    p.add_argument("--source", required=True, metavar="NAME", help="the configured source")


def _add_show(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "show", "one run with steps, groups and specs")
    _run_args(p)
    p.add_argument("--json", action="store_true", help="print the run as one JSON object")


def _add_watch(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "watch", "print a run's progress until it ends",
             "Print a line whenever the run changes, until it ends. Exit 0 when it passed, "
             "1 failed, 2 canceled, timed out or skipped.")
    _run_args(p)
    p.add_argument("--interval", type=interval, metavar="S", default=argparse.SUPPRESS,
                   help="poll every S seconds (default 5)")


def _add_cancel(subs: argparse._SubParsersAction[Parser]) -> None:
    p = _sub(subs, "cancel", "cancel (Wercker: abort) a run",
             "Cancel a run. Asks first on a terminal; without one, --yes is required.")
    _run_args(p)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask")


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
