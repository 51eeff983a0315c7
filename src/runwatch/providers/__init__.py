"""One module per runs API; `build_provider` turns a configured source into a Provider."""

from __future__ import annotations

import importlib

import httpx

from runwatch.config import Config, SourceConfig, resolve_token
from runwatch.http import RetryPolicy, SourceClient
from runwatch.http_body import DEFAULT_MAX_BODY, DEFAULT_MAX_LOG_BODY
from runwatch.providers.base import Action, Provider

__all__ = ["Action", "Provider", "build_provider", "build_providers", "provider_class"]

_MODULES = {
    "services": "runwatch.providers.services:ServicesProvider",
    "wercker": "runwatch.providers.wercker:WerckerProvider",
    "currents": "runwatch.providers.currents:CurrentsProvider",
    "conduct": "runwatch.providers.conduct:ConductProvider",
    "scheduler": "runwatch.providers.scheduler:SchedulerProvider",
}


def provider_class(name: str) -> type[Provider]:
    module, _, cls = _MODULES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def build_provider(
    source: SourceConfig,
    *,
    read_only: bool = False,
    limit: int = 50,
    timeout_s: float = 10.0,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    token: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    max_log_body: int = DEFAULT_MAX_LOG_BODY,
) -> Provider:
    """A provider for `source`. The token comes from `token` (tests, the demo) or from the
    source's token_env / token_cmd / owner-only file."""
    client = SourceClient(
        source=source.name,
        base_url=source.base_url,
        token=token if token is not None else resolve_token(source),
        token_origin=source.token_origin,
        read_only=read_only or source.read_only,
        timeout_s=timeout_s,
        retry=retry or RetryPolicy(),
        transport=transport,
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
            max_body=config.runwatch.max_body_bytes,
            max_log_body=config.runwatch.max_log_body_bytes,
        )
        for s in sources
    }
