"""Who may apply and where (issue 18, items 1-3 and 7): the seller side, identified by its
organisation's verified credit code and region, at its own locality's office, with a plausible form."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts
from app.accounts.models import Organization, OrganizationKind, Role
from app.accounts.schemas import OrganizationCreate
from app.audit.service import SystemActor
from tests.contracts import helpers
from tests.contracts.helpers import step
from tests.fixtures.accounts import create_organization, create_user, credit_code, sign_in


async def _total(client: httpx.AsyncClient, w: helpers.World) -> int:
    return (await client.get("/api/v1/contracts", headers=w.admin.headers)).json()["total"]


async def _post(client: httpx.AsyncClient, headers: dict[str, str], data: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/contracts", json=data, headers=headers)


async def test_an_organisation_without_a_credit_code_cannot_file_as_another_seller(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    # Like the demo administrator's: an organisation created without a credit code.
    bare = await accounts.create_organization(
        db,
        actor=SystemActor(),
        data=OrganizationCreate(kind=OrganizationKind.government, name="无代码机构", region_code="320100"),
        verified=True,
    )
    await db.commit()
    user = await create_user(db, role=Role.admin, organization=bare)
    response = await _post(client, await sign_in(client, user.email), helpers.body(w.seller_org))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "organization_without_credit_code"
    assert await _total(client, w) == 0  # nothing written; the real seller is not impersonated


async def test_an_unverified_organisation_cannot_apply(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    unverified = await create_organization(db, verified=False)
    user = await create_user(db, organization=unverified)
    response = await _post(client, await sign_in(client, user.email), helpers.body(unverified))
    assert response.status_code == 403 and response.json()["code"] == "organization_not_verified"
    assert await _total(client, w) == 0


async def test_another_organisation_cannot_name_the_seller(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    response = await _post(client, w.outsider.headers, helpers.body(w.seller_org))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "seller.credit_code",
        "code": "not_applicant",
        "message": "申请登记方（卖方；技术进口合同为境内买方）须为本机构。",
    }
    assert await _total(client, w) == 0


def _import(buyer: Organization, **seller: Any) -> dict[str, Any]:
    return {
        "is_import": True,
        "buyer": {
            "name": buyer.name,
            "credit_code": buyer.credit_code,
            "region_code": buyer.region_code,
            "kind": "university",
        },
        "seller": {
            "name": "Fraunhofer-Institut für Solare Energiesysteme",
            "kind": "research_institute",
            **seller,
        },
    }


async def test_an_import_is_filed_by_the_domestic_buyer_with_the_seller_abroad(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.create(client, w, **_import(w.seller_org))
    assert app["is_import"] and app["stats_region_code"] == "320102"
    assert app["office_id"] == str(w.office.id)
    assert app["seller_credit_code"] is None and app["seller_region_code"] is None


async def test_a_domestic_contract_cannot_be_filed_as_an_import(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    data = helpers.body(
        w.seller_org, **_import(w.seller_org, credit_code=credit_code(), region_code="320505")
    )
    response = await _post(client, w.applicant.headers, data)
    assert response.status_code == 422, response.text
    errors = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert errors == {
        ("seller.credit_code", "seller_not_abroad"),
        ("seller.region_code", "seller_not_abroad"),
    }
    assert await _total(client, w) == 0


async def test_the_seller_region_is_the_organisations_not_the_forms(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)  # Nanjing (3201) and Suzhou (3205) offices; seller in 320102
    seller = helpers.body(w.seller_org)["seller"]
    shopping = await _post(
        client, w.applicant.headers, helpers.body(w.seller_org, seller={**seller, "region_code": "320505"})
    )
    assert shopping.status_code == 422, shopping.text
    assert shopping.json()["errors"][0]["field"] == "seller.region_code"
    assert shopping.json()["errors"][0]["code"] == "not_applicant_region"
    assert await _total(client, w) == 0
    # Left out, it is the organisation's.
    app = await helpers.create(client, w, seller={**seller, "region_code": None})
    assert app["seller_region_code"] == "320102" and app["stats_region_code"] == "320102"
    assert app["office_id"] == str(w.office.id)


async def test_no_edit_moves_a_submitted_application_to_another_office(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    nanchang = await helpers.office(db, "360100", "01")
    nanchang_officer = await helpers.person(client, db, Role.registration_officer, nanchang)
    app = await helpers.create(client, w)
    await step(client, w.applicant, app["id"], "submit")
    await step(client, w.officer, app["id"], "accept")
    await step(client, w.officer, app["id"], "request-correction", {"items": ["盖章页"]})
    url = f"/api/v1/contracts/{app['id']}"
    seller = helpers.body(w.seller_org)["seller"]
    moved = await client.put(
        url,
        json=helpers.body(w.seller_org, seller={**seller, "region_code": "360102"}),
        headers=w.applicant.headers,
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "seller.region_code"
    # A county office opened meanwhile would route a new application of this seller; this one stays.
    await helpers.office(db, "320102", "05")
    edited = await client.put(
        url, json=helpers.body(w.seller_org, project_name="补正后的名称"), headers=w.applicant.headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["office_id"] == str(w.office.id)
    assert (await client.get(url, headers=w.officer.headers)).status_code == 200
    assert (await client.get(url, headers=nanchang_officer.headers)).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"signed_on": "1900-01-01", "valid_from": "1900-01-01"}, "signed_on", "before_floor"),
        ({"valid_from": "2019-01-01", "valid_until": "2020-12-31"}, "valid_until", "before_signed_on"),
        (
            {
                "contract_amount": "99999999999999.99",
                "claimed_technology_amount": "99999999999999.99",
                "deductions": {},
            },
            "contract_amount",
            "above_ceiling",
        ),
    ],
)
async def test_implausible_forms_are_refused_naming_the_field(
    client: httpx.AsyncClient, db: AsyncSession, overrides: dict[str, Any], field: str, code: str
) -> None:
    w = await helpers.world(client, db)
    response = await _post(client, w.applicant.headers, helpers.body(w.seller_org, **overrides))
    assert response.status_code == 422, response.text
    assert (field, code) in {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert await _total(client, w) == 0


async def test_buyer_and_seller_cannot_be_one_organisation(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    data = helpers.body(w.seller_org)
    data["buyer"]["credit_code"] = w.seller_org.credit_code
    response = await _post(client, w.applicant.headers, data)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "buyer.credit_code"
    assert response.json()["errors"][0]["code"] == "same_as_seller"
    assert await _total(client, w) == 0


async def test_the_ceiling_and_the_floor_are_settings(
    client: httpx.AsyncClient, db: AsyncSession, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date
    from decimal import Decimal

    monkeypatch.setattr(app.state.settings, "contract_amount_ceiling", Decimal("999999.99"))
    monkeypatch.setattr(app.state.settings, "contract_signed_on_floor", date(2026, 10, 9))
    w = await helpers.world(client, db)
    response = await _post(client, w.applicant.headers, helpers.body(w.seller_org))
    errors = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert errors == {("contract_amount", "above_ceiling"), ("signed_on", "before_floor")}
