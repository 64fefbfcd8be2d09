"""The workflow writes no outbox message nobody consumes (issue 18 item 12)."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.models import OutboxMessage
from tests.contracts import helpers
from tests.contracts.helpers import step


async def test_a_whole_registration_leaves_no_contract_outbox_messages(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w)
    await step(
        client,
        w.officer,
        app["id"],
        "amend",
        {"contract_amount": "900000.00", "technology_amount": "600000.00", "reason": "补充协议"},
    )
    await step(client, w.officer, app["id"], "cancel", {"reason": "合同解除"})
    pending = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic.like("contract.%"))
    assert (await db.execute(pending)).scalar_one() == 0
    # The history a consumer to come would read is complete.
    history = (await client.get(f"/api/v1/contracts/{app['id']}/history", headers=w.officer.headers)).json()[
        "items"
    ]
    assert [h["action"] for h in history] == [
        "submit",
        "accept",
        "start_review",
        "register",
        "amend",
        "cancel",
    ]
