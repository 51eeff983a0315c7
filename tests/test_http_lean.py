"""The lean GET (runwatch.http_lean) over real loopback sockets: what it sends, keep-alive
and reconnecting, the body framings, its limits, and when httpx carries a GET instead."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator, Callable

import pytest

from runwatch.errors import BodyTooLarge, Unreachable
from runwatch.http import RetryPolicy, SourceClient
from runwatch.http_lean_head import LeanHeaders
from runwatch.sim import Fault, demo_tokens

Answer = Callable[[int, bytes], bytes | None]  # (request number, request head) -> reply


class RawServer:
    """An HTTP/1.1 peer on loopback that answers each request head with `answer`'s bytes
    (None: close the connection without a word), counting connections and heads."""

    def __init__(self, answer: Answer, *, close_after_each: bool = False) -> None:
        self.answer, self.close_after_each = answer, close_after_each
        self.heads: list[bytes] = []
        self.connections = 0
        self.server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self._writers:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                reply = self.answer(len(self.heads), head)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if self.close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def json_answer(body: object, *extra: str) -> bytes:
    data = json.dumps(body).encode()
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json",
            f"Content-Length: {len(data)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., SourceClient]]:
    made: list[SourceClient] = []

    def make(base_url: str, **kwargs: object) -> SourceClient:
        fields: dict[str, object] = {"retry": RetryPolicy.none(), "timeout_s": 5.0, **kwargs}
        c = SourceClient(source="ci", base_url=base_url, **fields)  # type: ignore[arg-type]
        made.append(c)
        return c

    yield make
    for c in made:
        await c.aclose()


async def test_the_request_is_the_one_httpx_sends_with_the_etag_after(clients):
    async with RawServer(lambda n, _: json_answer([n], 'ETag: "v1"')) as server:
        for lean in (True, False):
            c = clients(f"{server.url}/x", token="s3cret", lean=lean)
            assert await c.get_json("/api/runs", {"q": "a b", "skip": None}) != []
            assert await c.get_json("/api/runs", {"q": "a b"}) != []
            assert (c._lean is not None) == lean
            assert "s3cret" not in repr(c) + repr(c._lean)  # the header lines hold it
    lean_heads, httpx_heads = server.heads[:2], server.heads[2:]
    assert lean_heads == httpx_heads
    first, second = (h.decode().split("\r\n") for h in lean_heads)
    assert first[0] == "GET /x/api/runs?q=a+b HTTP/1.1"
    assert {"Accept: application/json", "Accept-Encoding: gzip, deflate",
            "Authorization: Bearer s3cret"} <= set(first)
    assert second[:-2] == [*first[:-2], 'If-None-Match: "v1"']
    assert server.connections == 2  # each client kept its one connection alive


async def test_no_token_no_authorization_header(clients):
    async with RawServer(lambda n, _: json_answer({})) as server:
        c = clients(server.url)
        await c.get_json("/runs")
    assert b"authorization" not in server.heads[0].lower()


async def test_concurrent_gets_open_connections_then_reuse_them(sim, clients):
    c = clients(sim.base_url("conduct"), token=demo_tokens()["conduct"])
    await asyncio.gather(*(c.get_json("/v1/runs", {"limit": n}) for n in range(1, 4)))
    opened = c._lean.opened
    assert 1 <= opened <= 3
    for n in range(1, 4):
        await c.get_json("/v1/runs", {"limit": n})
    assert c._lean.opened == opened
    assert len(sim.sim.requests) == 6


async def test_the_simulator_keeps_a_connection_between_two_5_s_polls(sim, clients):
    """As real API front ends do (nginx keeps 75 s): uvicorn's own 5 s idle timeout made
    every poll at the default 5 s interval open a new connection."""
    c = clients(sim.base_url("conduct"), token=demo_tokens()["conduct"])
    await c.get_json("/v1/runs", {"limit": 1})
    await asyncio.sleep(6.0)  # past uvicorn's default keep-alive, within a real server's
    await c.get_json("/v1/runs", {"limit": 2})
    assert c._lean.opened == 1


async def test_a_connection_the_server_closed_between_polls_is_replaced_once(clients):
    # Each connection carries one answer (no "Connection: close": the client cannot know).
    async with RawServer(lambda n, _: json_answer([n]), close_after_each=True) as server:
        c = clients(server.url)
        assert await c.get_json("/runs") == [1]
        await asyncio.sleep(0)  # the server's close may or may not have arrived: both work
        assert await c.get_json("/runs") == [2]
    assert server.connections == 2 and len(server.heads) == 2


async def test_a_kept_connection_closed_as_the_get_arrives_is_replaced_once(clients):
    # The second GET finds its kept connection open and is sent on it; the server closes
    # it unanswered (an idle timeout racing the request): the GET goes out again, once.
    async with RawServer(lambda n, _: None if n == 2 else json_answer([n])) as server:
        c = clients(server.url)
        assert await c.get_json("/runs") == [1]
        assert await c.get_json("/runs") == [3]
    assert server.connections == 2 and len(server.heads) == 3


async def test_a_server_that_never_answers_is_unreachable_not_retried_forever(clients):
    async with RawServer(lambda n, _: None) as server:
        c = clients(server.url)
        with pytest.raises(Unreachable, match="Server disconnected without sending a response"):
            await c.get_json("/runs")
    assert server.connections == 1


async def test_a_chunked_body_with_extensions_and_trailers(clients):
    data = json.dumps({"runs": list(range(500))}).encode()
    body = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(data[i:i + 700]), data[i:i + 700])
                    for i in range(0, len(data), 700))
    reply = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body
             + b"0\r\nX-Trailer: yes\r\n\r\n")
    async with RawServer(lambda n, _: reply) as server:
        c = clients(server.url)
        assert (await c.get_json("/a"))["runs"] == list(range(500))
        assert (await c.get_text("/b")) == data.decode()
    assert server.connections == 1  # a chunked answer leaves the connection usable


async def test_a_body_delimited_by_the_close_then_a_new_connection(clients):
    def answer(n: int, _: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + json.dumps([n]).encode()

    async with RawServer(answer, close_after_each=True) as server:
        c = clients(server.url)
        assert await c.get_json("/runs") == [1]
        assert await c.get_json("/runs") == [2]
    assert server.connections == 2


async def test_oversized_headers_end_fast_as_unreachable(clients):
    huge = b"HTTP/1.1 200 OK\r\n" + b"X-Junk: " + b"j" * (200 * 1024) + b"\r\n\r\n{}"
    async with RawServer(lambda n, _: huge) as server:
        c = clients(server.url)
        with pytest.raises(Unreachable, match=r"headers are over 100 KiB"):
            await c.get_json("/runs")


@pytest.mark.parametrize("reply", [
    b"HTTP/2 200 OK\r\n\r\n", b"HTTP/1.1 2x0 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
])
async def test_a_malformed_answer_is_unreachable_in_words(clients, reply):
    async with RawServer(lambda n, _: reply) as server:
        c = clients(server.url)
        with pytest.raises(Unreachable, match=r"^ci: cannot reach 127\.0\.0\.1 /runs \("):
            await c.get_json("/runs")


async def test_a_chunked_gzip_bomb_is_cut_at_the_cap(clients):
    bomb = gzip.compress(b"[" + b"0," * (4 << 20) + b"0]")
    body = b"".join(b"%x\r\n%s\r\n" % (len(bomb[i:i + 4096]), bomb[i:i + 4096])
                    for i in range(0, len(bomb), 4096)) + b"0\r\n\r\n"
    reply = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n" + body)
    async with RawServer(lambda n, _: reply) as server:
        c = clients(server.url, max_body=1 << 20)
        started = time.monotonic()
        with pytest.raises(BodyTooLarge, match=r"more than 1 MiB \(the max_body limit\)"):
            await c.get_json("/runs")
    assert time.monotonic() - started < 5.0


async def test_the_simulators_gzip_bomb_goes_through_the_lean_path(sim, clients):
    sim.sim.inject("conduct", Fault(kind="gzip_bomb"))
    c = clients(sim.base_url("conduct"), token=demo_tokens()["conduct"], max_body=1 << 20,
                timeout_s=30.0)  # the simulator builds its bomb first: slow on a busy machine
    with pytest.raises(BodyTooLarge):
        await c.get_json("/v1/runs")
    assert c._lean is not None and c._lean.opened == 1


async def test_a_proxy_for_the_origin_keeps_httpx_and_no_proxy_lifts_it(
        sim, clients, monkeypatch):
    async with RawServer(lambda n, _: json_answer([])) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        c = clients(sim.base_url("conduct"), token=demo_tokens()["conduct"])
        assert await c.get_json("/v1/runs") == []  # the proxy answered, not the simulator
        assert c._lean is None
        assert proxy.heads[0].startswith(b"GET http://127.0.0.1:")  # a proxy's request form
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = clients(sim.base_url("conduct"), token=demo_tokens()["conduct"])
        assert isinstance(await direct.get_json("/v1/runs"), dict)
        assert direct._lean is not None
    assert len(proxy.heads) == 1 and len(sim.sim.requests) == 1


async def test_https_and_the_switch_keep_httpx(sim, clients, monkeypatch):
    secure = clients("https://ci.example.com")
    assert secure.client.base_url.scheme == "https" and secure._lean is None
    monkeypatch.setenv("RUNWATCH_LEAN_HTTP", "0")
    c = clients(sim.base_url("conduct"), token=demo_tokens()["conduct"])
    assert isinstance(await c.get_json("/v1/runs"), dict)
    assert c._lean is None


@pytest.mark.parametrize("reply", [
    "HTTP/1.1 200 OK\r\nContent-Length: ²\r\n\r\n{}".encode(),  # a digit to isdigit, not int
    "HTTP/1.1 200 OK\r\nContent-Length: ٢\r\n\r\n{}".encode(),  # int() reads it as 2
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 \x1b]0;pwn\x07\r\nContent-Length: 2\r\n\r\n{}",  # a title-setting reason
    b"HTTP/1.1 200 OK\r\nETag: \"a\x1b[31m\"\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nX\tY: 1\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 100 Continue\r\n\r\n" * 11 + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
])
async def test_what_h11_refuses_is_refused_as_a_protocol_error(clients, reply):
    """Non-ASCII digits, a coding under chunked, control characters in the reason or a
    header (they would reach error messages, the --debug log and If-None-Match), a 1xx
    flood: an Unreachable naming the source, never a stray ValueError or a kept escape."""
    async with RawServer(lambda n, _: reply) as server:
        c = clients(server.url)
        with pytest.raises(Unreachable, match=r"^ci: cannot reach 127\.0\.0\.1 /runs \("):
            await c.get_json("/runs")


@pytest.mark.parametrize("first", [
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]",
])
async def test_bytes_after_an_answer_never_answer_the_next_get(clients, first):
    """A body on a 204 (or more than Content-Length said) stays in the buffer: reused, that
    connection would hand the next poll these bytes as its answer, and every later poll the
    one before's. Such a connection is closed, and the next GET gets its own answer."""
    smuggled = b"HTTP/1.1 200 SMUGGLED\r\nContent-Length: 7\r\n\r\n[\"evil\"]"

    def answer(n: int, _: bytes) -> bytes:
        return first + smuggled if n == 1 else json_answer([n])

    async with RawServer(answer) as server:
        c = clients(server.url)
        await c.get_raw_reduced("/runs", None, lambda raw: bytes(raw))
        await asyncio.sleep(0.05)  # the extra bytes are in the client's buffer by now
        assert await c.get_json("/runs2") == [2]
        assert await c.get_json("/runs3") == [3]
    assert server.connections == 2


