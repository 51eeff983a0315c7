"""The simulated Wercker API's endpoints over seeded run scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from runwatch.sim.core import RunScript, StepPhase, iso, seeded
from runwatch.sim.kit import (
    AUTHORS,
    ApiError,
    BearerGuard,
    envelope_handlers,
    make_scripts,
    new_script,
    wercker_error,
)
from runwatch.sim.wercker.wire import (
    APPLICATION_ID,
    COUNTER_STRIDE,
    PIPELINE_ID,
    PIPELINE_NAME,
    PROVIDER,
    SETUP_STEPS,
    STARTED_S,
    STEP_MESSAGES,
    STEP_NAMES,
    STEP_WIRE,
    TOKEN_OWNER,
    RunsQuery,
    invalid,
    object_id,
)


class SimulatedApi:
    """Wercker's runs API over seeded run scripts; everything renders from the clock."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self._rng = seeded(sim.settings.seed, PROVIDER)
        now = sim.now()
        self.scripts: list[RunScript] = make_scripts(
            self._rng, count=sim.settings.runs, now=now,
            future=sim.settings.future_runs, step_names=STEP_NAMES,
        )
        self._machine = self._rng.getrandbits(40)
        self._pipeline_created = now - 90 * 86_400.0
        self._users = {name: self._user(name) for name in AUTHORS}
        self._by_index = {s.index: s for s in self.scripts}
        self._by_id = {self.run_id(s): s for s in self.scripts}
        routes = [
            Route("/api/v3/runs", self.list_runs, methods=["GET"]),
            Route("/api/v3/runs", self.trigger, methods=["POST"]),
            Route("/api/v3/runs/{run_id}", self.get_run, methods=["GET"]),
            Route("/api/v3/runs/{run_id}/steps", self.get_steps, methods=["GET"]),
            Route("/api/v3/runs/{run_id}/abort", self.abort, methods=["PUT"]),
            Route("/api/v3/runsteps/{step_id}/log", self.get_log, methods=["GET"]),
        ]
        guard = BearerGuard(sim, PROVIDER, lambda authorization: wercker_error(
            401, "Invalid token" if authorization else "Missing authentication"))
        # Unknown paths and wrong methods get Boom bodies too, behind the token check.
        self.app: ASGIApp = guard.app(
            Starlette(routes=routes, exception_handlers=envelope_handlers(wercker_error)))

    # -- ids -------------------------------------------------------------------------------

    def run_scripts(self) -> list[RunScript]:
        """Every run script of this API, deleted ones too (SimApi)."""
        return list(self.scripts)

    def run_id(self, script: RunScript) -> str:
        return object_id(script.created_at, self._machine, script.index * COUNTER_STRIDE)

    def step_id(self, script: RunScript, i: int) -> str:
        counter = script.index * COUNTER_STRIDE + 2 + i
        return object_id(script.created_at, self._machine, counter)

    def _script(self, run_id: str) -> RunScript:
        script = self._by_id.get(run_id)
        if script is None or not script.visible(self.sim.now()):
            raise ApiError(404, "Run not found")
        return script

    def _step(self, step_id: str) -> tuple[RunScript, int]:
        try:
            index, offset = divmod(int(step_id[-6:], 16), COUNTER_STRIDE)
        except ValueError:
            index, offset = -1, 0
        script = self._by_index.get(index)
        i = offset - 2
        if (
            script is None
            or not 0 <= i < len(script.steps)
            or self.step_id(script, i) != step_id
            or not script.visible(self.sim.now())
        ):
            raise ApiError(404, "Step not found")
        return script, i

    # -- endpoints -------------------------------------------------------------------------

    async def list_runs(self, request: Request) -> Response:
        query = RunsQuery.parse(request.query_params)
        self._check_scope(request.query_params)
        now = self.sim.now()
        page = islice(self._matching(query, now), query.skip, query.skip + query.limit)
        base = _base(request)
        return JSONResponse([self.render_run(s, now, base) for s in page])

    async def get_run(self, request: Request) -> Response:
        script = self._script(request.path_params["run_id"])
        return JSONResponse(self.render_run(script, self.sim.now(), _base(request), detail=True))

    async def get_steps(self, request: Request) -> Response:
        script = self._script(request.path_params["run_id"])
        now, base = self.sim.now(), _base(request)
        return JSONResponse(
            [self.render_step(script, i, now, base) for i in range(len(script.steps))]
        )

    async def abort(self, request: Request) -> Response:
        script = self._script(request.path_params["run_id"])
        now = self.sim.now()
        if not script.cancel(now):
            raise ApiError(409, "Run has already finished")
        return JSONResponse(self.render_run(script, now, _base(request), detail=True))

    async def trigger(self, request: Request) -> Response:
        body = await _json_object(request)
        pipeline_id = body.get("pipelineId")
        if not isinstance(pipeline_id, str) or not pipeline_id:
            raise invalid("pipelineId", "is required")
        for key in ("branch", "commitHash", "message"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise invalid(key, "must be a string")
        if body.get("commitHash") and not body.get("branch"):
            raise ApiError(400, '"commitHash" missing required peer "branch"')
        if pipeline_id != PIPELINE_ID:
            raise ApiError(404, "Pipeline not found")
        now = self.sim.now()
        script = self._new_run(body.get("branch"), body.get("commitHash"), body.get("message"), now)
        return JSONResponse(self.render_run(script, now, _base(request), detail=True))

    async def get_log(self, request: Request) -> Response:
        script, i = self._step(request.path_params["step_id"])
        return PlainTextResponse(self.render_log(script, i, self.sim.now()))

    # -- listing ---------------------------------------------------------------------------

    def _check_scope(self, params: QueryParams) -> None:
        application, pipeline = params.get("applicationId"), params.get("pipelineId")
        if application is not None and application != APPLICATION_ID:
            raise ApiError(404, "Application not found")
        if pipeline is not None and pipeline != PIPELINE_ID:
            raise ApiError(404, "Pipeline not found")

    def _matching(self, query: RunsQuery, now: float) -> Iterator[RunScript]:
        """The runs the query selects, in its order; nothing is rendered here."""
        ordered = self.scripts if query.newest_first else reversed(self.scripts)
        for script in ordered:
            if not script.visible(now):
                continue
            if query.branch is not None and script.branch != query.branch:
                continue
            if query.commit is not None and script.commit != query.commit:
                continue
            if query.author is not None and script.author != query.author:
                continue
            if query.status or query.result:
                status, result = run_state(script, now)
                if query.status not in (None, status) or query.result not in (None, result):
                    continue
            yield script

    # -- rendering -------------------------------------------------------------------------

    def render_run(
        self, script: RunScript, now: float, base: str, *, detail: bool = False
    ) -> dict[str, Any]:
        """A run object in the document's key order; absent times are left out, as there."""
        run_id = self.run_id(script)
        status, result = run_state(script, now)
        started, finished = script.start_time(now), script.end_time(now)
        body: dict[str, Any] = {
            "id": run_id,
            "url": f"{base}/api/v3/runs/{run_id}",
            "branch": script.branch,
            "commitHash": script.commit,
            "createdAt": iso(script.created_at),
        }
        if detail:
            body["envVars"] = [{"key": "DEPLOY_TARGET", "value": "staging"}]
        if finished is not None:
            body["finishedAt"] = iso(finished)
        body["message"] = script.message
        if detail:
            body["commits"] = []
        body["progress"] = None if status == "notstarted" else round(script.progress(now))
        body["result"] = result
        if started is not None:
            body["startedAt"] = iso(started)
        body["status"] = status
        body["user"] = self._users[script.author]
        body["pipeline"] = self._pipeline(base)
        return body

    def render_step(self, script: RunScript, i: int, now: float, base: str) -> dict[str, Any]:
        step_id = self.step_id(script, i)
        status, result = STEP_WIRE[script.step_phase(i, now)]
        started, finished = script.step_times(i, now)
        body: dict[str, Any] = {
            "id": step_id,
            "url": f"{base}/api/v3/runsteps/{step_id}",
            "artifactsUrl": None,
            "createdAt": iso(script.created_at + 0.003 * (i + 1)),
        }
        if finished is not None:
            body["finishedAt"] = iso(finished)
        body["logUrl"] = f"{base}/api/v3/runsteps/{step_id}/log"
        body["order"] = i + 1
        body["result"] = result
        if started is not None:
            body["startedAt"] = iso(started)
        body["status"] = status
        body["step"] = script.steps[i].name
        body["message"] = _step_message(script.step_phase(i, now))
        body["phase"] = "setup" if i < SETUP_STEPS else "main"
        return body

    def render_log(self, script: RunScript, i: int, now: float) -> str:
        """The log so far: a line per five seconds of the step, and how it ended."""
        step = script.steps[i]
        started, finished = script.step_times(i, now)
        if started is None:
            return ""
        elapsed = (finished if finished is not None else now) - started
        lines = [f"Running step: {step.name}"]
        ticks = range(1, int(elapsed // 5) + 1)
        lines += [f"[{5 * k:>4}s] {step.name}: working ({k})" for k in ticks]
        ending = {
            "passed": "Step passed",
            "failed": "Step failed: exit code 1",
            "canceled": "Step aborted",
        }.get(script.step_phase(i, now))
        if ending:
            lines.append(ending)
        return "\n".join(lines) + "\n"

    def _user(self, name: str) -> dict[str, Any]:
        return {
            "meta": {"werckerEmployee": False, "username": name},
            "userId": f"{self._rng.getrandbits(96):024x}",
            "avatar": {"gravatar": f"{self._rng.getrandbits(128):032x}"},
            "name": name.capitalize(),
            "type": "wercker",
        }

    def _pipeline(self, base: str) -> dict[str, Any]:
        return {
            "id": PIPELINE_ID,
            "url": f"{base}/api/v3/pipelines/{PIPELINE_ID}",
            "createdAt": iso(self._pipeline_created),
            "name": PIPELINE_NAME,
            "permissions": "public",
            "pipelineName": PIPELINE_NAME,
            "setScmProviderStatus": True,
            "type": "git",
        }

    # -- triggering ------------------------------------------------------------------------

    def _new_run(
        self, branch: str | None, commit: str | None, message: str | None, now: float
    ) -> RunScript:
        """A run created now: the branch's latest commit unless told, fresh step timings."""
        branch = branch or "main"
        latest = next((s for s in self.scripts if s.branch == branch and s.visible(now)), None)
        commit = commit or (latest.commit if latest else f"{self._rng.getrandbits(160):040x}")
        same_commit = next((s for s in self.scripts if s.commit == commit), None)
        script = new_script(
            self._rng, index=max(self._by_index) + 1, created_at=now, step_names=STEP_NAMES,
            author=TOKEN_OWNER, branch=branch, commit=commit,
            message=message or (same_commit.message if same_commit else "Triggered run"),
        )
        self.scripts.append(script)
        self.scripts.sort(key=lambda s: s.created_at, reverse=True)
        self._by_index[script.index] = script
        self._by_id[self.run_id(script)] = script
        return script



def _step_message(phase: StepPhase) -> str:
    return STEP_MESSAGES.get(phase, "")


def run_state(script: RunScript, now: float) -> tuple[str, str]:
    """The run's Wercker `status` and `result`."""
    phase = script.phase(now)
    if phase == "queued":
        return "notstarted", "unknown"
    if phase == "running":
        return ("started" if now < script.started_at + STARTED_S else "running"), "unknown"
    return "finished", {"passed": "passed", "failed": "failed"}.get(phase, "aborted")


def _base(request: Request) -> str:
    """The API root as the client reached it, mount prefix included (`.../wercker`)."""
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}"


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "Invalid request payload JSON format") from None
    if not isinstance(body, dict):
        raise ApiError(400, '"value" must be an object')
    return body
