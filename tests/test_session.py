"""The session: its gate (`refusal`, every reason it gives) and its dispatch (`perform`, over
the simulator, with the exact requests each action sends and what its outcome says)."""

from __future__ import annotations

import pytest

from runwatch.errors import NotFound
from runwatch.models import Run, RunStatus, Spec, Step
from runwatch.providers import Provider
from runwatch.session import Outcome, Refused, RunAction, Session

PROVIDERS = ("services", "wercker", "currents", "conduct", "scheduler")


def session_of(sim, *, read_only_sources: tuple[str, ...] = (), **flags: bool) -> Session:
    providers: dict[str, Provider] = {
        p: sim.provider(p, read_only=p in read_only_sources) for p in PROVIDERS
    }
    return Session(providers, **flags)


def a_run(source: str, status: RunStatus = RunStatus.RUNNING, run_id: str = "r1") -> Run:
    return Run(source=source, provider=source, id=run_id, status=status,
               provider_status=status.value)


async def listed(session: Session, source: str, status: RunStatus | None = None) -> Run:
    """A run of `source` the simulator shows in `status` (None: any active one)."""
    runs = await session.providers[source].list_runs()
    return next(r for r in runs if r.status is status or (status is None and r.status.is_active))


def sent(sim, source: str) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sim.sim.requests_to(source)]


# -- the gate: every reason ------------------------------------------------------------------


@pytest.mark.parametrize("action", list(RunAction))
def test_kiosk_refuses_every_action_even_over_read_only(sim, action: RunAction) -> None:
    session = session_of(sim, kiosk=True, read_only=True)
    verb = "abort" if action is RunAction.CANCEL else action.value
    assert session.refusal(action, a_run("wercker")) == f"kiosk mode is read-only: no {verb}"
    assert session.read_only  # a kiosk never acts, whatever was asked


@pytest.mark.parametrize("action", list(RunAction))
def test_global_read_only_refuses_every_action(sim, action: RunAction) -> None:
    session = session_of(sim, read_only=True)
    assert session.refusal(action, a_run("services")) == (
        f"read-only mode: {action.value} is disabled")


def test_a_read_only_source_refuses_and_the_others_do_not(sim) -> None:
    session = session_of(sim, read_only_sources=("wercker",))
    assert session.refusal(RunAction.CANCEL, a_run("wercker")) == "wercker is read-only"
    assert session.refusal(RunAction.RERUN, a_run("wercker")) == "wercker is read-only"
    assert session.refusal(RunAction.CANCEL, a_run("services")) is None


@pytest.mark.parametrize(("source", "action", "reason"), [
    ("conduct", RunAction.CANCEL, "conduct has no cancel"),
    ("conduct", RunAction.RERUN, "conduct has no rerun"),
    ("currents", RunAction.RERUN, "currents has no rerun"),
    ("wercker", RunAction.DELETE, "wercker has no delete"),
    ("scheduler", RunAction.DELETE, "scheduler has no delete"),
])
def test_an_action_the_api_lacks_is_refused(sim, source: str, action: RunAction,
                                           reason: str) -> None:
    session = session_of(sim)
    assert session.refusal(action, a_run(source)) == reason
    assert session.refusal(action, source=source) == reason  # before any run is read


def test_capability_comes_before_the_source_being_read_only(sim) -> None:
    session = session_of(sim, read_only_sources=("conduct",))
    assert session.refusal(RunAction.CANCEL, a_run("conduct")) == "conduct has no cancel"
    assert session.refusal(RunAction.DELETE, a_run("conduct")) == "conduct is read-only"


@pytest.mark.parametrize("status", [s for s in RunStatus if s.is_terminal])
def test_a_finished_run_cannot_be_canceled_but_can_be_rerun(sim, status: RunStatus) -> None:
    session = session_of(sim)
    done = a_run("services", status, "r9")
    assert session.refusal(RunAction.CANCEL, done) == "run r9 has already finished"
    assert session.refusal(RunAction.RERUN, done) is None
    assert session.refusal(RunAction.DELETE, done) is None
    # Without the run (not read yet), the finished-run rule cannot be asked.
    assert session.refusal(RunAction.CANCEL, source="services") is None


def test_every_action_on_an_active_run_of_a_capable_source_is_allowed(sim) -> None:
    session = session_of(sim)
    for action in RunAction:
        assert session.refusal(action, a_run("services", RunStatus.QUEUED)) is None


def test_an_unknown_source_is_refused(sim) -> None:
    session = session_of(sim)
    assert session.refusal(RunAction.DELETE, a_run("jenkins")) == "no source named jenkins"
    assert session.verb(RunAction.CANCEL, "jenkins") == "cancel"


def test_check_raises_the_reason_with_the_source_it_concerns(sim) -> None:
    session = session_of(sim, read_only=True)
    with pytest.raises(Refused) as caught:
        session.check(RunAction.CANCEL, source="wercker")
    assert caught.value.message == "wercker: read-only mode: abort is disabled"
    assert caught.value.exit_code == 5
    with pytest.raises(Refused, match=r"^wercker is read-only$"):
        session_of(sim, read_only_sources=("wercker",)).check(RunAction.CANCEL,
                                                              a_run("wercker"))


# -- perform: refused means nothing sent -------------------------------------------------------


@pytest.mark.parametrize("action", list(RunAction))
async def test_perform_refused_sends_nothing_and_polls_nothing(sim, monkeypatch,
                                                              action: RunAction) -> None:
    session = session_of(sim, read_only_sources=("services",))
    refreshed: list[str | None] = []
    monkeypatch.setattr(session.poller, "refresh", refreshed.append)
    with pytest.raises(Refused, match=r"^services is read-only$"):
        await session.perform(action, a_run("services"))
    assert sim.sim.requests == []
    assert refreshed == []


