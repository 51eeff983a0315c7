"""How runwatch writes a time, a duration, a share and a status, on screen and on the command
line alike: "3m ago", "3m 07s", "14:02:09", "2026-11-22 14:02", "43%".

One module for both so that a run reads the same in the table, the run screen, the kiosk and
`runwatch list`, `show` and `watch` (issue 13). No Textual here: the CLI imports it too.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

TYPE_CHECKING = False  # not typing's: `runwatch history` imports this and builds no model
if TYPE_CHECKING:
    from runwatch.models import Run

__all__ = [
    "MAX_DURATION_S",
    "NO_VALUE",
    "STOPPED_HERE",
    "format_clock",
    "format_date_time",
    "format_duration",
    "format_percent",
    "format_wall_clock",
    "relative_time",
    "status_words",
    "to_epoch",
]

# Every formatter below is total over its input type: a time or a duration an API sent that
# no clock can show (inf, NaN, year 9999 seen from a zone east of UTC, ...) prints as the dash.
NO_VALUE = "–"
# A longer duration than this is no duration a run had: it prints as the dash too.
MAX_DURATION_S = 100 * 366 * 86400.0
# What a run that this process stopped says after its status (see Session.stopped_here).
STOPPED_HERE = "stopped here"


def to_epoch(ts: datetime | float | None) -> float | None:
    """Epoch seconds (naive datetimes are UTC); None when unknown or not representable."""
    if ts is None:
        return None
    try:
        if isinstance(ts, datetime):
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=UTC)
            return ts.timestamp()
        value = float(ts)
    except (OverflowError, OSError, ValueError, TypeError):
        return None
    return value if math.isfinite(value) else None


def relative_time(ts: datetime | float | None, now: float) -> str:
    """"<1m ago", "3m ago", "5h ago", "2d ago"; "in 4m" for the future; "–" for None.

    Minutes at the finest: a column of these changes once a minute, not every second, so
    an idle screen writes (almost) nothing to the terminal."""
    epoch = to_epoch(ts)
    if epoch is None or not abs(now - epoch) <= MAX_DURATION_S:  # NaN too
        return NO_VALUE
    delta = now - epoch
    future = delta < 0
    delta = abs(delta)
    if delta < 60:
        amount = "<1m"
    elif delta < 3600:
        amount = f"{int(delta // 60)}m"
    elif delta < 86400:
        amount = f"{int(delta // 3600)}h"
    else:
        amount = f"{int(delta // 86400)}d"
    return f"in {amount}" if future else f"{amount} ago"


def format_duration(seconds: float | None) -> str:
    """"8s", "3m 07s", "1h 02m"; "–" for None (and for what is no duration: inf, NaN,
    more than a century)."""
    if seconds is None or not math.isfinite(seconds) or seconds > MAX_DURATION_S:
        return NO_VALUE
    total = round(max(0.0, seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_span(seconds: float) -> str:
    """"13m", "2h 13m", "3d 4h": how long a track has been red: minutes at most,
    no seconds (a span, not a run's duration)."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def format_percent(percent: float | None) -> str:
    """"43%"; "–" for None or what is no share."""
    if percent is None or not math.isfinite(percent):
        return NO_VALUE
    return f"{max(0.0, min(100.0, percent)):.0f}%"


def _local(ts: datetime | float | None, form: str) -> str:
    try:
        if isinstance(ts, datetime):
            # 0001-01-01Z seen from west of UTC (or 9999-12-31 from the east) is no local time.
            aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
            return aware.astimezone().strftime(form)
        epoch = to_epoch(ts)
        return NO_VALUE if epoch is None else datetime.fromtimestamp(epoch).strftime(form)
    except (OverflowError, OSError, ValueError, TypeError):
        return NO_VALUE


def format_clock(ts: datetime | float | None) -> str:
    """Local wall-clock HH:MM:SS."""
    return _local(ts, "%H:%M:%S")


def format_wall_clock(ts: datetime | float | None) -> str:
    """Local HH:MM: the kiosk's clock. Seconds would redraw its big digits every second."""
    return _local(ts, "%H:%M")


def format_date_time(ts: datetime | float | None) -> str:
    """Local date and time to the minute, "2026-11-22 14:02": what a printed list keeps."""
    return _local(ts, "%Y-%m-%d %H:%M")


def status_words(run: Run) -> str:
    """The run's status as words: "failed", or "canceled (stopped here)" for a run this
    process stopped on an API that reports the stop as a failure."""
    return f"{run.status.value} ({STOPPED_HERE})" if run.stopped_here else run.status.value
