"""Issue 8: hostile answers over real loopback HTTP end fast, in a typed error that names the
source, the path and the limit; memory stays bounded by the cap; redirects stay in their
origin and never carry a POST; a bad number or date costs that field only."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from conftest import SCOPES, SimHandle
from runwatch.errors import (
    BadResponse,
    BodyTooLarge,
    RateLimited,
    RedirectRefused,
    RequestTimeout,
    SlowAnswer,
)
from runwatch.http import RetryPolicy, SourceClient
from runwatch.poll_events import PollEvent
from runwatch.poller import Poller
from runwatch.sim import PROVIDERS, Fault, demo_tokens
from runwatch.sim.scheduler import LOGIN_PASSWORD, LOGIN_USERNAME
from runwatch.sim.server import ThreadedServer

MIB = 1 << 20
RUNWATCH = str(Path(sys.executable).with_name("runwatch"))
RUNS_PATH = {"services": "/api/runs", "wercker": "/api/v3/runs", "conduct": "/v1/runs",
             "currents": "/v1/projects/proj-1/runs", "scheduler": "/api/v1/runs"}


def client(sim: SimHandle, provider: str = "conduct", **kwargs: object) -> SourceClient:
    fields: dict[str, object] = {"retry": RetryPolicy.none(), "timeout_s": 5.0, **kwargs}
    return SourceClient(source=provider, base_url=sim.base_url(provider),
                        token=demo_tokens()[provider], **fields)  # type: ignore[arg-type]


class Elsewhere:
    """Another origin on loopback that records what reaches it (nothing should)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

        async def app(scope, receive, send):  # type: ignore[no-untyped-def]
            request = Request(scope, receive)
            self.seen.append((request.method, request.url.path, await request.body()))
            await PlainTextResponse("stolen")(scope, receive, send)

        self.server = ThreadedServer(app).start()

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    other = Elsewhere()
    yield other
    other.server.stop()


# -- size and time ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gzip_bomb", "endless", "huge"])
async def test_an_oversized_body_is_cut_at_the_cap_as_a_typed_error(sim, kind):
    sim.sim.inject("conduct", Fault(kind=kind))
    c = client(sim)
    started = time.monotonic()
    with pytest.raises(BodyTooLarge) as caught:
        await c.get_json("/v1/runs")
    assert time.monotonic() - started < 5.0
    assert str(caught.value) == (
        "conduct: /v1/runs sent more than 32 MiB (the max_body limit); its answer was dropped"
    )
    await c.aclose()


async def test_the_cap_is_the_clients_max_body(sim):
    sim.sim.inject("conduct", Fault(kind="gzip_bomb"))
    c = client(sim, max_body=2 * MIB)
    with pytest.raises(BodyTooLarge, match=r"more than 2 MiB \(the max_body limit\)"):
        await c.get_json("/v1/runs")
    await c.aclose()


async def test_a_dripping_body_ends_at_the_deadline_and_is_not_retried(sim):
    sim.sim.inject("conduct", Fault(kind="drip"))
    c = client(sim, timeout_s=1.5, retry=RetryPolicy(attempts=3))
    started = time.monotonic()
    with pytest.raises(SlowAnswer) as caught:
        await c.get_json("/v1/runs")
    took = time.monotonic() - started
    assert 1.4 < took < 3.0
    assert str(caught.value) == (
        "conduct: 127.0.0.1 /v1/runs did not finish its answer within 1.5 s (the timeout)"
    )
    assert isinstance(caught.value, RequestTimeout)
    assert len(sim.sim.requests_to("conduct")) == 1  # a drip drips again: no retry
    await c.aclose()


