"""The polling engine (DESIGN section 4): one loop per source on asyncio, no Textual.

Modules: `engine` (the loops, deadlines, health and the detail of the run on screen),
`merge` (what one poll changed in a source's runs, at the cost of what changed).
"""

from runwatch.poll_events import (
    DetailLoaded,
    HealthChanged,
    HealthState,
    PollEvent,
    RunsChanged,
    RunTransition,
    SourceHealth,
)
from runwatch.poller.engine import Poller

# The events are part of the poller's interface: subscribers may import them from here.
__all__ = [
    "DetailLoaded",
    "HealthChanged",
    "HealthState",
    "PollEvent",
    "Poller",
    "RunTransition",
    "RunsChanged",
    "SourceHealth",
]
