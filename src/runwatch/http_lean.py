"""The lean GET: HTTP/1.1 on kept-alive asyncio streams, for a plain `http://` origin that no
proxy applies to (SourceClient decides, by httpx's own rules); https, a proxy, a custom
transport or auth flow, and every other method stay on httpx.

Why: an unchanged poll must cost runwatch under 0.3 ms of CPU over the request (issue 12),
and httpx alone costs 2-3 ms per GET (callgrind: 2.74M instructions for one
`AsyncClient.get`, a raw asyncio GET 0.18M). A custom httpx transport keeps most of that
(Request/Response building, the client's logic). h11, httpcore's parser, was measured for
this path: 109 µs of CPU per request/response cycle (2,000 cycles, `time.process_time`, a
200-byte head and a 2 KB body), a third of the budget on its own, where the head parser here
costs 8 µs. So the parser is hand-written, and small because it is strictly bounded: the head
(status line and headers) at most `HEAD_MAX` (httpcore's limit), HTTP/1.0 and 1.1 only, no
obs-fold, one Content-Length or a chunked body (its size lines under `HEAD_MAX` too) or a body
to the connection's close; anything else is a protocol error, as h11 makes it. The body is
handed on in pieces of at most `PIECE` bytes (never one buffer of a declared size) to
`http_body.read_capped`, which inflates and caps it as it does httpx's.

A Set-Cookie is not kept for the next GET (httpx's cookie jar would keep it): no provider's
API works by cookies. Failures are raised as the httpx exceptions httpx would raise for them,
so SourceClient maps both paths to the same typed errors (a dropped connection in
httpcore's words; a malformed answer in this module's own). One difference: a kept
connection that the server closed as the GET arrived is replaced and the GET sent again,
once, where httpcore reports it (an idle timeout racing a poll is not a failure).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from runwatch.http_lean_head import LeanHeaders

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

# The status line and headers together; the same as httpcore's (h11's event size limit).
HEAD_MAX = 100 * 1024
# A body is read at most this much at a time: what asyncio reads from a socket at once, so a
# 3 MB list is a dozen pieces, not fifty.
PIECE = 256 * 1024
# The stream's own buffer limit: its transport pauses over twice this. At HEAD_MAX it paused
# and resumed (two epoll_ctl calls) for every 256 KiB of a large body; the head and a chunk's
# size line are held to HEAD_MAX here instead.
READ_LIMIT = 1024 * 1024
IDLE_MAX = 8  # kept-alive connections per source (the scheduler GETs several at once)
INTERIM_MAX = 10  # 1xx answers before the real one; more is a broken (or hostile) server
# What h11 accepts (RFC 9110 token, field-value with obs-text, reason-phrase): a control
# character of the server's never reaches an error message, the --debug log or an ETag.
HEADER_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
# Every header line of a head at once: a name, a colon, a value (spaces around it allowed).
HEADER_BLOCK = re.compile(rb"(?:[-!#$%&'*+.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*\r\n)*")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Turns the lean path off for every source (httpx for all): `RUNWATCH_LEAN_HTTP=0`.
SWITCH = "RUNWATCH_LEAN_HTTP"


def lean_enabled() -> bool:
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def pool_for(client: httpx.AsyncClient, connect_timeout_s: float) -> LeanPool | None:
    """The lean GET's pool for this client's base URL when it is plain http and no proxy
    applies to it by httpx's rules (HTTP_PROXY, ALL_PROXY, NO_PROXY: the transport httpx
    would choose is its own); else None: httpx carries every request."""
    url = client.base_url
    if url.scheme != "http" or not url.host:
        return None
    if client._transport_for_url(url) is not client._transport:
        return None  # a proxy applies
    return LeanPool(url.host, url.port or 80, connect_timeout_s)


class _Stale(Exception):
    """A kept-alive connection the server had closed: the GET is sent again, once."""


class _Conn:
    __slots__ = ("loop", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.loop = asyncio.get_running_loop()

    def usable(self) -> bool:
        """Open, on this loop, and holding no byte the server sent unasked: bytes after an
        answer (a body on a 204 or 304, more than its Content-Length) would be read as the
        next GET's answer, every poll one behind (httpcore drops such a connection too)."""
        return (self.loop is asyncio.get_running_loop() and not self.reader.at_eof()
                and not self.writer.is_closing()
                # private, but read directly: were it renamed, this fails loudly instead
                # of passing a connection holding stray bytes
                and not self.reader._buffer)  # type: ignore[attr-defined]

    def close(self) -> None:
        if not self.loop.is_closed():
            self.writer.close()


