"""The installed `runwatch` command, run as a subprocess against the simulator on loopback.

A few checks that need no process of their own (help texts, the dashboard's wiring) call
`runwatch.cli.main` in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import SCOPES, SimHandle
from runwatch.cli import main
from runwatch.models import RunStatus
from runwatch.sim import PROVIDERS, demo_tokens

RUNWATCH = str(Path(sys.executable).with_name("runwatch"))
RUN_FIELDS = {
    "source", "provider", "id", "status", "provider_status", "title", "branch", "commit",
    "author", "created_at", "started_at", "finished_at", "duration_s", "progress", "tests",
    "url", "pipeline", "web_url",
}
DETAIL_FIELDS = RUN_FIELDS | {"steps", "groups", "specs", "content", "cancellation"}
CANCEL_REQUEST = {  # method, path below the provider's prefix, JSON body (None: any)
    "services": ("POST", "/api/runs/{id}/stop", None),
    "wercker": ("PUT", "/api/v3/runs/{id}/abort", {}),
    "currents": ("PUT", "/v1/runs/{id}/cancel", None),
    "scheduler": ("POST", "/api/v1/runs/{id}/cancel", None),
}


def token_env(provider: str) -> str:
    return f"RW_TEST_{provider.upper()}_TOKEN"


def source_toml(name: str, provider: str, base_url: str, **extra: str | bool) -> str:
    fields = {"name": name, "provider": provider, "base_url": base_url,
              "token_env": token_env(provider), **SCOPES[provider], **extra}
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items())
    return f"[[sources]]\n{body}\n"


def free_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cli:
    """Runs `runwatch` with a config for the five simulated sources."""

    def __init__(self, sim: SimHandle, tmp_path: Path) -> None:
        self.sim = sim
        self.tmp_path = tmp_path
        self.config = self.write_config(
            "".join(source_toml(p, p, sim.base_url(p)) for p in PROVIDERS)
        )
        env = {k: v for k, v in os.environ.items()
               if k not in ("RUNWATCH_CONFIG", "NO_COLOR", "FORCE_COLOR")}
        env.update({token_env(p): t for p, t in demo_tokens().items()})
        env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")  # never the developer's own config
        self.env = env

    def write_config(self, text: str, name: str = "config.toml") -> Path:
        path = self.tmp_path / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)  # whatever the umask: a config others can write is refused
        return path

    def __call__(self, *args: str, config: Path | None = None, env: dict[str, str] | None = None,
                 timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """`runwatch ARGS --config PATH` (a global option after the subcommand)."""
        argv = [RUNWATCH, *args, "--config", str(config or self.config)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env={**self.env, **(env or {})},
                              check=False)

    def inproc(self, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
        """The same command through `runwatch.cli.main` in this process: for the refusals,
        which need no process of their own (stdin is not a terminal here either)."""
        argv = [*args, "--config", str(config or self.config)]
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as mp:
            for key, value in self.env.items():
                mp.setenv(key, value)
            mp.setattr(sys, "stdin", io.StringIO(""))
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
        return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())

    def runs(self, provider: str) -> list[Any]:
        """The provider's runs, read in-process (no subprocess)."""
        async def go() -> list[Any]:
            p = self.sim.provider(provider)
            try:
                return await p.list_runs()
            finally:
                await p.aclose()
        return asyncio.run(go())

    def run_with(self, provider: str, *statuses: RunStatus) -> Any:
        return next(r for r in self.runs(provider) if r.status in statuses)


@pytest.fixture
def cli(sim: SimHandle, tmp_path: Path) -> Iterator[Cli]:
    yield Cli(sim, tmp_path)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("runwatch: ")
    assert "Traceback" not in stderr
    return lines[0]


# -- version, help, usage ------------------------------------------------------------------


