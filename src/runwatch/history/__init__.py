"""The local history of runs (DESIGN section 13): the file, its writer and the stats.

Each name loads its own module on first use (PEP 562): the dashboard's writer (`Recorder`)
does not pay, on its way to the first screen, for the file's store (sqlite3) and the
readers' modules, which its own thread imports (~5 ms).
"""

from __future__ import annotations

from runwatch.lazy_exports import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:  # `X as X`: mypy's explicit re-export, as no computed __all__ is read
    from runwatch.history.recorder import (  # noqa: I001 (isort splits `X as X` one a line)
        Recorder as Recorder,
    )
    from runwatch.history.stats import (
        TrackStats as TrackStats,
        by_track as by_track,
        newest_first as newest_first,
        percentile as percentile,
    )
    from runwatch.history.store import (
        HistoryStore as HistoryStore,
        HistoryUnavailable as HistoryUnavailable,
        Point as Point,
        history_path as history_path,
    )

# Each public name and the module it lives in; `__all__` is these names (the block above
# repeats them for mypy; tests/test_models_exports.py checks that both say the same).
_HOME = {
    "Recorder": "recorder",
    **dict.fromkeys(("TrackStats", "by_track", "newest_first", "percentile"), "stats"),
    **dict.fromkeys(("HistoryStore", "HistoryUnavailable", "Point", "history_path"), "store"),
}

__all__ = sorted(_HOME)

__getattr__, __dir__ = lazy_exports(__name__, _HOME)
