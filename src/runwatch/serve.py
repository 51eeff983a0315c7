"""`runwatch serve`: the kiosk dashboard in a web browser, through textual-serve.

textual-serve runs a command line per browser connection and relays its terminal over a
websocket; that command is always the read-only kiosk, so a browser can watch but never act.
textual-serve is an optional extra (`runwatch[serve]`) and is imported only when serving.
"""

from __future__ import annotations

import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from runwatch.errors import RunwatchError

__all__ = ["ServeError", "kiosk_command", "public_url", "serve"]

TITLE = "runwatch kiosk"
INSTALL_HINT = "pip install 'runwatch[serve]'"
# Addresses that mean "every interface": no browser can use them to reach the server back.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


class ServeError(RunwatchError):
    """textual-serve is not installed, or the address cannot be listened on: exit 3."""

    exit_code = 3


def kiosk_command(
    config: Path | None,
    *,
    sources: Sequence[str] = (),
    interval: float | None = None,
    theme: str | None = None,
) -> list[str]:
    """The command line of the kiosk each browser gets: on `config`, else the demo."""
    options: list[str] = []
    for name in sources:
        options += ["--source", name]
    if interval is not None:
        options += ["--interval", str(interval)]
    if theme is not None:
        options += ["--theme", theme]
    # The interpreter that runs `serve` runs the kiosk too: no reliance on $PATH.
    base = [sys.executable, "-m", "runwatch"]
    if config is None:
        # The dashboard options belong to the top-level parser, so they go before `demo`.
        return [*base, *options, "demo", "--kiosk", "--read-only"]
    # An absolute path: the config found now is the one every session shows.
    return [*base, "--kiosk", "--read-only", "--config", str(config.resolve()), *options]


def public_url(host: str, port: int) -> str:
    """The URL browsers use to reach a server bound to `host`:`port`."""
    if host in WILDCARD_HOSTS:
        # Bound everywhere: name the machine, the best guess at what a remote browser uses.
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 literal in a URL
    return f"http://{host}:{port}"


def serve(command: Sequence[str], host: str, port: int, url: str | None = None) -> int:
    """Serve `command` to browsers on `host`:`port` until interrupted; the exit code."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ServeError(
            f"`runwatch serve` needs the optional textual-serve package: {INSTALL_HINT}"
        ) from None
    # textual-serve runs the command through a shell, so it is quoted as one string.
    server = Server(
        shlex.join(command), host=host, port=port, title=TITLE,
        public_url=url or public_url(host, port),
    )
    try:
        server.serve()  # returns on Ctrl-C or SIGTERM, which it handles itself
    except OSError as exc:  # the port is taken, or --host is no address of this machine
        raise ServeError(f"cannot serve on {host} port {port}: {exc.strerror or exc}") from exc
    return 0