def test_version(cli: Cli) -> None:
    done = subprocess.run([RUNWATCH, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("runwatch ")


@pytest.mark.parametrize(
    "command",
    [[], ["demo"], ["list"], ["show"], ["watch"], ["cancel"], ["sim"], ["config"],
     ["config", "init"], ["config", "check"]],
)
def test_help_on_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: runwatch{''.join(' ' + c for c in command)}")
    assert "--config PATH" in out and "--read-only" in out and "--debug" in out


@pytest.mark.parametrize(
    "argv",
    [["frobnicate"], ["list", "--limit", "0"], ["list", "--status", "green"], ["show"],
     ["watch", "1", "--source", "x", "--interval", "0.1"], ["config"]],
)
def test_usage_errors_exit_3(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 3
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("runwatch: ")


def test_usage_error_exits_3_from_the_installed_command(cli: Cli) -> None:
    done = cli("list", "--limit", "zero")
    assert done.returncode == 3
    assert "runwatch: argument --limit: not a whole number: 'zero'" in done.stderr


def test_no_config_anywhere_is_a_config_error(cli: Cli) -> None:
    done = subprocess.run([RUNWATCH, "list"], capture_output=True, text=True, env=cli.env,
                          check=False)
    assert done.returncode == 3
    assert "runwatch config init" in one_error_line(done.stderr)


# -- list ----------------------------------------------------------------------------------


def test_list_json_is_one_array_of_runs_newest_first(cli: Cli) -> None:
    done = cli("list", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    runs = json.loads(done.stdout)
    assert isinstance(runs, list) and runs
    assert all(set(r) == RUN_FIELDS for r in runs)
    assert {r["source"] for r in runs} == set(PROVIDERS)
    assert all(r["provider"] == r["source"] for r in runs)
    assert {r["status"] for r in runs} <= {s.value for s in RunStatus}
    # Every provider names what repeats (a track is source, pipeline, branch).
    assert {r["source"] for r in runs if r["pipeline"]} == set(PROVIDERS)
    # Run.sort_time: created_at, else started_at; an active run with neither is new (first),
    # a finished one with neither goes last
    active = {"queued", "running", "waiting"}
    times = [r["created_at"] or r["started_at"] or ("~" if r["status"] in active else "")
             for r in runs]
    assert times == sorted(times, reverse=True)  # ISO 8601 UTC strings sort as times
    assert all(t.endswith("Z") for t in times if t not in ("", "~"))


def test_list_status_failed_and_limit(cli: Cli) -> None:
    done = cli("list", "--json", "--status", "failed", "--limit", "7")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert len(runs) == 7
    assert {r["status"] for r in runs} == {"failed"}


def test_list_status_active_only_some_sources(cli: Cli) -> None:
    done = cli("list", "--json", "--status", "active", "--source", "wercker",
               "--source", "services")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert runs
    assert {r["status"] for r in runs} <= {"queued", "running", "waiting"}
    assert {r["source"] for r in runs} == {"wercker", "services"}
    assert not [r for r in cli.sim.sim.requests if r.provider not in ("wercker", "services")]


def test_list_text_without_a_tty_is_plain(cli: Cli) -> None:
    done = cli("list", "--limit", "20", "--source", "wercker")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["SOURCE", "STATUS", "ID"]
    assert len(lines) == 21 and {line.split()[0] for line in lines[1:]} == {"wercker"}
    assert "\x1b" not in done.stdout


def _list_on_a_tty(cli: Cli, **env: str) -> str:
    """`runwatch list` with its stdout on a pseudo-terminal; what it wrote there."""
    master, slave = pty.openpty()
    argv = [RUNWATCH, "list", "--source", "wercker", "--config", str(cli.config)]
    proc = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env={**cli.env, **env})
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=30) == 0
    return b"".join(chunks).decode()


def test_a_tty_gets_colour_and_no_color_turns_it_off(cli: Cli) -> None:
    coloured = _list_on_a_tty(cli)
    assert "\x1b[" in coloured and "SOURCE" in coloured
    plain = _list_on_a_tty(cli, NO_COLOR="1")
    assert "SOURCE" in plain and "\x1b" not in plain


def test_a_source_that_is_down_fails_alone(cli: Cli) -> None:
    down = source_toml("down", "conduct", f"http://127.0.0.1:{free_port()}/conduct")
    config = cli.write_config(cli.config.read_text() + down, "with-down.toml")
    done = cli("list", "--json", "--source", "down", "--source", "wercker", config=config)
    assert done.returncode == 4
    line = one_error_line(done.stderr)
    assert line.startswith("runwatch: down: ") and "connection refused" in line
    runs = json.loads(done.stdout)
    assert runs and {r["source"] for r in runs} == {"wercker"}


def _down_and_wercker(cli: Cli) -> Path:
    down = source_toml("down", "conduct", f"http://127.0.0.1:{free_port()}/conduct")
    return cli.write_config(cli.config.read_text() + down, "with-down.toml")


def test_list_into_a_closed_pipe_still_reports_the_failing_source(cli: Cli) -> None:
    """The reader is gone before runwatch writes a byte: every write is EPIPE."""
    config = _down_and_wercker(cli)
    argv = [RUNWATCH, "list", "--source", "down", "--source", "wercker", "--config",
            str(config)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=cli.env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader leaves at once
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 4
    line = one_error_line(err)  # the error, and no BrokenPipeError traceback
    assert line.startswith("runwatch: down: ") and "connection refused" in line


def test_list_piped_to_head_keeps_the_error_and_the_exit_code(cli: Cli) -> None:
    # Eight copies of the five sources: a table of twice a pipe's 64 KiB buffer, so that head
    # has left while runwatch is still writing it (the EPIPE case, not a table that fits).
    copies = "".join(source_toml(f"{p}-{i}", p, cli.sim.base_url(p))
                     for i in range(8) for p in PROVIDERS)
    down = source_toml("down", "conduct", f"http://127.0.0.1:{free_port()}/conduct")
    config = cli.write_config(copies + down, "big.toml")
    whole = cli("list", config=config)
    assert whole.returncode == 4 and len(whole.stdout.encode()) > 2 * 64 * 1024
    script = (f"{RUNWATCH} list --config {config} | head -1; "
              'echo "codes ${PIPESTATUS[0]} ${PIPESTATUS[1]}" >&2')
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          env=cli.env, timeout=60, check=False)
    assert done.stdout.split()[:3] == ["SOURCE", "STATUS", "ID"]
    assert len(done.stdout.splitlines()) == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == "codes 4 0", done.stderr
    assert len(lines) == 2 and "Traceback" not in done.stderr
    assert lines[0].startswith("runwatch: down: ") and "connection refused" in lines[0]


# -- show ----------------------------------------------------------------------------------


def test_show_json_is_a_run_detail(cli: Cli) -> None:
    run = cli.run_with("services", RunStatus.FAILED)
    done = cli("show", run.id, "--source", "services", "--json")
    assert done.returncode == 0, done.stderr
    detail = json.loads(done.stdout)
    assert set(detail) == DETAIL_FIELDS
    assert (detail["id"], detail["status"], detail["source"]) == (run.id, "failed", "services")
    assert [s["name"] for s in detail["steps"]][:2] == ["PREPARE", "CODE_QUALITY"]
    assert {"name", "order", "status", "started_at", "finished_at", "duration_s",
            "log_available"} <= set(detail["steps"][0])


def test_show_text_has_header_and_steps(cli: Cli) -> None:
    run = cli.run_with("wercker", RunStatus.PASSED)
    done = cli("show", run.id, "--source", "wercker")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"Run {run.id}  wercker (wercker)")
    assert "  status    passed" in out and "\nSteps\n" in out
    assert "\x1b" not in out


def test_show_currents_has_groups_and_specs(cli: Cli) -> None:
    run = cli.run_with("currents", RunStatus.FAILED, RunStatus.PASSED)
    done = cli("show", run.id, "--source", "currents")
    assert done.returncode == 0, done.stderr
    assert "\nGroups\n" in done.stdout and "\nSpecs\n" in done.stdout


def test_show_unknown_id_exits_4_with_one_line(cli: Cli) -> None:
    done = cli("show", "no-such-run", "--source", "wercker")
    assert done.returncode == 4
    assert done.stdout == ""
    assert "no-such-run" in one_error_line(done.stderr)


def test_debug_shows_the_traceback(cli: Cli) -> None:
    done = cli("show", "no-such-run", "--source", "wercker", "--debug")
    assert done.returncode == 4
    assert "Traceback (most recent call last)" in done.stderr
    assert "NotFound" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1].startswith("runwatch: ")


