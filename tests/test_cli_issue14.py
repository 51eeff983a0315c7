"""Issue 14 on the command line: the installed `runwatch` against the simulator.

Ids by prefix with the source inferred, `open` and `show --web` (OSC 52 without a display),
`rerun`, `delete`, `logs`, `watch`'s closing why, `list` fitted to the terminal, `--fields`
and the filters, and the completion scripts.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from conftest import SimHandle
from runwatch.cli.listing import DEFAULT_FIELDS, FIELDS
from runwatch.models import RunStatus
from runwatch.sim import PROVIDERS
from test_cli import RUNWATCH, Cli, one_error_line, source_toml
from test_import_hygiene import HEAVY, loaded, run_cli

SGR = re.compile(r"\x1b\[[0-9;]*m")
NO_DISPLAY = ("DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY")


@pytest.fixture
def cli(sim: SimHandle, tmp_path: Path) -> Iterator[Cli]:
    yield Cli(sim, tmp_path)


def all_runs(cli: Cli) -> list[Any]:
    return [r for p in PROVIDERS for r in cli.runs(p)]


def unique_prefix(cli: Cli, provider: str) -> tuple[Any, str]:
    """A run of `provider` and the shortest prefix (4 or more) no other run's id starts with."""
    ids = [r.id for r in all_runs(cli)]
    for run in cli.runs(provider):
        for n in range(4, len(run.id)):
            prefix = run.id[:n]
            if sum(i.startswith(prefix) for i in ids) == 1:
                return run, prefix
    raise AssertionError(f"no unique prefix among {provider}'s runs")


