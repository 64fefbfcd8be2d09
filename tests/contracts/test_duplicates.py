"""One contract, one registration (issue 18, item 6): while an application for a contract is live
or registered, another with the same document, or the same parties, project name and signing date,
is 409 duplicate_contract naming it — also when both arrive at the same moment."""

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import ContractApplication
from tests.contracts import helpers
from tests.contracts.helpers import step


def _holder(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "duplicate_contract"
    return response.json()["duplicate_of"]


async def _count(db: AsyncSession) -> int:
    return (await db.execute(select(func.count()).select_from(ContractApplication))).scalar_one()


async def test_the_same_parties_project_and_date_cannot_be_filed_twice(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    data = helpers.body(w.seller_org)
    first = await helpers.registered(client, w, buyer=data["buyer"])
    again = await client.post("/api/v1/contracts", json=data, headers=w.applicant.headers)
    assert _holder(again) == {
        "id": first["id"],
        "status": "registered",
        "registration_number": first["registration_number"],
    }
    assert await _count(db) == 1
    # Another signing date is another contract.
    other = await client.post(
        "/api/v1/contracts", json={**data, "signed_on": "2026-10-09"}, headers=w.applicant.headers
    )
    assert other.status_code == 201, other.text


async def test_the_same_document_cannot_be_filed_twice(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    first = await helpers.create(client, w, document=b"%PDF the signed contract")
    second = await helpers.create(client, w, document=None)
    again = await helpers.upload(client, w.applicant, second["id"], b"%PDF the signed contract")
    assert _holder(again) == {"id": first["id"], "status": "draft", "registration_number": None}
    row = await db.get(ContractApplication, second["id"])
    assert row is not None and row.document_sha256 is None and row.version == 1  # nothing written


async def test_a_correction_cannot_turn_an_application_into_another_live_one(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    first = await helpers.create(client, w)
    second = await helpers.create(client, w, project_name="另一个项目")
    edited = await client.put(
        f"/api/v1/contracts/{second['id']}",
        json=helpers.body(w.seller_org, project_name=first["project_name"], buyer=_buyer_of(first)),
        headers=w.applicant.headers,
    )
    assert _holder(edited)["id"] == first["id"]
    row = await db.get(ContractApplication, second["id"])
    assert row is not None and row.project_name == "另一个项目"


def _buyer_of(app: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": app["buyer_name"],
        "credit_code": app["buyer_credit_code"],
        "region_code": app["buyer_region_code"],
        "kind": app["buyer_kind"],
    }


async def test_a_refused_application_no_longer_holds_the_contract(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    refused = await helpers.under_review(client, w, document=b"%PDF contract")
    await step(client, w.officer, refused["id"], "refuse", {"reason": "非技术合同"})
    data = helpers.body(w.seller_org, buyer=_buyer_of(refused))
    again = await client.post("/api/v1/contracts", json=data, headers=w.applicant.headers)
    assert again.status_code == 201, again.text
    uploaded = await helpers.upload(client, w.applicant, again.json()["id"], b"%PDF contract")
    assert uploaded.status_code == 200, uploaded.text


async def test_twenty_parallel_filings_of_one_contract_make_one_application(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    data = helpers.body(w.seller_org)
    responses = await asyncio.gather(
        *(client.post("/api/v1/contracts", json=data, headers=w.applicant.headers) for _ in range(20))
    )
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {_holder(r)["id"] for r in responses if r.status_code != 201} == {created[0].json()["id"]}
    assert await _count(db) == 1


async def test_parallel_uploads_of_one_document_to_two_drafts_keep_one(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    drafts = [await helpers.create(client, w, document=None) for _ in range(2)]
    responses = await asyncio.gather(
        *(helpers.upload(client, w.applicant, d["id"], b"%PDF one contract") for d in drafts)
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    loser = next(r for r in responses if r.status_code == 409)
    assert _holder(loser)["id"] == winner["id"]
    hashes = (await db.execute(select(ContractApplication.document_sha256))).scalars().all()
    assert sorted(hashes, key=str) == sorted([None, winner["document_sha256"]], key=str)


async def test_an_objection_cannot_revive_a_refusal_once_the_contract_was_filed_again(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    refused = await helpers.under_review(client, w)
    await step(client, w.officer, refused["id"], "refuse", {"reason": "非技术合同"})
    again = await helpers.create(client, w, buyer=_buyer_of(refused))
    objection = await client.post(
        f"/api/v1/contracts/{refused['id']}/object", json={"reason": "不服"}, headers=w.applicant.headers
    )
    assert _holder(objection)["id"] == again["id"]
    row = await db.get(ContractApplication, refused["id"])
    assert row is not None and row.status == "refused"