# -- cancel --------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(CANCEL_REQUEST))
def test_cancel_yes_sends_the_cancel_request(cli: Cli, provider: str) -> None:
    run = cli.run_with(provider, RunStatus.RUNNING, RunStatus.QUEUED)
    cli.sim.sim.requests.clear()
    done = cli("cancel", run.id, "--source", provider, "--yes")
    assert done.returncode == 0, done.stderr
    if provider == "services":  # it says what its stop answered, never "canceled"
        stopped = "1 execution stopped" if run.status is RunStatus.RUNNING else \
            "nothing was running"
        assert done.stdout.strip() == f"stop sent for run {run.id}: {stopped} on services"
    else:
        verb = "aborted" if provider == "wercker" else "canceled"
        assert done.stdout.strip() == f"{verb} run {run.id} on {provider}"
    sent = cli.sim.sim.mutating_requests()
    assert len(sent) == 1
    method, path, body = CANCEL_REQUEST[provider]
    assert (sent[0].provider, sent[0].method, sent[0].path) == (
        provider, method, path.format(id=run.id))
    if body is not None:
        assert sent[0].json() == body
    after = next(r for r in cli.runs(provider) if r.id == run.id)
    # services has no canceled status: a stopped run reads FAILURE
    assert after.status == (RunStatus.FAILED if provider == "services" else RunStatus.CANCELED)