async def test_a_log_over_its_cap_is_kept_cut_with_a_note(sim):
    sim.sim.inject("wercker", Fault(kind="huge"))
    c = client(sim, "wercker", max_log_body=1 * MIB)
    text = await c.get_text("/api/v3/runsteps/step-1/log")
    assert text.endswith("\n… log truncated at 1 MiB")
    assert len(text) == MIB + len("\n… log truncated at 1 MiB")
    await c.aclose()


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("broken_gzip", "conduct: /v1/runs sent a body that cannot be read: its gzip "
                        "compression is broken"),
        ("deep_nesting", "conduct: /v1/runs returned application/json, nested too deeply to "
                         "read ([[[["),
        ("redirect_loop", "conduct: /v1/runs redirected more than 5 times in a row "
                          "(a redirect loop)"),
    ],
)
async def test_broken_answers_are_typed_errors_in_words(sim, kind, words):
    sim.sim.inject("conduct", Fault(kind=kind))
    c = client(sim)
    with pytest.raises((BadResponse, RedirectRefused)) as caught:
        await c.get_json("/v1/runs")
    assert str(caught.value).startswith(words)
    assert "internal error" not in str(caught.value)
    await c.aclose()


async def test_gzip_cut_short_is_an_error_and_an_empty_gzip_body_is_none():
    import gzip

    whole = gzip.compress(b'{"ok": true}')

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await Request(scope, receive).body()
        body = whole[:-6] if scope["path"] == "/cut" else b""
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-encoding", b"gzip"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    server = ThreadedServer(app).start()
    c = SourceClient(source="ci", base_url=server.url, retry=RetryPolicy.none())
    try:
        with pytest.raises(BadResponse, match=r"^ci: /cut sent a body that cannot be read: "
                                              r"its gzip stream is cut short$"):
            await c.get_json("/cut")
        assert await c.send("POST", "/empty", json_body={}) is None
    finally:
        await c.aclose()
        server.stop()


# -- redirects -------------------------------------------------------------------------------


async def test_a_get_follows_a_redirect_within_its_origin(sim):
    sim.sim.inject("conduct", Fault(kind="redirect_307", times=1,
                                    location=f"{sim.url}/conduct/v1/runs?limit=2"))
    c = client(sim)
    body = await c.get_json("/v1/runs")
    assert len(body["runs"]) == 2
    followed = sim.sim.requests_to("conduct")[1]
    assert (followed.path, followed.query) == ("/v1/runs", "limit=2")
    assert followed.headers["authorization"] == "Bearer sim-conduct-token"
    await c.aclose()


async def test_a_get_redirected_to_another_origin_is_refused(sim, elsewhere):
    sim.sim.inject("conduct", Fault(kind="redirect_307", location=f"{elsewhere.url}/runs"))
    c = client(sim)
    with pytest.raises(RedirectRefused) as caught:
        await c.get_json("/v1/runs")
    assert str(caught.value) == (
        f"conduct: /v1/runs redirects to {elsewhere.url}/runs, outside {sim.url}; runwatch "
        "follows redirects within the base URL's origin only"
    )
    assert elsewhere.seen == []
    await c.aclose()


async def test_https_never_redirects_to_http():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://ci.example.com/x/api/runs"})

    c = SourceClient(source="ci", base_url="https://ci.example.com/x", retry=RetryPolicy.none(),
                     transport=httpx.MockTransport(handler))
    with pytest.raises(RedirectRefused, match=r"outside https://ci\.example\.com:443"):
        await c.get_json("/api/runs")


async def test_the_login_post_does_not_follow_a_307(sim, elsewhere, monkeypatch):
    monkeypatch.setenv("SCHED_PW", LOGIN_PASSWORD)
    sim.sim.inject("scheduler", Fault(kind="redirect_307", location=f"{elsewhere.url}/login"))
    provider = sim.provider("scheduler", token="", username=LOGIN_USERNAME,
                            password_env="SCHED_PW")
    with pytest.raises(RedirectRefused) as caught:
        await provider.list_runs()
    assert str(caught.value) == (
        f"scheduler: POST /api/v1/auth/login was redirected to {elsewhere.url}/login; "
        "runwatch follows no redirect of a POST (is base_url the final address?)"
    )
    assert elsewhere.seen == []  # the password went nowhere else
    assert [(r.method, r.path) for r in sim.sim.requests_to("scheduler")] == [
        ("POST", "/api/v1/auth/login")
    ]
    await provider.aclose()


