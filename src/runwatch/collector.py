"""Python's cycle collector, paused while runwatch starts.

A start builds ~55,000 long-lived objects (modules, pydantic's and Textual's classes, parsed
CSS) and next to no garbage cycle, yet the allocations trigger collections that scan them all:
~28 ms of the dashboard's ~240 ms of imports, one full collection alone 14-17 ms, finding
nothing. So the command line pauses the collector before its imports. A command that ends
soon resumes it as it returns, a long-running one (sim, serve, watch, logs) as it begins, and
the dashboard once it has started (START_S): it collects once, then freezes what survived
(gc.freeze), so later collections skip the start's objects too.

Only a pause this module made is resumed: a caller that runs runwatch in its own process
(the tests) keeps its collector as it had it.
"""

from __future__ import annotations

import gc

__all__ = ["START_S", "pause", "paused", "resume"]

# When the dashboard resumes: after its first screen (~0.4 s from a local server) and its
# first polls' later pages, in a moment with nothing else to do.
START_S = 2.0


class _Pause:
    active = False


def pause() -> None:
    """Stop automatic collections until resume()."""
    if gc.isenabled():
        gc.disable()
        _Pause.active = True


def paused() -> bool:
    """Whether a pause() is in force (resume() has not come yet)."""
    return _Pause.active


def resume(*, freeze: bool = False) -> None:
    """Collect automatically again, if pause() stopped it. `freeze` (a long-running
    process, its start over): collect once, then leave what survives out of every later
    collection."""
    if not _Pause.active:
        return
    _Pause.active = False
    if freeze:
        gc.collect()
        gc.freeze()
    gc.enable()
