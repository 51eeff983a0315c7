"""The demo's config: one source per provider of the simulator at a URL, each named after
its provider, with the simulator's own tokens and scope ids (the simulator owns those; the
client side reads them from it here, and only here and in `runwatch sim`'s printout)."""

from __future__ import annotations

from runwatch.config import Config, parse
from runwatch.sim import PROVIDERS, demo_tokens
from runwatch.sim.demo import DEMO_SCOPES


def demo_config(server_url: str, *, interval: float = 2.0, read_only: bool = False) -> Config:
    """A config for the simulator at `server_url`; tokens are inline (in memory only)."""
    tokens = demo_tokens()
    return parse(
        {
            "runwatch": {"interval": interval, "read_only": read_only},
            "sources": [
                {"name": p, "provider": p, "base_url": f"{server_url}/{p}",
                 "token": tokens[p], **DEMO_SCOPES[p]}
                for p in PROVIDERS
            ],
        },
        origin="demo",
    )