# -- Retry-After -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "asked"),
    [("1e309", 3600.0), ("999999999", 3600.0), ("-5", 0.0), ("soon", None),
     ("Fri, 31 Dec 9999 23:59:59 GMT", 3600.0), ("NaN", None)],
)
async def test_any_retry_after_is_a_rate_limit_with_a_finite_wait(sim, header, asked):
    sim.sim.inject("conduct", Fault(kind="429", retry_after=header))
    c = client(sim)
    with pytest.raises(RateLimited) as caught:
        await c.get_json("/v1/runs")
    assert caught.value.retry_after == asked
    assert str(caught.value) == "conduct: HTTP 429 Too Many Requests: rate limit exceeded"
    await c.aclose()


async def test_an_unparsable_retry_after_does_not_stop_the_retries(sim):
    sim.sim.inject("conduct", Fault(kind="429", retry_after="soon", times=1))
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    c = client(sim, retry=RetryPolicy(attempts=3), sleep=no_sleep)
    assert isinstance(await c.get_json("/v1/runs"), dict)
    assert len(waits) == 1 and 0 < waits[0] <= 0.5  # its own backoff, as if nothing was said
    await c.aclose()


@pytest.mark.parametrize("header", ["1e309", "999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
async def test_the_pollers_wait_after_a_429_is_capped_at_60_s(sim, header):
    sim.sim.inject("services", Fault(kind="429", retry_after=header))
    poller = Poller({"services": sim.provider("services")}, intervals={"services": 5.0},
                    on_event=lambda _: None, jitter=0.1)
    poller.start()
    await until(lambda: poller.health("services").next_poll is not None)
    health = poller.health("services")
    await poller.aclose()
    assert health.state == "error"
    assert health.interval_s == 60.0
    assert health.next_poll is not None and math.isfinite(health.next_poll)
    assert health.next_poll - time.time() <= 66.0


# -- a bad field costs that field ------------------------------------------------------------


async def test_non_finite_numbers_become_null_at_the_wire():
    body = b'{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e400, "e": -1e400, "f": 1.5}'
    c = SourceClient(source="ci", base_url="https://ci.example.com",
                     transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body)))
    assert await c.get_json("/r") == {"a": None, "b": None, "c": None, "d": None, "e": None,
                                      "f": 1.5}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_durations_of_1e400_are_dropped_not_fatal(sim, provider):
    sim.sim.inject(provider, Fault(kind="non_finite"))
    p = sim.provider(provider)
    runs = await p.list_runs()
    assert runs
    assert all(r.duration_s is None or math.isfinite(r.duration_s) for r in runs)
    assert all(r.progress is None or math.isfinite(r.progress) for r in runs)
    json.dumps([r.model_dump(mode="json") for r in runs], allow_nan=False)
    await p.aclose()


@pytest.mark.parametrize("kind", ["far_dates", "bad_dates"])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_date_past_year_9999_in_utc_or_unreadable_costs_that_field(sim, provider, kind):
    sim.sim.inject(provider, Fault(kind=kind))
    p = sim.provider(provider)
    runs = await p.list_runs()
    assert runs
    assert all(r.started_at is None and r.finished_at is None for r in runs)
    await p.aclose()


# -- the poller ------------------------------------------------------------------------------


