"""Idempotency keys replay only a current answer, and expire (issue 18 item 8)."""

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import ContractEvent, IdempotencyRecord
from tests.contracts import helpers
from tests.contracts.helpers import step


async def _events(db: AsyncSession, app_id: str) -> int:
    statement = select(func.count()).select_from(ContractEvent).where(ContractEvent.application_id == app_id)
    return (await db.execute(statement)).scalar_one()


async def test_a_register_key_does_not_replay_after_an_objection_reopened_the_review(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w)
    url = f"/api/v1/contracts/{app['id']}/register"
    headers = {**w.officer.headers, "Idempotency-Key": "reg-objection-1"}
    first = await client.post(url, json={"technology_amount": "700000.00"}, headers=headers)
    assert first.status_code == 200 and first.json()["status"] == "registered"
    await step(client, w.applicant, app["id"], "object", {"reason": "认定金额过低"})
    await step(client, w.officer, app["id"], "reopen", {})
    before = await _events(db, app["id"])
    replay = await client.post(url, json={"technology_amount": "700000.00"}, headers=headers)
    assert replay.status_code == 409, replay.text
    assert replay.json()["code"] == "idempotency_key_stale"
    assert replay.json()["current_status"] == "under_review"
    assert "Idempotent-Replayed" not in replay.headers
    current = (await client.get(f"/api/v1/contracts/{app['id']}", headers=w.officer.headers)).json()
    assert current["status"] == "under_review"
    assert await _events(db, app["id"]) == before


async def test_a_submit_key_does_not_replay_once_the_office_accepted(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.create(client, w)
    headers = {**w.applicant.headers, "Idempotency-Key": "submit-accepted-1"}
    url = f"/api/v1/contracts/{app['id']}/submit"
    assert (await client.post(url, headers=headers)).status_code == 200
    await step(client, w.officer, app["id"], "accept")
    replay = await client.post(url, headers=headers)
    assert replay.status_code == 409 and replay.json()["code"] == "idempotency_key_stale"
    assert replay.json()["current_status"] == "accepted"


async def test_an_expired_key_is_a_new_request(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w)
    url = f"/api/v1/contracts/{app['id']}/register"
    headers = {**w.officer.headers, "Idempotency-Key": "reg-expired-1"}
    first = await client.post(url, json={"technology_amount": "700000.00"}, headers=headers)
    assert first.status_code == 200
    # 25 hours later (TECHEX_IDEMPOTENCY_KEY_HOURS defaults to 24) the key is forgotten: the same
    # request is taken as a new one, and a registered application cannot be registered again.
    await db.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "reg-expired-1")
        .values(created_at=func.now() - func.make_interval(0, 0, 0, 0, 25))
    )
    await db.commit()
    retry = await client.post(url, json={"technology_amount": "700000.00"}, headers=headers)
    assert retry.status_code == 409, retry.text
    assert retry.json()["code"] == "invalid_transition"
    assert await _events(db, app["id"]) == 4  # submit, accept, start_review, register: once
