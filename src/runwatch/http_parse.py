"""Parsing a successful answer's body (JSON, or a provider's own reading of the raw bytes),
on a thread when it is large, every failure one BadResponse naming source and path."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from runwatch.errors import BadResponse
from runwatch.http_answers import first_line
from runwatch.http_body import Answer, UnparsableJson, parse_then_reduce, reduce_raw

# Bodies larger than this are parsed (and reduced) on a thread: the event loop stays free.
OFFLOAD_BYTES = 256 * 1024


async def parse_json(source: str, answer: Answer, path: str,
                     reduce: Callable[[Any], Any] | None) -> Any:
    """Parse (and reduce) the body, on a thread when it is large; the raw bytes are let
    go as soon as they are parsed."""
    large = len(answer.body) > OFFLOAD_BYTES
    head = bytes(answer.body[:200])
    box: list[bytes | bytearray] = [answer.take()]
    try:
        if large:
            return await asyncio.to_thread(parse_then_reduce, box, reduce, large=True)
        return parse_then_reduce(box, reduce, large=False)
    except UnparsableJson as exc:
        raise unparsable(source, answer, path, head, exc) from None


async def reduce_raw_body(source: str, answer: Answer, path: str,
                          reduce: Callable[[bytes | bytearray], Any]) -> Any:
    """`reduce` of the raw body, on a thread when it is large."""
    head = bytes(answer.body[:200])
    box: list[bytes | bytearray] = [answer.take()]
    try:
        if len(box[0]) > OFFLOAD_BYTES:
            return await asyncio.to_thread(reduce_raw, box, reduce)
        return reduce_raw(box, reduce)
    except UnparsableJson as exc:
        raise unparsable(source, answer, path, head, exc) from None


def unparsable(source: str, answer: Answer, path: str, head: bytes,
               exc: UnparsableJson) -> BadResponse:
    kind = answer.headers.get("content-type", "unknown type").split(";")[0]
    return BadResponse(
        f"{source}: {path} returned {kind}, {exc} "
        f"({first_line(head.decode('utf-8', 'replace'))})",
        status_code=answer.status_code,
    )
