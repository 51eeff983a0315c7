"""One module per runs API; `build_provider` turns a configured source into a Provider."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runwatch.catalog import CATALOG
from runwatch.config import Config, SourceConfig
from runwatch.http import SourceClient
from runwatch.http_body import DEFAULT_MAX_BODY, DEFAULT_MAX_LOG_BODY
from runwatch.http_retry import RetryPolicy
from runwatch.providers.base import Provider, RunAction, Sent
from runwatch.tokens import DEFAULT_TIMEOUT_S, token_resolver

if TYPE_CHECKING:
    import httpx

__all__ = ["Provider", "RunAction", "Sent", "build_provider", "build_providers", "provider_class"]

def provider_class(name: str) -> type[Provider]:
    """The class of provider `name`, imported on first use (see runwatch.catalog)."""
    cls: type[Provider] = CATALOG[name].load()
    return cls


def build_provider(
    source: SourceConfig,
    *,
    read_only: bool = False,
    limit: int = 50,
    timeout_s: float = 10.0,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    token: str | None = None,
    token_timeout_s: float = DEFAULT_TIMEOUT_S,
    max_body: int = DEFAULT_MAX_BODY,
    max_log_body: int = DEFAULT_MAX_LOG_BODY,
) -> Provider:
    """A provider for `source`, at once: no token is resolved here. The token is `token`
    (tests, the demo), the owner-only file's, or fetched from token_env / token_cmd on the
    first request (within `token_timeout_s`; a failure is that source's TokenError)."""
    # As before: token_env, else token_cmd, else the file's token.
    fetched = token is None and bool(source.token_env or source.token_cmd)
    if token is None and not fetched:
        token = source.token
    client = SourceClient(
        source=source.name,
        base_url=source.base_url,
        token=token,
        token_origin=source.token_origin,
        read_only=read_only or source.read_only,
        timeout_s=timeout_s,
        retry=retry or RetryPolicy(),
        transport=transport,
        token_source=token_resolver(source, token_timeout_s) if fetched else None,
        max_body=max_body,
        max_log_body=max_log_body,
    )
    return provider_class(source.provider)(source, client, limit=limit)


def build_providers(
    config: Config,
    *,
    read_only: bool = False,
    only: list[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Provider]:
    """A provider per configured source (or per source named in `only`), by source name."""
    sources = [config.source(n) for n in only] if only else config.sources
    return {
        s.name: build_provider(
            s,
            read_only=read_only or config.read_only_for(s),
            limit=config.limit_for(s),
            timeout_s=config.runwatch.timeout,
            transport=transport,
            token_timeout_s=config.runwatch.token_timeout,
            max_body=config.runwatch.max_body_bytes,
            max_log_body=config.runwatch.max_log_body_bytes,
        )
        for s in sources
    }
