"""The application form: exact amounts, consistency rules, routing, visibility."""

from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.contracts import helpers
from tests.contracts.helpers import step


async def _post_raw(client: httpx.AsyncClient, w: helpers.World, raw: str) -> httpx.Response:
    return await client.post(
        "/api/v1/contracts",
        content=raw.encode(),
        headers={**w.applicant.headers, "Content-Type": "application/json"},
    )


async def test_json_number_with_three_decimals_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    import json

    w = await helpers.world(client, db)
    data = helpers.body(w.seller_org)
    raw = json.dumps(data).replace('"1000000.00"', "1000000.001")
    response = await _post_raw(client, w, raw)
    assert response.status_code == 422
    assert any(e["field"] == "contract_amount" for e in response.json()["errors"])


async def test_large_json_number_keeps_every_fen(
    client: httpx.AsyncClient, db: AsyncSession, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    # Above the default ceiling (1000亿): a float loses the fen only past 15 digits.
    monkeypatch.setattr(app.state.settings, "contract_amount_ceiling", Decimal("1e15"))
    w = await helpers.world(client, db)
    data = helpers.body(w.seller_org, deductions={"other": "0.01"})
    raw = (
        json.dumps(data)
        .replace('"1000000.00"', "99999999999999.99")
        .replace('"799999.50"', "99999999999999.98")
    )
    response = await _post_raw(client, w, raw)
    assert response.status_code == 201, response.text
    assert response.json()["contract_amount"] == "99999999999999.99"  # a float would have lost the fen


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"claimed_technology_amount": "800000.00"}, "claimed_technology_amount"),
        ({"contract_subtype": "exclusive"}, "contract_subtype"),
        ({"valid_until": "2026-01-01"}, "valid_until"),
        ({"contract_type": "transfer", "contract_subtype": "patent_right"}, "expected_new_output"),
        ({"contract_amount": "-1.00"}, ""),
        ({"contract_amount": "1e14"}, ""),
    ],
)
async def test_inconsistent_forms_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, overrides: dict, fragment: str
) -> None:
    w = await helpers.world(client, db)
    response = await client.post(
        "/api/v1/contracts", json=helpers.body(w.seller_org, **overrides), headers=w.applicant.headers
    )
    assert response.status_code == 422, response.text
    assert fragment in response.text
    listing = (await client.get("/api/v1/contracts", headers=w.applicant.headers)).json()
    assert listing["total"] == 0  # nothing written


