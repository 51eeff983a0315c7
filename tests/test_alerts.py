"""Alerts (issue 16): the `[notify]` rules on runs that end, on the simulator's clock and on
hand-made runs; the exact OSC 9/777 bytes (from the writer and from a pty, tmux-wrapped too),
the command's arguments and environment, webhook bodies at a loopback receiver, the quiet
window, coalescing, and a failing channel said once."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import SimHandle
from loopback import Loopback, QuietHandler
from runwatch.alerts import Alerter
from runwatch.alerts.channels import OSC_TEXT_MAX
from runwatch.config import parse
from runwatch.config_notify import NotifyConfig
from runwatch.models import Run, RunStatus
from runwatch.poller import PollEvent, RunTransition
from runwatch.session import Session

T0 = 1_795_348_800.0


def osc(text: str) -> str:
    return f"\x1b]9;{text}\x07\x1b]777;notify;runwatch;{text}\x07"


def run(run_id: str, status: RunStatus, *, at: float = 0.0, duration: float = 60.0,
        source: str = "ci", branch: str = "main", title: str | None = "fix login") -> Run:
    start = datetime.fromtimestamp(T0 + at, UTC)
    end = datetime.fromtimestamp(T0 + at + duration, UTC) if status.is_terminal else None
    return Run(source=source, provider="services", id=run_id, status=status,
               provider_status=status.value, title=title, branch=branch, pipeline="build",
               created_at=start, started_at=start, finished_at=end,
               web_url=f"https://ci.example/{run_id}")


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


def alerter(written: list[str], clock: Clock | None = None, **notify: object) -> Alerter:
    return Alerter(NotifyConfig.model_validate(notify), write=written.append,
                   now=clock or Clock(), tmux=False)


def test_a_failure_writes_osc_9_and_osc_777() -> None:
    written: list[str] = []
    alerts = alerter(written)
    failed = run("12", RunStatus.FAILED)
    alerts.offer(failed, [failed])  # no loop: sent at once
    assert written == [osc("ci: run 12 failed · fix login · (main)")]


def test_an_ascii_terminals_alert_is_ascii_within_the_cap() -> None:
    # The C locale (`--ascii`): the text is made ASCII before the cap, so a title of wide
    # characters (each "??") is still cut to OSC_TEXT_MAX, and with ASCII's "~".
    written: list[str] = []
    alerts = alerter(written)
    alerts.ascii = True
    failed = run("12", RunStatus.FAILED, title="修正" * 200)
    alerts.offer(failed, [failed])
    (sequence,) = written
    assert sequence.isascii()
    body = sequence.split("\x07")[0].removeprefix("\x1b]9;")
    assert body.startswith("ci: run 12 failed - ????")
    assert len(body) == OSC_TEXT_MAX and body.endswith("~")
    assert sequence == osc(body)


def test_coalesced_quiet_per_track_and_bell() -> None:
    written: list[str] = []
    clock = Clock()
    alerts = alerter(written, clock, bell=True, quiet=10)
    alerts.coalesce_s = 60.0

    async def scenario() -> None:
        for i, source in enumerate(("a", "b", "c")):
            r = run(str(i), RunStatus.FAILED, source=source)
            alerts.offer(r, [r])
        again = run("9", RunStatus.FAILED, source="a")
        alerts.offer(again, [again])  # track a alerted a moment ago: held back
        alerts.flush()

    asyncio.run(scenario())
    assert written == [osc("3 runs failed: a #0, b #1, c #2"), "\x07"]
    written.clear()
    clock.t += 9 * 60
    late = run("10", RunStatus.FAILED, source="a")
    alerts.offer(late, [late])
    assert written == []  # 9 minutes: still quiet
    clock.t += 61
    alerts.offer(late, [late])
    assert written == [osc("a: run 10 failed · fix login · (main)"), "\x07"]


def test_fixed_slower_canceled_and_the_rules() -> None:
    written: list[str] = []
    alerts = alerter(written, on=["fixed", "slower", "canceled"], quiet=0,
                     branches=["main", "release/*"])
    past = [run(str(i), RunStatus.PASSED, at=i * 100, duration=100 + i) for i in range(8)]
    red = run("r", RunStatus.FAILED, at=900)
    fixed = run("f", RunStatus.PASSED, at=1000, duration=100)
    alerts.offer(red, [*past, red])  # failed is not in `on`
    alerts.offer(fixed, [*past, red, fixed])
    slow = run("s", RunStatus.PASSED, at=1100, duration=500)
    alerts.offer(slow, [*past, red, fixed, slow])
    alerts.offer(run("c", RunStatus.CANCELED, at=1200, branch="release/2"), [])
    alerts.offer(run("d", RunStatus.CANCELED, at=1200, branch="feature/x"), [])  # no glob
    assert written == [osc("ci: run f is fixed · fix login · (main)"),
                       osc("ci: run s was slower than usual · fix login · (main)"),
                       osc("ci: run c was canceled · fix login · (release/2)")]


def test_a_channel_rule_overrides_the_table() -> None:
    written: list[str] = []
    alerts = alerter(written, on=["failed", "canceled"], quiet=0,
                     rules={"desktop": {"on": ["canceled"], "sources": ["web-*"]}})
    for r in (run("1", RunStatus.FAILED, source="web-e2e"),
              run("2", RunStatus.CANCELED, source="api"),
              run("3", RunStatus.CANCELED, source="web-e2e")):
        alerts.offer(r, [])
    assert written == [osc("web-e2e: run 3 was canceled · fix login · (main)")]


def test_hostile_text_cannot_end_or_split_the_sequence() -> None:
    written: list[str] = []
    alerts = alerter(written)
    alerts.offer(run("1", RunStatus.FAILED, title="a;b\x07c\x1b]0;pwned\x07", source="x;y"),
                 [])
    assert written == [osc("x,y: run 1 failed · a,bc · (main)")]


PTY_SCRIPT = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime
    from runwatch.alerts import Alerter
    from runwatch.config_notify import NotifyConfig
    from runwatch.models import Run
    alerts = Alerter(NotifyConfig(bell=True), write=lambda s: (sys.stdout.write(s),
                     sys.stdout.flush()))
    r = Run(source="ci", provider="services", id="7", status="timed_out",
            provider_status="TIMEOUT", created_at=datetime.now(UTC))
    alerts.offer(r, [r])
""")