async def test_a_hostile_source_shows_its_error_and_the_others_keep_polling(sim):
    sim.sim.inject("conduct", Fault(kind="gzip_bomb"))
    events: list[PollEvent] = []
    providers = {"conduct": sim.provider("conduct"), "services": sim.provider("services")}
    poller = Poller(providers, intervals={"conduct": 0.5, "services": 0.5},
                    on_event=events.append, jitter=0.0)
    poller.start()
    await until(lambda: poller.poll_count("services") >= 3 and poller.poll_count("conduct") >= 1)
    conduct, services = poller.health("conduct"), poller.health("services")
    await poller.aclose()
    assert conduct.state == "error"
    assert conduct.error == (
        "conduct: /v1/runs sent more than 32 MiB (the max_body limit); its answer was dropped"
    )
    assert services.state == "ok"
    assert len(poller.runs("services")) == 24


async def test_a_poll_over_its_deadline_fails_as_a_timeout(sim):
    sim.sim.inject("conduct", Fault(kind="hang", hang_s=30.0))
    poller = Poller({"conduct": sim.provider("conduct")}, intervals={"conduct": 5.0},
                    on_event=lambda _: None, poll_deadline_s=0.5)
    started = time.monotonic()
    await poller.poll_once("conduct")
    assert time.monotonic() - started < 2.0
    health = poller.health("conduct")
    assert health.state == "error"
    assert health.error == "conduct: the poll did not finish within 0.5 s"
    await poller.aclose()


async def until(predicate, limit_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# -- the CLI in a process of its own ---------------------------------------------------------


# `runwatch` itself, writing its peak RSS (VmHWM of its own memory, unlike a child's
# ru_maxrss, which starts from pytest's size at the fork) to the file named in argv[1].
MEASURED = """
import atexit, re, sys
from pathlib import Path
from runwatch.cli import main
out = Path(sys.argv[1])
def peak():
    status = Path("/proc/self/status").read_text()
    out.write_text(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
atexit.register(peak)
sys.exit(main(sys.argv[2:]))
"""


def list_json(sim: SimHandle, tmp_path: Path, provider: str,
              timeout: float = 10.0) -> tuple[int, str, float, float]:
    """`runwatch list --json` for one source: exit code, stderr, seconds and peak RSS MiB."""
    fields = {"name": provider, "provider": provider, "base_url": sim.base_url(provider),
              "token_env": "RW_LIMITS_TOKEN", **SCOPES[provider]}
    source = "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items())
    config = tmp_path / "config.toml"
    config.write_text(f"[runwatch]\ntimeout = {timeout}\n\n[[sources]]\n{source}\n")
    config.chmod(0o600)
    env = {**os.environ, "RW_LIMITS_TOKEN": demo_tokens()[provider],
           "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    env.pop("RUNWATCH_CONFIG", None)
    peak = tmp_path / "peak-rss-kib"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, str(peak), "list", "--json", "--config", str(config)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=60,
        check=False,
    )
    took = time.monotonic() - started
    return done.returncode, done.stderr, took, int(peak.read_text()) / 1024


def test_list_against_a_hostile_server_stays_within_the_cap_and_ends(sim, tmp_path):
    code, _, _, baseline = list_json(sim, tmp_path, "conduct")
    assert code == 0
    for kind in ("gzip_bomb", "endless"):
        sim.sim.inject("conduct", Fault(kind=kind))
        code, err, took, rss = list_json(sim, tmp_path, "conduct")
        assert code == 4
        assert err.strip().endswith(
            "/v1/runs sent more than 32 MiB (the max_body limit); its answer was dropped"
        )
        assert took < 20.0
        # The 32 MiB body, and a little: before the cap, gigabytes.
        assert rss < baseline + 32 + 16, f"{kind}: peak RSS {rss:.0f} MiB, {baseline:.0f} idle"


def test_list_against_a_dripping_server_ends_by_the_deadline(sim, tmp_path):
    sim.sim.inject("conduct", Fault(kind="drip"))
    code, err, took, _ = list_json(sim, tmp_path, "conduct", timeout=2.0)
    assert code == 4
    assert "did not finish its answer within 2 s (the timeout)" in err
    assert took < 15.0

