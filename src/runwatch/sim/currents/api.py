"""The simulated Currents API's endpoints: paging, cancel, delete, instances, and Currents'
success envelope."""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import islice
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from runwatch.sim.core import RunScript, iso, seeded
from runwatch.sim.currents.plan import (
    CANCEL_ACTOR,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PROJECT_ID,
    PROVIDER,
    SPEC_FILES,
    TIMEOUT_RATE,
    Framework,
    SimRun,
)
from runwatch.sim.currents.render import RunRenderer
from runwatch.sim.kit import ApiError, BearerGuard, currents_error, envelope_handlers, make_scripts


def ok(data: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": "OK", **extra, "data": data})


class SimulatedApi(RunRenderer):
    """Currents' REST API over seeded run scripts; every body renders from the clock."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        settings = sim.settings
        rng = seeded(settings.seed, PROVIDER)
        scripts = make_scripts(
            rng, count=settings.runs, now=sim.now(), future=settings.future_runs,
            step_names=list(SPEC_FILES),
        )
        self._instances: dict[str, tuple[SimRun, int, int]] = {}
        self._all_planned = False
        self.runs: list[SimRun] = [self._new_run(script, rng) for script in scripts]
        self._by_id = {run.run_id: run for run in self.runs}
        self._position = {run.cursor: n for n, run in enumerate(self.runs)}
        routes = [
            Route("/v1/projects/{project_id}/runs", self.list_runs, methods=["GET"]),
            Route("/v1/runs/{run_id}", self.get_run, methods=["GET"]),
            Route("/v1/runs/{run_id}", self.delete_run, methods=["DELETE"]),
            Route("/v1/runs/{run_id}/cancel", self.cancel_run, methods=["PUT"]),
            Route("/v1/instances/{instance_id}", self.get_instance, methods=["GET"]),
        ]
        guard = BearerGuard(sim, PROVIDER, lambda authorization: currents_error(
            401, "Invalid API key provided" if authorization else "Missing API key"))
        # Unknown paths and wrong methods get Currents' body too, behind the key check.
        self.app: ASGIApp = guard.app(
            Starlette(routes=routes, exception_handlers=envelope_handlers(currents_error)))

    def run_scripts(self) -> list[RunScript]:
        """Every run script of this API, deleted ones too (SimApi)."""
        return [run.script for run in self.runs]

    def _new_run(self, script: RunScript, rng: random.Random) -> SimRun:
        framework: Framework = "cypress" if script.index % 2 == 0 else "playwright"
        bits = 128 if framework == "cypress" else 64  # the documents' id lengths
        run = SimRun(
            script=script,
            run_id=f"{rng.getrandbits(bits):0{bits // 4}x}",
            # Shaped like the API's own cursors (ObjectIds), ordered by creation.
            cursor=f"{int(script.created_at * 1000):016x}{script.index & 0xFFFFFFFF:08x}",
            framework=framework,
            seed=self.sim.settings.seed,
            registry=self._instances,
        )
        if not script.fails and rng.random() < TIMEOUT_RATE:
            stalled = script.started_at + 0.6 * (script.planned_end - script.started_at)
            script.canceled_at = stalled
            run.timeout_ms = round((stalled - script.created_at) * 1000)
        return run

    # -- lookups ---------------------------------------------------------------------------

    def run(self, run_id: str) -> SimRun:
        """The visible run with this id, else Currents' 404."""
        run = self._by_id.get(run_id)
        if run is None or not run.script.visible(self.sim.now()):
            raise ApiError(404, "Run not found")
        return run

    def instance(self, instance_id: str) -> tuple[SimRun, int, int]:
        found = self._instances.get(instance_id)
        if found is None and not self._all_planned:
            # Plans are drawn when a run is first shown; an instance id can reach us before
            # that (a client that outlived a restart), so draw them all, once, and look again.
            for run in self.runs:
                _ = run.plan
            self._all_planned = True
            found = self._instances.get(instance_id)
        if found is None or not found[0].script.visible(self.sim.now()):
            raise ApiError(404, "Instance not found")
        return found

    # -- endpoints -------------------------------------------------------------------------

    async def list_runs(self, request: Request) -> Response:
        if request.path_params["project_id"] != PROJECT_ID:
            raise ApiError(404, "Project not found")
        limit, after, before = _page_query(request.query_params)
        now = self.sim.now()
        if after is not None:
            page, has_more = self._older(self._cursor_position(after) + 1, limit, now)
        elif before is not None:
            page, has_more = self._newer(self._cursor_position(before), limit, now)
        else:
            page, has_more = self._older(0, limit, now)
        data = [{**self.render(run, now, specs=False), "cursor": run.cursor} for run in page]
        return ok(data, has_more=has_more)

    async def get_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        return ok(self.render(run, self.sim.now(), specs=True))

    async def cancel_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        now = self.sim.now()
        phase = run.script.phase(now)
        if phase == "canceled":
            raise ApiError(422, "Run already cancelled")
        if not run.script.cancel(now):
            raise ApiError(422, "Run already completed")
        run.timeout_ms = None  # cancelled before it could stall
        run.script.extra["cancel_actor"] = CANCEL_ACTOR
        return ok({"actor": CANCEL_ACTOR, "canceledAt": iso(now), "reason": "apiRequest",
                   "runId": run.run_id})

    async def delete_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        run.script.deleted = True
        return ok({"runId": run.run_id, "actor": "API Request"})

    async def get_instance(self, request: Request) -> Response:
        run, g, i = self.instance(request.path_params["instance_id"])
        return ok(self.render_instance(run, g, i, self.sim.now()))

    # -- paging ----------------------------------------------------------------------------

    def _cursor_position(self, cursor: str) -> int:
        position = self._position.get(cursor)
        if position is None:
            raise ApiError(400, "Invalid pagination cursor")
        return position

    def _visible(self, positions: Iterator[int], now: float) -> Iterator[SimRun]:
        return (self.runs[n] for n in positions if self.runs[n].script.visible(now))

    def _older(self, start: int, limit: int, now: float) -> tuple[list[SimRun], bool]:
        """Up to `limit` visible runs from position `start` on (newest first), and whether
        more follow. Only the page is rendered, however many runs there are."""
        found = list(islice(self._visible(iter(range(start, len(self.runs))), now), limit + 1))
        return found[:limit], len(found) > limit

    def _newer(self, stop: int, limit: int, now: float) -> tuple[list[SimRun], bool]:
        found = list(islice(self._visible(iter(range(stop - 1, -1, -1)), now), limit + 1))
        return list(reversed(found[:limit])), len(found) > limit


def _page_query(params: QueryParams) -> tuple[int, str | None, str | None]:
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise ApiError(400, "Only one of starting_after or ending_before may be used")
    raw = params.get("limit")
    try:
        limit = DEFAULT_LIMIT if raw is None else int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"Invalid limit parameter. Must be between 1 and {MAX_LIMIT}")
    return limit, after, before