@pytest.mark.parametrize("tmux", [False, True])
def test_the_bytes_reach_the_terminal_from_a_pty(tmux: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    if tmux:
        env["TMUX"] = "/tmp/tmux-0/default,1,0"
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", PTY_SCRIPT], stdin=slave, stdout=slave,
                            stderr=subprocess.PIPE, env=env)
    os.close(slave)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    got = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    text = "ci: run 7 timed out"
    nine, seven = f"\x1b]9;{text}\x07", f"\x1b]777;notify;runwatch;{text}\x07"
    if tmux:
        nine, seven = (f"\x1bPtmux;{s.replace(chr(27), chr(27) * 2)}\x1b\\"
                       for s in (nine, seven))
    assert got == (nine + seven + "\x07").encode()


COMMAND = textwrap.dedent("""
    import json, os, sys
    keys = sorted(k for k in os.environ if k.startswith("RUNWATCH_"))
    with open(sys.argv[1], "a") as out:
        out.write(json.dumps({"argv": sys.argv[2:], "env": {k: os.environ[k] for k in keys},
                              "token": "CURRENTS_API_KEY" in os.environ}) + "\\n")
""")


def test_the_command_gets_the_facts_and_never_a_token(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURRENTS_API_KEY", "secret-token")
    log = tmp_path / "calls.jsonl"
    config = parse({"notify": {"desktop": False, "quiet": 0,
                               "command": [sys.executable, "-c", COMMAND, str(log)]},
                    "sources": [{"name": "ci", "provider": "currents",
                                 "base_url": "https://api.currents.dev", "project_id": "p",
                                 "token_env": "CURRENTS_API_KEY"}]})
    session = Session({})
    alerts = session.alert(config)
    alerts.offer(run("5", RunStatus.FAILED), [])
    alerts.drain()
    [call] = [json.loads(line) for line in log.read_text().splitlines()]
    assert call == {"argv": ["ci: run 5 failed · fix login · (main)"], "token": False, "env": {
        "RUNWATCH_ALERT": "failed", "RUNWATCH_COUNT": "1",
        "RUNWATCH_MESSAGE": "ci: run 5 failed · fix login · (main)", "RUNWATCH_RUN_ID": "5",
        "RUNWATCH_SOURCE": "ci", "RUNWATCH_STATUS": "failed", "RUNWATCH_TITLE": "fix login",
        "RUNWATCH_WEB_URL": "https://ci.example/5"}}


@pytest.mark.parametrize(("argv", "said"), [
    (["false"], "alert command: `false` exited with 1"),
    ([sys.executable, "-c", "import time; time.sleep(5)"],
     f"alert command: `{sys.executable}` did not finish within 0.3 s (killed)"),
    (["/nonexistent/notify"], "alert command: `/nonexistent/notify` could not run: "
     "No such file or directory"),
])
def test_a_failing_command_is_said_once(argv: list[str], said: str) -> None:
    problems: list[str] = []
    alerts = Alerter(NotifyConfig(desktop=False, quiet=0, command=argv, command_timeout=0.3),
                     on_problem=problems.append)
    for i in range(3):
        alerts.offer(run(str(i), RunStatus.FAILED, source=f"s{i}"), [])
        alerts.drain()
    assert problems == [said]


class Receiver:
    """A loopback HTTP server that records the bodies POSTed to it and answers `codes`."""

    def __init__(self, codes: list[int]) -> None:
        self.bodies: list[dict[str, object]] = []
        self.codes = codes
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.codes.pop(0) if receiver.codes else 200)
                self.send_header("content-length", "0")
                self.end_headers()

        self.loopback = Loopback(Handler)
        self.url = f"{self.loopback.root}/hook/SECRET"

    def close(self) -> None:
        self.loopback.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([])
    yield r
    r.close()