def test_cancel_without_a_tty_or_yes_refuses_and_sends_nothing(cli: Cli) -> None:
    run = cli.run_with("services", RunStatus.RUNNING, RunStatus.QUEUED)
    cli.sim.sim.requests.clear()
    done = cli("cancel", run.id, "--source", "services")
    assert done.returncode == 3
    assert "--yes" in one_error_line(done.stderr)
    assert cli.sim.sim.requests == []


@pytest.mark.parametrize(("answer", "code"), [("y", 0), ("n", 3)])
def test_cancel_on_a_terminal_asks_first(cli: Cli, answer: str, code: int) -> None:
    run = cli.run_with("wercker", RunStatus.RUNNING, RunStatus.QUEUED)
    cli.sim.sim.requests.clear()
    master, slave = pty.openpty()
    os.write(master, f"{answer}\n".encode())  # the terminal holds the line until it is read
    argv = [RUNWATCH, "cancel", run.id, "--source", "wercker", "--config", str(cli.config)]
    done = subprocess.run(argv, stdin=slave, capture_output=True, text=True, env=cli.env,
                          timeout=30, check=False)
    os.close(slave)
    os.close(master)
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith(f"Abort run {run.id} ({run.title}) on source wercker? [y/N] ")
    sent = cli.sim.sim.mutating_requests()
    assert [(r.method, r.path) for r in sent] == (
        [("PUT", f"/api/v3/runs/{run.id}/abort")] if answer == "y" else [])


@pytest.mark.parametrize("where", ["before", "after"])
def test_read_only_cancel_exits_5_and_sends_nothing(cli: Cli, where: str) -> None:
    run = cli.run_with("wercker", RunStatus.RUNNING, RunStatus.QUEUED)
    cli.sim.sim.requests.clear()
    args = ["cancel", run.id, "--source", "wercker", "--yes"]
    args = ["--read-only", *args] if where == "before" else [*args, "--read-only"]
    done = cli.inproc(*args)
    assert done.returncode == 5
    assert one_error_line(done.stderr) == "runwatch: wercker: read-only mode: abort is disabled"
    assert cli.sim.sim.requests == []


def test_read_only_source_in_the_config_refuses_too(cli: Cli) -> None:
    config = cli.write_config(
        source_toml("prod", "services", cli.sim.base_url("services"), read_only=True), "ro.toml"
    )
    done = cli.inproc("cancel", "anything", "--source", "prod", "--yes", config=config)
    assert done.returncode == 5
    assert "read-only" in one_error_line(done.stderr)
    assert cli.sim.sim.requests == []


def test_conduct_cancel_is_unsupported(cli: Cli) -> None:
    run = cli.run_with("conduct", RunStatus.RUNNING, RunStatus.QUEUED)
    cli.sim.sim.requests.clear()
    done = cli.inproc("cancel", run.id, "--source", "conduct", "--yes")
    assert done.returncode == 5
    assert "no cancel" in one_error_line(done.stderr)
    assert cli.sim.sim.requests == []


def test_cancel_of_a_finished_run_is_refused(cli: Cli) -> None:
    run = cli.run_with("scheduler", RunStatus.PASSED, RunStatus.FAILED)
    done = cli.inproc("cancel", run.id, "--source", "scheduler", "--yes")
    assert done.returncode == 5
    assert "already finished" in one_error_line(done.stderr)
    assert cli.sim.sim.mutating_requests() == []


# -- watch ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(RunStatus.FAILED, 1), (RunStatus.PASSED, 0)])
def test_watch_of_a_finished_run_exits_at_once(cli: Cli, status: RunStatus, code: int) -> None:
    run = cli.run_with("services", status)
    done = cli("watch", run.id, "--source", "services", timeout=10)
    assert done.returncode == code, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"watching run {run.id}")
    # A passed run is done; a failed one shows how far it got (3 of 7 stages), not 100 %.
    shown = "100%" if status is RunStatus.PASSED else "43%  step 3/7 UNIT_TEST failed"
    assert f"  {status.value}  {shown}" in lines[1]
    assert lines[-1].startswith(f"run {run.id} {status.value} after ")


@pytest.mark.parametrize(("ending", "provider"), [("clock", "services"), ("cancel", "currents")])
def test_watch_follows_a_run_until_it_ends(cli: Cli, ending: str, provider: str) -> None:
    run = cli.run_with(provider, RunStatus.RUNNING)
    argv = [RUNWATCH, "watch", run.id, "--source", provider, "--interval", "0.5",
            "--config", str(cli.config)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env=cli.env)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(f"watching run {run.id}")
    assert "  running  " in proc.stdout.readline()
    if ending == "clock":
        cli.sim.sim.clock.advance(24 * 3600)
    else:
        asyncio.run(_cancel(cli, provider, run.id))
    out, err = proc.communicate(timeout=20)
    final = next(r for r in cli.runs(provider) if r.id == run.id)
    assert final.status.is_terminal
    assert f"  {final.status.value}  " in out.splitlines()[-2]  # the last progress line
    assert out.splitlines()[-1].startswith(f"run {run.id} {final.status.value} after ")
    assert proc.returncode == {"passed": 0, "failed": 1, "canceled": 2}[final.status.value], err
    if ending == "cancel":
        assert proc.returncode == 2


