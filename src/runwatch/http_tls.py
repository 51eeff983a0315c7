"""The TLS context of a source's client: one verifying context shared by every https source,
and for an http:// source one that trusts nothing (it never speaks TLS)."""

from __future__ import annotations

import ssl

import httpx

_SSL_CONTEXT: ssl.SSLContext | None = None


def verified_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every https client: building one costs 60-90 ms (loading
    the CA bundle), and five sources would pay it five times at start."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT


def ssl_context_for(base_url: str) -> ssl.SSLContext:
    """The verifying context for an https source; for an http:// one (redirects stay within
    its origin, so it never speaks TLS) a context that trusts no CA at all, which costs ~1 ms
    instead of loading the bundle: should a TLS handshake ever happen on it, it fails."""
    if httpx.URL(base_url).scheme != "http":
        return verified_ssl_context()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname; no CA
