"""The bearer token of a source's client: replaced after a login, fetched from its source
(token_env, token_cmd) before the first request, fetched again after a 401."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runwatch.errors import AuthError
from runwatch.tokens import SecretResolver, TokenError

if TYPE_CHECKING:
    import httpx


def header_safe(token: str) -> bool:
    """Whether `token` can be sent in an Authorization header (printable ASCII): httpx
    would raise UnicodeEncodeError building the header, with the token in its message."""
    return bool(token) and token.isascii() and token.isprintable()


def unsendable_token(source: str, origin: str) -> AuthError:
    """The typed error for a token no header can carry; it never quotes the token."""
    return AuthError(
        f"{source}: the token from {origin} cannot be sent in a header "
        "(it has characters that are not printable ASCII)"
    )


class BearerToken:
    """The token half of `SourceClient` (a mixin: these attributes are its fields), and the
    headers every request sends, the token's among them."""

    token: str | None
    token_source: SecretResolver | None
    _client: httpx.AsyncClient | None
    _headers: dict[str, str]  # every request's; the httpx client is built with them
    _headers_set: int  # changes to them so far: what the lean GET's header lines are keyed on

    def set_header(self, name: str, value: str | None) -> None:
        """A header every request of this source sends (checked by the caller); None: no
        more of it."""
        if value is None:
            self._headers.pop(name, None)
        else:
            self._headers[name] = value
        self._headers_set += 1
        if self._client is not None:
            if value is None:
                self._client.headers.pop(name, None)
            else:
                self._client.headers[name] = value

    def set_token(self, token: str | None) -> None:
        """Replace the bearer token (e.g. after a login); the next request uses it."""
        self.token = token
        self.set_header("Authorization", f"Bearer {token}" if token else None)

    @property
    def token_configured(self) -> bool:
        """A token is given or will be fetched (so no login is needed)."""
        return bool(self.token) or self.token_source is not None

    async def ensure_token(self) -> None:
        """Fetch the token from its source if not known yet. Raises TokenError."""
        if self.token_source is not None and not self.token_source.known:
            self.set_token(await self.token_source.get())

    async def renew_token(self) -> bool:
        """After a 401: fetch the token again (a token_cmd at most once a minute). True
        when it changed, so the request is worth repeating. Raises TokenError."""
        if self.token_source is None:
            return False
        try:
            fresh = await self.token_source.renew()
        except TokenError:
            self.set_token(None)  # rejected, and no new one: the next request waits for it
            raise
        if fresh is None:
            return False
        self.set_token(fresh)
        return True
