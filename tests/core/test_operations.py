"""Request ids, health, readiness, metrics, CORS and the API docs."""

import re
from html.parser import HTMLParser

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


class _References(HTMLParser):
    """Every address a page makes the browser load: src and href attributes and ReDoc's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in {"src", "href", "spec-url"} and value]


async def test_api_docs_load_nothing_from_outside_hosts(client: httpx.AsyncClient) -> None:
    """/docs and /redoc work on a network without internet: their scripts, styles and icon are
    served by the service itself (they came from a CDN, and the pages were blank offline)."""
    content_types = {
        ".js": "javascript",
        ".css": "text/css",
        ".png": "image/png",
        ".json": "application/json",
    }
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert not re.search(r"(https?:)?//[\w.-]", response.text), response.text  # no other host named
        references = _References()
        references.feed(response.text)
        references.found += re.findall(r"url: '([^']+)'", response.text)  # Swagger UI's OpenAPI address
        assert any(address.endswith(".js") for address in references.found), references.found
        assert "/openapi.json" in references.found
        for address in references.found:
            asset = await client.get(address)
            assert asset.status_code == 200, address
            expected = content_types[address[address.rindex(".") :]]
            assert expected in asset.headers["content-type"], (address, asset.headers["content-type"])
