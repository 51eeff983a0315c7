"""The lean GET's request line and header lines (runwatch.http_lean), and an answer's headers.

For a plain origin they are built here without httpx, to the byte what httpx builds
(`plain_origin`, `plain_url`, `plain_head`; tests/test_http_lean_head.py compares them
with httpx's): importing httpx is ~127M instructions, 10 % of `runwatch list` (callgrind),
and every GET of a plain http:// source is the lean one. Anything these do not cover (a
host httpx would rewrite, a path it would normalize, a proxy that may apply, a parameter
that is not a str or an int) returns None: httpx builds that one, as before.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    import httpx

# A host httpx sends as written: lowercase ASCII letters, digits, dots and hyphens (a name
# or an IPv4 address; no IDNA, no IPv6 brackets, no userinfo).
_PLAIN_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
# A path httpx sends as written: unreserved characters, sub-delimiters, ":", "@", "/" and
# %XX escapes (httpx percent-encodes anything else; dot segments are checked apart).
_PLAIN_PATH = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")
_BASE_URL = re.compile(r"http://([^/:?#@\[\]]+)(?::([0-9]{1,5}))?(/[^?#]*)?")


@dataclass(frozen=True, slots=True)
class PlainURL:
    """A URL of a plain origin as the lean GET sends it: the attributes of httpx.URL that
    runwatch.http reads (`origin`, `raw_path`); `str` of it is what httpx.URL parses."""

    host: str
    port: int | None  # None: 80, as httpx.URL keeps the default port
    raw_path: bytes
    scheme: str = "http"

    def __str__(self) -> str:
        return f"http://{host_header(self.host, self.port)}{self.raw_path.decode('ascii')}"


def host_header(host: str, port: int | None) -> str:
    return host if port is None else f"{host}:{port}"


def proxy_may_apply() -> bool:
    """Whether httpx could send a GET through a proxy: a `*_proxy` variable is set (httpx
    reads them, by urllib's rules, case-insensitive), or the platform has system proxy
    settings urllib reads (macOS, Windows). Then httpx decides (http_lean.pool_for)."""
    return sys.platform in ("darwin", "win32") or any(
        name.lower().endswith("_proxy") for name in os.environ)


def plain_origin(base_url: str) -> PlainURL | None:
    """The base URL (its path ending in "/", as httpx's base_url does) when its GETs can be
    built here: plain http://, a plain host, a port in range, a plain path, and no proxy
    that may apply; else None."""
    match = _BASE_URL.fullmatch(base_url.rstrip("/"))
    if match is None or proxy_may_apply():
        return None
    host, port_text, path = match.group(1), match.group(2), match.group(3) or ""
    port = int(port_text) if port_text else None
    if not _PLAIN_HOST.fullmatch(host) or (port is not None and not 0 < port <= 65535):
        return None
    if not _plain_path(path):
        return None
    return PlainURL(host, None if port == 80 else port, (path + "/").encode("ascii"))


def _plain_path(path: str) -> bool:
    return bool(_PLAIN_PATH.fullmatch(path)) and not any(
        segment in (".", "..") for segment in path.split("/"))


def plain_url(base: PlainURL, path: str, params: Mapping[str, Any] | None) -> PlainURL | None:
    """`path` (and `params`) on `base`, as httpx's build_request makes it: the path joined
    to the base's, the parameters urlencoded in order; None where httpx must build it."""
    if not _plain_path(path):
        return None
    target = base.raw_path.decode("ascii") + path.lstrip("/")
    if params:
        items = []
        for name, value in params.items():
            if type(name) is not str or type(value) not in (str, int):
                return None  # httpx's own rules for a bool, a float, a list
            items.append((name, str(value)))
        target += "?" + urlencode(items)
    return PlainURL(base.host, base.port, target.encode("ascii"))


def plain_head(base: PlainURL, headers: Mapping[str, str]) -> bytes:
    """The header lines httpx sends on a GET of this client (`headers`: the client's),
    in its order: Host, Connection, then the client's; each ended by CRLF."""
    sent = {"Host": host_header(base.host, base.port), "Connection": "keep-alive", **headers}
    return "".join(f"{name}: {value}\r\n" for name, value in sent.items()).encode("latin-1")


def header_lines(client: httpx.AsyncClient) -> bytes:
    """The header lines httpx sends on this client's GETs (Host, Accept, Accept-Encoding,
    Connection, User-Agent, Authorization when a token is set), each ended by CRLF."""
    sent = client.build_request("GET", client.base_url).headers.raw
    return b"".join(name + b": " + value + b"\r\n" for name, value in sent)


class LeanHead:
    """The lean GET's header lines: the very ones httpx sends for the client (Host,
    Connection, Accept, User-Agent, Accept-Encoding, Authorization when a token), built
    again only when they change (`key`: the token, a header set), then a request's own
    (If-None-Match) and the blank line."""

    __slots__ = ("_key", "_lines")

    def __init__(self) -> None:
        self._key: object = None
        self._lines: bytes | None = None

    def __repr__(self) -> str:
        return "LeanHead()"  # its lines hold the token

    def lines(self, key: object, build: Callable[[], bytes],
              headers: Mapping[str, str] | None) -> bytes:
        if self._lines is None or self._key != key:
            self._key, self._lines = key, build()
        if not headers:
            return self._lines + b"\r\n"
        extra = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
        return self._lines + extra + b"\r\n"


class LeanHeaders(Mapping[str, str]):
    """An answer's headers: names case-insensitive, repeated ones joined by ", " (as
    httpx.Headers.get gives them). `mentions_ratelimit`: whether any name or value holds
    "ratelimit" (http_record reads a rate limit only then; the usual answer has none)."""

    __slots__ = ("_values", "mentions_ratelimit")

    def __init__(self, values: dict[str, str], mentions_ratelimit: bool = True) -> None:
        self._values = values
        self.mentions_ratelimit = mentions_ratelimit

    @classmethod
    def of_block(cls, block: bytes) -> LeanHeaders:
        """The headers of `block`, header lines each ended by CRLF, already checked
        (`HEADER_BLOCK`): decoded at once as UTF-8, else line by line (a value that is not
        UTF-8 is read as Latin-1, as httpx reads it)."""
        try:
            lines = block.decode("utf-8").split("\r\n")
        except UnicodeDecodeError:
            lines = [_text(line) for line in block.split(b"\r\n")]
        values: dict[str, str] = {}
        for line in lines[:-1]:  # the last is the empty rest after the final CRLF
            name, _, value = line.partition(":")
            name, value = name.lower(), value.strip(" \t")
            values[name] = f"{values[name]}, {value}" if name in values else value
        return cls(values, b"ratelimit" in block.lower())

    def __getitem__(self, key: str) -> str:
        return self._values[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:
        # Mapping.get goes through __getitem__ and a KeyError for every absent header.
        return self._values.get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"LeanHeaders({sorted(self._values)})"  # names only


def _text(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")
