"""The simulated scheduler's endpoints over seeded run scripts."""

from __future__ import annotations

import base64
import binascii
import bisect
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runwatch.sim.core import RunScript, iso, seeded
from runwatch.sim.kit import BearerGuard, fastapi_error, make_scripts, new_script, read_json
from runwatch.sim.scheduler.wire import (
    CLIENT_IDS,
    DEFAULT_LIMIT,
    LOGIN_PASSWORD,
    LOGIN_USERNAME,
    MAX_IDEMPOTENCY_KEY,
    NODE_STATUS,
    NODES,
    PROVIDER,
    RUN_STATUS,
    SKIPPING_EVERY,
    TOKEN_LIFETIME_S,
    WORKFLOWS,
    Definition,
    api_error,
    canonical,
    etags,
    int_param,
    new_uuid,
    not_found,
    start_problem,
    validation_error,
    workflow_snapshot,
)


@dataclass
class SimRun:
    """One run of the scheduler: a script on the clock plus what the API adds to it."""

    seq: int  # unique, orders runs created at the same instant
    run_id: str
    client_id: str
    definition: Definition
    script: RunScript
    skips: frozenset[int] = frozenset()  # node indices the server skips (they take no time)

    @property
    def key(self) -> tuple[float, int]:
        return (self.script.created_at, self.seq)


