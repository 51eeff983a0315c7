"""Each simulated API answers errors in its own server's envelope and checks the bearer token
where its server does (before routing, or per route), over real HTTP (sim/kit.py)."""

from __future__ import annotations

import httpx
import pytest

from runwatch.sim import demo_tokens

WRONG = "Bearer not-the-token"
RIGHT = "right"  # stands for the provider's own token


def _headers(provider: str, auth: str | None) -> dict[str, str]:
    if auth is None:
        return {}
    return {"Authorization": f"Bearer {demo_tokens()[provider]}" if auth == RIGHT else auth}


@pytest.mark.parametrize(
    ("provider", "method", "path", "auth", "status", "body"),
    [
        # services (Express): 401 is plain text, other errors {message}; auth per router.
        ("services", "GET", "/api/runs", None, 401, "Authentication error"),
        ("services", "GET", "/api/runs", WRONG, 401, "Authentication error"),
        ("services", "GET", "/nowhere", None, 404, "Not Found"),
        ("services", "POST", "/api/runs/nope/rerun", RIGHT, 404,
         {"message": "Run nope not found"}),
        ("services", "GET", "/api/stages", RIGHT, 400, {"message": "runId is required"}),
        # wercker (hapi/Boom): {statusCode, error, message}; auth before routing.
        ("wercker", "GET", "/api/v3/runs", None, 401,
         {"statusCode": 401, "error": "Unauthorized", "message": "Missing authentication"}),
        ("wercker", "GET", "/nowhere", WRONG, 401,
         {"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"}),
        ("wercker", "GET", "/nowhere", RIGHT, 404,
         {"statusCode": 404, "error": "Not Found", "message": "Not Found"}),
        ("wercker", "GET", "/api/v3/runs/nope", RIGHT, 404,
         {"statusCode": 404, "error": "Not Found", "message": "Run not found"}),
        # currents: {"status": "FAILED", "error"}; auth before routing.
        ("currents", "GET", "/v1/runs/nope", None, 401,
         {"status": "FAILED", "error": "Missing API key"}),
        ("currents", "GET", "/nowhere", WRONG, 401,
         {"status": "FAILED", "error": "Invalid API key provided"}),
        ("currents", "POST", "/v1/runs/nope", RIGHT, 405,
         {"status": "FAILED", "error": "Method Not Allowed"}),
        ("currents", "GET", "/v1/runs/nope", RIGHT, 404,
         {"status": "FAILED", "error": "Run not found"}),
        # conduct: {"error", "code"}; auth per route, unknown paths in its envelope.
        ("conduct", "GET", "/v1/runs", WRONG, 401,
         {"error": "Invalid or missing API key", "code": "UNAUTHORIZED"}),
        ("conduct", "GET", "/nowhere", None, 404, {"error": "Not Found", "code": "NOT_FOUND"}),
        ("conduct", "PUT", "/v1/runs", RIGHT, 405,
         {"error": "Method Not Allowed", "code": "METHOD_NOT_ALLOWED"}),
        ("conduct", "GET", "/v1/runs/nope", RIGHT, 404,
         {"error": "Run not found", "code": "NOT_FOUND"}),
        # scheduler (FastAPI): {"detail": string | object | list}; auth per route.
        ("scheduler", "GET", "/api/v1/runs", None, 401,
         {"detail": "Authentication required or credentials invalid"}),
        ("scheduler", "GET", "/nowhere", None, 404, "Not Found"),
        ("scheduler", "GET", "/api/v1/runs/nope", RIGHT, 404,
         {"detail": {"error": "not_found", "message": "Run nope not found"}}),
        ("scheduler", "GET", "/api/v1/runs?limit=0", RIGHT, 422,
         {"detail": [{"type": "greater_than_equal", "loc": ["query", "limit"],
                      "msg": "Input should be greater than or equal to 1", "input": None}]}),
    ],
)
async def test_errors_come_in_each_servers_envelope(sim, provider, method, path, auth, status,
                                                    body):
    async with httpx.AsyncClient(base_url=sim.base_url(provider)) as client:
        answer = await client.request(method, path, headers=_headers(provider, auth))
    assert answer.status_code == status
    if isinstance(body, str):
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.text == body
    else:
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == body


async def test_scheduler_login_needs_no_token_and_its_401_asks_for_a_bearer(sim):
    async with httpx.AsyncClient(base_url=sim.base_url("scheduler")) as client:
        login = await client.post("/api/v1/auth/login", json={
            "username": "runwatch", "password": "sim-scheduler-password"})
        refused = await client.get("/api/v1/runs")
    assert login.status_code == 200
    assert login.json()["accessToken"] == demo_tokens()["scheduler"]
    assert refused.headers["www-authenticate"] == "Bearer"


async def test_a_simulator_without_tokens_admits_every_request(sim):
    sim.sim.settings.tokens = {}
    async with httpx.AsyncClient(base_url=sim.url) as client:
        answers = [await client.get(f"/{p}{path}") for p, path in (
            ("services", "/api/runs"), ("wercker", "/api/v3/runs?pipelineId=pipeline-1"),
            ("currents", "/v1/projects/proj-1/runs"), ("conduct", "/v1/runs"),
            ("scheduler", "/api/v1/runs"))]
    assert [a.status_code for a in answers] == [200] * 5
