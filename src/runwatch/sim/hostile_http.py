"""Hostile HTTP answers (issue 8): each fault kind here is a limit runwatch's client must hold.

    endless       200, a JSON array that never ends (no Content-Length)
    gzip_bomb     200, 2 MB of gzip that inflates to 2 GiB
    huge          200, a 200 MB body, streamed without Content-Length
    drip          200, then one byte a second, for ever
    broken_gzip   200, `Content-Encoding: gzip` over bytes that are not gzip
    redirect_loop 302 to the very same URL, for ever
    redirect_307  307 to `fault.location` (another origin, by default)
    deep_nesting  200, 100,000 nested arrays
    non_finite    the real answer with every duration/progress number written as 1e400
    far_dates     the real answer with every timestamp in year 9999, at -05:00
    bad_dates     the real answer with every timestamp "yesterday"

A hostile `Retry-After` is the 429 fault with a string: `Fault("429", retry_after="soon")`.
Streams stop when the client hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import struct
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runwatch.sim.core import Fault
from runwatch.sim.kit import capture, send_answer

HTTP_ATTACKS = ("endless", "gzip_bomb", "huge", "drip", "broken_gzip", "redirect_loop",
                "redirect_307", "deep_nesting", "non_finite", "far_dates", "bad_dates")
MIB = 1 << 20
DEFAULT_ELSEWHERE = "http://127.0.0.1:9/elsewhere"  # another origin; nothing listens there
FAR_DATE = "9999-12-31T23:59:59-05:00"  # in UTC, year 10000: Python's datetime overflows
_SPACES = b" " * MIB


async def attack(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, receive: Receive,
                 send: Send) -> None:
    """Answer this request as `fault.kind` says. `receive` is the real one (it tells when
    the client hangs up); `replay` gives the app the request body again."""
    gone = asyncio.Event()
    watcher = asyncio.create_task(_watch(receive, gone))
    try:
        await _ATTACKS[fault.kind](fault, app, scope, replay, send, gone)
    finally:
        watcher.cancel()


async def _watch(receive: Receive, gone: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


_JSON = (b"content-type", b"application/json")


def _start(status: int, headers: list[tuple[bytes, bytes]] | None = None,
           content_type: bytes = b"application/json") -> Message:
    return {"type": "http.response.start", "status": status,
            "headers": [(b"content-type", content_type), *(headers or [])]}


async def _stream(send: Send, gone: asyncio.Event, chunks: Any, pause_s: float = 0.0) -> None:
    for chunk in chunks:
        if gone.is_set():
            return
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await asyncio.sleep(pause_s)  # lets the hang-up be seen, and paces a drip
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _endless(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                   gone: asyncio.Event) -> None:
    item = b'{"id": "run", "status": "running"},' * 1000

    def chunks() -> Any:
        yield b"["
        for _ in range(1 << 20):  # 36 GB: as good as endless, yet not a leak if nobody hangs up
            yield item

    await send(_start(200))
    await _stream(send, gone, chunks())


async def _gzip_bomb(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                     gone: asyncio.Event) -> None:
    bomb = gzip_bomb()
    await send(_start(200, [(b"content-encoding", b"gzip"),
                            (b"content-length", str(len(bomb)).encode())]))
    await _stream(send, gone, (bomb[i : i + 65536] for i in range(0, len(bomb), 65536)))


@functools.cache
def gzip_bomb(mebibytes: int = 2048) -> bytes:
    """A gzip of `mebibytes` MiB of spaces then `[]` (valid JSON, if anyone got that far).
    Built from one deflate block repeated: after a full flush, a block compresses the same."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(_SPACES) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.compress(b"[]") + deflate.flush()
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(_SPACES, crc)
    crc = zlib.crc32(b"[]", crc)
    size = (mebibytes * MIB + 2) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * mebibytes + tail + struct.pack("<II", crc, size)


async def _huge(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                gone: asyncio.Event) -> None:
    await send(_start(200))
    await _stream(send, gone, [b"[", *([_SPACES] * 200), b"]"])


async def _drip(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                gone: asyncio.Event) -> None:
    def chunks() -> Any:
        yield b"["
        for _ in range(86_400):  # a day of one byte a second
            yield b" "

    await send(_start(200))
    await _stream(send, gone, chunks(), pause_s=1.0)


async def _broken_gzip(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                       gone: asyncio.Event) -> None:
    body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + b"this is not deflate data" * 10
    await send_answer(send, 200, [_JSON, (b"content-encoding", b"gzip")], body)


async def _redirect(send: Send, status: int, location: str) -> None:
    await send_answer(send, status, [_JSON, (b"location", location.encode())], b"")


async def _redirect_loop(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                         gone: asyncio.Event) -> None:
    query = scope.get("query_string", b"").decode()
    await _redirect(send, 302, scope["path"] + (f"?{query}" if query else ""))


async def _redirect_307(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                        gone: asyncio.Event) -> None:
    await _redirect(send, 307, fault.location or DEFAULT_ELSEWHERE)


async def _deep_nesting(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                        gone: asyncio.Event) -> None:
    await send_answer(send, 200, [_JSON], b"[" * 100_000 + b"]" * 100_000)


async def _rewritten(app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                     rewrite: Any) -> None:
    """The app's real answer, its JSON passed through `rewrite(parsed) -> text`."""
    answer = await capture(app, scope, replay)
    body = answer.body
    with contextlib.suppress(ValueError):  # not JSON (a log): sent as it was
        body = rewrite(json.loads(body)).encode()
    await send_answer(send, answer.status, answer.headers, body)


_MARK = "\x00non-finite\x00"


def _replace(value: Any, wanted: Any, by: Any) -> Any:
    if isinstance(value, dict):
        return {k: by(v) if wanted(k, v) else _replace(v, wanted, by) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, wanted, by) for v in value]
    return value


def _numeric_measure(key: str, value: Any) -> bool:
    lowered = key.lower()
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and ("duration" in lowered or "progress" in lowered or "elapsed" in lowered))


def _timestamp(key: str, value: Any) -> bool:
    return isinstance(value, str) and (key.endswith(("At", "_at")) or key == "timestamp")


async def _non_finite(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                      gone: asyncio.Event) -> None:
    def rewrite(parsed: Any) -> str:
        marked = _replace(parsed, _numeric_measure, lambda _: _MARK)
        return json.dumps(marked).replace(json.dumps(_MARK), "1e400")

    await _rewritten(app, scope, replay, send, rewrite)


async def _far_dates(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                     gone: asyncio.Event) -> None:
    await _rewritten(app, scope, replay, send,
                     lambda parsed: json.dumps(_replace(parsed, _timestamp, lambda _: FAR_DATE)))


async def _bad_dates(fault: Fault, app: ASGIApp, scope: Scope, replay: Receive, send: Send,
                     gone: asyncio.Event) -> None:
    await _rewritten(app, scope, replay, send,
                     lambda parsed: json.dumps(_replace(parsed, _timestamp, lambda _: "yesterday")))


_ATTACKS = {
    "endless": _endless,
    "gzip_bomb": _gzip_bomb,
    "huge": _huge,
    "drip": _drip,
    "broken_gzip": _broken_gzip,
    "redirect_loop": _redirect_loop,
    "redirect_307": _redirect_307,
    "deep_nesting": _deep_nesting,
    "non_finite": _non_finite,
    "far_dates": _far_dates,
    "bad_dates": _bad_dates,
}