async def test_perform_of_a_finished_run_sends_nothing(sim) -> None:
    session = session_of(sim)
    done = await listed(session, "wercker", RunStatus.PASSED)
    sim.sim.requests.clear()
    with pytest.raises(Refused, match=f"^wercker: run {done.id} has already finished$"):
        await session.perform(RunAction.CANCEL, done)
    assert sim.sim.requests == []


# -- perform: each action's requests and outcome ---------------------------------------------


async def test_services_stop_says_how_many_executions_it_stopped(sim, monkeypatch) -> None:
    session = session_of(sim)
    run = await listed(session, "services", RunStatus.RUNNING)
    sim.sim.requests.clear()
    refreshed: list[str | None] = []
    monkeypatch.setattr(session.poller, "refresh", refreshed.append)
    outcome = await session.perform(RunAction.CANCEL, run)
    assert outcome == Outcome(RunAction.CANCEL, "services", run.id,
                              f"stop sent for run {run.id}: 1 execution stopped")
    assert sent(sim, "services") == [("POST", f"/api/runs/{run.id}/stop")]
    assert refreshed == ["services"]
    # Stopped already: the API answers nothing, and the outcome says so.
    again = await session.perform(RunAction.CANCEL, run)
    assert again.message == f"stop sent for run {run.id}: nothing was running"


async def test_services_rerun_names_the_new_run(sim) -> None:
    session = session_of(sim)
    run = await listed(session, "services", RunStatus.FAILED)
    sim.sim.requests.clear()
    outcome = await session.perform(RunAction.RERUN, run)
    assert outcome.new_run is not None and outcome.new_run.id != run.id
    assert outcome.message == f"rerun started for run {run.id} as run {outcome.new_run.id}"
    assert sent(sim, "services") == [("GET", f"/api/runs/{run.id}"),
                                     ("POST", f"/api/runs/{run.id}/rerun")]


async def test_wercker_abort_is_a_put_and_says_aborted(sim) -> None:
    session = session_of(sim)
    run = await listed(session, "wercker")
    sim.sim.requests.clear()
    outcome = await session.perform(RunAction.CANCEL, run)
    assert outcome.message == f"aborted run {run.id}"
    assert sent(sim, "wercker") == [("PUT", f"/api/v3/runs/{run.id}/abort")]


async def test_conduct_delete_and_currents_cancel(sim) -> None:
    session = session_of(sim)
    record = (await session.providers["conduct"].list_runs())[0]
    running = await listed(session, "currents", RunStatus.RUNNING)
    sim.sim.requests.clear()
    deleted = await session.perform(RunAction.DELETE, record)
    assert deleted.message == f"deleted run {record.id}"
    assert sent(sim, "conduct") == [("DELETE", f"/v1/runs/{record.id}")]
    canceled = await session.perform(RunAction.CANCEL, running)
    assert canceled.message == f"canceled run {running.id}"
    assert sent(sim, "currents") == [("PUT", f"/v1/runs/{running.id}/cancel")]


async def test_an_api_error_is_raised_as_it_came_and_the_source_is_polled_again(
    sim, monkeypatch
) -> None:
    session = session_of(sim)
    refreshed: list[str | None] = []
    monkeypatch.setattr(session.poller, "refresh", refreshed.append)
    with pytest.raises(NotFound):
        await session.perform(RunAction.DELETE, a_run("services", run_id="nope"))
    assert sent(sim, "services") == [("DELETE", "/api/runs/nope")]
    assert refreshed == ["services"]


def test_the_table_holds_exactly_the_actions_each_api_has(sim) -> None:
    session = session_of(sim)
    tables = {name: set(p.action_table()) for name, p in session.providers.items()}
    assert tables == {
        "services": {RunAction.CANCEL, RunAction.RERUN, RunAction.DELETE},
        "wercker": {RunAction.CANCEL, RunAction.RERUN},
        "currents": {RunAction.CANCEL, RunAction.DELETE},
        "conduct": {RunAction.DELETE},
        "scheduler": {RunAction.CANCEL, RunAction.RERUN},
    }


# -- reading through the session -------------------------------------------------------------


async def test_log_and_tests_go_to_the_runs_own_source(sim) -> None:
    session = session_of(sim)
    run = await listed(session, "wercker", RunStatus.PASSED)
    step: Step = (await session.get_run("wercker", run.id)).steps[0]
    assert await session.log(run, step) == await session.providers["wercker"].get_log(
        run.id, step)
    passed = await listed(session, "currents", RunStatus.PASSED)
    spec: Spec = (await session.get_run("currents", passed.id)).specs[0]
    results = await session.tests(passed, spec)
    assert results == await session.providers["currents"].get_spec_results(passed.id, spec)
    assert results  # a spec of a passed run has tests
    with pytest.raises(Refused, match="no source named jenkins"):
        await session.log(a_run("jenkins"), step)


def test_facts_say_what_each_source_can_do(sim) -> None:
    session = session_of(sim)
    wercker, currents = session.sources["wercker"], session.sources["currents"]
    assert (wercker.name, wercker.api, wercker.verb(RunAction.CANCEL)) == (
        "wercker", "wercker", "abort")
    assert wercker.has_logs and not wercker.has_spec_results
    assert currents.has_spec_results and not currents.has_logs
    assert list(session) == list(PROVIDERS)
