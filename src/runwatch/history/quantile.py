"""The one definition of a quantile in the history's figures (median, p90, "slower than
usual"): linear interpolation between the two ranks around position q·(n-1) of the sorted
values. `stats.percentile` applies it to values in memory, `summary` to the two ranks SQLite
hands back; a leaf module, so that both import it (stats imports store, store summary)."""

from __future__ import annotations

from collections.abc import Callable


def quantile_ranks(n: int, q: float) -> tuple[int, int, float]:
    """The two 0-based ranks (of n > 0 sorted values) that the q-th quantile (0..1) lies
    between, and how far it is from the first to the second (0..1)."""
    pos = q * (n - 1)
    low = int(pos)
    return low, min(low + 1, n - 1), pos - low


def interpolated(n: int, q: float, ranked: Callable[[int], float]) -> float | None:
    """The q-th quantile of n sorted values, `ranked(i)` the i-th (0-based); None when n is 0.
    Only the two ranks it lies between are asked for."""
    if not n:
        return None
    low, high, share = quantile_ranks(n, q)
    a, b = ranked(low), ranked(high)
    return a + (b - a) * share
