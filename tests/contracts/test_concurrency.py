"""Races against the real database: separate requests, separate sessions, at the same time."""

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import transitions
from app.contracts.models import ContractEvent, RegistrationCounter
from app.stats.models import ContractTotal
from tests.contracts import helpers
from tests.contracts.helpers import step


async def _count(db: AsyncSession, model: type, *where: object) -> int:
    return (await db.execute(select(func.count()).select_from(model).where(*where))).scalar_one()  # type: ignore[arg-type]


async def test_two_officers_register_at_once_exactly_one_wins(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w)
    url = f"/api/v1/contracts/{app['id']}/register"
    first, second = await asyncio.gather(
        client.post(url, json={"technology_amount": "700000.00"}, headers=w.officer.headers),
        client.post(url, json={"technology_amount": "650000.00"}, headers=w.officer2.headers),
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409], (first.text, second.text)
    loser = first if first.status_code == 409 else second
    assert loser.json()["code"] == "invalid_transition"
    assert loser.json()["allowed_actions"] == ["amend", "cancel"]
    # Nothing half-written: one number used, one history row, one summary contribution.
    counter = (await db.execute(select(RegistrationCounter.last_sequence))).scalar_one()
    assert counter == 1
    assert await _count(db, ContractEvent, ContractEvent.action == "register") == 1
    total = (
        await db.execute(select(ContractTotal.contract_count).where(ContractTotal.dimension == "all"))
    ).scalar_one()
    assert total == 1


async def test_eight_concurrent_registrations_are_gapless(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    apps = [await helpers.under_review(client, w) for _ in range(8)]
    officers = [w.officer, w.officer2]
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/contracts/{a['id']}/register",
                json={"technology_amount": "700000.00"},
                headers=officers[i % 2].headers,
            )
            for i, a in enumerate(apps)
        )
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    numbers = sorted(r.json()["registration_number"] for r in responses)
    assert len(set(numbers)) == 8
    assert [int(n[-6:]) for n in numbers] == list(range(1, 9))
    assert {n[:8] for n in numbers} == {"26320101"}


async def test_a_failed_registration_returns_its_number(
    client: httpx.AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await helpers.world(client, db)
    failing, other = await helpers.under_review(client, w), await helpers.under_review(client, w)
    original = transitions.summary.apply

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(transitions.summary, "apply", broken)
    response = await client.post(
        f"/api/v1/contracts/{failing['id']}/register",
        json={"technology_amount": "1.00"},
        headers=w.officer.headers,
    )
    assert response.status_code == 500
    monkeypatch.setattr(transitions.summary, "apply", original)
    done = await step(client, w.officer, other["id"], "register", {"technology_amount": "1.00"})
    assert done["registration_number"].endswith("000001")
    still = (await client.get(f"/api/v1/contracts/{failing['id']}", headers=w.officer.headers)).json()
    assert still["status"] == "under_review" and still["registration_number"] is None


async def test_idempotent_registration_replays_the_first_result(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w)
    url = f"/api/v1/contracts/{app['id']}/register"
    headers = {**w.officer.headers, "Idempotency-Key": "reg-7f3a9c21"}
    first = await client.post(url, json={"technology_amount": "700000.00"}, headers=headers)
    retry = await client.post(url, json={"technology_amount": "700000.00"}, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert await _count(db, ContractEvent, ContractEvent.action == "register") == 1
    changed = await client.post(url, json={"technology_amount": "1.00"}, headers=headers)
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"


async def test_concurrent_retries_with_one_key_register_once(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w)
    url = f"/api/v1/contracts/{app['id']}/register"
    headers = {**w.officer.headers, "Idempotency-Key": "reg-concurrent-1"}
    responses = await asyncio.gather(
        *(client.post(url, json={"technology_amount": "700000.00"}, headers=headers) for _ in range(4))
    )
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    assert len({r.json()["registration_number"] for r in responses}) == 1
    assert await _count(db, ContractEvent, ContractEvent.action == "register") == 1


async def test_idempotent_submission(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    app = await helpers.create(client, w)
    headers = {**w.applicant.headers, "Idempotency-Key": "submit-0001"}
    first = await client.post(f"/api/v1/contracts/{app['id']}/submit", headers=headers)
    retry = await client.post(f"/api/v1/contracts/{app['id']}/submit", headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json()["status"] == "submitted" and retry.json() == first.json()
    # Without the key, a second submit is an illegal transition.
    plain = await client.post(f"/api/v1/contracts/{app['id']}/submit", headers=w.applicant.headers)
    assert plain.status_code == 409


async def test_stale_version_is_refused_with_412(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w)
    stale = app["version"]
    await step(
        client,
        w.officer,
        app["id"],
        "amend",
        {"contract_amount": "900000.00", "technology_amount": "600000.00", "reason": "补充协议"},
        headers={"If-Match": str(stale)},
    )
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/amend",
        json={"contract_amount": "800000.00", "technology_amount": "500000.00", "reason": "另一份补充协议"},
        headers={**w.officer2.headers, "If-Match": str(stale)},
    )
    assert response.status_code == 412
    history = (await client.get(f"/api/v1/contracts/{app['id']}/history", headers=w.officer.headers)).json()[
        "items"
    ]
    assert [h["action"] for h in history].count("amend") == 1


@pytest.mark.parametrize(("if_match", "status"), [('"1"W', 412), ("/1/", 412), ("*", 200), ('W/"{v}"', 200)])
async def test_if_match_is_a_version_etag_or_star(
    client: httpx.AsyncClient, db: AsyncSession, if_match: str, status: int
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w)
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/amend",
        json={"contract_amount": "900000.00", "technology_amount": "600000.00", "reason": "补充协议"},
        headers={**w.officer.headers, "If-Match": if_match.format(v=app["version"])},
    )
    assert response.status_code == status, response.text
    if status == 412:
        assert response.json()["code"] == "bad_if_match"
