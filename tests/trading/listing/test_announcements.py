"""Announcing a listing, its frozen content and the period counted in Chinese working days."""

import asyncio
import uuid
from datetime import date

import httpx
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.deals.models import Deal
from app.trading.models import ListingAnnouncement, ListingIntention
from app.trading.vocabulary import IntentionStatus, PricingRoute
from tests.trading.listing.world import URL, announce, as_, audits, china, decide, file, terms, world

# National Day 2026: 1–7 October off, Saturday 10 October a make-up working day (chinese-calendar).
MONDAY_BEFORE_NATIONAL_DAY = china(2026, 9, 28, 10, 0)


async def test_a_period_across_national_day_skips_the_holiday_and_ends_at_midnight_china_time(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        # 29, 30 Sept, then 8, 9, 10 (Saturday, make-up), 12–16 October: ten working days.
        assert body["period_starts_on"] == "2026-09-28"
        assert body["period_ends_on"] == "2026-10-16"
        assert body["ends_at"] == "2026-10-17T00:00:00+08:00"
        assert body["status"] == "running" and body["revision"] == 1
        listed = (await client.get(URL)).json()
        assert [a["id"] for a in listed["items"]] == [body["id"]]
        assert listed["items"][0]["intentions"] is None
    deal = await db.get(Deal, w.deal.id, populate_existing=True)
    assert deal is not None and deal.pricing_route is PricingRoute.listing
    assert await audits(db, body["id"], "announced") == 1


async def test_only_the_seller_side_announces_on_a_negotiating_deal_without_a_buyer(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        buyer = await as_(client, w.buyers[0])
        response = await client.post(URL, json=terms(w.deal), headers=buyer)
        assert response.status_code == 422  # the deal does not exist for them
        assert response.json()["errors"][0]["field"] == "deal_id"
        seller = await as_(client, w.seller)
        for field, value, code in (
            ("period_working_days", 5, "period_too_short"),
            ("extension_working_days", 3, "extension_too_short"),
            ("deposit_amount", "1000.00", "deposit_out_of_range"),
            ("max_extensions", 2, "extension_mismatch"),
        ):
            response = await client.post(URL, json=terms(w.deal, **{field: value}), headers=seller)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0] == {
                **response.json()["errors"][0],
                "field": field,
                "code": code,
            }
        assert (await db.execute(select(ListingAnnouncement))).first() is None
        # The broker may announce for the seller; a second one is refused while it runs.
        broker = await as_(client, w.broker)
        assert (await client.post(URL, json=terms(w.deal), headers=broker)).status_code == 201
        again = await client.post(URL, json=terms(w.deal), headers=seller)
        assert again.status_code == 409 and again.json()["code"] == "pricing_route_in_progress"
        # A deal whose buyer is known goes through the agreed-price publicity instead.
        deal = await db.get(Deal, w.deal.id, populate_existing=True)
        assert deal is not None
        deal.buyer_organization_id = w.buyer_orgs[0].id
        await db.commit()
        known = await client.post(URL, json=terms(w.deal), headers=seller)
        assert known.status_code == 409 and known.json()["code"] == "buyer_known"


async def test_a_change_restarts_the_period_and_intentions_below_the_new_floor_are_withdrawn(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        low = (await file(client, w.buyers[0], body["id"], "820000.00")).json()
        high = (await file(client, w.buyers[1], body["id"], "900000.00")).json()
        assert (await decide(client, w, body["id"], high["id"], "qualify")).status_code == 200
    with time_machine.travel(china(2026, 10, 9, 15, 0), tick=False):
        seller = await as_(client, w.seller)
        path = f"{URL}/{body['id']}"
        etag = (await client.get(path)).headers["ETag"]
        change = {"floor_price": "850000.00", "deposit_amount": "85000.00"}
        assert (await client.patch(path, json=change, headers=seller)).status_code == 428
        stale = await client.patch(path, json=change, headers={**seller, "If-Match": '"0"'})
        assert stale.status_code == 412
        response = await client.patch(path, json=change, headers={**seller, "If-Match": etag})
        assert response.status_code == 200, response.text
        revised = response.json()
        # From 9 October: 10 (make-up Saturday), 12–16, 19–22 October.
        assert (revised["revision"], revised["period_starts_on"], revised["period_ends_on"]) == (
            2,
            "2026-10-09",
            "2026-10-22",
        )
        assert response.headers["ETag"] != etag
        # The same content again is no change: no new revision, no restart.
        same = await client.patch(path, json=change, headers={**seller, "If-Match": response.headers["ETag"]})
        assert same.json()["revision"] == 2
        buyer = await as_(client, w.buyers[0])
        assert (
            await client.patch(path, json={"title": "x"}, headers={**buyer, "If-Match": "*"})
        ).status_code == 403
    statuses = {
        i.id: (i.status, i.answer_due_on)
        for i in (
            await db.execute(select(ListingIntention).execution_options(populate_existing=True))
        ).scalars()
    }
    assert statuses[_id(low)][0] is IntentionStatus.withdrawn
    # The qualified buyer is asked again under the new terms, answered within 3 working days
    # (the make-up Saturday is one).
    assert statuses[_id(high)] == (IntentionStatus.filed, date(2026, 10, 13))
    assert await audits(db, body["id"], "revised") == 1


async def test_offers_below_the_floor_are_refused_naming_offer_price(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        response = await file(client, w.buyers[0], body["id"], "799999.99")
        assert response.status_code == 422
        assert response.json()["code"] == "offer_below_floor"
        assert response.json()["errors"][0]["field"] == "offer_price"
    assert (await db.execute(select(ListingIntention))).first() is None


async def test_who_may_file_an_intention_and_how_often(client: httpx.AsyncClient, db: AsyncSession) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        seller = await file(client, w.seller, body["id"], "900000.00")
        assert seller.status_code == 403 and seller.json()["code"] == "seller_cannot_file"
        unverified = await file(client, w.unverified, body["id"], "900000.00")
        assert unverified.status_code == 403 and unverified.json()["code"] == "organization_not_verified"
        broker = await file(client, w.broker, body["id"], "900000.00")
        assert broker.status_code == 403
        first = await file(client, w.buyers[0], body["id"], "900000.00")
        assert first.status_code == 201 and first.json()["answer_due_on"] == "2026-10-08"
        second = await file(client, w.buyers[0], body["id"], "950000.00")
        assert second.status_code == 409 and second.json()["duplicate_of"]["id"] == first.json()["id"]
        # The buyer may take back an unanswered intention, and then file anew.
        withdrawal = f"{URL}/{body['id']}/intentions/{first.json()['id']}/withdrawal"
        other = await as_(client, w.buyers[1])
        assert (await client.post(withdrawal, headers=other)).status_code == 404
        mine = await as_(client, w.buyers[0])
        assert (await client.post(withdrawal, headers=mine)).json()["status"] == "withdrawn"
        assert (await file(client, w.buyers[0], body["id"], "950000.00")).status_code == 201
        # Each reader sees the intentions that are theirs to see.
        path = f"{URL}/{body['id']}"
        assert (await client.get(path)).json()["intentions"] is None
        assert len((await client.get(path, headers=await as_(client, w.seller))).json()["intentions"]) == 2
        assert len((await client.get(path, headers=mine)).json()["intentions"]) == 2
        assert (await client.get(path, headers=other)).json()["intentions"] == []


async def test_the_seller_answers_with_a_reason_while_the_period_runs(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        intention = (await file(client, w.buyers[0], body["id"], "900000.00")).json()
        no_reason = await decide(client, w, body["id"], intention["id"], "reject")
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
        outsider = await client.post(
            f"{URL}/{body['id']}/intentions/{intention['id']}/decision",
            json={"decision": "qualify"},
            headers=await as_(client, w.buyers[1]),
        )
        assert outsider.status_code == 403
        rejected = await decide(client, w, body["id"], intention["id"], "reject", reason="不具备生产能力")
        assert (
            rejected.json()["status"] == "rejected"
            and rejected.json()["rejection_reason"] == "不具备生产能力"
        )
        again = await decide(client, w, body["id"], intention["id"], "qualify")
        assert again.status_code == 409 and again.json()["current_status"] == "rejected"


async def test_an_intention_after_the_end_is_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
    with time_machine.travel(china(2026, 10, 17, 0, 0, 1), tick=False):
        late = await file(client, w.buyers[0], body["id"], "900000.00")
        assert late.status_code == 409 and late.json()["code"] == "announcement_not_running"
        # Nor is it listed as running any more.
        assert (await client.get(URL)).json()["total"] == 0


async def test_the_seller_withdraws_with_a_reason_and_the_buyers_are_told(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        await file(client, w.buyers[0], body["id"], "900000.00")
        path = f"{URL}/{body['id']}/withdrawal"
        buyer = await as_(client, w.buyers[0])
        assert (await client.post(path, json={"reason": "权属待确认"}, headers=buyer)).status_code == 403
        response = await client.post(path, json={"reason": "权属待确认"}, headers=await as_(client, w.seller))
        assert response.status_code == 200 and response.json()["status"] == "withdrawn"
        notices = (await client.get("/api/v1/notifications", headers=buyer)).json()["items"]
        assert [n["kind"] for n in notices if n["details"].get("outcome") == "withdrawn"] == [
            "listing_period_ended"
        ]
        assert (
            await client.post(path, json={"reason": "再次"}, headers=await as_(client, w.seller))
        ).status_code == 409


def _id(body: dict[str, str]) -> uuid.UUID:
    return uuid.UUID(body["id"])


async def test_twenty_concurrent_intentions_of_one_organization_file_one(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        headers = await as_(client, w.buyers[0])
        path = f"{URL}/{body['id']}/intentions"
        responses = await asyncio.gather(
            *(client.post(path, json={"offer_price": f"{900000 + i}.00"}, headers=headers) for i in range(20))
        )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert len((await db.execute(select(ListingIntention))).all()) == 1