async def test_an_etag_no_header_can_carry_is_not_sent_back(clients):
    etag = "\"caf\u00e9\"".encode()  # obs-text: h11 and this reader accept it, ASCII does not

    def answer(n: int, _: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nETag: " + etag + b"\r\nContent-Length: 2\r\n\r\n[]"

    async with RawServer(answer) as server:
        c = clients(server.url)
        assert await c.get_json("/runs") == []
        assert await c.get_json("/runs") == []
    assert b"if-none-match" not in server.heads[1].lower()


def test_the_header_lines_are_read_as_httpx_reads_them():
    block = (b"Content-Type: application/json\r\nX-Seen:  one \t\r\nx-seen: two\r\n"
             b"X-Name: caf\xe9\r\nEmpty:\r\n")
    headers = LeanHeaders.of_block(block)
    assert dict(headers) == {"content-type": "application/json", "x-seen": "one, two",
                             "x-name": "caf\u00e9", "empty": ""}  # not UTF-8: Latin-1
    assert headers["X-SEEN"] == headers.get("x-Seen") == "one, two"
    assert "CONTENT-type" in headers and "etag" not in headers and 1 not in headers
    assert headers.get("etag") is None and headers.get("etag", "-") == "-"
    assert not headers.mentions_ratelimit
    assert LeanHeaders.of_block("X-Name: café\r\n".encode())["x-name"] == "café"
    assert LeanHeaders.of_block(b"").get("x") is None
    assert LeanHeaders.of_block(b"X-RateLimit-Remaining: 3\r\n").mentions_ratelimit


async def test_a_rate_limit_announced_on_the_lean_path_is_read(clients):
    answers = [json_answer([1], "X-RateLimit-Limit: 100", "X-RateLimit-Remaining: 7"),
               json_answer([2])]
    async with RawServer(lambda n, _: answers[min(n, 2) - 1]) as server:
        c = clients(server.url)
        await c.get_json("/runs")
        assert c._lean is not None
        assert c.rate_limit is not None
        assert (c.rate_limit.limit, c.rate_limit.remaining) == (100, 7)
        await c.get_json("/runs")  # says nothing of it: what was said is kept
        assert c.rate_limit is not None and c.rate_limit.remaining == 7
