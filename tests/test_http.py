"""The HTTP layer: typed errors with human messages, retries, caching, the read-only guard."""

from __future__ import annotations

import httpx
import pytest

from runwatch.errors import (
    AuthError,
    BadResponse,
    BodyTooLarge,
    Conflict,
    NotFound,
    RateLimited,
    ReadOnlyError,
    RedirectRefused,
    ServerError,
    Unreachable,
)
from runwatch.http import RetryPolicy, SourceClient, retry_after_s


def client_for(handler, **kwargs) -> SourceClient:
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    c = SourceClient(source="ci", base_url="https://ci.example.com/x",
                     transport=httpx.MockTransport(record), **kwargs)
    c.calls = calls  # type: ignore[attr-defined]
    return c


async def test_sends_accept_user_agent_and_bearer_token():
    c = client_for(lambda r: httpx.Response(200, json=[]), token="s3cret")
    assert await c.get_json("/api/runs", {"serviceId": "a", "skip": None}) == []
    req = c.calls[0]
    assert req.url == "https://ci.example.com/x/api/runs?serviceId=a"
    assert req.headers["authorization"] == "Bearer s3cret"
    assert req.headers["accept"] == "application/json"
    assert req.headers["user-agent"].startswith("runwatch/")


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, {"error": "bad key"}, AuthError, "token rejected (token from env CI_TOKEN)"),
        (403, "Forbidden", AuthError, "HTTP 403 Forbidden: Forbidden"),
        (404, {"status": "FAILED", "error": "Run not found"}, NotFound, "Run not found"),
        (422, {"detail": [{"msg": "field required"}]}, Conflict, "field required"),
        (409, {"message": "already cancelled"}, Conflict, "already cancelled"),
        (500, "", ServerError, "HTTP 500 Internal Server Error"),
        (502, "<html><body>Bad gateway</body></html>", ServerError, "an HTML page"),
    ],
)
async def test_error_bodies_become_typed_errors_naming_the_source(status, body, error, words):
    def handler(_):
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    c = client_for(handler, token="s3cret", token_origin="env CI_TOKEN",
                   retry=RetryPolicy.none())
    with pytest.raises(error) as caught:
        await c.get_json("/api/runs")
    assert str(caught.value).startswith("ci: ")
    assert words in str(caught.value)
    assert "s3cret" not in str(caught.value)


async def test_429_is_retried_after_the_servers_retry_after():
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={}),
                    httpx.Response(200, json={"ok": True})])
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    c = client_for(lambda r: next(answers), retry=RetryPolicy(attempts=3))
    c.sleep = fake_sleep
    assert await c.get_json("/r") == {"ok": True}
    assert waits == [3.0]


async def test_rate_limit_gives_up_after_the_attempts_with_retry_after_kept():
    async def no_sleep(_: float) -> None:
        return None

    c = client_for(lambda r: httpx.Response(429, headers={"Retry-After": "7"}, json={}),
                   retry=RetryPolicy(attempts=2))
    c.sleep = no_sleep
    with pytest.raises(RateLimited) as caught:
        await c.get_json("/r")
    assert caught.value.retry_after == 7.0
    assert len(c.calls) == 2


async def test_post_is_never_retried():
    c = client_for(lambda r: httpx.Response(503, json={}), retry=RetryPolicy(attempts=3))
    with pytest.raises(ServerError):
        await c.send("POST", "/api/runs", json_body={})
    assert len(c.calls) == 1


async def test_html_and_truncated_bodies_are_bad_responses_naming_the_path():
    c = client_for(lambda r: httpx.Response(200, text="<html>login</html>",
                                            headers={"content-type": "text/html"}))
    with pytest.raises(BadResponse, match=r"ci: /api/runs returned text/html, not the expected"):
        await c.get_json("/api/runs")
    c = client_for(lambda r: httpx.Response(200, text='[{"id": 1, "sta'))
    with pytest.raises(BadResponse, match="not the expected JSON"):
        await c.get_json("/api/runs")


async def test_identical_body_is_not_parsed_again():
    c = client_for(lambda r: httpx.Response(200, content=b'[{"id": 1}]'))
    first = await c.get_json("/api/runs")
    second = await c.get_json("/api/runs")
    assert first == [{"id": 1}]
    assert second is first


async def test_etag_is_sent_and_304_returns_the_cached_body():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == 'W/"v1"':
            return httpx.Response(304)
        return httpx.Response(200, json={"nodes": []}, headers={"ETag": 'W/"v1"'})

    c = client_for(handler)
    first = await c.get_json("/def")
    assert await c.get_json("/def") is first
    assert c.calls[1].headers["if-none-match"] == 'W/"v1"'


async def test_read_only_refuses_mutations_before_any_io():
    c = client_for(lambda r: httpx.Response(200, json={}), read_only=True)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(ReadOnlyError):
            await c.send(method, "/api/runs/1/stop")
    assert c.calls == []
    assert await c.send("POST", "/auth/login", json_body={}, allow_read_only=True) == {}


