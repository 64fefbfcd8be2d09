"""The mandate (委托): who may engage a broker, the commission terms, replacing a mandate."""

from datetime import date, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.deals.models import Deal, Mandate
from app.deals.vocabulary import DealStage
from tests.contracts.helpers import Person, person
from tests.deals.factory import DealWorld, deal_at, deal_world, etag


def _terms(w: DealWorld, **overrides: object) -> dict[str, object]:
    return {
        "engaged_by_organization_id": str(w.seller_org.id),
        "technology_manager_id": str(w.broker.user_id),
        "commission_rate": "0.03",
        "starts_on": date.today().isoformat(),
        **overrides,
    }


async def _put(
    client: httpx.AsyncClient, who: Person, deal_id: object, body: dict[str, object]
) -> httpx.Response:
    return await client.put(
        f"/api/v1/deals/{deal_id}/mandate",
        json=body,
        headers={**who.headers, "If-Match": await etag(client, who, deal_id)},
    )


async def test_the_engaging_party_records_the_mandate_and_the_broker_follows(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.lead)
    put = await _put(client, w.seller, deal.id, _terms(w))
    assert put.status_code == 200, put.text
    body = put.json()
    assert (body["broker_user_id"], body["broker_agency_id"]) == (str(w.broker.user_id), str(w.agency.id))
    assert body["mandate"]["commission_rate"] == "0.030000" and body["mandate"]["in_force"] is True
    assert body["mandate"]["agency_organization_id"] == str(w.agency.id)
    # The broker now sees the deal; the counterpart sees who brokers it but not the commission.
    assert (await client.get(f"/api/v1/deals/{deal.id}", headers=w.broker.headers)).status_code == 200
    seen_by_buyer = (await client.get(f"/api/v1/deals/{deal.id}", headers=w.buyer.headers)).json()["mandate"]
    assert seen_by_buyer["technology_manager_id"] == str(w.broker.user_id)
    assert (seen_by_buyer["commission_rate"], seen_by_buyer["commission_fixed"]) == (None, None)
    audited = await db.scalar(
        select(AuditEntry.changes).where(AuditEntry.object_id == str(deal.id), AuditEntry.action == "mandate")
    )
    assert audited is not None and audited["commission_rate"] == "0.03"


async def test_the_commission_is_a_rate_from_zero_to_one_or_a_fixed_amount_within_the_price(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.agreed)  # agreed at 800000.00
    for rate in ("1.5", "-0.01", "1.0000001"):
        refused = await _put(client, w.seller, deal.id, _terms(w, commission_rate=rate))
        assert refused.status_code == 422, (rate, refused.text)
        assert refused.json()["errors"][0]["field"] == "commission_rate"
    both = await _put(client, w.seller, deal.id, _terms(w, commission_fixed="1000.00"))
    assert (both.status_code, both.json()["errors"][0]["code"]) == (422, "one_commission")
    neither = await _put(client, w.seller, deal.id, _terms(w, commission_rate=None))
    assert (neither.status_code, neither.json()["errors"][0]["field"]) == (422, "commission_rate")
    above = await _put(
        client, w.seller, deal.id, _terms(w, commission_rate=None, commission_fixed="800000.01")
    )
    assert above.status_code == 422
    assert above.json()["errors"][0] == {
        "field": "commission_fixed",
        "code": "above_agreed_price",
        "message": "固定佣金不能超过成交价。",
    }
    ends_first = await _put(
        client, w.seller, deal.id, _terms(w, ends_on=(date.today() - timedelta(days=1)).isoformat())
    )
    assert (ends_first.status_code, ends_first.json()["errors"][0]["field"]) == (422, "ends_on")
    # The bounds themselves are allowed: 100 %, 0 %, exactly the agreed price.
    for terms in ({"commission_rate": "1"}, {"commission_rate": "0"}):
        assert (await _put(client, w.seller, deal.id, _terms(w, **terms))).status_code == 200
    exact = await _put(
        client, w.seller, deal.id, _terms(w, commission_rate=None, commission_fixed="800000.00")
    )
    assert (exact.status_code, exact.json()["mandate"]["commission_fixed"]) == (200, "800000.00")
    # …and the price may not then fall below that fixed commission.
    lowered = await client.patch(
        f"/api/v1/deals/{deal.id}",
        json={"agreed_price": "799999.99"},
        headers={**w.broker.headers, "If-Match": await etag(client, w.broker, deal.id)},
    )
    assert (lowered.status_code, lowered.json()["errors"][0]["code"]) == (422, "below_commission")


