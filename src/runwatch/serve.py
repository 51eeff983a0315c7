"""`runwatch serve`: the hub (DESIGN section 12). One session polls the APIs; the kiosk
dashboard goes to web browsers through textual-serve, and the feed to everything else.

textual-serve runs a command line per browser connection and relays its terminal over a
websocket; that command is always the read-only kiosk, on a config whose sources are all
`provider = "runwatch"` reading this hub's feed over loopback (`Hub.viewer_config`), so a
browser can watch but never act, and N viewers cost each API what one costs.
Only this server's own pages may open that websocket: a request whose `Host` or `Origin`
names another site is refused (a cross-site page, or DNS rebinding, would otherwise stream the
kiosk to a stranger), and viewers beyond `--max-viewers` are turned away before a process
starts. textual-serve is an optional extra (`runwatch[serve]`) and is imported only when
serving; the aiohttp server itself is in runwatch.kiosk_server.
"""

from __future__ import annotations

import ipaddress
import shlex
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from runwatch.errors import RunwatchError

if TYPE_CHECKING:
    from runwatch.hub import Hub

__all__ = ["Audience", "ServeError", "feed_url", "kiosk_command", "public_url",
           "require_textual_serve", "serve"]

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


def feed_url(host: str, port: int) -> str:
    """Where this machine's kiosk processes read the feed of a server bound to `host`."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def public_url(host: str, port: int) -> str:
    """The URL browsers use to reach a server bound to `host`:`port`."""
    if host in WILDCARD_HOSTS:
        # Bound everywhere: name the machine, the best guess at what a remote browser uses.
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 literal in a URL
    return f"http://{host}:{port}"


DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def _name(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Audience:
    """The names a browser may use for this server: a `Host` header or an `Origin` must name
    one of them, else the request is refused.

    `sites` are (scheme, host name, port): the bound address (plain http) and the public
    URL's. A wildcard bind also takes the machine's names, and any IP address on the bound
    port: an address cannot be a DNS-rebinding name (rebinding needs the attacker's domain)."""

    sites: frozenset[tuple[str, str, int]]
    port: int
    any_address: bool = False

    @classmethod
    def of(cls, host: str, port: int, url: str) -> Audience:
        sites = set()
        public = urlsplit(url)
        if public.hostname and public.scheme in DEFAULT_PORTS:
            sites.add((public.scheme, _name(public.hostname),
                       public.port or DEFAULT_PORTS[public.scheme]))
        wildcard = host in WILDCARD_HOSTS
        names = [socket.gethostname(), socket.getfqdn()] if wildcard else [host]
        if wildcard or (_is_ip(_name(host)) and ipaddress.ip_address(_name(host)).is_loopback):
            names += LOOPBACK_NAMES
        sites.update(("http", _name(n), port) for n in names if n)
        return cls(frozenset(sites), port, wildcard)

    def _allows(self, scheme: str | None, name: str, port: int) -> bool:
        """`scheme` None: any (a Host header does not say which)."""
        for site_scheme, site_name, site_port in self.sites:
            if (site_name, site_port) == (name, port) and scheme in (None, site_scheme):
                return True
        return (self.any_address and scheme in (None, "http") and port == self.port
                and _is_ip(name))

    def allows_host(self, header: str) -> bool:
        """A `Host` header ("name" or "name:port") that names this server."""
        try:
            parts = urlsplit(f"//{header}")
            name, given = parts.hostname, parts.port
        except ValueError:  # a port that is not a number, an unclosed [
            return False
        if not name:
            return False
        ports = [given] if given is not None else list(DEFAULT_PORTS.values())
        return any(self._allows(None, _name(name), p) for p in ports)

    def allows_origin(self, origin: str) -> bool:
        """An `Origin` header (scheme://name[:port]) that is one of this server's pages."""
        try:
            parts = urlsplit(origin)
            name, given = parts.hostname, parts.port
        except ValueError:
            return False
        if parts.scheme not in DEFAULT_PORTS or not name or parts.path not in ("", "/"):
            return False  # "null" (a sandboxed or file: page), another scheme
        return self._allows(parts.scheme, _name(name), given or DEFAULT_PORTS[parts.scheme])


def require_textual_serve() -> None:
    """ServeError unless the optional textual-serve package can be imported."""
    try:
        import prometheus_client  # noqa: F401
        import textual_serve.server  # noqa: F401
    except ImportError:
        raise ServeError(
            f"`runwatch serve` needs the optional textual-serve package: {INSTALL_HINT}"
        ) from None


def serve(command: Sequence[str], host: str, port: int, url: str | None = None, *,
          max_viewers: int = 20, hub: Hub | None = None, token: str | None = None) -> int:
    """Serve `command` to browsers, and `hub`'s feed, on `host`:`port` until interrupted;
    with `token`, every request must carry it. The exit code."""
    require_textual_serve()
    from runwatch import kiosk_server

    url = url or public_url(host, port)
    # textual-serve runs the command through a shell, so it is quoted as one string.
    server = kiosk_server.KioskServer(
        shlex.join(command), host=host, port=port, title=TITLE, public_url=url,
        audience=Audience.of(host, port, url), max_viewers=max_viewers, hub=hub, token=token,
    )
    try:
        server.serve()  # returns on Ctrl-C or SIGTERM, which it handles itself
    except OSError as exc:  # the port is taken, or --host is no address of this machine
        raise ServeError(f"cannot serve on {host} port {port}: {exc.strerror or exc}") from exc
    return 0
