"""Simulated Conduct API v1, mounted at /conduct.

Conduct records spec-driven runs: each has a numeric row `id`, a string `runId` ("RUN-007")
that the paths use, a `specId`, a status and a markdown log (`content`). Scripted runs move
pending → in_progress → completed/failed with the clock; runs made by POST keep whatever
status their client gives them (and PATCH changes it).

Checks are not in the seed document; as conduct.sh serves them, GET /v1/checks?runId= is
`{"checks": [{"id", "checkId", "runId", "result", "createdAt"}]}` with `result` pass, fail or
warn, a check being recorded once it has a result, and GET /v1/checks/{checkId} is one check
with its text, `{"check": {..., "content"}}`. Errors are `{"error", "code"}`. With a project
configured (`SimSettings.conduct_project`), every request must name it in `X-Project-ID`, as
the newer backend wants.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runwatch.sim.conduct_checks import CHECK_NAMES, check_content, check_id, recorded_checks
from runwatch.sim.core import RunScript, iso, seeded
from runwatch.sim.kit import (
    BearerGuard,
    Endpoint,
    conduct_error,
    envelope_handlers,
    make_scripts,
    read_json_object,
)

PROVIDER = "conduct"
SPEC_IDS = ["AUTH-001", "AUTH-002", "BILLING-003", "SEARCH-004", "NOTIFY-005", "DASH-006"]
# Conduct cannot cancel, so "canceled" never happens; it is here so the table is total.
PHASE_STATUS = {
    "queued": "pending",
    "running": "in_progress",
    "passed": "completed",
    "failed": "failed",
    "canceled": "failed",
}
STATUSES = ("pending", "in_progress", "completed", "failed")
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
WARN_RATE = 0.15

Key = tuple[float, int]  # list order: newest first, then highest id


@dataclass
class SimRun:
    """A run's record: its script plus what clients have said about it."""

    script: RunScript
    id: int
    run_id: str
    spec_id: str
    warns: frozenset[int] = frozenset()  # checks that pass with a warning
    scripted: bool = True  # False for runs made by POST: status and content are the client's
    status: str | None = None  # set by POST or PATCH; wins over the script
    content: str | None = None  # likewise
    patched_at: float | None = None
    feature_ids: list[int] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (-self.script.created_at, -self.id)

    def status_at(self, now: float) -> str:
        return self.status or PHASE_STATUS[self.script.phase(now)]

    def updated_at(self, now: float) -> float:
        """The last time anything about the run changed."""
        script = self.script
        times = [script.created_at] if self.patched_at is None else [self.patched_at]
        for i in range(len(script.steps)):
            times.extend(t for t in script.step_times(i, now) if t is not None)
        return max(times)