async def test_connection_refused_is_unreachable():
    c = SourceClient(source="ci", base_url="http://127.0.0.1:9", retry=RetryPolicy.none())
    with pytest.raises(Unreachable, match=r"ci: cannot reach 127\.0\.0\.1 /r"):
        await c.get_json("/r")
    await c.aclose()


def test_retry_after_forms():
    assert retry_after_s({"retry-after": "12"}) == 12.0
    assert retry_after_s({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, now=40.0) == 60.0
    assert retry_after_s({"x-ratelimit-reset": "2000000000"}, now=1999999990.0) == 10.0
    assert retry_after_s({"x-ratelimit-reset": "5"}) == 5.0
    assert retry_after_s({}) is None


async def test_the_body_cache_is_bounded():
    from runwatch.http_cache import BODY_CACHE_SIZE

    c = client_for(lambda r: httpx.Response(200, json={"path": r.url.path}))
    for i in range(BODY_CACHE_SIZE + 50):
        await c.get_json(f"/api/v1/runs/{i}")
    assert len(c._bodies) == BODY_CACHE_SIZE
    assert "/api/v1/runs/0" not in c._bodies
    assert f"/api/v1/runs/{BODY_CACHE_SIZE + 49}" in c._bodies


def test_retry_after_is_bounded_and_nonsense_is_ignored():
    from runwatch.http_answers import MAX_RETRY_AFTER_S

    assert retry_after_s({"retry-after": "1e309"}) == MAX_RETRY_AFTER_S
    assert retry_after_s({"retry-after": "999999999"}) == MAX_RETRY_AFTER_S
    assert retry_after_s({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}) == MAX_RETRY_AFTER_S
    assert retry_after_s({"retry-after": "-3"}) == 0.0
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({"retry-after": "nan"}) is None
    assert retry_after_s({"x-ratelimit-reset": "inf"}) == MAX_RETRY_AFTER_S
    assert retry_after_s({"retry-after": "soon", "x-ratelimit-reset": "4"}) == 4.0


def test_no_repr_shows_the_token():
    from runwatch.config import SourceConfig
    from runwatch.providers import build_provider

    c = SourceClient(source="ci", base_url="https://ci.example.com", token="s3cret-token")
    assert "s3cret-token" not in repr(c)
    source = SourceConfig(name="ci", provider="services", base_url="https://ci.example.com",
                          token="s3cret-token")
    provider = build_provider(source, token="s3cret-token")
    shown_all = (repr(provider), repr(provider.client), repr(provider.source), repr(vars(provider)))
    for shown in shown_all:
        assert "s3cret-token" not in shown
    assert provider.client.token == "s3cret-token"  # held, just never shown


async def test_no_non_get_request_follows_a_redirect():
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        c = client_for(lambda r: httpx.Response(307, headers={"location": "/elsewhere"}))
        with pytest.raises(RedirectRefused, match=f"ci: {method} /api/runs/1 was redirected to "
                                                  "https://ci.example.com/elsewhere"):
            await c.send(method, "/api/runs/1", json_body={"password": "pw"})
        assert len(c.calls) == 1


async def test_a_body_over_the_cap_is_a_typed_error_naming_the_limit():
    c = client_for(lambda r: httpx.Response(200, json={"x": "y" * 2000}), max_body=1000)
    with pytest.raises(BodyTooLarge, match=r"ci: /r sent more than 1000 bytes \(the max_body"):
        await c.get_json("/r")


async def test_a_large_body_is_parsed_on_a_thread_and_only_its_reduction_kept():
    import threading

    items = [{"id": i, "pad": "x" * 100} for i in range(5000)]  # ~600 KiB: over the bar
    threads: list[str] = []

    def newest(body: list[dict]) -> list[int]:
        threads.append(threading.current_thread().name)
        return [item["id"] for item in body[-3:]]

    c = client_for(lambda r: httpx.Response(200, json=items))
    first = await c.get_json("/runs", reduce=newest)
    assert first == [4997, 4998, 4999]
    assert threads and threads[0] != threading.main_thread().name
    assert await c.get_json("/runs", reduce=newest) is first  # unchanged: not parsed again
    assert len(threads) == 1
    assert c._bodies["/runs"].parsed is first  # the 5000 items are not held


@pytest.mark.parametrize("token", ["tök", "line\nbreak"])
async def test_a_token_that_cannot_be_a_header_is_an_auth_error_before_any_request(
    sim, token: str
) -> None:
    # httpx would raise UnicodeEncodeError building the header: any provider, any token.
    provider = sim.provider("services", token=token)
    with pytest.raises(AuthError) as caught:
        await provider.list_runs()
    assert str(caught.value) == ("services: the token from the config cannot be sent in a "
                                 "header (it has characters that are not printable ASCII)")
    assert sim.sim.requests_to("services") == []
    await provider.aclose()
