"""The kiosk's hold (issue 16): when a track turns red, rotation stays on its source for
`[kiosk] hold` seconds, or until that track passes again; with everything green it rotates
as before. Plain state fed with the poller's changes, so it is tested without a screen."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from runwatch.history.stats import RED
from runwatch.models import Run, RunStatus

Track = tuple[str, str | None, str | None]


@dataclass
class _Held:
    until: float
    track: Track


class KioskHold:
    """Which source the kiosk holds on, and until when."""

    def __init__(self, seconds: float, now: Callable[[], float]) -> None:
        self.seconds = seconds
        self.now = now
        self._active: set[tuple[str, str]] = set()  # runs last seen queued/running/waiting
        self._held: dict[str, _Held] = {}

    def changed(self, runs: Iterable[Run]) -> str | None:
        """Runs that changed; the source to show now when one of them just turned red."""
        turned: str | None = None
        for run in runs:
            key = run.key
            was_active = key in self._active
            if run.status.is_active:
                self._active.add(key)
                continue
            self._active.discard(key)
            held = self._held.get(run.source)
            if held is not None and run.track == held.track and run.status is RunStatus.PASSED:
                del self._held[run.source]  # green again: rotate as before
            if was_active and run.status in RED and self.seconds > 0:
                self._held[run.source] = _Held(self.now() + self.seconds, run.track)
                turned = run.source
        return turned

    def holds(self, source: str | None) -> bool:
        """Whether rotation stays on `source` now."""
        held = self._held.get(source) if source is not None else None
        if held is None:
            return False
        if self.now() >= held.until:
            del self._held[source]  # type: ignore[arg-type]
            return False
        return True

    def held_track(self, sources: Iterable[str]) -> Track | None:
        """The red track held on one of these sources (the kiosk's banner), if any."""
        return next((self._held[s].track for s in sources if self.holds(s)), None)
