"""Duration and progress, computed once in the model from what each API gives (issue 13):
list rows over real HTTP to the simulator carry them where the list has the inputs, and say
the same as the detail; a failed run shows how far it got; the CLI writes a duration as the
TUI does; a canceled spec has no "0s"; a running step runs "for", not "took"."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from runwatch import output
from runwatch.formatting import format_duration, to_epoch
from runwatch.models import (
    Run,
    RunDetail,
    RunStatus,
    Spec,
    Step,
    progress_of,
    run_duration,
)
from runwatch.sim import demo_tokens
from runwatch.tui.look import UNICODE
from runwatch.tui.run_lines import step_line
from runwatch.tui.widgets.cells import render_cell
from runwatch.tui.widgets.groups import progress_label
from test_cli import Cli

PROVIDERS = ("services", "wercker", "currents", "conduct", "scheduler")
# Lists that carry a finished run's times (or its own duration figure): conduct's does not
# (`{id, runId, specId, status, createdAt}`), so its finished rows have no duration.
TIMED_LISTS = ("services", "wercker", "currents", "scheduler")
# Lists that say how far a live run is: wercker's `progress`, currents' instances and the
# scheduler's nodes. The services and conduct lists carry no stages or checks.
PROGRESS_LISTS = ("wercker", "currents", "scheduler")


async def listed(sim, name: str) -> list[Run]:
    provider = sim.provider(name)
    try:
        return await provider.list_runs()
    finally:
        await provider.aclose()


async def detail_of(sim, name: str, run_id: str) -> RunDetail:
    provider = sim.provider(name)
    try:
        return await provider.get_run(run_id)
    finally:
        await provider.aclose()


async def with_running(sim, name: str) -> list[Run]:
    """The source's rows once one of them is running (the simulated clock moves on)."""
    for _ in range(120):
        runs = await listed(sim, name)
        if any(r.status is RunStatus.RUNNING for r in runs):
            return runs
        sim.sim.clock.advance(5)
    raise AssertionError(f"no {name} run started")


@pytest.mark.parametrize("name", PROVIDERS)
async def test_running_rows_count_their_duration_from_what_the_list_gives(sim, name) -> None:
    runs = await with_running(sim, name)
    now = sim.sim.now()
    running = [r for r in runs if r.status is RunStatus.RUNNING]
    for run in running:
        start = to_epoch(run.started_at or run.created_at)
        assert start is not None
        # Currents and Conduct rows have no start: they count from the run's creation.
        assert run_duration(run, now) == pytest.approx(max(0.0, now - start))
        assert render_cell("duration", run, now, {}, {}, "k").plain == format_duration(
            now - start)


@pytest.mark.parametrize("name", TIMED_LISTS)
async def test_finished_rows_carry_the_duration_the_detail_shows(sim, name) -> None:
    finished = [r for r in await listed(sim, name) if r.status.is_terminal][:4]
    assert finished
    for run in finished:
        assert run.duration_s is not None, run
        detail = await detail_of(sim, name, run.id)
        # One value: the table, `list`, the run screen and `show` all say this.
        assert detail.duration_s == pytest.approx(run.duration_s, abs=0.002), run.id


async def test_a_conduct_list_has_no_end_so_its_finished_rows_have_no_duration(sim) -> None:
    headers = {"Authorization": f"Bearer {demo_tokens()['conduct']}"}
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{sim.base_url('conduct')}/v1/runs", headers=headers)
    body = answer.json()
    assert body["runs"] and not any("updatedAt" in item for item in body["runs"])
    done = next(r for r in await listed(sim, "conduct") if r.status is RunStatus.PASSED)
    assert done.duration_s is None  # what the list lacks, it does not make up
    detail = await detail_of(sim, "conduct", done.id)
    assert detail.duration_s is not None  # its detail has the times


@pytest.mark.parametrize("name", PROVIDERS)
async def test_passed_rows_are_done_and_live_rows_say_how_far(sim, name) -> None:
    runs = await with_running(sim, name)
    assert all(r.progress == 100.0 for r in runs if r.status is RunStatus.PASSED)
    live = [r for r in runs if r.status is RunStatus.RUNNING]
    if name in PROGRESS_LISTS:
        assert live and all(r.progress is not None for r in live)
    else:
        assert live and all(r.progress is None for r in live)  # no stages, no checks listed


@pytest.mark.parametrize("name", ["services", "wercker", "currents", "scheduler", "conduct"])
async def test_a_failed_run_shows_how_far_it_got(sim, name) -> None:
    failed = next(r for r in await listed(sim, name) if r.status is RunStatus.FAILED)
    detail = await detail_of(sim, name, failed.id)
    done = detail.steps_done
    assert done is not None
    ran, total = done
    assert detail.progress == round(100.0 * ran / total, 1)
    percent, label = progress_label(detail.status, detail.progress, done)
    assert (percent, label) == (100.0 * ran / total, f"failed at {ran}/{total}")
    if name == "scheduler":
        # Its list has the nodes: the row says what the detail says.
        assert failed.progress == detail.progress
    else:
        # The others' lists say "100" for any run that ended (or nothing): no "how far".
        assert failed.progress is None or failed.progress < 100
    if ran < total:
        assert detail.progress < 100


