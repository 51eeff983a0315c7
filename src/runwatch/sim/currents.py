"""Simulated Currents REST API v1 (`currents-v1.md`, with DESIGN section 3's corrections).

Serves, below the `/currents` mount:

    GET    /v1/projects/{projectId}/runs?limit=&starting_after=|ending_before=
    GET    /v1/runs/{runId}                 a run with its groups and spec files
    PUT    /v1/runs/{runId}/cancel          422 when the run is already cancelled
    DELETE /v1/runs/{runId}
    GET    /v1/instances/{instanceId}       one spec file's execution, test by test

Bodies are Currents' envelopes: `{"status": "OK", "data": ...}` (lists add `has_more`, and
each item carries the `cursor` to page on) and `{"status": "FAILED", "error": ...}`.

Runs alternate between Cypress and Playwright, whose shapes differ as the documents show:
a Cypress run has one group (its CI build id), a Playwright run one group per browser
project. Each step of a run script is a spec file, executed once per group as an
*instance* that is claimed when the step starts and completed when it ends; its tests finish
one after another, so counters grow with the clock and a failing test shows as FAILING
before its spec, and then the run, completes.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from itertools import islice
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from runwatch.sim.core import RunScript, bearer_guarded_app, iso, make_scripts, seeded

PROVIDER = "currents"
PROJECT_ID = "proj-1"
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
CANCEL_ACTOR = "api:runwatch-sim"
REMOTE_ORIGIN = "https://github.com/example/storefront"
# About one passing run in ten stalls and hits the project's inactivity timeout.
TIMEOUT_RATE = 0.1

Framework = Literal["cypress", "playwright"]
Outcome = Literal["passed", "failed", "pending", "flaky"]

# The spec files every run executes (the run script's steps), with their tests.
SPEC_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "login": ("Login", (
        "logs in with valid credentials", "rejects a wrong password",
        "keeps the session after a reload", "logs out")),
    "signup": ("Sign up", (
        "creates an account", "validates the email address", "requires a strong password")),
    "search": ("Search", (
        "finds products by name", "shows suggestions while typing",
        "filters by price", "shows an empty state")),
    "cart": ("Cart", (
        "adds an item", "changes the quantity", "removes an item",
        "keeps the cart after login", "applies a discount code")),
    "checkout": ("Checkout", (
        "pays with a card", "shows the order summary", "rejects an expired card")),
    "profile": ("Profile", (
        "updates the display name", "uploads an avatar", "changes the password")),
}

CYPRESS_ERRORS = (
    "AssertionError: Timed out retrying after 4000ms: Expected to find element: "
    "`[data-cy=submit]`, but never found it.",
    "AssertionError: expected '/login' to equal '/dashboard'",
    "CypressError: `cy.request()` failed on: http://localhost:3000/api/cart\n\n"
    "The response we received from your web server was: 500: Internal Server Error",
)
# Playwright colours its matcher errors with ANSI SGR codes, and Currents keeps them.
PLAYWRIGHT_ERRORS = (
    "Error: \x1b[2mexpect(\x1b[22m\x1b[31mlocator\x1b[39m\x1b[2m).\x1b[22mtoBeVisible"
    "\x1b[2m()\x1b[22m failed\n\nLocator: getByRole('button', { name: 'Pay' })\n"
    "Expected: visible\nReceived: <element(s) not found>",
    "Error: \x1b[2mexpect(\x1b[22m\x1b[31mreceived\x1b[39m\x1b[2m).\x1b[22mtoBe\x1b[2m("
    "\x1b[22m\x1b[32mexpected\x1b[39m\x1b[2m) // Object.is equality\x1b[22m\n\n"
    "Expected: \x1b[32m3\x1b[39m\nReceived: \x1b[31m2\x1b[39m",
    "TimeoutError: page.waitForURL: Timeout 15000ms exceeded.",
)
PLAYWRIGHT_PROJECTS = (("chromium", "chromium", "131.0.6778.33"), ("firefox", "firefox", "132.0"))
_ALNUM = string.ascii_letters + string.digits


class CurrentsError(Exception):
    """An error answered with Currents' own body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": "FAILED", "error": message}, status_code=status)


