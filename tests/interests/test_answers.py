"""The owner's answer: accept (contacts released, a deal opened), decline with a reason, the
interested side's withdrawal; who may do each, once, and who may read an interest."""

import asyncio
import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.deals.models import Deal, DealStageEvent, Interest
from app.deals.vocabulary import DealStage, DeclineReason
from tests.contracts.helpers import person
from tests.deals.factory import deal_at, deal_world
from tests.interests.helpers import expressed, published_demand


async def _post(client: httpx.AsyncClient, who, interest_id: str, action: str, **body) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/interests/{interest_id}/{action}", json=body or None, headers=who.headers
    )


async def test_accepting_releases_contacts_and_opens_a_deal_with_the_owner_as_seller(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    w.achievement.contacts = [{"name": "李老师", "phone": "025-83790000", "email": "li@example.edu.cn"}]
    await db.commit()
    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    before = (await client.get(f"/api/v1/interests/{interest['id']}", headers=w.buyer.headers)).json()
    assert before["contacts"] is None  # nothing released before the answer

    accepted = await _post(client, w.seller, interest["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted" and body["answered_at"] and body["waiting_since"] is None
    contacts = body["contacts"]
    assert contacts["listing_contacts"] == w.achievement.contacts
    assert contacts["owner_organization_name"] == w.seller_org.name
    assert contacts["interested"]["organization_name"] == w.buyer_org.name
    assert contacts["interested"]["email"].endswith("@example.cn") and contacts["broker"] is None
    # The interested side reads the same contacts.
    seen = (await client.get(f"/api/v1/interests/{interest['id']}", headers=w.buyer.headers)).json()
    assert seen["contacts"] == contacts

    deal = await db.get(Deal, uuid.UUID(body["deal_id"]))
    assert deal is not None and deal.stage == DealStage.lead
    assert (deal.seller_organization_id, deal.buyer_organization_id) == (w.seller_org.id, w.buyer_org.id)
    assert deal.achievement_id == w.achievement.id and deal.broker_user_id is None
    assert deal.title == w.achievement.title
    events = await db.scalar(select(func.count()).where(DealStageEvent.deal_id == deal.id))
    assert events == 1
    actions = set(
        await db.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id.in_([interest["id"], str(deal.id)]))
        )
    )
    assert {"expressed", "accepted", "open"} <= actions


async def test_accepting_an_interest_in_a_demand_makes_the_owner_the_buyer(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    demand = await published_demand(db, w.buyer_org)
    interest = await expressed(client, w.seller, "demand", demand.id)
    accepted = await _post(client, w.buyer, interest["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    deal = await db.get(Deal, uuid.UUID(accepted.json()["deal_id"]))
    assert deal is not None and deal.demand_id == demand.id and deal.achievement_id is None
    assert (deal.seller_organization_id, deal.buyer_organization_id) == (w.seller_org.id, w.buyer_org.id)
    assert accepted.json()["contacts"]["listing_contacts"][0]["name"] == "王工"


async def test_an_interest_filed_by_a_technology_manager_makes_them_the_deals_broker(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    interest = await expressed(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.buyer_org.id)
    )
    accepted = await _post(client, w.seller, interest["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["contacts"]["broker"]["organization_name"] == w.agency.name
    deal = await db.get(Deal, uuid.UUID(accepted.json()["deal_id"]))
    assert deal is not None
    assert (deal.broker_user_id, deal.broker_agency_id) == (w.broker.user_id, w.agency.id)
    assert deal.buyer_organization_id == w.buyer_org.id
    audited = await db.scalar(
        select(func.count()).where(
            AuditEntry.object_id == str(deal.id), AuditEntry.action == "broker_from_interest"
        )
    )
    assert audited == 1


async def test_accepting_joins_the_open_deal_that_already_holds_the_listing_and_buyer(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    existing = await deal_at(db, w, DealStage.mandated)
    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    accepted = await _post(client, w.seller, interest["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["deal_id"] == str(existing.id)
    assert await db.scalar(select(func.count()).select_from(Deal)) == 1


async def test_two_accepts_at_once_open_one_deal(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    colleague = await person(client, db, Role.member, w.seller_org)
    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    answers = await asyncio.gather(
        *(_post(client, who, interest["id"], "accept") for who in (w.seller, colleague, w.seller, w.admin))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["code"] == "interest_already_answered" and refused["current_status"] == "accepted"
    assert await db.scalar(select(func.count()).select_from(Deal)) == 1
    accepted_audits = await db.scalar(
        select(func.count()).where(AuditEntry.object_id == interest["id"], AuditEntry.action == "accepted")
    )
    assert accepted_audits == 1


async def test_declining_gives_the_interested_side_the_reason_and_the_note(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    declined = await _post(client, w.seller, interest["id"], "decline", reason="price", note="报价低于评估值")
    assert declined.status_code == 200, declined.text
    assert declined.json()["deal_id"] is None and declined.json()["contacts"] is None
    sent = (await client.get("/api/v1/interests/sent", headers=w.buyer.headers)).json()["items"]
    assert len(sent) == 1
    assert sent[0]["status"] == "declined" and sent[0]["decline_reason"] == "price"
    assert sent[0]["decline_reason_label"] == DeclineReason.price.label == "价格"
    assert sent[0]["decline_note"] == "报价低于评估值" and sent[0]["age_days"] == 0
    assert await db.scalar(select(func.count()).select_from(Deal)) == 0
    again = await _post(client, w.seller, interest["id"], "accept")
    assert again.status_code == 409 and again.json()["current_status"] == "declined"


async def test_a_decline_needs_a_known_reason_and_the_values_are_listed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    for body in ({"reason": "rude"}, {"note": "没有原因"}):
        refused = await _post(client, w.seller, interest["id"], "decline", **body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "reason"
    listed = (await _post(client, w.seller, interest["id"], "decline", reason="rude")).json()["errors"][0]
    assert all(reason.value in listed["message"] for reason in DeclineReason)
    stored = await db.get(Interest, uuid.UUID(interest["id"]))
    assert stored is not None and stored.status == "open"


async def test_only_the_owner_side_or_an_administrator_answers(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    by_interested = await _post(client, w.buyer, interest["id"], "accept")
    assert by_interested.status_code == 403 and by_interested.json()["code"] == "not_listing_owner"
    for stranger in (w.outsider, w.broker):
        response = await _post(client, stranger, interest["id"], "decline", reason="other")
        assert response.status_code == 404 and response.json()["code"] == "interest_not_found"
    assert (await _post(client, w.admin, interest["id"], "decline", reason="timing")).status_code == 200


async def test_the_interested_side_withdraws_and_cannot_once_answered(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    first = await expressed(client, w.buyer, "achievement", w.achievement.id)
    by_owner = await _post(client, w.seller, first["id"], "withdraw")
    assert by_owner.status_code == 403 and by_owner.json()["code"] == "not_interested_side"
    assert (await _post(client, w.outsider, first["id"], "withdraw")).status_code == 404
    withdrawn = await _post(client, w.buyer, first["id"], "withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = await _post(client, w.buyer, first["id"], "withdraw")
    assert again.status_code == 409 and again.json()["current_status"] == "withdrawn"
    late = await _post(client, w.seller, first["id"], "accept")
    assert late.status_code == 409 and late.json()["code"] == "interest_already_answered"


async def test_only_the_two_sides_and_administrators_read_an_interest(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    interest = await expressed(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.buyer_org.id)
    )
    for who in (w.seller, w.buyer, w.broker, w.admin):
        response = await client.get(f"/api/v1/interests/{interest['id']}", headers=who.headers)
        assert response.status_code == 200, response.text
    for path in (interest["id"], str(uuid.uuid4())):
        response = await client.get(f"/api/v1/interests/{path}", headers=w.outsider.headers)
        assert response.status_code == 404 and response.json()["code"] == "interest_not_found"
    assert (await client.get("/api/v1/interests/received", headers=w.outsider.headers)).json()["total"] == 0
    assert (await client.get("/api/v1/interests/sent", headers=w.outsider.headers)).json()["total"] == 0


async def test_a_confidential_demands_company_stays_hidden_until_it_accepts(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    demand = await published_demand(db, w.buyer_org, confidential=True)
    interest = await expressed(client, w.seller, "demand", demand.id)
    assert interest["owner_organization_id"] is None and interest["owner_organization_name"] is None
    sent = (await client.get("/api/v1/interests/sent", headers=w.seller.headers)).json()["items"][0]
    assert sent["owner_organization_name"] is None
    owner_view = (await client.get(f"/api/v1/interests/{interest['id']}", headers=w.buyer.headers)).json()
    assert owner_view["owner_organization_name"] == w.buyer_org.name
    await _post(client, w.buyer, interest["id"], "accept")
    after = (await client.get(f"/api/v1/interests/{interest['id']}", headers=w.seller.headers)).json()
    assert after["owner_organization_name"] == w.buyer_org.name


async def test_received_lists_open_interests_first_longest_waiting_first_with_their_age(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    answered = await expressed(client, w.buyer, "achievement", w.achievement.id)
    await _post(client, w.seller, answered["id"], "decline", reason="too_early")
    old = await expressed(client, w.outsider, "achievement", w.achievement.id)
    newer = await expressed(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.buyer_org.id)
    )
    # The outsider's interest was filed 12 days ago (the clock moved, not slept).
    await db.execute(
        Interest.__table__.update()
        .where(Interest.id == uuid.UUID(old["id"]))
        .values(created_at=func.now() - func.make_interval(0, 0, 0, 12))
    )
    await db.commit()
    received = (await client.get("/api/v1/interests/received", headers=w.seller.headers)).json()
    assert [item["id"] for item in received["items"]] == [old["id"], newer["id"], answered["id"]]
    assert received["total"] == 3 and received["limit"] and received["offset"] == 0
    assert received["items"][0]["age_days"] == 12 and received["items"][0]["waiting_since"]
    assert received["items"][2]["waiting_since"] is None
    only_open = (
        await client.get("/api/v1/interests/received", params={"status": "open"}, headers=w.seller.headers)
    ).json()
    assert only_open["total"] == 2
    everything = (await client.get("/api/v1/interests/received", headers=w.admin.headers)).json()
    assert everything["total"] == 3
