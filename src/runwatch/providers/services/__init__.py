"""The services API: the Seamless CI/CD backend (services-api.md, corrected by DESIGN section 3).

    GET    /api/runs?serviceId=     every run, bare JSON, no paging, no order
    GET    /api/runs/{id}           `null` for an unknown id
    GET    /api/stages?runId=       a run's stages, unordered
    GET    /api/logs?stageId=       a stage's log lines
    POST   /api/runs/{id}/stop | /rerun
    DELETE /api/runs/{id}

Modules: `wire` (the bodies and what their statuses mean), `newest` (the newest runs of the
list, kept between bodies so that a poll costs what changed), `provider`.
"""

from runwatch.providers.services.newest import NewestItems
from runwatch.providers.services.provider import ServicesProvider
from runwatch.providers.services.wire import STAGE_ORDER, STATUSES, WireLogLine, WireRun, WireStage

__all__ = [
    "STAGE_ORDER",
    "STATUSES",
    "NewestItems",
    "ServicesProvider",
    "WireLogLine",
    "WireRun",
    "WireStage",
]