async def test_only_the_engaging_party_or_an_administrator_engages_a_technology_manager(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.lead)
    by_buyer = await _put(client, w.buyer, deal.id, _terms(w))
    assert (by_buyer.status_code, by_buyer.json()["code"]) == (403, "not_engaging_party")
    by_broker = await _put(client, w.admin, deal.id, _terms(w, engaged_by_organization_id=str(w.agency.id)))
    assert (by_broker.status_code, by_broker.json()["errors"][0]["code"]) == (422, "not_a_party")
    not_manager = await _put(client, w.seller, deal.id, _terms(w, technology_manager_id=str(w.buyer.user_id)))
    assert (not_manager.status_code, not_manager.json()["errors"][0]["field"]) == (
        422,
        "technology_manager_id",
    )
    stranger = await client.put(
        f"/api/v1/deals/{deal.id}/mandate", json=_terms(w), headers={**w.outsider.headers, "If-Match": '"1"'}
    )
    assert stranger.status_code == 404
    assert (await db.execute(select(Mandate))).first() is None
    by_admin = await _put(client, w.admin, deal.id, _terms(w, engaged_by_organization_id=str(w.buyer_org.id)))
    assert by_admin.status_code == 200, by_admin.text
    missing = await client.put(f"/api/v1/deals/{deal.id}/mandate", json=_terms(w), headers=w.seller.headers)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")


async def test_a_new_mandate_ends_the_one_in_force_and_the_old_broker_loses_sight(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.diligence)
    successor = await person(client, db, Role.tech_manager, w.agency)
    put = await _put(client, w.seller, deal.id, _terms(w, technology_manager_id=str(successor.user_id)))
    assert put.status_code == 200, put.text
    mandates = (
        await db.execute(select(Mandate).where(Mandate.deal_id == deal.id).order_by(Mandate.created_at))
    ).scalars()
    first, second = list(mandates)
    assert first.ended_at is not None and second.ended_at is None
    assert second.technology_manager_id == successor.user_id
    row = await db.get(Deal, deal.id, populate_existing=True)
    assert row is not None and row.broker_user_id == successor.user_id
    assert (await client.get(f"/api/v1/deals/{deal.id}", headers=w.broker.headers)).status_code == 404
    assert (await client.get(f"/api/v1/deals/{deal.id}", headers=successor.headers)).json()["sides"] == [
        "broker"
    ]
    actions = (
        await db.execute(
            select(AuditEntry.action).where(AuditEntry.object_id == str(deal.id)).order_by(AuditEntry.id)
        )
    ).scalars()
    assert list(actions)[-2:] == ["mandate_end", "mandate"]


async def test_a_signed_deals_broker_cannot_be_replaced(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """The seller who signed (or handed off) cannot swap the broker who made the deal for an agency
    of its choosing, to which the registration's reward would then go: the mandate, like the terms,
    is locked once the contract is signed, on hold from there included."""
    w = await deal_world(client, db)
    friend = await person(client, db, Role.tech_manager, w.seller_org)
    for stage in (DealStage.signed, DealStage.registration_submitted):
        deal = await deal_at(db, w, stage)
        response = await _put(client, w.seller, deal.id, _terms(w, technology_manager_id=str(friend.user_id)))
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "mandate_locked"
        assert response.json()["current_status"] == stage.value
        await db.refresh(deal)
        assert deal.broker_user_id == w.broker.user_id
        mandates = (await db.scalars(select(Mandate).where(Mandate.deal_id == deal.id))).all()
        assert [m.technology_manager_id for m in mandates] == [w.broker.user_id]
        held = await client.post(
            f"/api/v1/deals/{deal.id}/stage",
            json={"to": "on_hold", "reason": "等待"},
            headers={**w.seller.headers, "If-Match": await etag(client, w.seller, deal.id)},
        )
        assert held.status_code == 200, held.text
        response = await _put(client, w.admin, deal.id, _terms(w, technology_manager_id=str(friend.user_id)))
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "mandate_locked"
        await client.post(
            f"/api/v1/deals/{deal.id}/stage",
            json={"to": "lost", "reason": "测试"},
            headers={**w.seller.headers, "If-Match": await etag(client, w.seller, deal.id)},
        )
