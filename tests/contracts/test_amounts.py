"""Zero amounts are not registrable (issue 18 item 4): a contract without a price, a certified
technology amount of 0.00 or -0.00, an amendment to 0 / 0."""

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import ContractApplication, ContractEvent
from tests.contracts import helpers
from tests.contracts.helpers import step


async def _events(db: AsyncSession, app_id: str) -> int:
    statement = select(func.count()).select_from(ContractEvent).where(ContractEvent.application_id == app_id)
    return (await db.execute(statement)).scalar_one()


@pytest.mark.parametrize("amount", ["0.00", "-0.00", "0", 0])
async def test_a_certified_technology_amount_of_zero_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, amount: object
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w)
    before = await _events(db, app["id"])
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/register",
        json={"technology_amount": amount},
        headers=w.officer.headers,
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["technology_amount"]
    current = (await client.get(f"/api/v1/contracts/{app['id']}", headers=w.officer.headers)).json()
    assert current["status"] == "under_review" and current["registration_number"] is None
    assert await _events(db, app["id"]) == before


async def test_a_contract_without_a_price_is_not_registrable(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w)
    # A price of 0.00 (filed before the application form refused it): review still cannot register it.
    await db.execute(
        update(ContractApplication)
        .where(ContractApplication.id == app["id"])
        .values(contract_amount=0, claimed_technology_amount=0, deduction_equipment=0, deduction_materials=0)
    )
    await db.commit()
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/register",
        json={"technology_amount": "0.01"},
        headers=w.officer.headers,
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "no_contract_price"
    assert response.json()["field"] == "contract_amount"
    current = (await client.get(f"/api/v1/contracts/{app['id']}", headers=w.officer.headers)).json()
    assert current["status"] == "under_review" and current["registration_number"] is None
    refused = await step(client, w.officer, app["id"], "refuse", {"reason": "价款不明确"})
    assert refused["status"] == "refused"


@pytest.mark.parametrize(
    ("contract_amount", "technology_amount", "fields"),
    [
        ("0.00", "0.00", ["contract_amount", "technology_amount"]),
        ("1000000.00", "-0.00", ["technology_amount"]),
        ("0", "0", ["contract_amount", "technology_amount"]),
    ],
)
async def test_an_amendment_to_zero_is_refused(
    client: httpx.AsyncClient,
    db: AsyncSession,
    contract_amount: str,
    technology_amount: str,
    fields: list[str],
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w)
    before = await _events(db, app["id"])
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/amend",
        json={
            "contract_amount": contract_amount,
            "technology_amount": technology_amount,
            "reason": "合同解除",
        },
        headers=w.officer.headers,
    )
    assert response.status_code == 422, response.text
    assert sorted(e["field"] for e in response.json()["errors"]) == fields
    current = (await client.get(f"/api/v1/contracts/{app['id']}", headers=w.officer.headers)).json()
    assert current["registered_technology_amount"] == "700000.00" and current["amendment_count"] == 0
    assert await _events(db, app["id"]) == before


async def test_an_amendment_above_the_ceiling_is_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """The ceiling a form is held to holds for a change registration too: an officer cannot amend a
    contract to 99,999,999,999,999.99 元."""
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w)
    before = await _events(db, app["id"])
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/amend",
        json={"contract_amount": "99999999999999.99", "technology_amount": "800000.00", "reason": "补充协议"},
        headers=w.officer.headers,
    )
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("contract_amount", "above_ceiling")
    ]
    assert await _events(db, app["id"]) == before
