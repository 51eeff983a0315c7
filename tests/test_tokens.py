"""runwatch.tokens: each source's token (and the scheduler's password) from an env var, a
command or the owner-only file, resolved with an asyncio subprocess; every failure in words;
fetched again after a 401 (a command at most once a minute). Real commands, real processes."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runwatch.backoff import TOKEN_RETRY_S
from runwatch.config import parse
from runwatch.poller import Poller
from runwatch.providers import build_provider, build_providers
from runwatch.sim import demo_tokens
from runwatch.sim.demo import DEMO_SCOPES
from runwatch.sim.scheduler import LOGIN_PASSWORD, LOGIN_USERNAME
from runwatch.tokens import SecretResolver, TokenError, password_resolver, token_resolver

VAR = "RW_TEST_TOKEN_VAR"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Commands run where runwatch runs: here, so that they name their files briefly.
    monkeypatch.chdir(tmp_path)


def py(tmp_path: Path, body: str, name: str = "cmd.py") -> str:
    """A token_cmd running a small Python script (in tmp_path, the current directory)."""
    (tmp_path / name).write_text(body, encoding="utf-8")
    return f"{shlex.quote(sys.executable)} {name}"


def counting_cat(tmp_path: Path) -> tuple[str, Path, Path]:
    """A command printing the file `token`, counting its runs in `runs`."""
    token, runs = tmp_path / "token", tmp_path / "runs"
    cmd = py(tmp_path, f"open({str(runs)!r}, 'a').write('x')\n"
                       f"print(open({str(token)!r}).read())\n", "cat.py")
    return cmd, token, runs


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting for init to reap it does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


async def until(condition, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def failure(resolver: SecretResolver) -> str:
    with pytest.raises(TokenError) as info:
        await resolver.get()
    assert not resolver.known
    return str(info.value)


# -- env and file ----------------------------------------------------------------------------


async def test_an_unset_variable_is_said_in_words_then_read_once_set(monkeypatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    resolver = SecretResolver("web-e2e", env=VAR)
    assert await failure(resolver) == f"web-e2e: token: env {VAR} is not set"
    monkeypatch.setenv(VAR, "  ")
    assert await failure(resolver) == f"web-e2e: token: env {VAR} is not set"
    monkeypatch.setenv(VAR, "from-env\n")  # set later: the next try reads it
    assert await resolver.get() == "from-env"
    assert resolver.known


async def test_the_files_token_is_used_and_never_shown() -> None:
    resolver = SecretResolver("ci", inline="s3cret-value")
    assert await resolver.get() == "s3cret-value"
    assert "s3cret-value" not in repr(resolver)


async def test_a_token_that_cannot_go_in_a_header_is_refused_without_quoting_it(
    monkeypatch,
) -> None:
    monkeypatch.setenv(VAR, "abc\x1b]52;c;bad\x07")
    message = await failure(SecretResolver("ci", env=VAR))
    assert message == f"ci: token: env {VAR} gave a token with control or non-ASCII characters"


# -- commands --------------------------------------------------------------------------------


async def test_a_commands_first_line_is_the_token_and_never_in_a_repr(tmp_path) -> None:
    cmd = py(tmp_path, "print('tok-123')\nprint('second line')\n")
    resolver = SecretResolver("ci", cmd=cmd)
    assert await resolver.get() == "tok-123"
    assert "tok-123" not in repr(resolver)


@pytest.mark.parametrize(
    ("cmd", "words"),
    [
        ("pass-nowhere show ci",
         "token_cmd `pass-nowhere show ci`: command `pass-nowhere` not found"),
        ("sh -c 'echo; echo \"gpg: decryption failed: No secret key\" >&2; echo more >&2; exit 1'",
         "exited 1: gpg: decryption failed: No secret key"),
        ("sh -c 'exit 3'", "exited 3"),
        ("true", "token_cmd `true` printed nothing"),
        ("sh -c 'kill -9 $$'", "was killed by signal 9"),
        ("'unbalanced", "cannot be read as a command"),
    ],
    ids=["not-found", "exit-1-stderr", "exit-3-silent", "printed-nothing", "signal", "quoting"],
)
async def test_a_failing_command_is_said_in_words(cmd: str, words: str) -> None:
    message = await failure(SecretResolver("ci", cmd=cmd))
    assert message.startswith("ci: token_cmd `")
    assert words in message
    assert "Traceback" not in message and "Error(" not in message
    if "exit 3" in cmd:
        assert message.endswith("exited 3")


async def test_a_hanging_command_times_out_and_is_killed_with_its_children(tmp_path) -> None:
    pids = tmp_path / "pids"
    # The shell starts a child (as `pass` starts gpg) and both hang.
    cmd = "sh -c 'sleep 60 & echo $$ $! > pids; wait'"
    resolver = SecretResolver("ci", cmd=cmd, timeout_s=0.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await failure(resolver) == f"ci: token_cmd `{cmd}` timed out after 0.5 s"
    assert loop.time() - started < 3.0
    shell, child = map(int, pids.read_text().split())
    await until(lambda: not alive(shell) and not alive(child), "the command's processes to end")
    assert resolver.pending() is None


async def test_a_slow_command_says_how_long_it_has_been_running(tmp_path) -> None:
    clock = Clock()
    gate = tmp_path / "gate"
    cmd = py(tmp_path, "import os, time\n"
                       f"while not os.path.exists({str(gate)!r}): time.sleep(0.01)\n"
                       "print('tok-slow')\n")
    resolver = SecretResolver("ci", cmd=cmd, clock=clock)
    assert resolver.pending() is None
    first = asyncio.ensure_future(resolver.get())
    second = asyncio.ensure_future(resolver.get())  # a second caller joins the same run
    await until(lambda: resolver.pending() is not None, "the command to start")
    clock.now += 12.4
    assert resolver.pending() == f"ci: token_cmd `{cmd}` still running, 12 s"
    gate.touch()
    assert await first == "tok-slow"
    assert await second == "tok-slow"
    assert resolver.pending() is None


async def test_aclose_stops_a_command_still_running(tmp_path) -> None:
    pid_file = tmp_path / "pid"
    resolver = SecretResolver("ci", cmd="sh -c 'echo $$ > pid; exec sleep 60'")
    waiting = asyncio.ensure_future(resolver.get())
    await until(pid_file.exists, "the command to start")
    await until(lambda: pid_file.read_text().strip() != "", "its pid")
    pid = int(pid_file.read_text())
    await resolver.aclose()
    await until(lambda: not alive(pid), "the command to be killed")
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_caller_giving_up_does_not_kill_the_command_others_wait_for(tmp_path) -> None:
    gate = tmp_path / "gate"
    cmd = py(tmp_path, "import os, time\n"
                       f"while not os.path.exists({str(gate)!r}): time.sleep(0.01)\n"
                       "print('tok')\n")
    resolver = SecretResolver("ci", cmd=cmd)
    quitter = asyncio.ensure_future(resolver.get())
    stayer = asyncio.ensure_future(resolver.get())
    await until(lambda: resolver.pending() is not None, "the command to start")
    quitter.cancel()
    gate.touch()
    assert await stayer == "tok"


async def test_a_long_command_is_cut_in_messages_so_what_happened_stays_in_view() -> None:
    cmd = "op read op://Private/ci-token/credential --account my-team.1password.eu --no-color"
    message = await failure(SecretResolver("ci", cmd=cmd.replace("op ", "op-nowhere ", 1)))
    assert message == ("ci: token_cmd `op-nowhere read op://Private/ci-token/credential "
                       "--account …`: command `op-nowhere` not found")


# -- again after a 401 -----------------------------------------------------------------------


async def test_renew_runs_the_command_again_at_most_once_a_minute(tmp_path) -> None:
    clock = Clock()
    cmd, token, runs = counting_cat(tmp_path)
    token.write_text("old")
    resolver = SecretResolver("ci", cmd=cmd, clock=clock)
    assert await resolver.get() == "old"
    token.write_text("new")
    clock.now += 30
    assert resolver.renew_wait() == 30.0
    assert await resolver.renew() is None  # too soon: the command is not run
    assert runs.read_text() == "x"
    clock.now += 30
    assert resolver.renew_wait() == 0.0
    assert await resolver.renew() == "new"
    assert runs.read_text() == "xx"
    clock.now += 61
    assert await resolver.renew() is None  # ran again, same token: nothing to retry with
    assert runs.read_text() == "xxx"


async def test_a_renewal_that_fails_forgets_the_rejected_token(tmp_path) -> None:
    clock = Clock()
    cmd, token, _runs = counting_cat(tmp_path)
    token.write_text("old")
    resolver = SecretResolver("ci", cmd=cmd, clock=clock)
    await resolver.get()
    token.unlink()  # the password manager locked again
    clock.now += 61
    with pytest.raises(TokenError, match="exited 1: Traceback"):
        await resolver.renew()
    assert not resolver.known


async def test_renew_reads_the_variable_again(monkeypatch) -> None:
    monkeypatch.setenv(VAR, "one")
    resolver = SecretResolver("ci", env=VAR)
    assert await resolver.get() == "one"
    assert resolver.renew_wait() is None  # nothing to run: no once-a-minute rule
    assert await resolver.renew() is None
    monkeypatch.setenv(VAR, "two")
    assert await resolver.renew() == "two"
    monkeypatch.delenv(VAR)
    with pytest.raises(TokenError, match=f"env {VAR} is not set"):
        await resolver.renew()
    assert not resolver.known


# -- from the config -------------------------------------------------------------------------


def config_with(source: dict[str, object], **general: object):
    return parse({"runwatch": general, "sources": [
        {"name": "web-e2e", "provider": "currents", "base_url": "https://api.currents.dev",
         "project_id": "p", **source},
    ]})


def test_token_timeout_defaults_to_10_s_and_reaches_the_resolver() -> None:
    assert config_with({"token_cmd": "pass show ci"}).runwatch.token_timeout == 10.0
    config = config_with({"token_cmd": "pass show ci"}, token_timeout=2.5)
    provider = build_providers(config)["web-e2e"]
    source = provider.client.token_source
    assert source is not None and source.timeout_s == 2.5 and source.cmd == "pass show ci"
    assert provider.client.token is None  # nothing was run to build it


def test_the_resolvers_follow_the_configs_keys() -> None:
    config = config_with({"token_env": VAR, "username": "u", "password_cmd": "pass show pw"})
    token = token_resolver(config.sources[0])
    assert (token.env, token.cmd, token.what) == (VAR, None, "token")
    password = password_resolver(config.sources[0])
    assert (password.env, password.cmd, password.what) == (None, "pass show pw", "password")


@pytest.mark.parametrize("key", ["token_env", "token_cmd"])
def test_building_a_provider_resolves_nothing(key: str, monkeypatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    value = VAR if key == "token_env" else "sleep 60"
    provider = build_providers(config_with({key: value}))["web-e2e"]  # no error, no wait
    assert provider.client.token_source is not None
    assert not provider.client.token_source.known


def test_a_files_token_needs_no_resolver() -> None:
    provider = build_providers(config_with({"token": "s3cret-value"}))["web-e2e"]
    assert provider.client.token == "s3cret-value"
    assert provider.client.token_source is None
    assert "s3cret-value" not in repr(provider.client)


# -- through a real provider and the poller --------------------------------------------------


async def test_a_request_waits_for_the_token_and_a_failure_is_that_sources_error(
    sim, monkeypatch
) -> None:
    monkeypatch.delenv(VAR, raising=False)
    provider = build_provider(sim.source("currents", token_env=VAR))
    try:
        with pytest.raises(TokenError, match=f"currents: token: env {VAR} is not set"):
            await provider.list_runs()
        assert sim.sim.requests == []  # nothing sent without its token
        monkeypatch.setenv(VAR, demo_tokens()["currents"])
        assert await provider.list_runs()
        assert sim.sim.requests[-1].headers.get("authorization") == \
            f"Bearer {demo_tokens()['currents']}"
    finally:
        await provider.aclose()


async def test_the_poller_retries_a_missing_token_every_30_s(sim, monkeypatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    provider = build_provider(sim.source("currents", token_env=VAR))
    poller = Poller({"currents": provider}, intervals={"currents": 5.0}, on_event=lambda e: None)
    try:
        await poller.poll_once("currents")
        health = poller.health("currents")
        assert health.state == "error"
        assert health.error == f"currents: token: env {VAR} is not set"
        assert health.interval_s == TOKEN_RETRY_S == 30.0
        monkeypatch.setenv(VAR, demo_tokens()["currents"])
        await poller.poll_once("currents")
        assert poller.health("currents").state == "ok"
        assert poller.runs("currents")
    finally:
        await poller.aclose()


async def test_a_401_runs_the_token_command_again_and_the_source_recovers(
    sim, tmp_path
) -> None:
    clock = Clock()
    cmd, token, runs = counting_cat(tmp_path)
    token.write_text("expired-token")
    provider = build_provider(sim.source("currents", token_cmd=cmd))
    assert provider.client.token_source is not None
    provider.client.token_source.clock = clock
    poller = Poller({"currents": provider}, intervals={"currents": 5.0}, on_event=lambda e: None)
    try:
        await poller.poll_once("currents")
        health = poller.health("currents")
        assert health.state == "error"
        assert f"token rejected (token from command `{cmd}`)" in (health.error or "")
        assert "expired-token" not in (health.error or "")
        assert runs.read_text() == "x"  # just fetched: not run again at once
        assert health.interval_s == 60.0  # tried again when the command may run again

        token.write_text(demo_tokens()["currents"])  # e.g. the CI token was rotated
        clock.now += 30
        await poller.poll_once("currents")  # a 401 within the minute: no second run
        assert runs.read_text() == "x"
        assert poller.health("currents").interval_s == 30.0

        clock.now += 30
        await poller.poll_once("currents")  # 401, the command again, the same poll retried
        assert runs.read_text() == "xx"
        assert poller.health("currents").state == "ok"
        assert poller.runs("currents")
        sent = [r.headers.get("authorization") for r in sim.sim.requests]
        assert sent[-2:] == ["Bearer expired-token", f"Bearer {demo_tokens()['currents']}"]
    finally:
        await poller.aclose()


async def test_the_schedulers_login_password_comes_from_a_command_too(sim, tmp_path) -> None:
    cmd = py(tmp_path, f"print({LOGIN_PASSWORD!r})\n")
    provider = build_provider(sim.source("scheduler", username=LOGIN_USERNAME, password_cmd=cmd))
    try:
        assert await provider.list_runs()
        assert any(r.path.endswith("/auth/login") for r in sim.sim.requests)
    finally:
        await provider.aclose()


async def test_a_password_command_failing_is_said_in_words(sim) -> None:
    provider = build_provider(sim.source("scheduler", username=LOGIN_USERNAME,
                                         password_cmd="sh -c 'echo locked >&2; exit 2'"))
    try:
        with pytest.raises(TokenError) as info:
            await provider.list_runs()
        assert str(info.value) == (
            "scheduler: password_cmd `sh -c 'echo locked >&2; exit 2'` exited 2: locked"
        )
    finally:
        await provider.aclose()


# -- the command line ------------------------------------------------------------------------


def test_list_prints_the_healthy_sources_and_says_which_tokens_failed(sim, tmp_path) -> None:
    tokens = demo_tokens()
    lines = ["[runwatch]", "token_timeout = 1.0"]
    for p in ("services", "wercker", "currents", "conduct", "scheduler"):
        lines += ["[[sources]]", f'name = "{p}"', f'provider = "{p}"',
                  f'base_url = "{sim.base_url(p)}"',
                  *(f'{k} = "{v}"' for k, v in DEMO_SCOPES[p].items()),
                  {"currents": f'token_env = "{VAR}"', "conduct": 'token_cmd = "sleep 60"'}
                  .get(p, f'token_env = "RW_TEST_{p.upper()}"')]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in (VAR, "RUNWATCH_CONFIG")}
    env.update({f"RW_TEST_{p.upper()}": tokens[p] for p in ("services", "wercker", "scheduler")})
    runwatch = str(Path(sys.executable).with_name("runwatch"))
    started = time.monotonic()
    done = subprocess.run([runwatch, "list", "--json", "--config", str(config)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    elapsed = time.monotonic() - started
    assert done.returncode == 3
    assert {r["source"] for r in json.loads(done.stdout)} == {"services", "wercker", "scheduler"}
    assert sorted(done.stderr.splitlines()) == [
        "runwatch: conduct: token_cmd `sleep 60` timed out after 1 s",
        f"runwatch: currents: token: env {VAR} is not set",
    ]
    assert elapsed < 15  # token_timeout, not the command's 60 s
