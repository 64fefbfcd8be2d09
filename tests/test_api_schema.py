"""Property-based run of the whole API from its own OpenAPI document (schemathesis).

Fails on any 5xx and on any response that does not match the documented schema, status codes
and content types. Bounded examples per operation keep the suite within its time budget.
"""

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.core.config import Settings
from app.main import create_app
from tests.fixtures.accounts import PASSWORD, create_user


@pytest.fixture
async def admin_headers(app, db: AsyncSession, live_server: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    user = await create_user(db, role=Role.admin)
    async with httpx.AsyncClient(base_url=live_server) as http:
        response = await http.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# Per operation; raise it locally for a deeper run: TECHEX_SCHEMATHESIS_EXAMPLES=200 make test
EXAMPLES = int(os.environ.get("TECHEX_SCHEMATHESIS_EXAMPLES", "15"))
# The document the service publishes at /openapi.json, built without starting anything.
schema = schemathesis.openapi.from_dict(create_app(Settings(secret_key="x" * 32)).openapi())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, live_server: str, admin_headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        base_url=live_server,
        headers=admin_headers,
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
            content_type_conformance,
        ],
    )


def test_optional_sign_in_is_the_same_documented_scheme() -> None:
    """Public reads take an optional bearer token through their own dependency; the document still
    names a single scheme, on public reads and signed-in routes alike."""
    document = create_app(Settings(secret_key="x" * 32)).openapi()
    assert list(document["components"]["securitySchemes"]) == ["OAuth2PasswordBearer"]
    for path, method in (("/api/v1/achievements/{listing_id}", "get"), ("/api/v1/demands", "get")):
        assert document["paths"][path][method]["security"] == [{"OAuth2PasswordBearer": []}]
    assert document["paths"]["/api/v1/users/me"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
