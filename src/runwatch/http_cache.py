"""The bodies a source's client remembers, for the identical-body and ETag shortcuts: the
parsed (and reduced) body of each URL with its raw bytes (or, for a huge one, a digest) and
ETag, least recently used first out, so a kiosk that runs for weeks holds a bounded number;
providers `forget` the URLs that their latest list no longer reads (runwatch.providers.kit)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

# Bodies remembered for the identical-body and ETag shortcuts; least recently used go first
# (the scheduler asks for a new cursor or run id often, and a kiosk runs for weeks).
BODY_CACHE_SIZE = 256
# A body up to this size is kept as bytes: comparing 3 MB costs ~0.1 ms where hashing it
# costs ~2.5 ms. A larger one is kept as a digest (it is not held twice).
RAW_KEPT_MAX = 8 << 20


@dataclass
class CachedBody:
    etag: str | None
    raw: bytes | None  # the body as received, up to RAW_KEPT_MAX
    digest: bytes | None  # of a larger body
    parsed: Any
    reduce: Callable[[Any], Any] | None = None

    @classmethod
    def of(cls, body: bytes | bytearray, etag: str | None, parsed: Any,
           reduce: Callable[[Any], Any] | None) -> CachedBody:
        if len(body) <= RAW_KEPT_MAX:
            return cls(etag, bytes(body), None, parsed, reduce)
        return cls(etag, None, _digest(body), parsed, reduce)

    def same(self, body: bytes | bytearray) -> bool:
        """Whether `body` is byte for byte the one remembered."""
        if self.raw is not None:
            return self.raw == body
        return len(body) > RAW_KEPT_MAX and self.digest == _digest(body)


def _digest(body: bytes | bytearray) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


V = TypeVar("V")


class Remembered(OrderedDict[str, V], Generic[V]):
    """URL key → what was last built or seen for it, at most `BODY_CACHE_SIZE`, the least
    recently stored first out."""

    def store(self, key: str, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > BODY_CACHE_SIZE:
            self.popitem(last=False)


class BodyCache(Remembered[CachedBody]):
    """URL → the body last seen there."""

    def lookup(self, key: str, reduce: Callable[[Any], Any] | None) -> CachedBody | None:
        """The body remembered for `key` if it was reduced the same way, else None."""
        cached = self.get(key)
        if cached is not None:
            if cached.reduce != reduce:
                cached = None
            else:
                self.move_to_end(key)
        return cached


# URL keys built so far, by (path, the params' items, their types): a poll asks for the
# same few URLs every time, and quoting each name and value cost ~3 us apiece (with its
# types: `True == 1` in Python, yet they key apart). Emptied when it grows past this.
KEYS_KEPT = 4096
_keys: dict[tuple[Any, ...], str] = {}


def cache_key(path: str, params: Mapping[str, Any] | None) -> str:
    """The key of the URL that `path` and `params` build, exactly: names and values escaped
    (joined bare, `{"a": "1&b=2"}` and `{"a": "1", "b": "2"}` shared one), in their order
    (the order they are sent in), a value that is not a string by its repr after a `!`
    (which `quote` always escapes): `True == 1` in Python, yet they are sent as `true`, `1`."""
    if not params:
        return path
    try:
        memo = (path, *params.items(), *map(type, params.values()))
        known = _keys.get(memo)
    except TypeError:  # a value that cannot be hashed: built every time
        return _built_key(path, params)
    if known is None:
        if len(_keys) >= KEYS_KEPT:
            _keys.clear()
        known = _keys[memo] = _built_key(path, params)
    return known


def _built_key(path: str, params: Mapping[str, Any]) -> str:
    return path + "?" + "&".join(f"{quote(k, safe='')}={_value(v)}" for k, v in params.items())


def _value(v: Any) -> str:
    return quote(v, safe="") if isinstance(v, str) else "!" + quote(repr(v), safe="")