async def _cancel(cli: Cli, provider: str, run_id: str) -> None:
    p = cli.sim.provider(provider)
    try:
        await p.cancel(run_id)
    finally:
        await p.aclose()


# -- config --------------------------------------------------------------------------------


def test_config_error_exits_3_naming_file_source_and_key(cli: Cli) -> None:
    text = cli.config.read_text().replace('token_env = "RW_TEST_WERCKER', 'toke_env = "RW_TEST_W')
    config = cli.write_config(text, "typo.toml")
    done = cli("list", config=config)
    assert done.returncode == 3
    line = one_error_line(done.stderr)
    assert str(config) in line and "source 'wercker'" in line and "key 'toke_env'" in line
    assert "did you mean 'token_env'?" in line
    assert cli.sim.sim.requests == []


def test_missing_token_env_fails_only_that_source(cli: Cli) -> None:
    done = cli("list", "--json", "--source", "currents", "--source", "conduct",
               env={token_env("currents"): ""})
    assert done.returncode == 3
    assert "env RW_TEST_CURRENTS_TOKEN is not set" in one_error_line(done.stderr)
    assert {r["source"] for r in json.loads(done.stdout)} == {"conduct"}


def test_config_from_the_env_var_with_global_option_before(cli: Cli) -> None:
    argv = [RUNWATCH, "--debug", "list", "--json", "--limit", "3", "--source", "services"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          env={**cli.env, "RUNWATCH_CONFIG": str(cli.config)})
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 3


def test_config_check_reaches_every_source(cli: Cli) -> None:
    down = source_toml("down", "services", f"http://127.0.0.1:{free_port()}/services")
    config = cli.write_config(cli.config.read_text() + down, "check.toml")
    done = cli("config", "check", config=config)
    assert done.returncode == 4
    lines = done.stdout.splitlines()
    assert lines[0] == f"config {config}: 6 source(s)"
    for provider in PROVIDERS:
        assert f"ok   {provider} ({provider}) 1 runs" in lines
    assert lines[-1].startswith("FAIL down: ") and "connection refused" in lines[-1]
    lists = [r for r in cli.sim.sim.requests if r.provider == "services" and r.method == "GET"]
    assert lists


@pytest.mark.parametrize(
    ("mistake", "line"),
    [
        (('provider = "wercker"', 'provider = "jenkins"'),
         "source 'wercker': key 'provider': 'jenkins' is not a provider "
         "(services, wercker, currents, conduct, scheduler, runwatch)"),
        (('provider = "wercker"', 'provider = "Wercker"'),
         "source 'wercker': key 'provider': 'Wercker' is not a provider "
         "(services, wercker, currents, conduct, scheduler, runwatch); did you mean 'wercker'?"),
        (('base_url = "http://127.0.0.1', 'base_url = "127.0.0.1'),
         "source 'services': key 'base_url': '127.0.0.1:{port}/services' needs http:// or "
         "https://; did you mean 'https://127.0.0.1:{port}/services'?"),
        (('[[sources]]\nname = "services"', '[runwatch]\ninterval = 0.1\n\n'
          '[[sources]]\nname = "services"'),
         "[runwatch]: key 'interval': 0.1 is below the 0.5 s minimum"),
        (('name = "conduct"\n', ''),
         "source #4 (sources[3], provider 'conduct'): key 'name': missing: every source "
         "needs one"),
    ],
)
def test_a_config_mistake_is_one_line_quoting_it(cli: Cli, mistake: tuple[str, str],
                                                 line: str) -> None:
    before, after = mistake
    assert before in cli.config.read_text()
    config = cli.write_config(cli.config.read_text().replace(before, after, 1), "wrong.toml")
    port = cli.sim.url.rsplit(":", 1)[1]
    for command in (["list"], ["config", "check"]):
        done = cli(*command, config=config)
        assert done.returncode == 3
        assert one_error_line(done.stderr) == f"runwatch: {config}: {line.format(port=port)}"
    assert cli.sim.sim.requests == []


def test_a_config_others_can_write_is_refused_with_the_fix(cli: Cli) -> None:
    cli.config.chmod(0o622)
    done = cli("list")
    assert done.returncode == 3
    assert one_error_line(done.stderr) == (
        f"runwatch: {cli.config}: refused: it is writable by its group and every user "
        f"(mode 0622), so someone else can change it: run chmod go-w {cli.config}")
    assert cli.sim.sim.requests == []