async def test_only_the_seller_side_may_apply(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    response = await client.post(
        "/api/v1/contracts", json=helpers.body(w.seller_org), headers=w.outsider.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "seller.credit_code"
    officer = await client.post(
        "/api/v1/contracts", json=helpers.body(w.seller_org), headers=w.officer.headers
    )
    assert officer.status_code == 403


async def test_routing_prefers_the_most_specific_office(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    county = await helpers.office(db, "320102", "05")
    province = await helpers.office(db, "320000", "00")
    app = await helpers.create(client, w)
    assert app["office_id"] == str(county.id)
    assert app["office_id"] != str(province.id)


async def test_no_office_for_the_region(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from tests.fixtures.accounts import create_organization, create_user, sign_in

    w = await helpers.world(client, db)
    jiangxi = await create_organization(db, region_code="360102")
    user = await create_user(db, organization=jiangxi)
    headers = await sign_in(client, user.email)
    response = await client.post("/api/v1/contracts", json=helpers.body(jiangxi), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "no_registration_office"
    assert w.office.region_code == "320100"


async def test_visibility(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    app = await helpers.create(client, w)
    url = f"/api/v1/contracts/{app['id']}"
    for who, status in [
        (w.applicant, 200),
        (w.officer, 404),  # a draft: the office sees it once submitted (test_review_rules)
        (w.admin, 200),
        (w.other_officer, 404),
        (w.outsider, 404),
    ]:
        assert (await client.get(url, headers=who.headers)).status_code == status
        listing = (await client.get("/api/v1/contracts", headers=who.headers)).json()
        assert listing["total"] == (1 if status == 200 else 0)
    assert (await client.get(url)).status_code == 401
    assert (await client.get(f"{url}/history", headers=w.outsider.headers)).status_code == 404


async def test_correction_cycle_edits_and_restarts_the_clock(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.create(client, w)
    await step(client, w.applicant, app["id"], "submit")
    await step(client, w.officer, app["id"], "accept")
    corrected = await step(
        client, w.officer, app["id"], "request-correction", {"items": ["合同盖章页", "技术附件"]}
    )
    assert corrected["correction_items"] == ["合同盖章页", "技术附件"] and corrected["due_on"] is None
    edited = await client.put(
        f"/api/v1/contracts/{app['id']}",
        json=helpers.body(w.seller_org, project_name="补正后的项目名称"),
        headers=w.applicant.headers,
    )
    assert edited.status_code == 200 and edited.json()["project_name"] == "补正后的项目名称"
    again = await step(client, w.applicant, app["id"], "resubmit")
    assert again["status"] == "resubmitted" and again["due_on"] is not None
    # Not editable once under review.
    await step(client, w.officer, app["id"], "start-review")
    locked = await client.put(
        f"/api/v1/contracts/{app['id']}", json=helpers.body(w.seller_org), headers=w.applicant.headers
    )
    assert locked.status_code == 409
    assert locked.json()["status"] == 409 and locked.json()["current_status"] == "under_review"


async def test_queue_flags_overdue_and_due_soon(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from datetime import timedelta

    from app.accounts.models import User
    from app.contracts import service
    from app.contracts.models import ContractApplication
    from app.core.pagination import PageParams

    w = await helpers.world(client, db)
    soon = await helpers.under_review(client, w)
    late = await helpers.under_review(client, w)
    # The deadlines follow from the real date of acceptance, so "today" is taken from them: the
    # last day of `soon`'s term, a month after `late`'s.
    soon_row = await db.get(ContractApplication, soon["id"])
    late_row = await db.get(ContractApplication, late["id"])
    assert soon_row is not None and soon_row.due_on is not None and late_row is not None
    today = soon_row.due_on
    late_row.due_on = today - timedelta(days=30)
    await db.commit()
    officer = await db.get(User, w.officer.user_id)
    assert officer is not None
    items, _ = await service.queue(db, user=officer, page=PageParams(limit=10, offset=0), today=today)
    by_id = {str(i.id): i for i in items}
    assert by_id[late["id"]].overdue and by_id[late["id"]].working_days_left < 0
    assert by_id[soon["id"]].due_soon and not by_id[soon["id"]].overdue
    response = await client.get("/api/v1/contracts/queue", headers=w.officer.headers)
    assert response.status_code == 200 and len(response.json()["items"]) == response.json()["total"] == 2
    assert (await client.get("/api/v1/contracts/queue", headers=w.applicant.headers)).status_code == 403


async def test_document_upload_is_content_addressed(client: httpx.AsyncClient, db: AsyncSession) -> None:
    import hashlib

    w = await helpers.world(client, db)
    draft = await helpers.create(client, w, document=None)
    refused = await client.post(f"/api/v1/contracts/{draft['id']}/submit", headers=w.applicant.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "document_sha256"
    pdf = b"%PDF-1.4 contract text \xe5\x90\x88\xe5\x90\x8c"
    url = f"/api/v1/contracts/{draft['id']}/document"
    uploaded = await client.put(
        url,
        params={"name": "技术开发合同.pdf"},
        content=pdf,
        headers={**w.applicant.headers, "Content-Type": "application/pdf"},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["document_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert uploaded.json()["document_name"] == "技术开发合同.pdf"
    downloaded = await client.get(url, headers=w.admin.headers)
    assert downloaded.content == pdf
    assert (await client.get(url, headers=w.outsider.headers)).status_code == 404
    assert (
        await client.put(url, params={"name": "x.pdf"}, content=pdf, headers=w.admin.headers)
    ).status_code == 403
    await step(client, w.applicant, draft["id"], "submit")
    late = await client.put(url, params={"name": "x.pdf"}, content=pdf, headers=w.applicant.headers)
    assert late.status_code == 409