def ok(data: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": "OK", **extra, "data": data})


# -- what a run is made of (fixed at creation) ---------------------------------------------


@dataclass(frozen=True)
class TestPlan:
    __test__ = False  # not a pytest class

    test_id: str
    title: tuple[str, ...]
    start: float  # share of the spec's duration at which the test starts
    end: float  # ... and ends
    outcome: Outcome
    error: str | None = None


@dataclass(frozen=True)
class SpecPlan:
    name: str
    path: str
    tests: tuple[TestPlan, ...]
    instance_ids: tuple[str, ...]  # one instance per group
    machine_id: str


@dataclass(frozen=True)
class GroupPlan:
    group_id: str
    platform: dict[str, str]


@dataclass
class SimRun:
    """A run script plus what Currents adds to it: ids, framework, groups, tests."""

    script: RunScript
    run_id: str
    cursor: str
    framework: Framework
    seed: int
    timeout_ms: int | None = None
    registry: dict[str, tuple[SimRun, int, int]] = field(default_factory=dict, repr=False)

    @cached_property
    def plan(self) -> tuple[tuple[GroupPlan, ...], tuple[SpecPlan, ...]]:
        """Groups and spec files, drawn from the run's own generator on first use (so that
        10,000 runs cost nothing until someone looks at them)."""
        rng = seeded(self.seed, f"{PROVIDER}:{self.script.index}")
        groups = self._groups()
        specs = tuple(self._spec(rng, i, len(groups)) for i in range(len(self.script.steps)))
        for i, spec in enumerate(specs):
            for g, instance_id in enumerate(spec.instance_ids):
                self.registry[instance_id] = (self, g, i)
        return groups, specs

    @property
    def groups(self) -> tuple[GroupPlan, ...]:
        return self.plan[0]

    @property
    def specs(self) -> tuple[SpecPlan, ...]:
        return self.plan[1]

    @property
    def ci_build_id(self) -> str:
        if self.framework == "playwright":
            return str(int(self.script.created_at))
        branch = self.script.branch.replace("/", "-")
        return f"{branch}-{self.script.commit[:12]}-{self.script.index % 10_000}"

    def _groups(self) -> tuple[GroupPlan, ...]:
        if self.framework == "cypress":
            platform = {"osName": "linux", "osVersion": "Debian - 12.5",
                        "browserName": "Chrome", "browserVersion": "124.0.6367.91"}
            return (GroupPlan(self.ci_build_id, platform),)
        return tuple(
            GroupPlan(name, {"osName": "linux", "osVersion": "Ubuntu - 22.04",
                             "browserName": browser, "browserVersion": version})
            for name, browser, version in PLAYWRIGHT_PROJECTS
        )

    def _spec(self, rng: random.Random, i: int, group_count: int) -> SpecPlan:
        name = self.script.steps[i].name
        describe, titles = SPEC_FILES[name]
        fails = self.script.steps[i].fails
        outcomes: list[Outcome] = [_outcome(rng) for _ in titles]
        if fails:
            candidates = [k for k, o in enumerate(outcomes) if o != "pending"] or [0]
            outcomes[rng.choice(candidates)] = "failed"
        errors = CYPRESS_ERRORS if self.framework == "cypress" else PLAYWRIGHT_ERRORS
        weights = [rng.uniform(0.5, 1.5) if o != "pending" else 0.0 for o in outcomes]
        total = sum(weights) or 1.0
        tests, elapsed = [], 0.0
        for k, (title, outcome) in enumerate(zip(titles, outcomes, strict=True)):
            start, elapsed = elapsed, elapsed + weights[k] / total
            tests.append(TestPlan(
                test_id=self._test_id(rng, k), title=(describe, title),
                start=start, end=min(elapsed, 1.0), outcome=outcome,
                error=rng.choice(errors) if outcome in ("failed", "flaky") else None,
            ))
        return SpecPlan(
            name=name, path=spec_path(self.framework, name), tests=tuple(tests),
            instance_ids=tuple(self._instance_id(rng) for _ in range(group_count)),
            machine_id=self._machine_id(rng),
        )

    def _instance_id(self, rng: random.Random) -> str:
        if self.framework == "cypress":
            return _uuid(rng)
        return "".join(rng.choices(_ALNUM, k=16))

    def _machine_id(self, rng: random.Random) -> str:
        if self.framework == "cypress":
            return _uuid(rng)
        return "".join(rng.choices(_ALNUM, k=12))

    def _test_id(self, rng: random.Random, k: int) -> str:
        if self.framework == "cypress":
            return f"r{k + 3}"
        return f"{rng.getrandbits(80):020x}-{rng.getrandbits(80):020x}"


def _outcome(rng: random.Random) -> Outcome:
    roll = rng.random()
    if roll < 0.08:
        return "pending"
    if roll < 0.14:
        return "flaky"
    return "passed"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def spec_path(framework: Framework, name: str) -> str:
    return f"cypress/e2e/{name}.cy.ts" if framework == "cypress" else f"tests/{name}.spec.ts"


# -- what a run looks like at a moment ------------------------------------------------------


@dataclass(frozen=True)
class TestState:
    __test__ = False

    plan: TestPlan
    state: str  # passed, failed, pending, skipped
    started_at: float | None
    ended_at: float | None


@dataclass(frozen=True)
class InstanceState:
    """One spec file in one group at `now`: claimed, completed, its finished tests."""

    claimed_at: float | None
    completed_at: float | None
    tests: tuple[TestState, ...]

    def count(self, state: str) -> int:
        return sum(1 for t in self.tests if t.state == state)

    @property
    def flaky(self) -> int:
        return sum(1 for t in self.tests if t.plan.outcome == "flaky" and t.state == "passed")

    @property
    def failures(self) -> int:
        return self.count("failed")


UNCLAIMED = InstanceState(None, None, ())
# A test's final state by its planned outcome: a flaky test passes on retry, and a test
# marked to be skipped is "pending" to Cypress (`it.skip`) but "skipped" to Playwright.
_STATE_OF: dict[Framework, dict[Outcome, str]] = {
    "cypress": {"passed": "passed", "failed": "failed", "flaky": "passed", "pending": "pending"},
    "playwright": {"passed": "passed", "failed": "failed", "flaky": "passed", "pending": "skipped"},
}


def instance_state(run: SimRun, i: int, now: float) -> InstanceState:
    """Spec `i` at `now`. Every group runs it on the same schedule."""
    script = run.script
    step = script.steps[i]
    phase = script.step_phase(i, now)
    if phase == "skipped":
        # Fail-fast: once the run has failed, the spec files it never ran are reported
        # with every test skipped; until then they wait unclaimed.
        if script.phase(now) != "failed":
            return UNCLAIMED
        end = script.planned_end
        skipped = tuple(TestState(t, "skipped", None, None) for t in run.specs[i].tests)
        return InstanceState(end, end, skipped)
    begin, end = script.step_times(i, now)
    if begin is None:
        return UNCLAIMED
    stop = end if end is not None else now
    done = []
    for test in run.specs[i].tests:
        t_start = begin + step.duration_s * test.start
        t_end = begin + step.duration_s * test.end
        if t_end > stop:
            break
        state = _STATE_OF[run.framework][test.outcome]
        pending = test.outcome == "pending"
        done.append(TestState(test, state, None if pending else t_start,
                              None if pending else t_end))
    completed = end if phase in ("passed", "failed") else None
    return InstanceState(begin, completed, tuple(done))


def run_state(run: SimRun, failures: int, now: float) -> tuple[str, str]:
    """The run's `completionState` and `status`."""
    phase = run.script.phase(now)
    live = "FAILING" if failures else "RUNNING"
    if phase == "canceled":
        return ("TIMEOUT" if run.timeout_ms is not None else "CANCELED"), live
    if phase in ("queued", "running"):
        return "IN_PROGRESS", live
    return "COMPLETE", "FAILED" if phase == "failed" else "PASSED"


# -- the API --------------------------------------------------------------------------------


class SimulatedApi:
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
        handlers = {CurrentsError: _currents_error, HTTPException: _http_error}
        self.app: ASGIApp = bearer_guarded_app(
            Starlette(routes=routes, exception_handlers=handlers),  # type: ignore[arg-type]
            lambda: self.sim.token_for(PROVIDER),
            lambda authorization: error_response(
                401, "Invalid API key provided" if authorization else "Missing API key"
            ),
        )

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
            raise CurrentsError(404, "Run not found")
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
            raise CurrentsError(404, "Instance not found")
        return found

    # -- endpoints -------------------------------------------------------------------------

    async def list_runs(self, request: Request) -> Response:
        if request.path_params["project_id"] != PROJECT_ID:
            raise CurrentsError(404, "Project not found")
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
            raise CurrentsError(422, "Run already cancelled")
        if not run.script.cancel(now):
            raise CurrentsError(422, "Run already completed")
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
            raise CurrentsError(400, "Invalid pagination cursor")
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

    # -- rendering -------------------------------------------------------------------------

    def render(self, run: SimRun, now: float, *, specs: bool) -> dict[str, Any]:
        """The run object of GET /v1/runs/{id} (specs=True) or of a list item."""
        states = [instance_state(run, i, now) for i in range(len(run.script.steps))]
        failures = sum(s.failures for s in states) * len(run.groups)
        completion, status = run_state(run, failures, now)
        body: dict[str, Any] = {
            "runId": run.run_id,
            "projectId": PROJECT_ID,
            "createdAt": iso(run.script.created_at),
            "completionState": completion,
            "status": status,
            "tags": self._tags(run),
            "durationMs": _duration_ms(run, completion, now),
        }
        if run.framework == "cypress":
            body["cypressVersion"] = "13.8.1"
        body["timeout"] = self._timeout(run, completion)
        if completion == "CANCELED":
            body["cancellation"] = {
                "actor": run.script.extra.get("cancel_actor", CANCEL_ACTOR),
                "canceledAt": iso(run.script.canceled_at),
                "reason": "apiRequest",
            }
        body["groups"] = [self._group(run, group, states) for group in run.groups]
        body["meta"] = self._meta(run)
        if specs:
            body["specs"] = [
                self._spec(run, g, i, state)
                for g in range(len(run.groups))
                for i, state in enumerate(states)
            ]
        return body

    def render_instance(self, run: SimRun, g: int, i: int, now: float) -> dict[str, Any]:
        spec, group = run.specs[i], run.groups[g]
        state = instance_state(run, i, now)
        body: dict[str, Any] = {
            "runId": run.run_id,
            "groupId": group.group_id,
            "projectId": PROJECT_ID,
            "instanceId": spec.instance_ids[g],
            "spec": spec.path,
            "machineId": spec.machine_id if state.claimed_at is not None else None,
            "createdAt": iso(state.claimed_at or run.script.created_at),
            "platform": group.platform,
            "tags": self._tags(run),
            "commit": self._commit(run, trailing_newline=True),
        }
        if run.framework == "cypress":
            body["cypressVersion"] = "13.8.1"
        else:
            body["framework"] = {"clientVersion": "1.9.2", "type": "pw", "version": "1.48.2"}
            body["worker"] = {"workerIndex": i % 4, "parallelIndex": i % 4}
        body["results"] = self._instance_results(run, g, i, state)
        return body

    def _tags(self, run: SimRun) -> list[str]:
        if run.framework == "cypress":
            return ["e2e", run.script.branch.split("/")[0]]
        return [f"project:{name}" for name, _, _ in PLAYWRIGHT_PROJECTS]

    def _timeout(self, run: SimRun, completion: str) -> dict[str, Any]:
        if run.framework == "playwright":
            return {"isTimeout": completion == "TIMEOUT"}
        return {"isTimeout": completion == "TIMEOUT", "timeoutValueMs": run.timeout_ms or 3_600_000}

    def _commit(self, run: SimRun, *, trailing_newline: bool = False) -> dict[str, Any]:
        script = run.script
        return {
            "sha": script.commit,
            "branch": script.branch,
            "authorName": script.author.title(),
            "authorEmail": f"{script.author}@users.noreply.github.com",
            "message": script.message + ("\n" if trailing_newline else ""),
            "remoteOrigin": REMOTE_ORIGIN,
            "defaultBranch": "main",
        }

    def _meta(self, run: SimRun) -> dict[str, Any]:
        meta: dict[str, Any] = {"ciBuildId": run.ci_build_id, "commit": self._commit(run)}
        if run.framework == "playwright":
            meta["platform"] = run.groups[0].platform
        return meta

    def _group(self, run: SimRun, group: GroupPlan, states: list[InstanceState]) -> dict[str, Any]:
        complete = [s for s in states if s.completed_at is not None]
        instances = {
            "overall": len(states),
            "claimed": sum(1 for s in states if s.claimed_at is not None),
            "complete": len(complete),
            "passes": sum(1 for s in complete if not s.failures),
            "failures": sum(1 for s in complete if s.failures),
        }
        counts = _test_counts(run, states)
        if run.framework == "cypress":
            return {"groupId": group.group_id, "platform": group.platform,
                    "instances": instances, "tests": counts}
        return {"instances": instances, "tests": counts, "groupId": group.group_id,
                "platform": group.platform, "tags": [f"project:{group.group_id}"]}

    def _spec(self, run: SimRun, g: int, i: int, state: InstanceState) -> dict[str, Any]:
        spec = run.specs[i]
        claimed = state.claimed_at is not None
        body: dict[str, Any] = {
            "groupId": run.groups[g].group_id,
            "spec": spec.path,
            "instanceId": spec.instance_ids[g],
            "claimedAt": iso(state.claimed_at),
            "completedAt": iso(state.completed_at),
            "machineId": spec.machine_id if claimed else None,
            "results": self._spec_results(run, state) if claimed else None,
        }
        if run.framework == "playwright":
            body["tags"] = [f"project:{run.groups[g].group_id}"]
            body["worker"] = {"workerIndex": i % 4, "parallelIndex": i % 4} if claimed else None
        return body

    def _spec_results(self, run: SimRun, state: InstanceState) -> dict[str, Any]:
        stats = _stats(run, state)
        if run.framework == "cypress":
            return {"videoUrl": None, "stats": stats, "screenshots": [], "flaky": state.flaky}
        return {"flaky": state.flaky, "stats": stats, "videoUrl": None, "screenshots": []}

    def _instance_results(
        self, run: SimRun, g: int, i: int, state: InstanceState
    ) -> dict[str, Any] | None:
        if state.claimed_at is None:
            return None
        tests = [_test(run, g, i, t) for t in state.tests]
        if run.framework == "cypress":
            return {"stats": _stats(run, state), "tests": tests, "exception": None,
                    "screenshots": [], "videoUrl": None}
        return {"stats": _stats(run, state), "tests": tests, "playwrightTraces": [],
                "screenshots": [], "videos": []}



def _page_query(params: QueryParams) -> tuple[int, str | None, str | None]:
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise CurrentsError(400, "Only one of starting_after or ending_before may be used")
    raw = params.get("limit")
    try:
        limit = DEFAULT_LIMIT if raw is None else int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise CurrentsError(400, f"Invalid limit parameter. Must be between 1 and {MAX_LIMIT}")
    return limit, after, before


def _counts(state: InstanceState) -> dict[str, int]:
    return {
        "passes": state.count("passed"),
        "failures": state.failures,
        "pending": state.count("pending"),
        "skipped": state.count("skipped"),
        "flaky": state.flaky,
        "retries": state.flaky,  # a flaky test passed on its one retry
    }


def _test_counts(run: SimRun, states: list[InstanceState]) -> dict[str, int]:
    """A group's test counters: the sum over its instances (Playwright adds `tests`)."""
    total = {"overall": sum(len(s.tests) for s in states)}
    if run.framework == "playwright":
        total["tests"] = total["overall"]
    for state in states:
        for key, value in _counts(state).items():
            total[key] = total.get(key, 0) + value
    return total


def _stats(run: SimRun, state: InstanceState) -> dict[str, Any]:
    """An instance's `results.stats`: Cypress counts suites and tests, Playwright overall."""
    counts = _counts(state)
    ended = state.completed_at
    clock = {
        "wallClockStartedAt": iso(state.claimed_at),
        "wallClockEndedAt": iso(ended),
        "wallClockDuration": None if ended is None else round((ended - state.claimed_at) * 1000),
    }
    if run.framework == "cypress":
        del counts["flaky"], counts["retries"]
        return {"suites": 1, "tests": len(state.tests), **counts, **clock}
    return {"overall": len(state.tests), "tests": len(state.tests), **counts, **clock}


def _test(run: SimRun, g: int, i: int, test: TestState) -> dict[str, Any]:
    """One entry of an instance's `results.tests`, in the framework's own shape."""
    plan = test.plan
    attempts = _attempts(run, run.specs[i].path, test)
    failed = test.state == "failed"
    if run.framework == "cypress":
        return {
            "body": "",
            "title": list(plan.title),
            "state": test.state,
            "displayError": plan.error if failed else None,
            "attempts": attempts,
            "testId": plan.test_id,
        }
    return {
        "_d": True,
        "state": test.state,
        "testId": plan.test_id,
        "originalTitle": list(plan.title),
        "title": list(plan.title),
        "attempts": attempts,
        "displayError": None,  # Playwright errors live on the attempts
        "isFlaky": plan.outcome == "flaky",
        "tags": [f"project:{run.groups[g].group_id}"],
    }


def _attempts(run: SimRun, path: str, test: TestState) -> list[dict[str, Any]]:
    plan = test.plan
    if test.started_at is None or test.ended_at is None:
        return [_attempt(run, plan, test.state, None, None, None, 0)]
    if plan.outcome == "flaky":
        # The first try fails, the retry passes; the test's time is split between them.
        middle = (test.started_at + test.ended_at) / 2
        return [
            _attempt(run, plan, "failed", _error(plan.error, path), test.started_at, middle, 0),
            _attempt(run, plan, "passed", None, middle, test.ended_at, 1),
        ]
    error = _error(plan.error, path) if test.state == "failed" else None
    return [_attempt(run, plan, test.state, error, test.started_at, test.ended_at, 0)]


def _attempt(run: SimRun, plan: TestPlan, state: str, error: dict[str, Any] | None,
             start: float | None, end: float | None, index: int) -> dict[str, Any]:
    duration = None if start is None or end is None else round((end - start) * 1000)
    body: dict[str, Any] = {
        "state": state,
        "error": error,
        "wallClockStartedAt": iso(start),
        "wallClockDuration": duration,
        "videoTimestamp": None,
    }
    if run.framework == "playwright":
        body = {"_d": True, "attemptId": f"{plan.test_id[:16]}-{index}", "state": state,
                "rawStatus": state, **body}
    return body


def _duration_ms(run: SimRun, completion: str, now: float) -> int | None:
    """How long a finished run took, from its first claim (list items and details alike);
    null while it is in progress."""
    if completion == "IN_PROGRESS":
        return None
    script = run.script
    end = script.end_time(now)
    if end is None:  # a timeout: the run stopped when it was cut off
        end = script.canceled_at if script.canceled_at is not None else script.planned_end
    return round(max(0.0, end - script.started_at) * 1000)


def _error(text: str | None, path: str) -> dict[str, Any] | None:
    if text is None:
        return None
    name, _, message = text.partition(": ")
    return {"name": name, "message": message, "stack": f"{text}\n    at {path}:12:7"}


async def _currents_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, CurrentsError)
    return error_response(exc.status, exc.message)


async def _http_error(_: Request, exc: Exception) -> Response:
    # Unknown paths and wrong methods get Currents' body too, not Starlette's plain text.
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, HTTPStatus(exc.status_code).phrase)
