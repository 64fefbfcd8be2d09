"""The cross-cutting error contract every endpoint inherits."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.core.config import Settings
from app.core.errors import RESERVED_MEMBERS, AppError, Conflict
from app.main import create_app
from app.stats.queries import GroupBy
from tests.fixtures.accounts import PASSWORD


async def test_malformed_json_is_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=b'{"organization": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "malformed_json"
    assert body["status"] == 400 and body["instance"] == "/api/v1/auth/register"
    assert "Traceback" not in response.text


async def test_unknown_fields_are_rejected_by_name(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 20, "is_admin": True})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"field": "is_admin", "code": "extra_forbidden", "message": "不允许的字段"} in errors


async def test_wrong_types_name_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "organization": {"kind": 5, "name": ["x"]},
            "user": {"email": "not-an-email", "password": PASSWORD},
        },
        headers={"Accept-Language": "en-US,en;q=0.9"},
    )
    assert response.status_code == 422
    body = response.json()
    fields = {e["field"] for e in body["errors"]}
    assert {"organization.kind", "organization.name", "user.email", "organization.credit_code"} <= fields
    assert body["detail"].startswith("Invalid fields")


async def test_language_follows_accept_language(client: httpx.AsyncClient) -> None:
    zh = await client.get("/api/v1/users/me", headers={"Accept-Language": "zh-CN"})
    en = await client.get("/api/v1/users/me", headers={"Accept-Language": "en-GB, zh;q=0.5"})
    default = await client.get("/api/v1/users/me")
    assert zh.json()["detail"] == "需要登录。"
    assert en.json()["detail"] == "Authentication is required."
    assert default.json()["detail"] == "需要登录。"
    assert zh.json()["code"] == en.json()["code"] == "unauthenticated"


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/refresh",
        content=b'{"refresh_token": "' + b"x" * (65 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"


async def test_oversized_chunked_body_without_length_is_413(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(80):
            yield b"x" * 1024

    response = await client.post(
        "/api/v1/auth/refresh", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = await client.delete("/api/v1/users/me")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
    # A path served by two routes (list and create): Allow names both, as RFC 9110 requires.
    neither = await client.put("/api/v1/subscriptions")
    assert neither.status_code == 405 and neither.headers["allow"] == "GET, POST"


async def test_bad_path_parameter_is_422(client: httpx.AsyncClient, signed_in) -> None:  # type: ignore[no-untyped-def]
    from app.accounts.models import Role

    admin = await signed_in(role=Role.admin)
    response = await client.post("/api/v1/organizations/not-a-uuid/verify", headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organization_id"


async def test_an_enum_error_names_every_allowed_value_in_both_languages(
    client: httpx.AsyncClient, signed_in
) -> None:  # type: ignore[no-untyped-def]
    viewer = await signed_in()
    url = "/api/v1/stats/contracts?group_by=region"
    zh = await client.get(url, headers=viewer.headers)
    en = await client.get(url, headers={**viewer.headers, "Accept-Language": "en"})
    assert zh.status_code == en.status_code == 422
    [zh_error], [en_error] = zh.json()["errors"], en.json()["errors"]
    assert zh_error["field"] == en_error["field"] == "group_by"
    assert zh_error["message"] == "取值不在允许范围内，可选值：" + "、".join(GroupBy)
    assert en_error["message"] == "Input should be one of: " + ", ".join(GroupBy)


async def test_a_literal_error_names_every_allowed_value(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/achievements?sort=price")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "sort" and error["code"] == "literal_error"
    allowed = "-updated_at、updated_at、-published_at、-created_at"
    assert error["message"] == f"取值不在允许范围内，可选值：{allowed}"


@pytest.mark.parametrize("member", sorted(RESERVED_MEMBERS))
def test_an_extension_member_cannot_overwrite_the_problems_own(member: str) -> None:
    # RFC 9457's `status` is the HTTP status: a 409 once carried the application's status there.
    with pytest.raises(ValueError, match=member):
        Conflict(extra={member: "registered"})
    assert AppError(extra={"current_status": "registered"}).extra == {"current_status": "registered"}


async def test_token_endpoint_wants_form_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", json={"username": "a", "password": "b"})
    assert response.status_code == 422
    assert {"username", "password"} <= {e["field"] for e in response.json()["errors"]}


@pytest.fixture
async def failing() -> httpx.AsyncClient:
    """The service's middleware and handlers, with routes that fail the ways a bug or a load peak
    does (no lifespan needed: neither route touches a dependency)."""
    app: FastAPI = create_app(Settings(secret_key="x" * 32, environment="test"))

    async def bug() -> None:
        raise RuntimeError("a bug")

    async def pool_exhausted() -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached, connection timed out")

    app.add_api_route("/bug", bug)
    app.add_api_route("/pool-exhausted", pool_exhausted)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_bug_is_500_problem_naming_the_request(failing: httpx.AsyncClient) -> None:
    async with failing:
        response = await failing.get("/bug", headers={"X-Request-ID": "trace-me-42"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    # Answered outside the request-context middleware, and still carrying the caller's id.
    assert response.json()["request_id"] == "trace-me-42"
    assert response.headers.get_list("x-request-id") == ["trace-me-42"]
    assert "a bug" not in response.text


async def test_waiting_out_the_pool_is_503_with_retry_after(failing: httpx.AsyncClient) -> None:
    async with failing:
        response = await failing.get("/pool-exhausted")
    assert response.status_code == 503
    assert response.json()["code"] == "database_busy"
    assert response.headers["retry-after"] == "1"
    assert len(response.headers.get_list("x-request-id")) == 1
