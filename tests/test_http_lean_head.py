"""The lean GET's URL and header lines built without httpx (runwatch.http_lean_head) are
the very bytes httpx builds for the same client and request; what they do not cover is
left to httpx (None)."""

from __future__ import annotations

import httpx
import pytest

from runwatch.http_lean_head import plain_head, plain_origin, plain_url

BASES = ["http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://ci.example.com/api/v2/",
         "http://ci:80/x", "http://ci:080", "http://h-1.example:1/a%20b/c"]
REQUESTS = [("/api/runs", None), ("api/runs", {"limit": 50}),
            ("/runs/r%2F1", {"q": "a b&c=d", "cursor": "é/+?", "n": 0, "empty": ""}),
            ("/", {"k": "v"}), ("/a:b@c/!$&'()*+,;=", None)]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(("path", "params"), REQUESTS)
def test_the_url_is_the_one_httpx_builds(base: str, path: str, params: dict | None) -> None:
    client = httpx.AsyncClient(base_url=base.rstrip("/"))
    origin = plain_origin(base)
    assert origin is not None
    url = plain_url(origin, path, params)
    assert url is not None
    want = client.build_request("GET", path, params=params).url
    assert url.raw_path == want.raw_path
    assert (url.host, url.port, url.scheme) == (want.host, want.port, want.scheme)
    assert httpx.URL(str(url)) == want


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("token", [None, "s3cret"])
def test_the_header_lines_are_the_ones_httpx_sends(base: str, token: str | None) -> None:
    headers = {"Accept": "application/json", "User-Agent": "runwatch/0", "Accept-Encoding":
               "gzip, deflate", **({"Authorization": f"Bearer {token}"} if token else {})}
    client = httpx.AsyncClient(base_url=base.rstrip("/"), headers=headers)
    client.headers["X-Project-ID"] = "p1"  # a header set later (conduct's) comes last
    origin = plain_origin(base)
    assert origin is not None
    sent = client.build_request("GET", client.base_url).headers.raw
    assert plain_head(origin, {**headers, "X-Project-ID": "p1"}) == b"".join(
        name + b": " + value + b"\r\n" for name, value in sent)


@pytest.mark.parametrize("base", [
    "https://ci.example.com", "http://CI.example.com", "http://bücher.example",
    "http://[::1]:8080", "http://user:pw@ci", "http://ci:99999", "http://ci:0",
    "http://ci/a b", "http://ci/a/../b", "http://ci/./x", "http://ci/x?q=1"])
def test_what_httpx_would_rewrite_is_left_to_httpx(base: str) -> None:
    assert plain_origin(base) is None


@pytest.mark.parametrize(("path", "params"), [
    ("/runs/..", None), ("/a/./b", None), ("/é", None), ("/a b", None), ("/x?y=1", None),
    ("/x", {"flag": True}), ("/x", {"f": 1.5}), ("/x", {"ids": ["a", "b"]})])
def test_a_request_httpx_would_rewrite_is_left_to_httpx(path: str, params: dict | None) -> None:
    origin = plain_origin("http://ci:1")
    assert origin is not None
    assert plain_url(origin, path, params) is None


def test_a_proxy_variable_leaves_the_decision_to_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("all_proxy", "http://proxy:3128")
    assert plain_origin("http://ci:1") is None
