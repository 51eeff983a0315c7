"""`runwatch history`: one row per track from the history file alone (works offline).

The parser part is here too, so the parser module only calls `add_parser`; everything heavy
(sqlite3, the models) is imported when the command runs, never for `--version`."""

from __future__ import annotations

import argparse
import re

# Not `typing.TYPE_CHECKING`: importing typing costs ~3 ms of `runwatch --version` (the
# parser calls add_parser), and only mypy reads `Any` (annotations are not evaluated).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
HEADERS = ("SOURCE", "PIPELINE", "BRANCH", "RUNS", "PASS", "MEDIAN", "P90", "LAST FAILURE",
           "STREAK")
FLAKY_HEADERS = ("SOURCE", "PIPELINE", "BRANCH", "SPEC", "TEST", "FAILED", "RATE")


def span(text: str) -> float:
    """"7d", "12h", "30m", "2w", "90s": seconds."""
    match = _SPAN.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a time span (like 7d, 12h, 30m): {text!r}")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def add_parser(subs: Any, sub: Any) -> None:
    """`sub(subs, name, help)` is the parser module's own helper (the global options)."""
    p = sub(subs, "history", "trends per track (source, pipeline, branch) from the local "
            "history file; no request is sent")
    p.add_argument("--source", dest="sources", action="append", metavar="S",
                   default=argparse.SUPPRESS, help="only this source (repeatable)")
    p.add_argument("--pipeline", dest="pipelines", action="append", metavar="P",
                   help="only this pipeline (repeatable)")
    p.add_argument("--branch", dest="branches", action="append", metavar="B",
                   help="only this branch (repeatable)")
    p.add_argument("--since", type=span, metavar="SPAN",
                   help="only runs begun in the last SPAN (7d, 12h, 30m)")
    p.add_argument("--json", action="store_true", help="print one JSON array of tracks")


def cmd_history(args: argparse.Namespace) -> int:
    import json
    import time

    from runwatch import output
    from runwatch.cli.common import reader_may_leave, say_error
    from runwatch.history import HistoryStore, HistoryUnavailable, history_path
    from runwatch.history.flaky import FLAKY_RUNS
    from runwatch.history.stats import summarize

    path = history_path()
    since = time.time() - args.since if args.since is not None else None
    tracks: list[Any] = []
    flaky: dict[Any, list[Any]] = {}
    flaky_tests: dict[Any, list[Any]] = {}
    if not path.exists():
        # An empty history, not an error: a script's `--json` still reads `[]`.
        say_error(f"no history yet ({path} does not exist): the dashboard and the kiosk "
                  "keep it while they run")
    else:
        try:
            store = HistoryStore(path, readonly=True)
            try:
                tracks = summarize(store, sources=getattr(args, "sources", None) or (),
                                   pipelines=args.pipelines or (),
                                   branches=args.branches or (), since=since)
                with_specs = set(store.spec_tracks())  # Currents tracks with opened runs
                flaky = {t.track: store.flaky_specs(*t.track) for t in tracks
                         if t.track in with_specs}
                with_tests = set(store.test_tracks())  # specs whose results were opened
                flaky_tests = {t.track: store.flaky_tests(*t.track) for t in tracks
                               if t.track in with_tests}
            finally:
                store.close()
        except HistoryUnavailable as exc:
            say_error(str(exc).removeprefix("history is off: "))
            return 4
    with reader_may_leave():
        if args.json:
            output.emit(json.dumps([{
                **t.to_json(),
                "flaky_specs": [f.as_json() for f in flaky.get(t.track, [])],
                "flaky_tests": [f.as_json() for f in flaky_tests.get(t.track, [])],
            } for t in tracks], indent=2))
        elif not tracks:
            output.emit("no runs in the history" + (" match" if since or _filtered(args)
                                                     else ""))
        else:
            rows = [_row(t, output) for t in tracks]
            output.emit(output.table(HEADERS, rows, rows))
            marked = flaky_rows(tracks, flaky, flaky_tests, output)
            if marked:
                output.emit(f"\nFlaky (failed and passed in the track's last {FLAKY_RUNS} "
                            "recorded runs)")
                output.emit(output.table(FLAKY_HEADERS, marked, marked))
    return 0


def flaky_rows(tracks: list[Any], specs: dict[Any, list[Any]], tests: dict[Any, list[Any]],
               output: Any) -> list[list[str]]:
    """One row per flaky spec, then per flaky test, of each track in the table's order.

    The spec, group and title were read back through `history.cells` (checked again: the
    file is outside the process); `output.emit` cleans the whole table once more."""
    rows: list[list[str]] = []
    for stats in tracks:
        source, pipeline, branch = stats.track
        where = [source, output.truncate(pipeline, 24), output.truncate(branch, 24)]
        for found in [*specs.get(stats.track, []), *tests.get(stats.track, [])]:
            spec = found.spec + (f" ({found.group})" if found.group else "")
            title = getattr(found, "title", None)  # a FlakyTest; a Flaky spec has none
            rows.append([*where, output.truncate(spec, 48),
                         output.truncate(title, 40) if title else "(the spec)",
                         f"{found.failed} in {found.runs}", f"{found.rate:.0%}"])
    return rows


def _filtered(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "sources", None) or args.pipelines or args.branches)


def _row(stats: Any, output: Any) -> list[str]:
    from runwatch.formatting import format_duration

    source, pipeline, branch = stats.track
    rate = stats.pass_rate
    last = stats.last_failure
    kind, count = stats.streak
    when = "-"
    if last is not None and last.created_at is not None:
        from datetime import UTC, datetime

        from runwatch.formatting import format_date_time

        when = format_date_time(datetime.fromtimestamp(last.created_at, UTC))
    return [source, output.truncate(pipeline, 24), output.truncate(branch, 24),
            str(stats.runs), "-" if rate is None else f"{rate:.0%}",
            format_duration(stats.median_s), format_duration(stats.p90_s), when,
            f"{count} {kind}" if kind != "none" else "-"]
