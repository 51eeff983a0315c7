"""Reading a response body within limits, and parsing it as JSON.

httpx inflates each network chunk in one go, so a 64 KiB piece of a gzip bomb is 64 MiB before
anyone can count it: gzip and deflate are inflated here instead, never more than the room left
under the cap. JSON numbers that are not finite (`NaN`, `Infinity`, `1e400`) become null.

JSON is parsed by orjson where it can (measured on a 10,000-run services body: 1.35x faster
than the standard library's parser, 2x faster than its GIL-yielding form); anything orjson
refuses (non-finite numbers, lone surrogates, nesting deeper than its 1,024 levels) is parsed
again by the standard library, whose rules decide: a bad number costs the field, deep
nesting is the typed "nested too deeply" error. Bodies over `ORJSON_MAX` keep the standard
library's GIL-yielding parse on a thread (orjson would hold the event loop for the whole body).
"""

from __future__ import annotations

import codecs
import json
import math
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from runwatch.http_lean import LeanResponse
from runwatch.http_lean_head import LeanHeaders

if TYPE_CHECKING:
    import httpx

MIB = 1 << 20
DEFAULT_MAX_BODY = 32 * MIB
DEFAULT_MAX_LOG_BODY = 64 * MIB
# What we ask for: the encodings inflated here (httpx would add br/zstd when installed).
ACCEPT_ENCODING = "gzip, deflate"
_STEP = MIB  # inflated at most this much per zlib call
# Bodies up to this size are parsed by orjson in one call (about 30 ms at this size here);
# larger ones by the standard library on a thread, handing the GIL back as it goes.
ORJSON_MAX = 8 * MIB


@dataclass
class Answer:
    """A successful response's status, headers and (decompressed) body."""

    status_code: int
    headers: httpx.Headers | LeanHeaders
    body: bytes | bytearray  # bytes as read_capped joins it
    encoding: str
    truncated: bool = False

    def take(self) -> bytes | bytearray:
        """The body, no longer held here (so a parsed body is not held twice)."""
        body, self.body = self.body, b""
        return body


@dataclass
class Progress:
    answering: bool = False  # headers are in: a timeout from here on is a slow answer


class BodyOverLimit(Exception):
    """The decompressed body grew past the cap (the caller names source, path and cap)."""


class UndecodableBody(Exception):
    """The body's compression is broken or of a kind not asked for; `str()` says which."""


class _Inflater:
    """Inflates one `Content-Encoding` (identity, gzip or deflate), bounded per call."""

    def __init__(self, header: str) -> None:
        self._zlib: Any = None
        self._first = True
        if not header:  # the usual answer: no Content-Encoding
            self.coding: str | None = None
            return
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise UndecodableBody(f"it is compressed as {header.strip()!r}, not as asked")
        self.coding = codings[0] if codings else None
        if self.coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self.coding == "deflate":
            self._zlib = zlib.decompressobj()

    def pieces(self, data: bytes, room: int) -> Iterator[bytes]:
        """`data` inflated, a MiB at a time (zlib would build one 64 MiB piece out of 64 KiB
        of a bomb, twice over); the last piece is the one that goes past `room`, if any."""
        if self._zlib is None or not data:
            yield data
            return
        while True:
            out = self._inflate(data, min(room, _STEP) + 1)
            yield out
            room -= len(out)
            data = self._zlib.unconsumed_tail
            if room < 0 or not data:
                return

    def _inflate(self, data: bytes, most: int) -> bytes:
        try:
            out: bytes = self._zlib.decompress(data, most)
        except zlib.error as exc:
            if self.coding == "deflate" and self._first:
                # Servers send raw deflate as often as zlib-wrapped (httpx tries both too).
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._first = False
                return self._inflate(data, most)
            raise UndecodableBody(f"its {self.coding} compression is broken ({exc})") from None
        self._first = False
        return out

    def finish(self) -> None:
        # No body at all (a 304, a 204) is fine whatever the header says.
        if self._zlib is not None and not self._first and not self._zlib.eof:
            raise UndecodableBody(f"its {self.coding} stream is cut short")


async def read_capped(
    response: httpx.Response | LeanResponse, cap: int, *, truncate: bool = False
) -> tuple[bytes | bytearray, bool]:
    """The decompressed body, and whether it was cut at `cap` (only with `truncate`, else
    BodyOverLimit). Not hashed: spotting a body identical to the last one compares bytes
    (http_cache), which costs a tenth of hashing them.

    The pieces are joined once into `bytes`, not grown in a bytearray: the body cache keeps
    that very object and the services reader cuts it without a copy (a 3 MB list was copied
    three times: growing, caching, cutting)."""
    pieces: list[bytes] = []
    size = 0
    if not isinstance(response, LeanResponse) and response.is_stream_consumed:
        # Built in memory (a mock transport): already read and decoded by httpx.
        chunks: Any = _one(response.content)
        inflater = _Inflater("")
    else:
        inflater = _Inflater(response.headers.get("content-encoding", ""))
        declared = _content_length(response)
        if inflater.coding is None and declared is not None and declared > cap and not truncate:
            raise BodyOverLimit()
        chunks = response.aiter_raw()
    async for raw in chunks:
        for piece in inflater.pieces(raw, cap - size):
            room = cap - size
            if len(piece) > room:
                if not truncate:
                    raise BodyOverLimit()
                pieces.append(piece[:room])
                return b"".join(pieces), True
            pieces.append(piece)
            size += len(piece)
    inflater.finish()
    return b"".join(pieces), False  # one piece: that very object (bytes.join's shortcut)


