"""The bodies a source's client remembers, for the identical-body and ETag shortcuts: the
parsed (and reduced) body of each URL with its digest and ETag, least recently used first
out, so a kiosk that runs for weeks holds a bounded number."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Bodies remembered for the identical-body and ETag shortcuts; least recently used go first
# (the scheduler asks for a new cursor or run id often, and a kiosk runs for weeks).
BODY_CACHE_SIZE = 256


@dataclass
class CachedBody:
    etag: str | None
    digest: bytes  # of the body, not the body: a large one is not kept twice
    parsed: Any
    reduce: Callable[[Any], Any] | None = None


class BodyCache(OrderedDict[str, CachedBody]):
    """URL → the body last seen there, at most `BODY_CACHE_SIZE` of them."""

    def lookup(self, key: str, reduce: Callable[[Any], Any] | None) -> CachedBody | None:
        """The body remembered for `key` if it was reduced the same way, else None."""
        cached = self.get(key)
        if cached is not None:
            if cached.reduce != reduce:
                cached = None
            else:
                self.move_to_end(key)
        return cached

    def store(self, key: str, body: CachedBody) -> None:
        self[key] = body
        self.move_to_end(key)
        while len(self) > BODY_CACHE_SIZE:
            self.popitem(last=False)


def cache_key(path: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return path
    return path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))
