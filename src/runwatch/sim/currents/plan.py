"""What a simulated Currents run is made of (fixed when it is created: framework, groups,
spec files and their tests) and what it looks like at a moment (a pure function of the
clock)."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from runwatch.sim.core import RunScript, seeded

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
        planned = script.planned_end
        skipped = tuple(TestState(t, "skipped", None, None) for t in run.specs[i].tests)
        return InstanceState(planned, planned, skipped)
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