async def _one(content: bytes) -> Any:
    yield content


def _content_length(response: httpx.Response | LeanResponse) -> int | None:
    if isinstance(response, LeanResponse):
        return response.content_length  # framed and checked by its reader already
    try:
        return int(response.headers.get("content-length", ""))
    except ValueError:
        return None


# -- JSON --------------------------------------------------------------------------------


def _finite_or_none(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


def _no_constant(_: str) -> None:
    return None  # NaN, Infinity, -Infinity: not JSON, and no field can use them


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A Python call per object lets the interpreter hand the GIL to the event loop while a
    # thread parses a huge body (the C parser alone would hold it to the end).
    return dict(pairs)


def parse_json(content: bytes | bytearray) -> Any:
    """JSON with non-finite numbers as None; raises ValueError or RecursionError.

    orjson first; what it refuses goes to the standard library, whose rules are the ones
    (orjson never turns a bad number into null, and has its own depth limit)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content, parse_float=_finite_or_none, parse_constant=_no_constant)


def parse_body(content: bytes | bytearray) -> Any:
    """`parse_json`, or for a body over ORJSON_MAX `parse_json_in_thread` (for a caller
    already on a thread: the event loop gets the GIL back as it goes)."""
    if len(content) > ORJSON_MAX:
        return parse_json_in_thread([content])
    return parse_json(content)


def parse_json_in_thread(box: list[bytes | bytearray]) -> Any:
    """`parse_json` of the one body in `box`, for a thread: the body is let go once it is
    text, and the GIL is handed back often (decoding 300 MB in one call holds it 0.3 s)."""
    content = box.pop()
    decoder = codecs.getincrementaldecoder(json.detect_encoding(content))("surrogatepass")
    step = 1 << 20
    pieces = [decoder.decode(content[i : i + step]) for i in range(0, len(content), step)]
    pieces.append(decoder.decode(b"", final=True))
    del content
    text = "".join(pieces)
    del pieces
    return json.loads(text, parse_float=_finite_or_none, parse_constant=_no_constant,
                      object_pairs_hook=_object)


class UnparsableJson(Exception):
    """The body is not JSON; `str()` says why in a few words."""


def parse_then_reduce(
    box: list[bytes | bytearray], reduce: Callable[[Any], Any] | None, *, large: bool
) -> Any:
    """The body in `box` parsed (on a thread when `large`), then `reduce`d; a large parsed
    body is freed in pieces once reduced."""
    with _unparsable_as_words():
        content = box[0]
        huge = len(content) > ORJSON_MAX
        parsed = parse_json_in_thread(box) if huge else parse_json(box.pop())
    if reduce is None:
        return parsed
    reduced = reduce(parsed)
    if large:
        release_in_pieces(parsed)
    return reduced


def reduce_raw(box: list[bytes | bytearray], reduce: Callable[[bytes | bytearray], Any]) -> Any:
    """`reduce` of the raw body in `box` (it parses what it needs itself, see split_objects);
    UnicodeDecodeError, RecursionError and ValueError from it are UnparsableJson."""
    with _unparsable_as_words():
        return reduce(box.pop())


@contextmanager
def _unparsable_as_words() -> Iterator[None]:
    """What a parser raises on a bad body, as the one typed error in words."""
    try:
        yield
    except RecursionError:
        raise UnparsableJson("nested too deeply to read") from None
    except UnicodeDecodeError:  # before ValueError: it is one
        raise UnparsableJson("not valid text") from None
    except ValueError:
        raise UnparsableJson("not the expected JSON") from None


def split_objects(body: bytes | bytearray) -> list[bytes] | None:
    """The texts of the objects of a compact top-level JSON array (`[{..},{..}]`, as
    Express's `res.json` sends it) without their outer braces, or None when the body is not
    one (`parse_object` puts the braces back).

    Cut at every `},{`, so a cut inside a string or a nested array gives a piece that is not
    one whole object: the caller parses every piece it has not seen before and falls back to
    parsing the whole body when one is not an object (a piece seen before parsed whole then;
    pieces that each are an object, joined by commas, are the array of those objects).
    Whitespace between items, or anything else, is None: parse the whole body."""
    # bytes.strip() is the very object when there is nothing to strip, and the brackets
    # come off the first and last piece: a 3 MB body is copied once, by the split.
    text = (body if isinstance(body, bytes) else bytes(body)).strip()
    if text == b"[]":
        return []
    if not (text.startswith(b"[{") and text.endswith(b"}]")):
        return None
    pieces = text.split(b"},{")
    pieces[0] = pieces[0][2:]
    pieces[-1] = pieces[-1][:-2]
    return pieces


def parse_object(piece: bytes) -> dict[str, Any] | None:
    """One piece of `split_objects` parsed, or None when it is not one whole JSON object
    (RecursionError and UnicodeDecodeError mean the same: parse the whole body instead)."""
    try:
        value = parse_json(b"{" + piece + b"}")
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def megabytes(size: int) -> str:
    """A byte count as people write limits: "32 MiB"."""
    return f"{size / MIB:g} MiB" if size >= MIB else f"{size} bytes"


def release_in_pieces(value: Any) -> None:
    """Free a huge parsed body a slice at a time: dropping a million objects in one go holds
    the GIL (and the event loop) for half a second."""
    lists = [value] if isinstance(value, list) else []
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
    for items in lists:
        while items:
            del items[-10_000:]
