"""Property-based run of the whole API from its own OpenAPI document (schemathesis).

Fails on any 5xx and on any response that does not match the documented schema, status codes
and content types. Bounded examples per operation keep the suite within its time budget.
"""

import os
import re

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
from app.contracts.vocabulary import IPCategory, ip_category
from app.core.config import Settings
from app.core.errors import RESERVED_MEMBERS, Problem
from app.listings.vocabulary import IPKind
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


DOCUMENT = create_app(Settings(secret_key="x" * 32)).openapi()
OPERATIONS = [
    (f"{method.upper()} {path}", operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
]
# "English · 中文", as the listings' summaries always were.
BILINGUAL = re.compile(r"^[A-Z][\x20-\x7e’]* · [^\x00-\x7f][^·]*$")


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[name for name, _ in OPERATIONS])
def test_every_operation_is_summarised_in_both_languages_and_described(name: str, operation: dict) -> None:
    summary = operation.get("summary", "")
    assert BILINGUAL.match(summary), f"{name}: summary {summary!r} is not 'English · 中文'"
    # "Create a achievement draft" was generated for three of the four kinds.
    assert not re.search(r"\ba [aeio]", summary), f"{name}: {summary!r}"
    assert operation.get("description", "").strip(), f"{name} has no description"


def test_every_error_response_declares_the_problem_schema_under_problem_json() -> None:
    for name, operation in OPERATIONS:
        for status, response in operation["responses"].items():
            if status < "400" or name == "GET /readyz":  # the probe answers its Health body
                continue
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, f"{name} {status}: {response['content']}"
    problem = DOCUMENT["components"]["schemas"]["Problem"]
    assert problem["additionalProperties"] is True
    for member in (
        "type",
        "title",
        "status",
        "detail",
        "code",
        "instance",
        "request_id",
        "errors",
        "current_status",
        "action",
        "allowed_actions",
        "current_version",
        "field",
        "report",
    ):
        assert problem["properties"][member].get("description"), member


def test_every_extension_member_an_error_sends_is_documented() -> None:
    """The reserved members and those Problem documents as extensions are the same set."""
    documented = set(DOCUMENT["components"]["schemas"]["Problem"]["properties"])
    assert RESERVED_MEMBERS <= documented
    assert documented == set(Problem.model_fields)


def test_schema_names_are_plain_and_one_per_concept() -> None:
    names = DOCUMENT["components"]["schemas"]
    assert not [n for n in names if n.endswith(("-Input", "-Output")) or "__" in n]
    # Two vocabularies of intellectual property, told apart by name: the rights an achievement
    # holds and the registration form's categories.
    assert {"IPKind", "IPCategory"} <= set(names)
    assert names["IPKind"]["enum"] == [k.value for k in IPKind]
    assert names["IPCategory"]["enum"] == [c.value for c in IPCategory]


def test_a_listed_right_maps_to_the_forms_category_and_a_word_means_one_thing() -> None:
    assert ip_category(None) == IPCategory.none
    patents = {IPKind.invention_patent, IPKind.utility_model, IPKind.design_patent}
    for kind in IPKind:
        category = ip_category(kind)
        if kind in patents:
            assert category == IPCategory.patent
        else:
            # Not a coarser category: the same thing, so the same word (技术秘密 was `trade_secret`
            # in listings and `technical_secret` on the form).
            assert category.value == kind.value, (kind, category)
            assert category.label.endswith(kind.label), (kind.label, category.label)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/subscriptions",
        "/api/v1/contracts/queue",
        "/api/v1/contracts/{application_id}/history",
        "/api/v1/targets",
    ],
)
def test_lists_answer_the_page_envelope(path: str) -> None:
    operation = DOCUMENT["paths"][path]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    page = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert set(page["properties"]) == {"items", "total", "limit", "offset"}
    assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}


def test_no_operation_answers_a_bare_array() -> None:
    for name, operation in OPERATIONS:
        for status, response in operation["responses"].items():
            for media_type, content in response.get("content", {}).items():
                assert content.get("schema", {}).get("type") != "array", f"{name} {status} {media_type}"


def _request_bodies_of_deals_routes() -> dict[str, str]:
    """Schema name → operation, for every JSON body of issue 20's routes."""
    areas = ("/deals", "/interests", "/rewards", "/confidential")
    bodies: dict[str, str] = {}
    for name, operation in OPERATIONS:
        if not any(area in name for area in areas):
            continue
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if schema is not None:
            bodies[schema["$ref"].rsplit("/", 1)[-1]] = name
    return bodies


def test_every_request_body_of_the_deals_routes_shows_an_example_that_is_valid() -> None:
    """A newcomer reading /docs for the deal routes found bodies with no example (Swagger UI then
    fills in "string" for every field, and the dates and amounts it sends are refused). Each body
    now carries an example, and every example is accepted by its own model."""
    from pydantic import BaseModel

    from app.confidential import schemas as confidential
    from app.deals import schemas as deals
    from app.deals.handoff import schemas as handoff
    from app.interests import schemas as interests
    from app.rewards import schemas as rewards
    from app.trading.certificates import schemas as certificates
    from app.trading.publicity import schemas as publicity

    models: dict[str, type[BaseModel]] = {
        name: model
        for module in (confidential, deals, handoff, interests, rewards, publicity, certificates)
        for name, model in vars(module).items()
        if isinstance(model, type) and issubclass(model, BaseModel)
    }
    bodies = _request_bodies_of_deals_routes()
    assert {"InterestCreate", "DealCreate", "StageMove", "MandateIn", "HandOff", "RuleCreate"} <= set(bodies)
    for schema_name, operation in bodies.items():
        examples = DOCUMENT["components"]["schemas"][schema_name].get("examples")
        assert examples, f"{operation}: body {schema_name} has no example"
        for example in examples:
            models[schema_name].model_validate(example)