def _check_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith("FAIL ")]


def test_config_check_passes_a_good_config(cli: Cli) -> None:
    done = cli("config", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _check_lines(done) == []
    assert done.stdout.count("\nok   ") == 5


def test_config_check_catches_an_unknown_theme_with_a_suggestion(cli: Cli) -> None:
    config = cli.write_config('[runwatch]\ntheme = "runwatch-drak"\n\n[kiosk]\n'
                              'theme = "neon"\n\n' + cli.config.read_text(), "theme.toml")
    done = cli("config", "check", config=config)
    assert done.returncode == 3
    assert _check_lines(done) == [
        f"FAIL {config}: [runwatch]: key 'theme': 'runwatch-drak' is not an installed theme; "
        "did you mean 'runwatch-dark'?",
        f"FAIL {config}: [kiosk]: key 'theme': 'neon' is not an installed theme (runwatch's: "
        "runwatch-ansi, runwatch-contrast, runwatch-dark, runwatch-light)",
    ]
    assert done.stdout.count("\nok   ") == 5  # and every source was still reached


def test_config_check_takes_textual_and_user_themes(cli: Cli) -> None:
    themes = cli.tmp_path / "data" / "runwatch" / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#336699"\n')
    config = cli.write_config('[runwatch]\ntheme = "mine"\n[kiosk]\ntheme = "nord"\n'
                              + cli.config.read_text(), "theme.toml")
    done = cli("config", "check", config=config,
               env={"XDG_DATA_HOME": str(cli.tmp_path / "data")})
    assert done.returncode == 0, done.stdout
    (themes / "mine.toml").chmod(0o666)  # ... unless others could have written it
    done = cli("config", "check", config=config,
               env={"XDG_DATA_HOME": str(cli.tmp_path / "data")})
    assert done.returncode == 3
    assert f"FAIL {themes / 'mine.toml'}: refused: it is writable by" in done.stdout
    assert "key 'theme': 'mine' is not an installed theme" in done.stdout


def test_config_check_catches_a_colour_textual_cannot_parse(cli: Cli) -> None:
    text = cli.config.read_text().replace('name = "wercker"\n', 'name = "wercker"\ncolor = "rde"\n')
    text = text.replace('name = "conduct"\n', 'name = "conduct"\ncolor = "#12"\n')
    config = cli.write_config(text, "colour.toml")
    done = cli("config", "check", config=config)
    assert done.returncode == 3
    assert _check_lines(done) == [
        f"FAIL {config}: source 'wercker': key 'color': 'rde' is not a colour (a name such as "
        "'red', or '#rrggbb'); did you mean 'red'?",
        f"FAIL {config}: source 'conduct': key 'color': '#12' is not a colour (a name such as "
        "'red', or '#rrggbb')",
    ]


def test_config_check_catches_a_config_without_sources(cli: Cli) -> None:
    config = cli.write_config("[runwatch]\ninterval = 5.0\n", "empty.toml")
    done = cli("config", "check", config=config)
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        f"config {config}: 0 source(s)",
        f"FAIL {config}: no [[sources]]: add one per runs API (`runwatch config init` "
        "writes an example of each)",
    ]


