"""The whole workflow through the API, for each role."""

from decimal import Decimal

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.contracts.models import ContractEvent
from app.outbox.models import OutboxMessage
from tests.contracts import helpers
from tests.contracts.helpers import step


async def test_happy_path_registers_with_a_14_digit_number(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.create(client, w)
    assert app["status"] == "draft"
    assert app["office_id"] == str(w.office.id)
    assert app["claimed_technology_amount"] == "799999.50"
    assert app["allowed_actions"] == ["submit"]

    app = await step(client, w.applicant, app["id"], "submit")
    assert app["status"] == "submitted"
    app = await step(client, w.officer, app["id"], "accept")
    assert app["status"] == "accepted" and app["due_on"] is not None
    app = await step(client, w.officer, app["id"], "start-review")
    assert app["status"] == "under_review"
    app = await step(client, w.officer, app["id"], "register", {"technology_amount": "700000.00"})
    assert app["status"] == "registered"
    number = app["registration_number"]
    assert len(number) == 14 and number[2:8] == "320101" and number.endswith("000001")
    assert app["registered_technology_amount"] == "700000.00"
    assert app["registered_contract_amount"] == "1000000.00"

    events = (
        (
            await db.execute(
                select(ContractEvent.action)
                .where(ContractEvent.application_id == app["id"])
                .order_by(ContractEvent.id)
            )
        )
        .scalars()
        .all()
    )
    assert events == ["submit", "accept", "start_review", "register"]
    audits = (
        await db.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id == app["id"])
        )
    ).scalar_one()
    assert audits == 6  # create, the document, four transitions
    topics = (
        (await db.execute(select(OutboxMessage.topic).where(OutboxMessage.key == app["id"]))).scalars().all()
    )
    assert topics == []  # nothing consumes a transition yet, so none is written (test_outbox)

    history = (
        await client.get(f"/api/v1/contracts/{app['id']}/history", headers=w.applicant.headers)
    ).json()["items"]
    assert [h["action"] for h in history][-1] == "register"
    assert Decimal(history[-1]["technology_amount"]) == Decimal("700000.00")
