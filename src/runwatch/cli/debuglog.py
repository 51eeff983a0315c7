"""`--debug` logging: imported only when `--debug` is given (logging costs ~5-10 ms of a
start that `--version` should not pay)."""

from __future__ import annotations

import logging
import sys

from runwatch.paths import debug_log_path
from runwatch.sanitize import clean_multiline

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