def test_progress_counts_only_what_ran_once_a_run_ended_short() -> None:
    parts = [RunStatus.PASSED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.SKIPPED]
    assert progress_of(RunStatus.FAILED, parts) == 50.0
    assert progress_of(RunStatus.RUNNING, parts) == 100.0  # a skipped node counts while live
    assert progress_of(RunStatus.PASSED, parts) == 100.0
    assert progress_of(RunStatus.FAILED, (), 100.0) is None
    assert progress_of(RunStatus.CANCELED, (), 40.0) == 40.0
    assert progress_of(RunStatus.RUNNING, (), 40.0) == 40.0


@pytest.fixture
def cli(sim, tmp_path) -> Cli:
    return Cli(sim, tmp_path)


def test_the_cli_writes_a_duration_as_the_tui_does(cli: Cli) -> None:
    runs = [r for name in TIMED_LISTS for r in cli.runs(name) if r.status.is_terminal][:8]
    done = cli("list", "--limit", "200")
    assert done.returncode == 0, done.stderr
    lines = {line.split()[2]: line for line in done.stdout.splitlines()[1:]}
    now = cli.sim.sim.now()
    for run in runs:
        on_screen = render_cell("duration", run, now, {}, {}, "k").plain
        assert " " in on_screen or on_screen.endswith("s")  # "1m 47s", "8s"
        assert lines[run.id].endswith(f"  {on_screen}"), (lines[run.id], on_screen)
    shown = cli("show", runs[0].id, "--source", runs[0].source)
    assert shown.returncode == 0, shown.stderr
    on_screen = render_cell("duration", runs[0], now, {}, {}, "k").plain
    assert f"  duration  {on_screen}\n" in shown.stdout


def test_a_canceled_or_skipped_spec_that_never_ran_shows_the_dash() -> None:
    specs = [Spec(spec="a.cy.ts", status=RunStatus.CANCELED, duration_s=0.0),
             Spec(spec="b.cy.ts", status=RunStatus.SKIPPED, duration_s=0.0),
             Spec(spec="c.cy.ts", status=RunStatus.PASSED, duration_s=0.0)]
    assert [s.duration_s for s in specs] == [None, None, 0.0]
    detail = RunDetail(source="s", provider="currents", id="1", status=RunStatus.CANCELED,
                       provider_status="CANCELED", specs=specs)
    text = output.detail_text(detail, output.Style(False))
    rows = {line.split()[0]: line.split() for line in text.splitlines() if ".cy.ts" in line}
    # SPEC GROUP STATUS TESTS DURATION
    assert rows["a.cy.ts"][2:] == ["canceled", "–", "–"]
    assert rows["b.cy.ts"][2:] == ["skipped", "–", "–"]
    assert rows["c.cy.ts"][2:] == ["passed", "–", "0s"]  # it ran, in no time: a duration


def test_a_running_step_runs_for_and_a_finished_one_took() -> None:
    start = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    now = start.timestamp() + 4
    running = Step(id="1", name="build", order=0, status=RunStatus.RUNNING, started_at=start)
    line = step_line(running, now, has_logs=False).plain
    assert "for 4s" in line and "took" not in line
    done = Step(id="2", name="test", order=1, status=RunStatus.PASSED, started_at=start,
                finished_at=datetime(2026, 11, 22, 12, 1, 47, tzinfo=UTC))
    assert "took 1m 47s" in step_line(done, now, has_logs=False).plain
    detail = RunDetail(source="s", provider="services", id="1", status=RunStatus.RUNNING,
                       provider_status="IN_PROGRESS", steps=[running, done])
    rows = output.detail_text(detail, output.Style(False), now=now).splitlines()
    # # STEP STATUS STARTED DURATION LOG: `show` counts the running step's time too.
    build = next(r.split() for r in rows if " build " in r)
    assert build[2:] == ["running", build[3], "4s", "–"], rows


def test_the_progress_label_of_a_run_that_ended_without_steps() -> None:
    assert progress_label(RunStatus.FAILED, None, None, UNICODE) == (None, "failed")
    assert progress_label(RunStatus.CANCELED, 40.0, None, UNICODE) == (40.0, "canceled at 40%")
    assert progress_label(RunStatus.PASSED, 100.0, (7, 7), UNICODE) == (100.0, "100%")
    assert progress_label(RunStatus.RUNNING, None, None, UNICODE) == (None, "–")
