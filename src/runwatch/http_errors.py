"""Which typed error a failed answer (status 400 and up) becomes, its message in the
server's words and prefixed with the source's name; never the token itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runwatch.errors import (
    ApiError,
    AuthError,
    Conflict,
    NotFound,
    RateLimited,
    ServerError,
)
from runwatch.http_answers import decode_text, error_detail, retry_after_s, server_words
from runwatch.http_body import UndecodableBody, read_capped
from runwatch.http_lean import LeanResponse

if TYPE_CHECKING:
    import httpx

# Only so much of an error body is read: it is for the message.
ERROR_BODY_BYTES = 64 * 1024


async def error_for(
    response: httpx.Response | LeanResponse,
    path: str,
    *,
    source: str,
    token_origin: str | None,
    token_given: bool,
) -> ApiError:
    """`token_origin` ("env CURRENTS_API_KEY") and whether a token was sent shape the
    message of a 401 or 403."""
    status = response.status_code
    try:
        content, _ = await read_capped(response, ERROR_BODY_BYTES, truncate=True)
    except UndecodableBody:
        content = bytearray()
    text = decode_text(content, response.charset_encoding or "utf-8")
    detail = error_detail(status, response.reason_phrase, text)
    said = server_words(text)  # ApiError.detail: the server's words, not ours
    message = f"{source}: {detail}"
    if status in (401, 403):
        where = f" (token from {token_origin})" if token_origin else ""
        hint = "token rejected" if token_given else "no token configured"
        return AuthError(f"{source}: {hint}{where}: {detail}", status_code=status, detail=said)
    if status == 404:
        return NotFound(f"{source}: not found: {path} ({detail})", status_code=status,
                        detail=said)
    if status in (409, 422):
        return Conflict(message, status_code=status, detail=said)
    retry_after = retry_after_s(response.headers)
    if status == 429:
        return RateLimited(message, retry_after=retry_after, detail=said)
    if status >= 500:
        return ServerError(message, status_code=status, retry_after=retry_after, detail=said)
    return ApiError(message, status_code=status, detail=said)