def in_pty(cli: Cli, *args: str, columns: int = 80, env: dict[str, str] | None = None,
           stdin_text: str | None = None) -> tuple[int, bytes]:
    """`runwatch ARGS` with stdout on a `columns`-wide pseudo-terminal: exit code, bytes."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    full_env = {**cli.env, **(env or {})}
    for name in NO_DISPLAY:
        if env is None or name not in env:
            full_env.pop(name, None)
    proc = subprocess.Popen([RUNWATCH, *args, "--config", str(cli.config)], stdout=slave,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=full_env)
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
    return proc.wait(timeout=30), b"".join(chunks)


def links_config(cli: Cli) -> Path:
    """The five sources; services with a web_url template."""
    text = "".join(
        source_toml(p, p, cli.sim.base_url(p),
                    **({"web_url": "https://ci.example.com/{pipeline}/runs/{id}"}
                       if p == "services" else {}))
        for p in PROVIDERS)
    return cli.write_config(text, "links.toml")


# -- web links -----------------------------------------------------------------------------


def test_list_json_has_the_web_url_from_the_template_and_the_api_url(cli: Cli) -> None:
    done = cli("list", "--json", "--source", "services", "--source", "wercker",
               config=links_config(cli))
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert {r["source"] for r in runs} == {"services", "wercker"}
    for run in runs:
        assert run["url"].startswith(cli.sim.base_url(run["source"]))  # the API's address
        if run["source"] == "services":
            assert run["web_url"] == (f"https://ci.example.com/{quote(run['pipeline'])}/runs/"
                                      f"{quote(run['id'], safe='')}")
        else:
            assert run["web_url"] is None  # no template, and no public web app


def test_show_labels_the_web_page_and_the_api_url(cli: Cli) -> None:
    run = cli.runs("wercker")[0]
    done = cli("show", run.id, "--source", "wercker")
    assert done.returncode == 0, done.stderr
    assert "  web       - (no web page known: set the source web_url)" in done.stdout
    assert f"  api url   {run.url}" in done.stdout
    run = cli.runs("services")[0]
    shown = cli("show", run.id, "--json", config=links_config(cli))
    assert json.loads(shown.stdout)["web_url"] == (
        f"https://ci.example.com/{run.pipeline}/runs/{run.id}")


def test_a_bad_web_url_placeholder_is_a_config_error(cli: Cli) -> None:
    config = cli.write_config(source_toml("ci", "services", cli.sim.base_url("services"),
                                          web_url="https://ci/{build}"), "bad.toml")
    done = cli("list", config=config)
    assert done.returncode == 3
    assert one_error_line(done.stderr) == (
        f"runwatch: {config}: source 'ci': key 'web_url': 'https://ci/{{build}}' has an "
        "unknown placeholder {build}; it takes {id}, {branch}, {commit}, {pipeline}, "
        "{service_id}")


# -- ids as the dashboard shows them -------------------------------------------------------


def test_a_unique_prefix_finds_the_run_and_its_source(cli: Cli) -> None:
    run, prefix = unique_prefix(cli, "currents")
    done = cli("show", prefix, "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["source"], shown["id"]) == ("currents", run.id)
    # The cell the dashboard cut, pasted with its ellipsis, is the same prefix.
    assert json.loads(cli("show", prefix + "…", "--json").stdout)["id"] == run.id


def test_a_full_id_needs_no_source(cli: Cli) -> None:
    run = cli.runs("scheduler")[3]
    done = cli("show", run.id, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["source"] == "scheduler"


def test_an_ambiguous_prefix_lists_the_matches_and_exits_3(cli: Cli) -> None:
    wercker = cli.runs("wercker")
    first, second = wercker[0].id, wercker[1].id
    prefix = first[:next(i for i, (a, b) in enumerate(zip(first, second, strict=False))
                         if a != b)]
    matches = [r for r in all_runs(cli) if r.id.startswith(prefix)]
    assert len(matches) >= 2
    done = cli("show", prefix)
    assert done.returncode == 3
    lines = done.stderr.splitlines()
    assert lines[0] == (f"runwatch: {prefix!r} matches {len(matches)} runs: give more of the "
                        "id, or --source")
    assert lines[1].split() == ["SOURCE", "ID", "TITLE"]
    listed = {tuple(line.split(None, 2)) for line in lines[2:2 + len(matches)]}
    assert {(r.source, r.id, r.title) for r in matches[:20]} <= listed
    assert cli.sim.sim.mutating_requests() == []


def test_an_unknown_run_exits_4(cli: Cli) -> None:
    done = cli("show", "zzzz-no-such-run")
    assert done.returncode == 4
    assert one_error_line(done.stderr) == (
        "runwatch: no run 'zzzz-no-such-run' in any source (neither an id nor the start "
        "of one)")
    done = cli("watch", "zzzz", "--source", "conduct")
    assert done.returncode == 4
    assert "in source conduct" in done.stderr


def test_an_unknown_source_is_a_config_error(cli: Cli) -> None:
    done = cli("show", "abc", "--source", "nope")
    assert done.returncode == 3
    assert "no source named 'nope'" in one_error_line(done.stderr)


def test_cancel_and_delete_take_a_prefix(cli: Cli) -> None:
    active = [r for r in cli.runs("currents") if r.status.is_active]
    run, prefix = next((r, r.id[:n]) for r in active for n in range(4, len(r.id))
                       if sum(i.id.startswith(r.id[:n]) for i in all_runs(cli)) == 1)
    cli.sim.sim.requests.clear()
    done = cli("cancel", prefix, "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"canceled run {run.id} on currents"
    assert [(r.method, r.path) for r in cli.sim.sim.mutating_requests()] == [
        ("PUT", f"/v1/runs/{run.id}/cancel")]
    target, prefix = unique_prefix(cli, "services")
    cli.sim.sim.requests.clear()
    done = cli("delete", prefix, "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"deleted run {target.id} on services"
    assert [(r.method, r.path) for r in cli.sim.sim.mutating_requests()] == [
        ("DELETE", f"/api/runs/{target.id}")]


# -- rerun, delete: the gate and the confirmation ------------------------------------------


def test_rerun_prints_the_new_runs_id(cli: Cli) -> None:
    run = cli.run_with("wercker", RunStatus.PASSED, RunStatus.FAILED)
    done = cli("rerun", run.id, "--yes")
    assert done.returncode == 0, done.stderr
    new_id = done.stdout.strip()
    assert new_id and new_id != run.id and "\n" not in new_id
    assert new_id in {r.id for r in cli.runs("wercker")}
    assert one_error_line(done.stderr) == (
        f"runwatch: rerun started for run {run.id} as run {new_id} on wercker")


@pytest.mark.parametrize("provider", ["services", "wercker"])
def test_rerun_watch_follows_the_new_run_with_watchs_exit_codes(cli: Cli, provider: str) -> None:
    run = cli.run_with(provider, RunStatus.PASSED, RunStatus.FAILED)
    proc = subprocess.Popen(
        [RUNWATCH, "rerun", run.id, "--source", provider, "--yes", "--watch", "--interval",
         "0.5", "--config", str(cli.config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        env=cli.env)
    assert proc.stdout is not None
    new_id = proc.stdout.readline().strip()
    assert proc.stdout.readline().startswith(f"watching run {new_id} ")
    cli.sim.sim.clock.advance(24 * 3600)
    out, err = proc.communicate(timeout=30)
    final = next(r for r in cli.runs(provider) if r.id == new_id)
    assert final.status.is_terminal
    assert out.splitlines()[-1].startswith(f"run {new_id} {final.status.value} after ")
    assert proc.returncode == {"passed": 0, "failed": 1}.get(final.status.value, 2), err


def test_rerun_watch_of_a_failing_rerun_exits_1(cli: Cli) -> None:
    # A scheduler rerun starts the run's workflow again; follow it until it ends.
    run = cli.run_with("scheduler", RunStatus.FAILED)
    proc = subprocess.Popen(
        [RUNWATCH, "rerun", run.id, "--yes", "--watch", "--interval", "0.5", "--config",
         str(cli.config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        env=cli.env)
    assert proc.stdout is not None
    new_id = proc.stdout.readline().strip()
    assert proc.stdout.readline().startswith(f"watching run {new_id} ")
    cli.sim.sim.clock.advance(24 * 3600)
    out, err = proc.communicate(timeout=30)
    final = next(r for r in cli.runs("scheduler") if r.id == new_id)
    code = {RunStatus.PASSED: 0, RunStatus.FAILED: 1}.get(final.status, 2)
    assert proc.returncode == code, err
    if final.status is RunStatus.FAILED:
        assert any(line.startswith("failed: step ") for line in out.splitlines())


@pytest.mark.parametrize("command", ["rerun", "delete"])
def test_without_a_terminal_or_yes_nothing_is_sent(cli: Cli, command: str) -> None:
    run = cli.runs("services")[0]
    cli.sim.sim.requests.clear()
    done = cli(command, run.id, "--source", "services")
    assert done.returncode == 3
    assert one_error_line(done.stderr) == (
        f"runwatch: {command} needs confirmation: pass --yes (stdin is not a terminal)")
    assert cli.sim.sim.requests == []


@pytest.mark.parametrize(("args", "message"), [
    (["--read-only", "rerun", "X", "--yes"], "runwatch: read-only mode: rerun is disabled"),
    (["delete", "X", "--source", "wercker", "--yes", "--read-only"],
     "runwatch: wercker: read-only mode: delete is disabled"),
    (["rerun", "X", "--source", "currents", "--yes"], "runwatch: currents has no rerun"),
    (["delete", "X", "--source", "wercker", "--yes"], "runwatch: wercker has no delete"),
])
def test_the_gate_refuses_before_any_request(cli: Cli, args: list[str], message: str) -> None:
    cli.sim.sim.requests.clear()
    done = cli(*args)
    assert done.returncode == 5
    assert one_error_line(done.stderr) == message
    assert cli.sim.sim.requests == []


def test_delete_on_a_terminal_asks_first(cli: Cli) -> None:
    run = cli.runs("conduct")[0]
    cli.sim.sim.requests.clear()
    master, slave = pty.openpty()
    os.write(master, b"n\n")
    done = subprocess.run([RUNWATCH, "delete", run.id, "--config", str(cli.config)],
                          stdin=slave, capture_output=True, text=True, env=cli.env, timeout=30,
                          check=False)
    os.close(slave)
    os.close(master)
    assert done.returncode == 3
    assert done.stderr.startswith(f"Delete run {run.id} (")
    assert " on source conduct? [y/N] runwatch: delete not confirmed; nothing was sent" in (
        done.stderr)
    assert cli.sim.sim.mutating_requests() == []


# -- open and show --web -------------------------------------------------------------------


def test_open_without_a_display_copies_the_link_with_osc52(cli: Cli) -> None:
    run = cli.runs("services")[0]
    cli.config = links_config(cli)
    code, out = in_pty(cli, "open", run.id)
    url = f"https://ci.example.com/{run.pipeline}/runs/{run.id}"
    assert code == 0
    assert b"\x1b]52;c;" + base64.b64encode(url.encode()) + b"\x07" in out
    assert f"no display here: copied {url} to the clipboard (OSC 52)".encode() in out


def test_open_over_ssh_copies_even_with_a_display(cli: Cli) -> None:
    run = cli.runs("services")[1]
    cli.config = links_config(cli)
    code, out = in_pty(cli, "show", run.id, "--web",
                       env={"DISPLAY": ":0", "SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"})
    assert code == 0
    url = f"https://ci.example.com/{run.pipeline}/runs/{run.id}"
    assert b"\x1b]52;c;" + base64.b64encode(url.encode()) + b"\x07" in out


@pytest.mark.parametrize("command", [["open"], ["show", "--web"]])
def test_open_with_a_display_runs_the_browser(cli: Cli, tmp_path: Path,
                                              command: list[str]) -> None:
    seen = tmp_path / "browser.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf %s "$1" > {seen}\n')
    browser.chmod(0o755)
    run = cli.runs("services")[2]
    done = cli(command[0], run.id[:12], *command[1:], config=links_config(cli),
               env={"DISPLAY": ":0", "BROWSER": str(browser), "SSH_CONNECTION": "",
                    "SSH_TTY": ""})
    url = f"https://ci.example.com/{run.pipeline}/runs/{run.id}"
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"opened {url}"
    assert seen.read_text() == url


def test_open_a_run_without_a_web_page_exits_4(cli: Cli) -> None:
    run = cli.runs("conduct")[0]
    done = cli("open", run.id, "--source", "conduct")
    assert done.returncode == 4
    assert one_error_line(done.stderr) == (
        f"runwatch: conduct: run {run.id} has no web page runwatch knows of (its API address: "
        f"{run.url}); set the source's web_url")


# -- logs and watch's why ------------------------------------------------------------------


def test_logs_failed_prints_the_failed_steps_log_with_stderr_marked(cli: Cli) -> None:
    run = cli.run_with("services", RunStatus.FAILED)
    done = cli("logs", run.id, "--failed")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = re.fullmatch(r"== step (\d+)/(\d+) (\S+) \(failed\) ==", lines[0])
    assert header, lines[0]
    assert any(line.startswith("err| ") for line in lines)
    by_name = cli("logs", run.id, "--step", header.group(3).lower())
    by_number = cli("logs", run.id, "--step", header.group(1))
    assert by_name.stdout == by_number.stdout == done.stdout


def test_logs_of_every_step_and_an_unknown_step(cli: Cli) -> None:
    run = cli.run_with("wercker", RunStatus.PASSED)
    done = cli("logs", run.id)
    assert done.returncode == 0, done.stderr
    headers = [line for line in done.stdout.splitlines() if line.startswith("== step ")]
    assert len(headers) >= 2
    bad = cli("logs", run.id, "--step", "no such step")
    assert bad.returncode == 3
    assert one_error_line(bad.stderr).startswith(
        f"runwatch: run {run.id} has no step 'no such step' (steps: ")


def test_logs_of_a_currents_run_are_its_failed_tests_with_errors(cli: Cli) -> None:
    run = cli.run_with("currents", RunStatus.FAILED)
    done = cli("logs", run.id)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("== spec ") and lines[0].endswith(" failed ==")
    assert lines[1].startswith("failed: ")
    assert lines[2].startswith("    ")  # the error, indented


def test_logs_of_an_api_without_logs_is_refused(cli: Cli) -> None:
    run = cli.runs("scheduler")[0]
    done = cli("logs", run.id, "--source", "scheduler")
    assert done.returncode == 5
    assert one_error_line(done.stderr) == "runwatch: scheduler: scheduler has no step logs"


def test_logs_follow_prints_until_the_run_ends(cli: Cli) -> None:
    run = cli.run_with("services", RunStatus.RUNNING)
    proc = subprocess.Popen(
        [RUNWATCH, "logs", run.id, "--follow", "--interval", "0.5", "--config",
         str(cli.config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        env=cli.env)
    time.sleep(1.5)
    assert proc.poll() is None  # still following
    cli.sim.sim.clock.advance(24 * 3600)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    final = cli.sim.sim.clock.now()
    assert final and out.count("== step ") >= 2


def test_watch_ends_with_the_failed_steps_and_their_last_log_lines(cli: Cli) -> None:
    run = cli.run_with("services", RunStatus.FAILED)
    done = cli("watch", run.id, "--log-failed")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    why = next(i for i, line in enumerate(lines) if line.startswith("failed: step "))
    assert lines[why + 1].startswith("    | ")
    assert lines[-1].startswith(f"run {run.id} failed after ")
    plain = cli("watch", run.id)
    assert not any(line.startswith("    | ") for line in plain.stdout.splitlines())
    assert any(line.startswith("failed: step ") for line in plain.stdout.splitlines())


def test_watch_of_a_failed_currents_run_names_the_specs_and_first_errors(cli: Cli) -> None:
    run = cli.run_with("currents", RunStatus.FAILED)
    done = cli("watch", run.id)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    spec = next(i for i, line in enumerate(lines) if line.startswith("failed: spec "))
    assert lines[spec + 1].startswith("    ") and ": " in lines[spec + 1]


# -- list ----------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 100, 60])
def test_list_on_a_terminal_never_wraps(cli: Cli, columns: int) -> None:
    code, out = in_pty(cli, "list", columns=columns)
    assert code == 0
    lines = [SGR.sub("", line) for line in out.decode().splitlines()]
    assert len(lines) > 20
    assert max(len(line) for line in lines) <= columns
    header = lines[0].split()
    assert "STATUS" in header and "TITLE" in header  # the dashboard's first two
    assert ("ID" in header) is (columns >= 80)  # the third, when it fits


def test_list_on_a_wide_terminal_and_wide_show_every_column(cli: Cli) -> None:
    headers = [FIELDS[f][0] for f in DEFAULT_FIELDS]
    _, out = in_pty(cli, "list", columns=250)
    assert SGR.sub("", out.decode().splitlines()[0]).split("  ")[0] == "SOURCE"
    for header in headers:
        assert header in out.decode().splitlines()[0]
    _, out = in_pty(cli, "list", "--wide", columns=80)
    first = out.decode().splitlines()[0]
    assert all(h in first for h in headers) and len(first) > 80


def test_list_piped_has_every_column_tab_free_and_splits_the_same_in_awk(cli: Cli) -> None:
    done = cli("list")
    assert done.returncode == 0, done.stderr
    assert "\t" not in done.stdout and "\x1b" not in done.stdout
    header = done.stdout.splitlines()[0]
    assert re.split(r"  +", header) == [FIELDS[f][0] for f in DEFAULT_FIELDS]
    counts = subprocess.run(["awk", "-F", "  +", "{print NF}"], input=done.stdout,
                            capture_output=True, text=True, check=True).stdout.split()
    assert set(counts) == {str(len(DEFAULT_FIELDS))}
    ids = subprocess.run(["awk", "-F", "  +", "NR > 1 {print $3}"], input=done.stdout,
                         capture_output=True, text=True, check=True).stdout.split()
    assert set(ids) == {r.id for r in all_runs(cli)}


def test_fields_plain_and_json(cli: Cli) -> None:
    plain = cli("list", "--fields", "id,status,web_url", "--source", "services",
                config=links_config(cli))
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert re.split(r"  +", lines[0]) == ["ID", "STATUS", "WEB URL"]
    runs = cli.runs("services")
    assert [re.split(r"  +", line) for line in lines[1:]] == [
        [r.id, r.status.value, f"https://ci.example.com/{r.pipeline}/runs/{r.id}"] for r in runs]
    as_json = cli("list", "--fields", "id,status", "--json", "--source", "services")
    assert json.loads(as_json.stdout) == [{"id": r.id, "status": r.status.value} for r in runs]


def test_an_unknown_field_exits_3_listing_the_valid_ones(cli: Cli) -> None:
    done = cli("list", "--fields", "id,colour", "--json")
    assert done.returncode == 3
    assert one_error_line(done.stderr) == (
        "runwatch: --fields: unknown field 'colour'; valid fields: " + ", ".join(FIELDS))
    assert cli.sim.sim.requests == []


def test_list_filters(cli: Cli) -> None:
    everything = all_runs(cli)

    def listed(*args: str) -> set[tuple[str, str]]:
        done = cli("list", "--json", *args)
        assert done.returncode == 0, done.stderr
        return {(r["source"], r["id"]) for r in json.loads(done.stdout)}

    assert listed("--branch", "main") == {r.key for r in everything if r.branch == "main"}
    assert listed("--author", "ANA") == {
        r.key for r in everything if r.author and "ana" in r.author.lower()}
    assert listed("--pipeline", "orders-etl") == {
        r.key for r in everything if r.pipeline == "orders-etl"}
    # The simulator's frozen clock is in the past: reach back to 30 minutes before it.
    horizon = cli.sim.sim.clock.now() - 1800
    since = f"{int(time.time() - horizon)}s"
    recent = listed("--since", since, "--limit", "500")
    expected = {r.key for r in everything
                if ((r.created_at or r.started_at) and (r.created_at or r.started_at
                                                       ).timestamp() >= horizon + 1)
                or (not (r.created_at or r.started_at) and r.status.is_active)}
    assert expected <= recent and 0 < len(recent) < len(everything)
    bad = cli("list", "--since", "soon")
    assert bad.returncode == 3 and "not a duration like 30m, 2h or 7d: 'soon'" in bad.stderr


# -- completion ----------------------------------------------------------------------------


def _complete(cli: Cli, *words: str) -> list[str]:
    """What bash completes for `runwatch WORDS` (the last word being typed)."""
    line = " ".join(f"'{w}'" for w in ("runwatch", *words))
    code = (f'source <(runwatch completion bash) && COMP_WORDS=({line}) && '
            f'COMP_CWORD={len(words)} && _runwatch && printf "%s\\n" "${{COMPREPLY[@]}}"')
    env = {**cli.env, "PATH": f"{Path(RUNWATCH).parent}:{os.environ['PATH']}",
           "RUNWATCH_CONFIG": str(cli.config)}
    done = subprocess.run(["bash", "-c", code], capture_output=True, text=True, env=env,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completion_loads_and_completes_source_names(cli: Cli) -> None:
    assert _complete(cli, "show", "X", "--source", "") == list(PROVIDERS)
    assert _complete(cli, "list", "--source", "sch") == ["scheduler"]
    assert _complete(cli, "re") == ["rerun"]
    assert "--fields" in _complete(cli, "list", "--f")
    assert _complete(cli, "--theme", "runwatch-d") == ["runwatch-dark"]
    assert _complete(cli, "list", "--status", "ti") == ["timed_out"]
    assert _complete(cli, "completion", "") == ["bash", "zsh", "fish"]


def test_zsh_and_fish_scripts_name_every_command(cli: Cli) -> None:
    zsh = cli("completion", "zsh")
    assert zsh.returncode == 0 and "bashcompinit" in zsh.stdout and "_runwatch" in zsh.stdout
    fish = cli("completion", "fish")
    assert fish.returncode == 0
    for command in ("list", "show", "watch", "logs", "open", "cancel", "rerun", "delete"):
        assert f"-a {command}\n" in fish.stdout
    assert "-l source -xa '(runwatch completion --names sources 2>/dev/null)'" in fish.stdout


def test_the_completion_callback_loads_nothing_heavy(tmp_path: Path, cli: Cli) -> None:
    seen, stdout = run_cli(tmp_path, "completion", "--names", "sources", "--config",
                           str(cli.config))
    assert stdout.split() == list(PROVIDERS)
    assert loaded(seen["modules"], *HEAVY) == []  # type: ignore[arg-type]


def test_the_dashboard_does_not_load_the_browser_module() -> None:
    from test_import_hygiene import modules_after

    # webbrowser pulls in subprocess and friends: only a `w` or `open` loads it.
    assert loaded(modules_after("import runwatch.poller, runwatch.tui.screens.actions"),
                  "webbrowser") == []
