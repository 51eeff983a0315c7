"""The local history of runs (DESIGN section 13): the file, its writer and the stats.

Each name loads its own module on first use (PEP 562): the dashboard's writer (`Recorder`)
does not pay, on its way to the first screen, for the file's store (sqlite3) and the
readers' modules, which its own thread imports (~5 ms).
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # `X as X`: mypy's explicit re-export, as no computed __all__ is read
    from runwatch.history.recorder import Recorder as Recorder
    from runwatch.history.stats import (
        TrackStats as TrackStats,
    )
    from runwatch.history.stats import (
        by_track as by_track,
    )
    from runwatch.history.stats import (
        newest_first as newest_first,
    )
    from runwatch.history.stats import (
        percentile as percentile,
    )
    from runwatch.history.store import (
        HistoryStore as HistoryStore,
    )
    from runwatch.history.store import (
        HistoryUnavailable as HistoryUnavailable,
    )
    from runwatch.history.store import (
        Point as Point,
    )
    from runwatch.history.store import (
        history_path as history_path,
    )

# Each public name and the module it lives in; `__all__` is these names.
_HOME = {
    "Recorder": "recorder",
    **dict.fromkeys(("TrackStats", "by_track", "newest_first", "percentile"), "stats"),
    **dict.fromkeys(("HistoryStore", "HistoryUnavailable", "Point", "history_path"), "store"),
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # the next lookup is a plain global, not this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