def _httpx_error(kind: str, words: str) -> httpx.TransportError:
    """httpx's exception `kind` (what httpx would raise for this failure): httpx is imported
    here, at a failure, not at start (its import is ~127M instructions, 10 % of `list`)."""
    import httpx

    error: httpx.TransportError = getattr(httpx, kind)(words)
    return error


def _protocol_error(words: str) -> httpx.TransportError:
    return _httpx_error("RemoteProtocolError", words)


class LeanResponse:
    """What SourceClient reads of an answer, as of httpx.Response: status, reason, headers,
    the raw body in pieces; `aclose` gives a finished connection back to its pool."""

    is_stream_consumed = False

    def __init__(self, pool: LeanPool, conn: _Conn, status: int, reason: str,
                 headers: LeanHeaders, keep: bool) -> None:
        self.status_code, self.reason_phrase, self.headers = status, reason, headers
        self._pool, self._conn, self._keep = pool, conn, keep
        self._done = False
        # The body's length as framed (checked: ASCII digits, one value); None: chunked or
        # to the close.
        self.content_length: int | None = None
        self._chunked = False
        self._framing()

    def _framing(self) -> None:
        status, headers = self.status_code, self.headers
        if status < 200 or status in (204, 304):
            self.content_length = 0
            return
        coding = headers.get("transfer-encoding")
        declared = headers.get("content-length")
        if coding is not None:
            if coding.strip().lower() != "chunked":  # as h11: chunked alone, or nothing
                raise _protocol_error("unsupported Transfer-Encoding")
            self._chunked = True
            if declared is not None:
                self._keep = False  # both framings: RFC 9112 6.1 says close after it
            return
        if declared is None:
            self._keep = False  # the body ends where the connection does
            return
        sizes = {size.strip() for size in declared.split(",")}
        size = sizes.pop()
        # isascii: str.isdigit is true of "²" and "٣" too, which int() refuses or reads
        if sizes or not (size.isascii() and size.isdigit()) or len(size) > 18:
            raise _protocol_error("bad Content-Length")
        self.content_length = int(size)

    @property
    def has_redirect_location(self) -> bool:
        return self.status_code in REDIRECTS and "location" in self.headers

    @property
    def charset_encoding(self) -> str | None:
        kind = self.headers.get("content-type", "")
        for param in kind.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                return value.strip().strip("\"'") or None
        return None

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        reader = self._conn.reader
        try:
            if self._chunked:
                async for piece in self._chunks(reader):
                    yield piece
            elif self.content_length is not None:
                async for piece in _exactly(reader, self.content_length):
                    yield piece
            else:
                while piece := await reader.read(PIECE):
                    yield piece
        except asyncio.LimitOverrunError:
            raise _protocol_error("a chunk size line over the limit") from None
        except asyncio.IncompleteReadError:
            raise _protocol_error("peer closed connection without sending complete "
                                  "message body") from None
        except OSError as exc:
            raise _httpx_error("ReadError", str(exc) or type(exc).__name__) from exc
        self._done = True

    async def _chunks(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            line = await reader.readuntil(b"\r\n")
            if len(line) > HEAD_MAX:
                raise asyncio.LimitOverrunError("a chunk size line over the limit", len(line))
            text = line.split(b";", 1)[0].strip()
            if not text or len(text) > 16 or text.strip(b"0123456789abcdefABCDEF"):
                raise _protocol_error("bad chunk size")
            size = int(text, 16)
            if size == 0:
                trailers = 0
                while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                    trailers += len(line)
                    if trailers > HEAD_MAX:
                        raise _protocol_error("trailers over the limit")
                return
            async for piece in _exactly(reader, size):
                yield piece
            if await reader.readexactly(2) != b"\r\n":
                raise _protocol_error("a chunk not ended by CRLF")

    async def aclose(self) -> None:
        if self._done and self._keep:
            self._pool.release(self._conn)
        else:
            self._conn.close()


async def _exactly(reader: asyncio.StreamReader, size: int) -> AsyncIterator[bytes]:
    left = size
    while left:
        piece = await reader.read(min(left, PIECE))
        if not piece:
            raise asyncio.IncompleteReadError(b"", left)
        left -= len(piece)
        yield piece


class LeanPool:
    """Kept-alive connections to one origin, at most `IDLE_MAX` idle ones."""

    def __init__(self, host: str, port: int, connect_timeout_s: float) -> None:
        self.host, self.port, self.connect_timeout_s = host, port, connect_timeout_s
        self._idle: list[_Conn] = []
        self.opened = 0  # connections opened (tests see keep-alive by it)

    async def get(self, target: bytes, head: bytes) -> LeanResponse:
        """Send `GET target` with `head` (its header lines, the blank line included) and
        read the answer's status and headers; its body is the response's to read."""
        response = await self._send(b"GET " + target + b" HTTP/1.1\r\n" + head)
        if log.isEnabledFor(logging.DEBUG):  # --debug's request line, as httpx writes it
            host = f"[{self.host}]" if ":" in self.host else self.host
            log.debug('HTTP Request: GET http://%s:%d%s "HTTP/1.1 %d %s"', host, self.port,
                      target.decode("ascii", "replace"), response.status_code,
                      response.reason_phrase)
        return response

    async def _send(self, request: bytes) -> LeanResponse:
        while self._idle:
            conn = self._idle.pop()
            if not conn.usable():
                conn.close()
                continue
            try:
                return await self._exchange(conn, request, reused=True)
            except _Stale:
                break  # it had been closed by the server: once more, on a new one
        conn = await self._connect()
        try:
            return await self._exchange(conn, request, reused=False)
        except _Stale:  # pragma: no cover - only a reused connection is stale
            raise _protocol_error("Server disconnected without sending a response.") from None

    def release(self, conn: _Conn) -> None:
        if len(self._idle) < IDLE_MAX and conn.usable():
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def _connect(self) -> _Conn:
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                reader, writer = await asyncio.open_connection(self.host, self.port,
                                                               limit=READ_LIMIT)
        except TimeoutError:
            raise _httpx_error("ConnectTimeout", "timed out") from None
        except OSError as exc:
            raise _httpx_error("ConnectError", str(exc) or type(exc).__name__) from exc
        self.opened += 1
        return _Conn(reader, writer)

    async def _exchange(self, conn: _Conn, request: bytes, *, reused: bool) -> LeanResponse:
        try:
            conn.writer.write(request)
            await conn.writer.drain()
            for _ in range(INTERIM_MAX + 1):
                head = await conn.reader.readuntil(b"\r\n\r\n")
                if len(head) > HEAD_MAX:
                    raise asyncio.LimitOverrunError("the head over the limit", len(head))
                response = self._response(conn, head)
                if response is not None:
                    return response
            raise _protocol_error(f"more than {INTERIM_MAX} interim (1xx) answers")
        except asyncio.IncompleteReadError as exc:
            conn.close()
            if reused and not exc.partial:
                raise _Stale() from None
            raise _protocol_error("Server disconnected without sending a response.") from None
        except asyncio.LimitOverrunError:
            conn.close()
            raise _protocol_error(f"the answer's headers are over {HEAD_MAX // 1024} KiB") \
                from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            conn.close()
            if reused:
                raise _Stale() from None
            raise _httpx_error("ReadError", str(exc) or type(exc).__name__) from exc
        except OSError as exc:
            conn.close()
            raise _httpx_error("ReadError", str(exc) or type(exc).__name__) from exc
        except BaseException:  # a protocol error, a cancel (the deadline): never reused
            conn.close()
            raise

    def _response(self, conn: _Conn, head: bytes) -> LeanResponse | None:
        """The answer this head starts, or None for an interim (1xx) one."""
        end = head.find(b"\r\n")
        parts = head[:end].split(b" ", 2)
        if (len(parts) < 2 or parts[0] not in (b"HTTP/1.1", b"HTTP/1.0")
                or len(parts[1]) != 3 or not parts[1].isdigit()
                or (len(parts) == 3 and not HEADER_VALUE.fullmatch(parts[2]))):
            raise _protocol_error("illegal status line")
        status = int(parts[1])
        if 100 <= status < 200 and status != 101:
            return None
        if status < 200:
            raise _protocol_error(f"unexpected status {status}")
        block = head[end + 2:-2]  # the header lines, each ended by CRLF
        if not HEADER_BLOCK.fullmatch(block):  # one C pass for them all
            raise _protocol_error("illegal header line")
        headers = LeanHeaders.of_block(block)
        connection = headers.get("connection", "").lower()
        keep = parts[0] == b"HTTP/1.1" and "close" not in connection
        reason = parts[2].decode("latin-1") if len(parts) == 3 else ""
        return LeanResponse(self, conn, status, reason, headers, keep)