class SimulatedApi:
    """The scheduler's runs API over seeded run scripts."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        settings = sim.settings
        labels = [label for label, _ in NODES]
        scripts = make_scripts(
            seeded(settings.seed, PROVIDER), count=settings.runs, now=sim.now(),
            future=settings.future_runs, step_names=labels,
        )
        self._rng = seeded(settings.seed, f"{PROVIDER}-sim")
        self.definitions = [Definition.of(workflow_snapshot(name, text))
                            for name, text in WORKFLOWS]
        self._by_hash = {d.hash: d for d in self.definitions}
        self._by_id: dict[str, SimRun] = {}
        self._by_seq: dict[int, SimRun] = {}
        self._idempotency: dict[str, tuple[bytes, SimRun]] = {}
        self._boot = 0  # cursors carry it: a restart makes every earlier cursor unknown
        registered = [
            self._register(script, self._rng.choice(CLIENT_IDS),
                           self.definitions[script.index % len(self.definitions)])
            for script in sorted(scripts, key=lambda s: s.index)
        ]
        # Oldest first, as the API lists them; `_keys` is kept parallel for bisecting.
        self.runs: list[SimRun] = sorted(registered, key=lambda r: r.key)
        self._keys = [r.key for r in self.runs]
        # FastAPI's bearer dependency is per route: login has none, and an unknown path is
        # routing's 404 with or without a token.
        guarded = BearerGuard(sim, PROVIDER, lambda _: _unauthorized()).endpoint
        self.app = Starlette(
            routes=[
                Route("/api/v1/auth/login", self.login, methods=["POST"]),
                Route("/api/v1/runs", guarded(self.list_runs), methods=["GET"]),
                Route("/api/v1/runs", guarded(self.start_run), methods=["POST"]),
                Route("/api/v1/runs/{run_id}", guarded(self.get_run), methods=["GET"]),
                Route("/api/v1/runs/{run_id}/definition", guarded(self.get_definition),
                      methods=["GET"]),
                Route("/api/v1/runs/{run_id}/cancel", guarded(self.cancel_run),
                      methods=["POST"]),
            ]
        )

    # -- state -------------------------------------------------------------------------

    def run_scripts(self) -> list[RunScript]:
        """Every run script of this API, deleted ones too (SimApi)."""
        return [run.script for run in self.runs]

    def _register(self, script: RunScript, client_id: str, definition: Definition) -> SimRun:
        skips: frozenset[int] = frozenset()
        if not script.fails and script.index % SKIPPING_EVERY == 1 and script.steps:
            script.steps[-1].duration_s = 0.0  # skipped at once: the run ends where it began
            skips = frozenset({len(script.steps) - 1})
        run = SimRun(len(self._by_seq), new_uuid(self._rng), client_id, definition, script, skips)
        self._by_id[run.run_id] = run
        self._by_seq[run.seq] = run
        return run

    def _add(self, script: RunScript, client_id: str, definition: Definition) -> SimRun:
        """A run started through the API, put in its place in creation order."""
        run = self._register(script, client_id, definition)
        at = bisect.bisect_right(self._keys, run.key)
        self._keys.insert(at, run.key)
        self.runs.insert(at, run)
        return run

    def restart(self) -> None:
        """The server process restarting: runs persist, the cursors it handed out do not."""
        self._boot += 1

    def visible(self) -> list[SimRun]:
        """Every run the list shows now, oldest first."""
        now = self.sim.now()
        return [r for r in self.runs if r.script.visible(now)]

    def run(self, run_id: str) -> SimRun | None:
        run = self._by_id.get(run_id)
        return run if run is not None and run.script.visible(self.sim.now()) else None

    # -- rendering ---------------------------------------------------------------------

    def render_run(self, run: SimRun, now: float) -> dict[str, Any]:
        script = run.script
        phase = script.phase(now)
        body: dict[str, Any] = {
            "runId": run.run_id,
            "status": RUN_STATUS[phase],
            "definitionHash": run.definition.hash,
            "clientId": run.client_id,
            "startedAt": iso(script.start_time(now)),
            "finishedAt": iso(script.end_time(now)),
            "artifacts": [],
            "nodes": [self._render_node(run, i, now) for i in range(len(script.steps))],
        }
        if phase == "failed":
            failed = next(s for s in script.steps if s.fails)
            body["error"] = {"code": "node_failed", "message": f"node {failed.name!r} failed"}
        return body

    def _render_node(self, run: SimRun, i: int, now: float) -> dict[str, Any]:
        phase = run.script.step_phase(i, now)
        started, finished = run.script.step_times(i, now)
        node: dict[str, Any] = {
            "nodeId": run.definition.node_ids[i],
            "taskId": f"{run.run_id[:8]}-{i + 1}",
            "status": NODE_STATUS[phase],
        }
        if i in run.skips and phase == "passed":  # reached, and not run: no worker, no times
            node["status"] = "skipped"
            return node
        # A node that never started has no worker, sequence number or times at all.
        if started is not None:
            node.update(workerName=f"worker-{run.seq % 3 + 1}", seq=i + 1,
                        startedAt=iso(started))
        if finished is not None:
            node["finishedAt"] = iso(finished)
        if phase == "failed":
            node["error"] = {"code": "exit_code", "message": "process exited with status 1"}
        return node

    def render_ref(self, run: SimRun, now: float) -> dict[str, Any]:
        return {
            "runId": run.run_id,
            "status": RUN_STATUS[run.script.phase(now)],
            "definitionHash": run.definition.hash,
            "clientId": run.client_id,
            "createdAt": iso(run.script.created_at),
        }

    # -- endpoints ---------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        body = await read_json(request)
        missing = [f for f in ("username", "password")
                   if not isinstance(body, dict) or not isinstance(body.get(f), str)]
        if missing:
            return validation_error([("body", f) for f in missing], "Field required", "missing")
        if (body["username"], body["password"]) != (LOGIN_USERNAME, LOGIN_PASSWORD):
            return api_error(401, "unauthorized", "invalid username or password")
        token = self.sim.token_for(PROVIDER) or "sim-scheduler-jwt"
        return JSONResponse({
            "accessToken": token,
            "tokenType": "Bearer",
            "expiresIn": TOKEN_LIFETIME_S,
            "user": {"userId": "u-1", "username": LOGIN_USERNAME, "roles": ["viewer"]},
        })

    async def list_runs(self, request: Request) -> Response:
        query = request.query_params
        limit = int_param(query.get("limit"), DEFAULT_LIMIT)
        if isinstance(limit, Response):
            return limit
        start = 0
        cursor = query.get("cursor")
        after = self._decode_cursor(cursor) if cursor is not None else None
        if after is not None:  # an unknown cursor starts from the oldest run
            start = bisect.bisect_right(self._keys, after.key)
        page, more = self._page(start, limit, query.get("clientId"), query.get("status"))
        now = self.sim.now()
        return JSONResponse({
            "items": [self.render_run(r, now) for r in page],
            "nextCursor": self._encode_cursor(page[-1]) if more else None,
        })

    def _page(self, start: int, limit: int, client_id: str | None,
              status: str | None) -> tuple[list[SimRun], bool]:
        """Up to `limit` runs from `start`, and whether any come after them. Runs are sorted
        by creation, so the first one from the future ends the walk, and only the page's
        runs are ever rendered."""
        now = self.sim.now()
        page: list[SimRun] = []
        for i in range(start, len(self.runs)):
            run = self.runs[i]
            if run.script.created_at > now:
                break
            if run.script.deleted or (client_id is not None and run.client_id != client_id):
                continue
            if status is not None and RUN_STATUS[run.script.phase(now)] != status:
                continue
            if len(page) == limit:
                return page, True
            page.append(run)
        return page, False

    def _encode_cursor(self, run: SimRun) -> str:
        token = f"{self._boot}:after:{run.seq}"
        return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")

    def _decode_cursor(self, cursor: str) -> SimRun | None:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            boot, _, seq = base64.urlsafe_b64decode(padded.encode()).decode().partition(
                ":after:")
            if int(boot) != self._boot:
                return None  # handed out before a restart: unknown now
            return self._by_seq.get(int(seq))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None

    async def get_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        if run is None:
            return not_found(request.path_params["run_id"])
        return JSONResponse(self.render_run(run, self.sim.now()))

    async def get_definition(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        if run is None:
            return not_found(request.path_params["run_id"])
        etag = run.definition.etag
        if etag in etags(request.headers.get("if-none-match")):
            return Response(status_code=304, headers={"ETag": etag})
        return Response(run.definition.body, media_type="application/json",
                        headers={"ETag": etag})

    async def cancel_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        if run is None:
            return not_found(request.path_params["run_id"])
        now = self.sim.now()
        run.script.cancel(now)  # a finished run stays as it is; the RunRef says which
        return JSONResponse(self.render_ref(run, now), status_code=202)

    async def start_run(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
            return validation_error([("header", "idempotency-key")],
                                     "String should have at most 64 characters",
                                     "string_too_long")
        body = await read_json(request)
        problem = start_problem(body)
        if isinstance(problem, Response):
            return problem
        now = self.sim.now()
        digest = canonical(body)
        if key is not None and key in self._idempotency:
            seen, run = self._idempotency[key]
            if seen != digest:
                return api_error(409, "conflict",
                              "Idempotency-Key was already used with a different body")
            return JSONResponse(self.render_ref(run, now), status_code=202)
        definition = self._definition_for(body["workflow"])
        run = self._add(self._fresh_script(definition, body["workflow"], now),
                        body["clientId"], definition)
        if key is not None:
            self._idempotency[key] = (digest, run)
        return JSONResponse(self.render_ref(run, now), status_code=202)

    # -- helpers -----------------------------------------------------------------------

    def _definition_for(self, workflow: dict[str, Any]) -> Definition:
        definition = Definition.of(workflow)
        return self._by_hash.setdefault(definition.hash, definition)

    def _fresh_script(self, definition: Definition, workflow: dict[str, Any],
                      now: float) -> RunScript:
        """A new run of `workflow`, created now, with fresh step durations."""
        names = [str(n.get("label") or n.get("type") or n["id"]) for n in workflow["nodes"]]
        return new_script(self._rng, index=len(self._by_seq), created_at=now, step_names=names)


def _unauthorized() -> Response:
    # FastAPI's HTTPException(401, detail="..."): the string shape of `detail`.
    return fastapi_error(401, "Authentication required or credentials invalid",
                         headers={"WWW-Authenticate": "Bearer"})
