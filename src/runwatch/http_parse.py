"""Reading a successful answer's body under its cap, and parsing it (JSON, or a provider's
own reading of the raw bytes) on a thread when it is large; every failure one typed error
naming source and path."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runwatch.errors import BadResponse, BodyTooLarge
from runwatch.http_answers import first_line
from runwatch.http_body import (
    Answer,
    BodyOverLimit,
    UndecodableBody,
    UnparsableJson,
    megabytes,
    parse_then_reduce,
    read_capped,
    reduce_raw,
)
from runwatch.http_lean import LeanResponse

if TYPE_CHECKING:
    import httpx

# Bodies larger than this are parsed (and reduced) on a thread: the event loop stays free.
OFFLOAD_BYTES = 256 * 1024


async def read_answer(source: str, response: httpx.Response | LeanResponse, path: str, cap: int,
                      log: bool) -> Answer:
    """The answer with its body read under `cap` (a log's cut there, anything else over it
    refused)."""
    try:
        body, truncated = await read_capped(response, cap, truncate=log)
    except BodyOverLimit:
        raise BodyTooLarge(
            f"{source}: {path} sent more than {megabytes(cap)} (the "
            f"{'max_log_body' if log else 'max_body'} limit); its answer was dropped"
        ) from None
    except UndecodableBody as exc:
        raise BadResponse(
            f"{source}: {path} sent a body that cannot be read: {exc}",
            status_code=response.status_code,
        ) from None
    return Answer(response.status_code, response.headers, body,
                  response.charset_encoding or "utf-8", truncated)


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
