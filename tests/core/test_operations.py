"""Request ids, health, readiness, metrics and CORS."""

import httpx
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "trace-abc.123"})
    assert echoed.headers["x-request-id"] == "trace-abc.123"
    hostile = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert hostile.headers["x-request-id"] != "bad id\nwith newline"
    problem = await client.get("/api/v1/users/me", headers={"X-Request-ID": "trace-problem"})
    assert problem.json()["request_id"] == "trace-problem"


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "meilisearch": True}


async def test_readyz_is_503_when_meilisearch_is_unreachable(settings: Settings) -> None:
    from search.server import free_port

    broken = settings.model_copy(
        update={"meili_url": f"http://127.0.0.1:{free_port()}", "meili_timeout_seconds": 1}
    )
    app: FastAPI = create_app(broken)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/readyz")
            assert response.status_code == 503
            assert response.json()["checks"] == {"database": True, "meilisearch": False}
            # Nothing else breaks: liveness and database-backed routes still answer.
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/api/v1/users/me")).status_code == 401


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/organizations/00000000-0000-4000-8000-000000000000")
    body = (await client.get("/metrics")).text
    assert "techex_http_requests_total" in body
    assert 'route="/api/v1/organizations/{organization_id}"' in body  # templates, not raw ids


async def test_cors_allows_configured_origins_only(client: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "GET"}
    allowed = await client.options(
        "/api/v1/users/me", headers={"Origin": "https://portal.example", **preflight}
    )
    assert allowed.headers.get("access-control-allow-origin") == "https://portal.example"
    denied = await client.options("/api/v1/users/me", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in denied.headers


async def test_openapi_lists_problem_responses(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    responses = spec["paths"]["/api/v1/organizations/{organization_id}/verify"]["post"]["responses"]
    assert {"401", "403", "404"} <= set(responses)
    assert "application/problem+json" in responses["403"]["content"]
