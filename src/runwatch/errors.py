"""Typed errors shared by every layer. Messages are for people and never contain a token.

A message often quotes an API (an error body, a run's id), so it is made safe once, here, for
every place that shows it: one line, no escape sequence or control character, and bounded:
an API's error at most `MESSAGE_MAX` characters, any other message `LOCAL_MESSAGE_MAX` (they
quote file paths, whose fix must not be cut off).
"""

from __future__ import annotations

from runwatch.sanitize import clean_text

MESSAGE_MAX = 300
LOCAL_MESSAGE_MAX = 2000


def one_line(message: object, limit: int = MESSAGE_MAX) -> str:
    """`message` as one safe line of at most `limit` characters (an ellipsis ends a cut)."""
    text = " ".join(clean_text(message).split())
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


class RunwatchError(Exception):
    """Base of every error runwatch reports; `str()` is the one-line message to show."""

    exit_code = 4
    max_length = LOCAL_MESSAGE_MAX

    def __init__(self, message: str) -> None:
        message = one_line(message, self.max_length)
        super().__init__(message)
        self.message = message


class ConfigError(RunwatchError):
    """The config file (or a CLI option) is wrong."""

    exit_code = 3


class ApiError(RunwatchError):
    """An API answered with an error, or with something that is not what it should be.
    `detail`: the server's own words about it (an error body's message), made safe as the
    message is, or None when it said none; callers read it instead of taking `str()` apart."""

    max_length = MESSAGE_MAX  # it quotes the API's error body

    def __init__(
        self, message: str, *, status_code: int | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = one_line(detail) or None if detail is not None else None


class AuthError(ApiError):
    """401/403: the token is missing, wrong, or lacks rights."""


class NotFound(ApiError):
    """404, or the API's own way of saying a run does not exist."""


class Conflict(ApiError):
    """409/422: the request cannot apply in the run's state (e.g. already cancelled)."""


class RateLimited(ApiError):
    """429: `retry_after` seconds is the server's wish, when it said one."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message, status_code=429, detail=detail)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx from the API."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, detail=detail)
        self.retry_after = retry_after


class BadResponse(ApiError):
    """A body that is not the JSON the API documents (HTML, truncated, wrong shape)."""


class Unreachable(ApiError):
    """Connection refused or reset, DNS failure, TLS failure."""


class RequestTimeout(ApiError):
    """The API did not answer in time."""


class Unsupported(RunwatchError):
    """The provider has no such action (e.g. cancel on Conduct)."""

    exit_code = 5


class ReadOnlyError(RunwatchError):
    """A mutating request on a read-only source; refused before any I/O."""

    exit_code = 5


class BodyTooLarge(ApiError):
    """A response grew past its size cap (`max_body`), decompressed."""


class SlowAnswer(RequestTimeout):
    """The API started answering but did not finish within the request's deadline (a body
    dripping in); not retried, as a server that drips will drip again."""


class RedirectRefused(ApiError):
    """A redirect runwatch does not follow: of a non-GET request, to another origin, from
    https to http, or one of too many in a row (a loop)."""
