"""Python's cycle collector is paused while runwatch starts (runwatch.collector): off through
the command line's imports and a short command, back as a long-running command begins, and
back, with the start's objects frozen, once the dashboard has started. A caller's own
collector setting is left as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from runwatch import collector
from runwatch.cli import main
from tui_helpers import make_app, until


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    was = gc.isenabled()
    yield
    collector.resume()  # what a failing test left paused
    gc.unfreeze()
    if was:
        gc.enable()
    else:
        gc.disable()


def recorder(seen: list[bool]) -> object:
    def command(args: object) -> int:
        seen.append(gc.isenabled())
        return 0
    return command


def test_a_short_command_runs_paused_and_returns_with_the_collector_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr("runwatch.cli.runs.cmd_list", recorder(seen))
    assert main(["list"]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_version_exits_with_the_collector_back() -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert gc.isenabled()


@pytest.mark.parametrize("command", ["sim", "serve", "watch", "logs"])
def test_a_long_running_command_runs_with_the_collector_back(
        monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    from runwatch.cli import COMMANDS

    module, function = COMMANDS[command]
    seen: list[bool] = []
    monkeypatch.setattr(f"runwatch.cli.{module}.{function}", recorder(seen))
    argv = {"watch": ["watch", "r1"], "logs": ["logs", "r1"]}.get(command, [command])
    assert main(argv) == 0
    assert seen == [True]


def test_a_callers_own_collector_stays_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runwatch.cli.runs.cmd_list", recorder([]))
    gc.disable()
    assert main(["list"]) == 0
    assert not gc.isenabled()


async def test_the_dashboard_resumes_it_once_started_with_the_start_frozen(
        sim, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(collector, "START_S", 0.05)
    collector.pause()
    assert not gc.isenabled()
    async with make_app(sim).run_test() as pilot:
        await until(pilot, gc.isenabled, "the collector back")
        assert gc.get_freeze_count() > 0  # collected once, the survivors left out from now on