def test_the_webhook_posts_slack_text_and_retries(receiver: Receiver) -> None:
    receiver.codes[:] = [503, 429]
    problems: list[str] = []
    alerts = Alerter(NotifyConfig(desktop=False, quiet=0, webhook=receiver.url),
                     on_problem=problems.append, webhook_wait=lambda attempt: 0.0)
    alerts.coalesce_s = 60.0

    async def scenario() -> None:
        alerts.offer(run("1", RunStatus.FAILED, source="a"), [])
        alerts.offer(run("2", RunStatus.TIMED_OUT, source="b"), [])
        alerts.flush()

    asyncio.run(scenario())
    alerts.drain()
    assert problems == []
    body = {"text": "2 alerts: a #1 failed, b #2 timed out", "runs": [
        {"alert": "failed", "source": "a", "id": "1", "status": "failed",
         "title": "fix login", "pipeline": "build", "branch": "main", "commit": None,
         "author": None, "web_url": "https://ci.example/1"},
        {"alert": "timed_out", "source": "b", "id": "2", "status": "timed_out",
         "title": "fix login", "pipeline": "build", "branch": "main", "commit": None,
         "author": None, "web_url": "https://ci.example/2"}]}
    assert receiver.bodies == [body, body, body]  # 503, 429, then 200


def test_a_refused_webhook_is_not_retried_and_said_once_without_its_path(
        receiver: Receiver) -> None:
    receiver.codes[:] = [404, 404]
    problems: list[str] = []
    alerts = Alerter(NotifyConfig(desktop=False, quiet=0, webhook=receiver.url),
                     on_problem=problems.append, webhook_wait=lambda attempt: 0.0)
    for i in range(2):
        alerts.offer(run(str(i), RunStatus.FAILED, source=f"s{i}"), [])
        alerts.drain()
    assert len(receiver.bodies) == 2  # one attempt each
    host = receiver.url.split("/")[2]
    assert problems == [f"alert webhook: webhook to {host}: HTTP 404"]


async def test_runs_ending_on_the_simulator_clock_alert_once_per_poll(sim: SimHandle) -> None:
    providers = {"wercker": sim.provider("wercker")}
    session = Session(providers)
    config = parse({"notify": {"on": ["failed"], "quiet": 0}})
    alerts = session.alert(config)
    written: list[str] = []
    alerts.write, alerts.tmux, alerts.coalesce_s = written.append, False, 0.0
    ended: list[list[Run]] = []
    session.on_event = lambda e: _collect(ended, e)
    try:
        for _ in range(40):
            ended.append([])
            await session.poller.poll_once("wercker")
            await asyncio.sleep(0.01)  # the coalescing moment passes
            sim.sim.clock.advance(120)
    finally:
        await session.aclose()
    expected = []
    for batch in ended:
        red = [r for r in batch if r.status is RunStatus.FAILED]
        if len(red) == 1:
            r = red[0]
            expected.append(osc(f"wercker: run {r.id} failed · {r.title} · ({r.branch})"))
        elif red:
            expected.append(osc(f"{len(red)} runs failed: "
                                + ", ".join(f"wercker #{r.id}" for r in red)))
    assert sum(len(b) for b in ended) > 5  # runs did end on the clock
    assert any(r.status is RunStatus.FAILED for b in ended for r in b)
    assert written == expected


def _collect(ended: list[list[Run]], event: PollEvent) -> None:
    if isinstance(event, RunTransition):
        ended[-1].append(event.run)
