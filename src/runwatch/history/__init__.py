"""The local history of runs (DESIGN section 13): the file, its writer and the stats."""

from runwatch.history.recorder import Recorder
from runwatch.history.stats import TrackStats, by_track, newest_first, percentile
from runwatch.history.store import HistoryStore, HistoryUnavailable, Point, history_path

__all__ = ["HistoryStore", "HistoryUnavailable", "Point", "Recorder", "TrackStats", "by_track",
           "history_path", "newest_first", "percentile"]