def test_config_init_writes_the_commented_starter_once(cli: Cli) -> None:
    path = cli.tmp_path / "new" / "config.toml"
    done = subprocess.run([RUNWATCH, "config", "init", str(path)], capture_output=True,
                          text=True, env=cli.env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {path}")
    first = path.read_text()
    assert first == (Path(__file__).resolve().parents[1] / "config.example.toml").read_text()
    again = subprocess.run([RUNWATCH, "config", "init", str(path)], capture_output=True,
                           text=True, env=cli.env, check=False)
    assert again.returncode == 3
    assert "already exists" in one_error_line(again.stderr)
    assert path.read_text() == first


def test_config_init_defaults_to_the_xdg_location(cli: Cli,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cli.tmp_path / "xdg"))
    monkeypatch.delenv("RUNWATCH_CONFIG", raising=False)
    assert main(["config", "init"]) == 0
    assert (cli.tmp_path / "xdg" / "runwatch" / "config.toml").is_file()
    # ... which `config check` then finds, and whose tokens are not set here
    for provider in ("SERVICES_TOKEN", "WERCKER_TOKEN", "CURRENTS_API_KEY", "CONDUCT_API_KEY",
                     "SCHEDULER_TOKEN"):
        monkeypatch.delenv(provider, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # the example's token_cmd (`pass`) fails too
    capsys.readouterr()
    assert main(["config", "check"]) == 3
    assert capsys.readouterr().out.count("FAIL ") == 5


def test_config_init_sim_then_check_against_runwatch_sim_passes(cli: Cli) -> None:
    """The new user's minute: start the simulator, write its config, export the tokens it
    prints, check."""
    sim = subprocess.Popen([RUNWATCH, "sim", "--port", "0", "--runs", "3"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           env=cli.env)
    assert sim.stdout is not None
    try:
        printed = [sim.stdout.readline().strip() for _ in range(17)]
        exports = dict(line.removeprefix("export ").split("=", 1)
                       for line in printed if line.startswith("export "))
        assert set(exports) == {"SERVICES_TOKEN", "WERCKER_TOKEN", "CURRENTS_API_KEY",
                                "CONDUCT_API_KEY", "SCHEDULER_TOKEN"}
        hint = next(line for line in printed if "config init --sim" in line)
        root = hint.rsplit(" ", 1)[1]
        _get_when_up(f"{root}/conduct/v1/runs",
                     {"Authorization": f"Bearer {exports['CONDUCT_API_KEY']}"})
        path = cli.tmp_path / "sim.toml"
        init = subprocess.run([RUNWATCH, "config", "init", str(path), "--sim", root],
                              capture_output=True, text=True, env=cli.env, check=False)
        assert init.returncode == 0, init.stderr
        assert f"runwatch sim --port {root.rsplit(':', 1)[1]}" in path.read_text()
        check = subprocess.run([RUNWATCH, "config", "check", "--config", str(path)],
                               capture_output=True, text=True, env={**cli.env, **exports},
                               check=False, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr
        assert [line.split()[:2] for line in check.stdout.splitlines()[1:]] == [
            ["ok", p] for p in PROVIDERS]
        without = subprocess.run([RUNWATCH, "config", "check", "--config", str(path)],
                                 capture_output=True, text=True, env=cli.env, check=False)
        assert without.returncode == 3  # the tokens it names are not set: said, not hidden
        assert "env SERVICES_TOKEN is not set" in without.stdout
    finally:
        sim.send_signal(signal.SIGINT)
        assert sim.wait(timeout=10) == 0


def test_config_init_sim_defaults_to_the_simulator_port(cli: Cli) -> None:
    path = cli.tmp_path / "sim.toml"
    assert main(["config", "init", str(path), "--sim"]) == 0
    text = path.read_text()
    assert "#     runwatch sim\n" in text
    assert "#     export CURRENTS_API_KEY=sim-currents-token" in text
    config = tomllib.loads(text)
    assert [(s["name"], s["base_url"], s["token_env"]) for s in config["sources"]] == [
        (p, f"http://127.0.0.1:8765/{p}", env) for p, env in (
            ("services", "SERVICES_TOKEN"), ("wercker", "WERCKER_TOKEN"),
            ("currents", "CURRENTS_API_KEY"), ("conduct", "CONDUCT_API_KEY"),
            ("scheduler", "SCHEDULER_TOKEN"))]
    assert config["sources"][2]["project_id"] == "proj-1"
    assert main(["config", "init", str(path), "--sim"]) == 3  # never overwrites


def test_config_init_sim_with_a_path_after_it_is_a_usage_error(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["config", "init", "--sim", "my.toml"])
    assert info.value.code == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "runwatch: argument --sim: 'my.toml' is not the simulator's URL (http://HOST:PORT); "
        "a PATH goes before --sim")


# -- sim -----------------------------------------------------------------------------------


def test_sim_serves_and_prints_base_urls_and_tokens(cli: Cli) -> None:
    proc = subprocess.Popen([RUNWATCH, "sim", "--port", "0", "--runs", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=cli.env)
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline() for _ in range(15)]
        urls = {line.split()[0]: line.split()[1] for line in lines[3:8]}
        assert set(urls) == set(PROVIDERS)
        assert "export CONDUCT_API_KEY=sim-conduct-token" in [line.strip() for line in lines]
        headers = {"Authorization": f"Bearer {demo_tokens()['conduct']}"}
        response = _get_when_up(f"{urls['conduct']}/v1/runs", headers)
        assert response.status_code == 200
        assert response.json()["runs"]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def _get_when_up(url: str, headers: dict[str, str]) -> httpx.Response:
    """GET `url`, waiting up to 10 s for the server to start listening."""
    for _ in range(200):
        try:
            return httpx.get(url, headers=headers)
        except httpx.ConnectError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening at {url}")


# -- the dashboard's wiring (in-process, with a stand-in for run_dashboard) ---------------------


@pytest.fixture
def dashboard(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def run_dashboard(config: Any, **kwargs: Any) -> int:
        async def newest(providers: Any) -> dict[str, int]:
            return {name: len(await p.list_runs()) for name, p in providers.items()}

        # the demo's simulator (in-process) must answer its providers while the dashboard runs
        session = kwargs.get("session")
        providers = session.providers if session is not None else None
        kwargs["providers"] = providers
        kwargs["served"] = asyncio.run(newest(providers)) if providers else None
        calls.append({"config": config, **kwargs})
        return 0

    monkeypatch.setattr("runwatch.tui.app.run_dashboard", run_dashboard)
    return calls


def test_demo_runs_the_dashboard_on_a_live_simulator(dashboard: list[dict[str, Any]]) -> None:
    assert main(["demo", "--kiosk"]) == 0
    (call,) = dashboard
    assert call["demo"] is True and call["kiosk"] is True and call["read_only"] is True
    assert call["no_config"] is False
    assert [s.name for s in call["config"].sources] == list(PROVIDERS)
    # every source's runs, from the simulator in this process: no socket, no port
    assert set(call["served"]) == set(PROVIDERS) and min(call["served"].values()) > 0
    assert all(s.base_url.startswith("http://demo.runwatch.invalid/")
               for s in call["config"].sources)
    assert all(p.read_only for p in call["providers"].values())  # --kiosk
    assert call["session"].read_only and call["session"].kiosk  # the one gate says so too


@pytest.mark.parametrize("where", ["after", "before"])
def test_demo_takes_the_dashboard_options_after_it_too(dashboard: list[dict[str, Any]],
                                                       where: str) -> None:
    options = ["--theme", "runwatch-light", "--source", "wercker", "--source", "conduct",
               "--interval", "2"]
    argv = ["demo", *options] if where == "after" else [*options, "demo"]
    assert main(argv) == 0
    (call,) = dashboard
    assert call["demo"] is True
    assert call["theme"] == "runwatch-light" and call["interval"] == 2.0
    assert call["only_sources"] == ["wercker", "conduct"]


def test_demo_with_an_unknown_source_is_a_config_error(
    dashboard: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--source", "jenkins"]) == 3
    assert dashboard == []
    assert "no source named 'jenkins'" in capsys.readouterr().err


def test_no_config_starts_the_demo_and_says_so(
    dashboard: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("RUNWATCH_CONFIG", raising=False)
    assert main(["--interval", "2", "--theme", "runwatch-light"]) == 0
    (call,) = dashboard
    assert call["demo"] is True and call["no_config"] is True
    assert call["interval"] == 2.0 and call["theme"] == "runwatch-light"
    assert "starting the demo" in capsys.readouterr().err


def test_dashboard_on_the_config(dashboard: list[dict[str, Any]], cli: Cli) -> None:
    assert main(["--config", str(cli.config), "--source", "wercker", "--read-only"]) == 0
    (call,) = dashboard
    assert call["demo"] is False and call["no_config"] is False
    assert call["only_sources"] == ["wercker"]
    assert call["read_only"] is True and call["kiosk"] is False
    assert call["config"].path == cli.config


def test_dashboard_unknown_source_is_a_config_error(dashboard: list[dict[str, Any]],
                                                    cli: Cli) -> None:
    assert main(["--config", str(cli.config), "--source", "nope"]) == 3
    assert dashboard == []


# -- issue 9: who canceled a run, and the skipped status --------------------------------------


def test_show_says_who_canceled_a_currents_run_and_when(cli: Cli) -> None:
    from datetime import datetime

    from runwatch.sim.core import iso

    run = cli.run_with("currents", RunStatus.RUNNING, RunStatus.QUEUED)

    async def cancel() -> None:
        provider = cli.sim.provider("currents")
        try:
            await provider.cancel(run.id)
        finally:
            await provider.aclose()

    asyncio.run(cancel())
    canceled_at = cli.sim.sim.now()
    shown = cli("show", run.id, "--source", "currents")
    as_json = cli("show", run.id, "--source", "currents", "--json")

    assert shown.returncode == as_json.returncode == 0, shown.stderr + as_json.stderr
    local = datetime.fromtimestamp(canceled_at).astimezone().strftime("%Y-%m-%d %H:%M")
    assert f"  canceled  by api:runwatch-sim at {local} (apiRequest)\n" in shown.stdout
    assert json.loads(as_json.stdout)["cancellation"] == {
        "by": "api:runwatch-sim", "at": iso(canceled_at), "reason": "apiRequest"}


def test_list_filters_on_the_skipped_status(cli: Cli) -> None:
    done = cli("list", "--status", "skipped", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []  # no run is skipped, only steps, nodes and specs
    assert "skipped" in cli("list", "--help").stdout