class SimulatedApi:
    """The Conduct routes, below the /conduct prefix."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        rng = seeded(sim.settings.seed, PROVIDER)
        scripts = make_scripts(
            rng, count=sim.settings.runs, now=sim.now(), future=sim.settings.future_runs,
            step_names=CHECK_NAMES,
        )
        # Row ids count up in creation order, as a database's would.
        chronological = sorted(scripts, key=lambda s: s.created_at)
        self._runs = [
            SimRun(
                script=script, id=n, run_id=f"RUN-{n:03d}", spec_id=rng.choice(SPEC_IDS),
                warns=frozenset(i for i in range(len(CHECK_NAMES)) if rng.random() < WARN_RATE),
            )
            for n, script in enumerate(chronological, start=1)
        ]
        self._runs.sort(key=lambda run: run.key)
        self._keys = [run.key for run in self._runs]
        self._by_run_id = {run.run_id: run for run in self._runs}
        # checkId -> (run, check index): checkIds are the run's id and the check's kind.
        self._by_check_id = {
            check_id(run, i): (run, i) for run in self._runs for i in range(len(CHECK_NAMES))
        }
        self._next_id = len(self._runs) + 1
        self._guard = BearerGuard(
            sim, PROVIDER, lambda _: conduct_error(401, "Invalid or missing API key"))
        routes = [
            Route("/v1/runs", self._guarded(self.list_runs), methods=["GET"]),
            Route("/v1/runs", self._guarded(self.create_run), methods=["POST"]),
            Route("/v1/runs/{run_id}", self._guarded(self.get_run), methods=["GET"]),
            Route("/v1/runs/{run_id}", self._guarded(self.update_run), methods=["PATCH"]),
            Route("/v1/runs/{run_id}", self._guarded(self.delete_run), methods=["DELETE"]),
            Route("/v1/runs/{run_id}/features", self._guarded(self.link_features),
                  methods=["POST"]),
            Route("/v1/checks", self._guarded(self.list_checks), methods=["GET"]),
            Route("/v1/checks/{check_id}", self._guarded(self.get_check), methods=["GET"]),
        ]
        # Unknown paths and methods answer in the API's own error shape too.
        self.app = Starlette(routes=routes, exception_handlers=envelope_handlers(conduct_error))

    def run_scripts(self) -> list[RunScript]:
        """Every run script of this API, deleted ones too (SimApi)."""
        return [run.script for run in self._runs]

    def record(self, run_id: str) -> SimRun:
        """A run's record, deleted or not (for tests: e.g. linked features, which no
        endpoint shows)."""
        return self._by_run_id[run_id]

    # -- endpoints -------------------------------------------------------------------------

    async def list_runs(self, request: Request) -> Response:
        query = request.query_params
        limit = _int_between(query.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
        if limit is None:
            return conduct_error(400, f"limit must be an integer between 1 and {MAX_LIMIT}")
        status = query.get("status") or None
        if status is not None and status not in STATUSES:
            return conduct_error(400, f"status must be one of {', '.join(STATUSES)}")
        start = 0
        if cursor := query.get("cursor"):
            after = _decode_cursor(cursor)
            if after is None:
                return conduct_error(400, "Invalid cursor")
            start = bisect.bisect_right(self._keys, after)
        now = self.sim.now()
        page, has_more = self._page(start, limit, query.get("specId") or None, status, now)
        meta: dict[str, Any] = {"hasMore": has_more}
        if has_more:
            meta["nextCursor"] = _encode_cursor(page[-1].key)
        return JSONResponse({"runs": [_summary(run, now) for run in page], "meta": meta})

    async def get_run(self, request: Request) -> Response:
        now = self.sim.now()
        run = self._find(request.path_params["run_id"], now)
        if run is None:
            return conduct_error(404, "Run not found")
        return JSONResponse({"run": self._detail(run, now)})

    async def create_run(self, request: Request) -> Response:
        body = await read_json_object(request)
        if body is None:
            return conduct_error(400, "Request body must be a JSON object")
        run_id, spec_id = body.get("runId"), body.get("specId")
        status, content = body.get("status", "pending"), body.get("content")
        if not isinstance(run_id, str) or not run_id.strip():
            return conduct_error(400, "runId is required")
        if not isinstance(spec_id, str) or not spec_id.strip():
            return conduct_error(400, "specId is required")
        if status not in STATUSES:
            return conduct_error(400, f"status must be one of {', '.join(STATUSES)}")
        if content is not None and not isinstance(content, str):
            return conduct_error(400, "content must be a string")
        now = self.sim.now()
        if self._find(run_id, now) is not None:
            return conduct_error(409, f"Run {run_id} already exists")
        run = self._add(run_id, spec_id, status, content, now)
        return JSONResponse({"run": _summary(run, now) | {"updatedAt": iso(now)}},
                            status_code=201)

    async def update_run(self, request: Request) -> Response:
        now = self.sim.now()
        run = self._find(request.path_params["run_id"], now)
        if run is None:
            return conduct_error(404, "Run not found")
        body = await read_json_object(request)
        if body is None:
            return conduct_error(400, "Request body must be a JSON object")
        if "status" not in body and "content" not in body:
            return conduct_error(400, "Nothing to update: give status or content")
        if "status" in body and body["status"] not in STATUSES:
            return conduct_error(400, f"status must be one of {', '.join(STATUSES)}")
        if "content" in body and not isinstance(body["content"], str):
            return conduct_error(400, "content must be a string")
        run.status = body.get("status", run.status)
        run.content = body.get("content", run.content)
        run.patched_at = now
        return JSONResponse({"run": {"id": run.id, "runId": run.run_id,
                                     "status": run.status_at(now), "updatedAt": iso(now)}})

    async def delete_run(self, request: Request) -> Response:
        run = self._find(request.path_params["run_id"], self.sim.now())
        if run is None:
            return conduct_error(404, "Run not found")
        run.script.deleted = True
        return JSONResponse({"message": "Run deleted successfully"})

    async def link_features(self, request: Request) -> Response:
        run = self._find(request.path_params["run_id"], self.sim.now())
        if run is None:
            return conduct_error(404, "Run not found")
        body = await read_json_object(request)
        ids = body.get("featureIds") if body is not None else None
        if not isinstance(ids, list) or not ids or not all(_is_int(i) for i in ids):
            return conduct_error(400, "featureIds must be a non-empty array of integers")
        run.feature_ids.extend(i for i in ids if i not in run.feature_ids)
        return JSONResponse({"message": "Features linked successfully", "count": len(ids)})

    async def list_checks(self, request: Request) -> Response:
        run_id = request.query_params.get("runId")
        if not run_id:
            return conduct_error(400, "runId is required")
        now = self.sim.now()
        run = self._find(run_id, now)
        if run is None:
            return conduct_error(404, "Run not found")
        return JSONResponse({"checks": recorded_checks(run, now)})

    async def get_check(self, request: Request) -> Response:
        now = self.sim.now()
        found = self._by_check_id.get(request.path_params["check_id"])
        if found is None or not found[0].script.visible(now):
            return conduct_error(404, "Check not found")
        run, i = found
        wanted = check_id(run, i)
        check = next((c for c in recorded_checks(run, now) if c["checkId"] == wanted), None)
        if check is None:  # not recorded yet
            return conduct_error(404, "Check not found")
        return JSONResponse({"check": check | {"content": check_content(run, i, check)}})

    # -- state -----------------------------------------------------------------------------

    def _guarded(self, endpoint: Endpoint) -> Endpoint:
        async def in_project(request: Request) -> Response:
            wanted = self.sim.settings.conduct_project
            if wanted is not None:
                given = request.headers.get("x-project-id")
                if not given:
                    return conduct_error(400, "X-Project-ID header is required")
                if given != wanted:
                    return conduct_error(404, "Project not found")
            return await endpoint(request)

        return self._guard.endpoint(in_project)

    def _find(self, run_id: str, now: float) -> SimRun | None:
        run = self._by_run_id.get(run_id)
        return run if run is not None and run.script.visible(now) else None

    def _page(
        self, start: int, limit: int, spec_id: str | None, status: str | None, now: float
    ) -> tuple[list[SimRun], bool]:
        """Up to `limit` listed runs from position `start`, and whether more follow.
        Nothing is rendered here, so a page costs the same among 10,000 runs."""
        page: list[SimRun] = []
        for run in itertools.islice(self._runs, start, None):
            if not run.script.visible(now):
                continue
            if spec_id is not None and run.spec_id != spec_id:
                continue
            if status is not None and run.status_at(now) != status:
                continue
            if len(page) == limit:
                return page, True
            page.append(run)
        return page, False

    def _add(self, run_id: str, spec_id: str, status: str, content: str | None,
             now: float) -> SimRun:
        script = RunScript(index=len(self._runs), created_at=now, queue_s=0.0, steps=[],
                           author="", branch="", message="", commit="")
        run = SimRun(script=script, id=self._next_id, run_id=run_id, spec_id=spec_id,
                     scripted=False, status=status, content=content)
        self._next_id += 1
        at = bisect.bisect_left(self._keys, run.key)
        self._runs.insert(at, run)
        self._keys.insert(at, run.key)
        self._by_run_id[run_id] = run
        return run

    def _detail(self, run: SimRun, now: float) -> dict[str, Any]:
        return {
            "id": run.id,
            "runId": run.run_id,
            "specId": run.spec_id,
            "content": _content(run, now),
            "status": run.status_at(now),
            "createdAt": iso(run.script.created_at),
            "updatedAt": iso(run.updated_at(now)),
        }


# -- rendering -------------------------------------------------------------------------------


def _summary(run: SimRun, now: float) -> dict[str, Any]:
    """A list item, as documented: no content, no updatedAt."""
    return {
        "id": run.id,
        "runId": run.run_id,
        "specId": run.spec_id,
        "status": run.status_at(now),
        "createdAt": iso(run.script.created_at),
    }


def _content(run: SimRun, now: float) -> str | None:
    if run.content is not None or not run.scripted:
        return run.content
    script = run.script
    lines = [f"# {_heading(script.message)}", "",
             f"Spec {run.spec_id}, implemented by {script.author}.", ""]
    checks = recorded_checks(run, now)
    if not checks:
        lines.append("Waiting for an agent to pick this run up.")
    else:
        lines += ["## Checks", ""]
        lines += [f"- {c['checkId']}: {c['result']}" for c in checks]
    return "\n".join(lines) + "\n"


def _heading(message: str) -> str:
    """"feat: add dark mode" → "Add dark mode"."""
    text = message.partition(": ")[2] or message
    return text[:1].upper() + text[1:]


# -- small helpers ---------------------------------------------------------------------------


def _int_between(raw: str | None, default: int, low: int, high: int) -> int | None:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _encode_cursor(key: Key) -> str:
    # Opaque to clients: the position after which the next page starts.
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> Key | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row = json.loads(raw)
        return (float(created), int(row))
    except (binascii.Error, ValueError, TypeError):
        return None
