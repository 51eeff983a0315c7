"""The hub of `runwatch serve` (DESIGN section 12): one session polls every API once, and
everything else reads it: each browser viewer's kiosk (a `runwatch` source per hub source,
over loopback), the `/api/v1/` feed, `/cctray.xml` and `/metrics`.

No Textual and no aiohttp here: `Hub` is the session and its read side; runwatch.hub.web
serves them.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import tomli_w

from runwatch.config import Config
from runwatch.hub.feed import Feed
from runwatch.hub.metrics import HubMetrics
from runwatch.providers import build_providers
from runwatch.session import Session

__all__ = ["Feed", "Hub", "HubMetrics"]


class Hub:
    """The one session of a `runwatch serve`, its feed and its metrics. Always read-only:
    nothing served here can act on a run."""

    def __init__(self, config: Config, *, only: Sequence[str] = (),
                 interval: float | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.interval = interval
        providers = build_providers(config, read_only=True, only=list(only) or None,
                                    transport=transport)
        self.session = Session.on(config, providers, read_only=True, kiosk=True,
                                  interval=interval, owns_providers=True)
        self.feed = Feed(self.session)
        self.metrics = HubMetrics(self.feed)

    def start(self) -> None:
        """Start polling (inside the server's event loop)."""
        self.session.poller.start()

    async def aclose(self) -> None:
        await self.session.aclose()

    def viewer_config(self, feed_url: str, token_env: str | None = None) -> str:
        """The config of a browser viewer's kiosk: one `runwatch` source per hub source, all
        reading this hub's feed at `feed_url`, with the look of the hub's config."""
        sources = []
        for name, provider in self.session.providers.items():
            original = provider.source
            entry: dict[str, object] = {
                "name": name, "provider": "runwatch", "base_url": feed_url,
                "hub_source": name, "limit": self.config.limit_for(original),
                "interval": self.interval or self.config.interval_for(original),
            }
            if original.label:
                entry["label"] = original.label
            if original.color:
                entry["color"] = original.color
            if token_env:
                entry["token_env"] = token_env
            sources.append(entry)
        general: dict[str, object] = {"read_only": True,
                                      "timeout": self.config.runwatch.timeout}
        if self.config.runwatch.theme:
            general["theme"] = self.config.runwatch.theme
        document = {"runwatch": general, "kiosk": self.config.kiosk.model_dump(),
                    "sources": sources}
        return ("# written by `runwatch serve` for its viewers' kiosks; removed when it stops\n"
                + tomli_w.dumps(document))
