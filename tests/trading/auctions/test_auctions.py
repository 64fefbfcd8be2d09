"""Opening an auction, qualifying bidders, confirming deposits, cancelling, and what each caller
sees: the rules a careless or dishonest user could break, played through the API."""

from datetime import timedelta
from decimal import Decimal

import httpx
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.matching.models import Notification, NotificationKind
from app.trading.models import AuctionBidder, PricingPublicity
from app.trading.vocabulary import DepositStatus, PricingRoute, PublicityStatus
from tests.trading.auctions.helpers import auction_world, bid, open_with_bidders, terms


async def test_an_auction_is_opened_on_its_terms_by_the_seller_side_only(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    a = await auction_world(client, db)
    url = "/api/v1/auctions"

    async def refused(who: object, **fields: object) -> httpx.Response:
        return await client.post(url, json=terms(a.deal, **fields), headers=who.headers)  # type: ignore[attr-defined]

    cases = {
        "deposit_amount": await refused(a.w.seller, deposit_amount="1000.00"),
        "starts_at": await refused(a.w.seller, starts_at=clock.now() - timedelta(minutes=1)),
        "ends_at": await refused(a.w.seller, ends_at=clock.now().isoformat()),
        "reserve_price": await refused(a.w.seller, reserve_price="400000.00"),
    }
    for field, response in cases.items():
        assert response.status_code == 422, (field, response.text)
        assert response.json()["errors"][0]["field"] == field
    assert (await refused(a.w.outsider)).json()["code"] == "deal_not_found"
    assert (await refused(a.alpha)).status_code == 404
    opened = await refused(a.w.seller, reserve_price="600000.00")
    assert opened.status_code == 201, opened.text
    assert opened.json()["reserve_price"] == "600000.00" and opened.json()["status"] == "scheduled"
    again = await refused(a.w.broker)
    assert again.status_code == 409 and again.json()["code"] == "auction_live"
    deal_id = a.deal.id
    db.expire_all()
    deal = (await db.execute(select(Deal).where(Deal.id == deal_id))).scalar_one()
    assert deal.pricing_route is PricingRoute.auction


async def test_an_auction_needs_a_deal_in_negotiation_with_no_buyer_nor_other_route_under_way(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    a = await auction_world(client, db)
    deal = (await db.execute(select(Deal).where(Deal.id == a.deal.id))).scalar_one()
    deal.buyer_organization_id = a.w.buyer_org.id
    await db.commit()
    known = await client.post("/api/v1/auctions", json=terms(a.deal), headers=a.w.broker.headers)
    assert known.status_code == 409 and known.json()["code"] == "buyer_known"
    deal.buyer_organization_id = None
    publicity = PricingPublicity(
        deal_id=deal.id,
        seller_organization_id=a.w.seller_org.id,
        achievement_name=a.w.achievement.title,
        proposed_price=Decimal("800000.00"),
        period_days=15,
        starts_at=clock.now(),
        ends_at=clock.now() + timedelta(days=15),
    )
    db.add(publicity)
    await db.commit()
    publicised = await client.post("/api/v1/auctions", json=terms(a.deal), headers=a.w.broker.headers)
    assert publicised.status_code == 409 and publicised.json()["code"] == "pricing_route_in_progress"
    assert publicised.json()["field"] == "agreed_publicity"
    publicity.status = PublicityStatus.withdrawn
    deal.stage = DealStage.diligence
    await db.commit()
    early = await client.post("/api/v1/auctions", json=terms(a.deal), headers=a.w.broker.headers)
    assert early.status_code == 409 and early.json()["code"] == "deal_not_negotiating"


async def test_bidders_are_qualified_by_the_seller_side_and_deposits_confirmed_by_administrators(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    a = await auction_world(client, db)
    auction = (await client.post("/api/v1/auctions", json=terms(a.deal), headers=a.w.broker.headers)).json()
    url = f"/api/v1/auctions/{auction['id']}/bidders"
    own = await client.post(url, json={"organization_id": str(a.w.seller_org.id)}, headers=a.w.seller.headers)
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "organization_id"
    by_bidder = await client.post(
        url, json={"organization_id": str(a.beta.organization_id)}, headers=a.alpha.headers
    )
    assert by_bidder.status_code == 403 and by_bidder.json()["code"] == "seller_side_only"
    qualified = await client.post(
        url, json={"organization_id": str(a.alpha.organization_id)}, headers=a.w.seller.headers
    )
    assert qualified.status_code == 201 and qualified.json()["deposit_status"] == "awaiting"
    twice = await client.post(
        url, json={"organization_id": str(a.alpha.organization_id)}, headers=a.w.admin.headers
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_qualified"
    told = await db.scalars(
        select(Notification).where(Notification.kind == NotificationKind.auction_qualified)
    )
    assert [(n.user_id, n.details["bidder_code"]) for n in told] == [
        (a.alpha.user_id, qualified.json()["code"])
    ]
    deposit = f"{url}/{qualified.json()['id']}/deposit"
    by_seller = await client.post(deposit, headers=a.w.seller.headers)
    assert by_seller.status_code == 403 and by_seller.json()["code"] == "admin_only"
    received = await client.post(deposit, headers=a.w.admin.headers)
    assert received.status_code == 200 and received.json()["deposit_status"] == "received"
    again = await client.post(deposit, headers=a.w.admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "deposit_not_awaiting"


async def test_what_each_caller_sees_of_a_running_auction(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    a = await auction_world(client, db)
    auction, start = await open_with_bidders(client, a, reserve_price="700000.00")
    scheduled = (await client.get("/api/v1/auctions", params={"status": "scheduled"})).json()
    assert [item["status"] for item in scheduled["items"]] == ["scheduled"]
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        started = (await client.get("/api/v1/auctions", params={"status": "running"})).json()
        assert [item["status"] for item in started["items"]] == ["running"]  # started, not bid on yet
        assert (await bid(client, a.alpha, auction["id"], "500000.00")).status_code == 201
        listed = (await client.get("/api/v1/auctions", params={"status": "running"})).json()
        public = (await client.get(f"/api/v1/auctions/{auction['id']}")).json()
        bidder = (await client.get(f"/api/v1/auctions/{auction['id']}", headers=a.alpha.headers)).json()
        seller = (await client.get(f"/api/v1/auctions/{auction['id']}", headers=a.w.seller.headers)).json()
    assert [item["id"] for item in listed["items"]] == [auction["id"]] and listed["total"] == 1
    for anyone in (listed["items"][0], public, bidder):
        assert anyone["reserve_price"] is None and anyone["reserve_met"] is None and anyone["deal_id"] is None
        assert {b["organization_id"] for b in anyone["bidders"]} == {None}
    assert bidder["my_bidder"]["deposit_status"] == "received" and public["my_bidder"] is None
    assert bidder["my_bidder"]["code"] == bidder["best_bidder_code"]
    assert seller["reserve_price"] == "700000.00" and seller["deal_id"] == str(a.deal.id)
    assert {b["organization_id"] for b in seller["bidders"]} == {
        str(a.alpha.organization_id),
        str(a.beta.organization_id),
    }


async def test_an_auction_is_cancelled_before_any_bid_only(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    a = await auction_world(client, db)
    auction, start = await open_with_bidders(client, a)
    url = f"/api/v1/auctions/{auction['id']}/cancellation"
    by_bidder = await client.post(url, json={"reason": "不想卖了"}, headers=a.alpha.headers)
    assert by_bidder.status_code == 403
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        assert (await bid(client, a.alpha, auction["id"], "500000.00")).status_code == 201
        with_bids = await client.post(url, json={"reason": "不想卖了"}, headers=a.w.seller.headers)
    assert with_bids.status_code == 409 and with_bids.json()["code"] == "auction_has_bids"

    b = await auction_world(client, db)
    other, _ = await open_with_bidders(client, b)
    cancelled = await client.post(
        f"/api/v1/auctions/{other['id']}/cancellation",
        json={"reason": "卖方撤回"},
        headers=b.w.seller.headers,
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    deposits = await db.scalars(
        select(AuctionBidder.deposit_status).where(AuctionBidder.auction_id == other["id"])
    )
    assert set(deposits) == {DepositStatus.released}
    listed = (await client.get("/api/v1/auctions")).json()
    assert other["id"] not in [item["id"] for item in listed["items"]]
    late = await bid(client, b.alpha, other["id"], "500000.00")
    assert late.status_code == 409 and late.json()["code"] == "auction_not_running"
    reopened = await client.post("/api/v1/auctions", json=terms(b.deal), headers=b.w.seller.headers)
    assert reopened.status_code == 201  # the deal may be auctioned again
