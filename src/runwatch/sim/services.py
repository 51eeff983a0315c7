"""Simulated services API: the Seamless CI/CD backend (services-api.md, DESIGN section 3).

Bare JSON under `/api`. Nothing is paged or ordered: runs and each run's stages come back in
a fixed shuffled order, as from a database queried without ORDER BY. As the real server (an
Express + Prisma app) does: an unknown run id answers 200 with `null` on GET and an empty 200
on DELETE and stop; rerun answers the new run's id as plain text (`text/html`); stop answers
`{"executionsStopped": N}`, or an empty 200 when nothing was running; every stage is created
with its run, `startedAt` set at once while IDLE (runs too); log lines are `{id (a ULID),
message, timestamp, score, type: stdout | stderr, stageId}` in score order; a missing or wrong
token is the plain text `Authentication error` (401); other errors are `{"message"}`.

Runs belong to two services, "svc-web" (most) and "svc-api" (a few), so that the
`serviceId` filter is observable. Some DEPLOY_PROD stages wait for an approval first
(AWAITING_APPROVAL). The API has no canceled status: a stopped run and the stage it stopped
in become FAILURE, which is what the dashboard then shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from runwatch.sim.core import Phase, RunScript, StepPhase, iso, seeded
from runwatch.sim.kit import (
    BearerGuard,
    make_scripts,
    read_json,
    services_error,
    services_unauthorized,
)
from runwatch.sim.services_logs import log_body, whole_seconds

PROVIDER = "services"
STAGES = [
    "PREPARE",
    "CODE_QUALITY",
    "UNIT_TEST",
    "BUILD",
    "INTEGRATION_TEST",
    "DEPLOY_STAGING",
    "DEPLOY_PROD",
]
GATED_STAGE = "DEPLOY_PROD"
PATCHABLE = frozenset(
    {"commitHash", "commitMessage", "committer", "status", "triggerType", "serviceId", "pullNumber"}
)

_RUN_STATUS: dict[Phase, str] = {
    "queued": "IDLE",
    "running": "IN_PROGRESS",
    "passed": "SUCCESS",
    "failed": "FAILURE",
    "canceled": "FAILURE",  # no canceled status in this API
}
_STAGE_STATUS: dict[StepPhase, str] = {
    "pending": "IDLE",
    "skipped": "IDLE",  # placeholder stages after a failure are never started
    "running": "IN_PROGRESS",
    "passed": "SUCCESS",
    "failed": "FAILURE",
    "canceled": "FAILURE",
}

@dataclass
class SimRun:
    """A run script plus what the services API adds to it."""

    script: RunScript
    id: str
    stage_ids: list[str]
    service_id: str
    trigger_type: str
    pull_number: int | None = None
    approval: bool = False  # DEPLOY_PROD waits for a person during its first half
    patch: dict[str, Any] = field(default_factory=dict)
    patched_at: float | None = None
    # The body of a finished run: it no longer changes, so it is rendered once.
    rendered: dict[str, Any] | None = None

    @property
    def current_service_id(self) -> Any:
        return self.patch.get("serviceId", self.service_id)

    def approval_until(self, i: int) -> float | None:
        """When stage `i` stops waiting for approval, if it is the gated one."""
        step = self.script.steps[i]
        if not self.approval or step.name != GATED_STAGE:
            return None
        return self.script.started_at + step.start_s + step.duration_s / 2

    def awaiting_approval(self, i: int, now: float) -> bool:
        until = self.approval_until(i)
        return until is not None and self.script.step_phase(i, now) == "running" and now < until


class SimulatedApi:
    """The services API over the simulator's clock; `runs` is in the server's (shuffled) order."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        seed = sim.settings.seed
        self._seed = seed
        self._rng = seeded(seed, PROVIDER)
        # One generator for the services-only facts, drawn in script index order: a run's
        # id is a function of the seed and its index.
        self._facts = seeded(seed, f"{PROVIDER}:facts")
        scripts = make_scripts(
            self._rng,
            count=sim.settings.runs,
            now=sim.now(),
            future=sim.settings.future_runs,
            step_names=STAGES,
        )
        for script in scripts:
            script.commit = script.commit[:14]  # the API's short hash
        self.runs = [self._dress(s) for s in sorted(scripts, key=lambda s: s.index)]
        seeded(seed, f"{PROVIDER}:order").shuffle(self.runs)
        self._by_id: dict[str, SimRun] = {}
        self._by_stage: dict[str, tuple[SimRun, int]] = {}
        for run in self.runs:
            self._index(run)
        # The server's auth middleware sits on its routers: an unknown path is a 404 with
        # or without a token.
        guarded = BearerGuard(sim, PROVIDER, lambda _: services_unauthorized()).endpoint
        routes = [
            ("/api/runs", self.list_runs, "GET"),
            ("/api/runs/{run_id}", self.get_run, "GET"),
            ("/api/runs/{run_id}", self.patch_run, "PATCH"),
            ("/api/runs/{run_id}", self.delete_run, "DELETE"),
            ("/api/runs/{service_id}", self.create_run, "POST"),
            ("/api/runs/{run_id}/stop", self.stop_run, "POST"),
            ("/api/runs/{run_id}/rerun", self.rerun, "POST"),
            ("/api/stages", self.list_stages, "GET"),
            ("/api/logs", self.list_logs, "GET"),
        ]
        self.app = Starlette(routes=[Route(path, guarded(endpoint), methods=[method])
                                     for path, endpoint, method in routes])

    # -- endpoints -----------------------------------------------------------------------

    def run_scripts(self) -> list[RunScript]:
        """Every run script of this API, deleted ones too (SimApi)."""
        return [run.script for run in self.runs]

    async def list_runs(self, request: Request) -> Response:
        now = self.sim.now()
        service = request.query_params.get("serviceId")
        return JSONResponse(
            [
                self.run_body(run, now)
                for run in self.runs
                if run.script.visible(now)
                and (service is None or run.current_service_id == service)
            ]
        )

    async def get_run(self, request: Request) -> Response:
        now = self.sim.now()
        run = self._find(request.path_params["run_id"], now)
        return JSONResponse(self.run_body(run, now) if run else None)

    async def patch_run(self, request: Request) -> Response:
        now = self.sim.now()
        run = self._find(request.path_params["run_id"], now)
        if run is None:
            return _not_found(request)
        body = await read_json(request)
        if not isinstance(body, dict):
            return services_error(400, "body must be an object of run properties")
        if unknown := sorted(set(body) - PATCHABLE):
            return services_error(400, f"property {unknown[0]} should not exist")
        run.patch.update(body)
        run.patched_at = now
        run.rendered = None
        return JSONResponse({})

    async def delete_run(self, request: Request) -> Response:
        now = self.sim.now()
        run_id = request.path_params["run_id"]
        run = self._find(run_id, now)
        if run is None:
            return Response(status_code=200)  # Prisma's deleteMany of nothing
        body = self.run_body(run, now)
        run.script.deleted = True
        return JSONResponse(body)

    async def create_run(self, request: Request) -> Response:
        """POST /api/runs/:serviceId: a new run with its placeholder stages."""
        body = await read_json(request, blank={})
        if not isinstance(body, dict):
            return services_error(400, "body must be an object")
        now = self.sim.now()
        run = self._spawn(request.path_params["service_id"], body, now)
        return JSONResponse(self.run_body(run, now), status_code=201)

    async def stop_run(self, request: Request) -> Response:
        """Stops the run's executions; says how many, not what became of the run."""
        now = self.sim.now()
        run = self._find(request.path_params["run_id"], now)
        if run is None:
            return Response(status_code=200)
        running = run.script.phase(now) == "running"
        if not run.script.cancel(now):
            return Response(status_code=200)  # it had finished: nothing to stop
        run.rendered = None
        return JSONResponse({"executionsStopped": 1 if running else 0})

    async def rerun(self, request: Request) -> Response:
        """POST /api/runs/:id/rerun with `{"data": <run>}`: a new run of the same commit; the
        answer is its id, as plain text."""
        now = self.sim.now()
        run = self._find(request.path_params["run_id"], now)
        if run is None:
            return _not_found(request)
        body = await read_json(request)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            return services_error(400, "data must be an object")
        wanted = {
            "commitHash": run.script.commit,
            "commitMessage": run.script.message,
            "committer": run.script.author,
            "triggerType": run.trigger_type,
            **data,
        }
        # One `now` for the new run and the answer: a live clock moves between two reads.
        new = self._spawn(_text(data.get("serviceId"), run.current_service_id), wanted, now)
        return HTMLResponse(new.id)

    async def list_stages(self, request: Request) -> Response:
        now = self.sim.now()
        run_id = request.query_params.get("runId")
        if not run_id:
            return services_error(400, "runId is required")
        run = self._find(run_id, now)
        if run is None:
            return JSONResponse([])
        order = list(range(len(run.script.steps)))
        seeded(self._seed, f"{PROVIDER}:stages:{run.script.index}").shuffle(order)
        return JSONResponse([self.stage_body(run, i, now) for i in order])

    async def list_logs(self, request: Request) -> Response:
        now = self.sim.now()
        stage_id = request.query_params.get("stageId")
        if not stage_id:
            return services_error(400, "stageId is required")
        found = self._by_stage.get(stage_id)
        if found is None or not found[0].script.visible(now):
            return JSONResponse([])
        run, i = found
        return JSONResponse(log_body(run, i, stage_id, now))

    # -- rendering -----------------------------------------------------------------------

    def run_body(self, run: SimRun, now: float) -> dict[str, Any]:
        if run.rendered is not None:
            return run.rendered
        script = run.script
        start, end = script.start_time(now), script.end_time(now)
        body: dict[str, Any] = {
            "id": run.id,
            "createdAt": iso(script.created_at),
            "updatedAt": iso(_updated_at(run, now)),
            # Set when the run is created, IDLE or not; the real start once there is one.
            "startedAt": iso(start if start is not None else script.created_at),
            "endedAt": iso(end),
            "duration": whole_seconds(start, end),
            "commitHash": script.commit,
            "commitMessage": script.message,
            "committer": script.author,
            "status": self._run_status(run, now),
            "triggerType": run.trigger_type,
            "serviceId": run.service_id,
            "pullNumber": run.pull_number,
        }
        body.update(run.patch)
        if end is not None:
            run.rendered = body
        return body

    def stage_body(self, run: SimRun, i: int, now: float) -> dict[str, Any]:
        script = run.script
        begin, end = script.step_times(i, now)
        return {
            "id": run.stage_ids[i],
            "runId": run.id,
            "type": script.steps[i].name,
            "status": self._stage_status(run, i, now),
            "createdAt": iso(script.created_at),
            "updatedAt": iso(end or begin or script.created_at),
            # Every stage is made with its run, startedAt set although it is still IDLE.
            "startedAt": iso(begin if begin is not None else script.created_at),
            "endedAt": iso(end),
            "duration": whole_seconds(begin, end),
        }

    def _run_status(self, run: SimRun, now: float) -> str:
        phase = run.script.phase(now)
        if phase == "running" and any(
            run.awaiting_approval(i, now) for i in range(len(run.script.steps))
        ):
            return "AWAITING_APPROVAL"
        return _RUN_STATUS[phase]

    def _stage_status(self, run: SimRun, i: int, now: float) -> str:
        phase = run.script.step_phase(i, now)
        if run.awaiting_approval(i, now):
            return "AWAITING_APPROVAL"
        if phase == "canceled" and run.script.step_times(i, now)[0] is None:
            return "IDLE"  # stopped before it began
        return _STAGE_STATUS[phase]

    # -- state ---------------------------------------------------------------------------

    def _find(self, run_id: str, now: float) -> SimRun | None:
        run = self._by_id.get(run_id)
        return run if run is not None and run.script.visible(now) else None

    def _dress(self, script: RunScript) -> SimRun:
        """The services-only facts of a run: ids, service, trigger, approval gate."""
        rng = self._facts
        run_id = _uuid(rng.getrandbits(128))
        stage_ids = [_uuid(rng.getrandbits(128)) for _ in script.steps]
        pull_request = script.branch != "main" and not script.branch.startswith("release/")
        pull_number = rng.randrange(100, 1000)
        service = "svc-api" if rng.random() < 0.2 else "svc-web"
        approval = rng.random() < 0.5 and not pull_request
        # A pull request's first run is PR_OPEN, later pushes to it PR_SYNC.
        trigger = ("PR_SYNC" if pull_number % 3 else "PR_OPEN") if pull_request else "MAIN"
        return SimRun(
            script=script,
            id=run_id,
            stage_ids=stage_ids,
            service_id=service,
            trigger_type=trigger,
            pull_number=pull_number if pull_request else None,
            approval=approval,
        )

    def _spawn(self, service_id: str, fields: dict[str, Any], now: float) -> SimRun:
        """A new run created at `now`: fresh stage durations from the seeded generator,
        commit facts from `fields` where given."""
        fresh = make_scripts(self._rng, count=1, now=now, future=0, spacing_s=0.0,
                             step_names=STAGES)[0]
        script = replace(
            fresh,
            index=len(self.runs),
            created_at=now,
            commit=_text(fields.get("commitHash"), fresh.commit[:14]),
            message=_text(fields.get("commitMessage"), fresh.message),
            author=_text(fields.get("committer"), fresh.author),
        )
        pull_number = fields.get("pullNumber")
        run = replace(
            self._dress(script),
            service_id=service_id,
            trigger_type=_text(fields.get("triggerType"), "MAIN"),
            pull_number=pull_number if isinstance(pull_number, int) else None,
        )
        self.runs.append(run)
        self._index(run)
        return run

    def _index(self, run: SimRun) -> None:
        self._by_id[run.id] = run
        for i, stage_id in enumerate(run.stage_ids):
            self._by_stage[stage_id] = (run, i)


def _updated_at(run: SimRun, now: float) -> float:
    script = run.script
    moments = [script.created_at, script.start_time(now), script.end_time(now), run.patched_at]
    for i in range(len(script.steps)):
        moments.extend(script.step_times(i, now))
    return max(m for m in moments if m is not None and m <= now)


def _uuid(bits: int) -> str:
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


def _text(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _not_found(request: Request) -> Response:
    return services_error(404, f"Run {request.path_params['run_id']} not found")
