"""The pricing routes' guards (app/trading/guards.py): what a university or research institute seller
must have before its contract is signed, and who may agree a listing's or an auction's deal."""

from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind
from app.core import clock
from app.deals import service
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.trading.models import Auction, ListingAnnouncement, ListingIntention
from app.trading.vocabulary import AnnouncementStatus, AuctionStatus, IntentionStatus, PricingRoute
from tests.deals.factory import DealWorld, deal_at, deal_world, etag, move

S = DealStage
PRICE = Decimal("800000.00")


async def refused(client: httpx.AsyncClient, w: DealWorld, deal: Deal, code: str) -> dict[str, object]:
    response = await move(client, w.buyer, deal.id, S.signed)
    assert (response.status_code, response.json()["code"]) == (409, code), response.text
    return response.json()


async def signs(client: httpx.AsyncClient, w: DealWorld, deal: Deal) -> None:
    response = await move(client, w.buyer, deal.id, S.signed)
    assert (response.status_code, response.json()["stage"]) == (200, "signed"), response.text


async def routed(db: AsyncSession, deal: Deal, route: PricingRoute) -> None:
    deal.pricing_route = route
    await db.commit()


def announcement(deal: Deal, status: AnnouncementStatus) -> ListingAnnouncement:
    today = date.today()
    assert deal.achievement_id is not None and deal.seller_organization_id is not None
    return ListingAnnouncement(
        deal_id=deal.id,
        achievement_id=deal.achievement_id,
        seller_organization_id=deal.seller_organization_id,
        title=deal.title,
        floor_price=Decimal("500000.00"),
        transfer_mode="transfer",
        period_working_days=10,
        period_starts_on=today - timedelta(days=20),
        period_ends_on=today - timedelta(days=5),
        ends_at=clock.now() - timedelta(days=5),
        status=status,
    )


def auction(deal: Deal, status: AuctionStatus, best: Decimal | None) -> Auction:
    ended = clock.now() - timedelta(days=1)
    assert deal.seller_organization_id is not None
    return Auction(
        deal_id=deal.id,
        achievement_id=deal.achievement_id,
        seller_organization_id=deal.seller_organization_id,
        title=deal.title,
        transfer_mode="transfer",
        opening_price=Decimal("500000.00"),
        increment=Decimal("10000.00"),
        starts_at=ended - timedelta(hours=2),
        scheduled_ends_at=ended,
        ends_at=ended,
        status=status,
        best_amount=best,
        closed_at=ended,
    )


@pytest.mark.parametrize("kind", [OrganizationKind.university, OrganizationKind.research_institute])
async def test_a_public_seller_signs_only_after_a_pricing_route(
    client: httpx.AsyncClient, db: AsyncSession, kind: OrganizationKind
) -> None:
    w = await deal_world(client, db)
    w.seller_org.kind = kind
    await db.commit()
    deal = await deal_at(db, w, S.agreed, priced=False)
    problem = await refused(client, w, deal, "pricing_route_required")
    assert "协议定价公示、挂牌交易或拍卖" in str(problem["detail"])


async def test_an_enterprise_seller_signs_at_any_agreed_price(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    w.seller_org.kind = OrganizationKind.enterprise
    await db.commit()
    await signs(client, w, await deal_at(db, w, S.agreed, priced=False))


async def test_the_signed_price_is_the_published_one(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.agreed, agreed_price=PRICE)  # its publicity completed
    lowered = await client.patch(
        f"/api/v1/deals/{deal.id}",
        json={"agreed_price": "700000.00"},
        headers={**w.broker.headers, "If-Match": await etag(client, w.broker, deal.id)},
    )
    assert lowered.status_code == 200, lowered.text
    problem = await refused(client, w, deal, "price_differs_from_published")
    assert problem["published_price"] == "800000.00"
    restored = await client.patch(
        f"/api/v1/deals/{deal.id}",
        json={"agreed_price": "800000.00"},
        headers={**w.broker.headers, "If-Match": await etag(client, w.broker, deal.id)},
    )
    assert restored.status_code == 200
    await signs(client, w, deal)


async def test_a_listing_deal_signs_at_its_qualified_buyers_offer(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.agreed, agreed_price=PRICE, priced=False)
    await routed(db, deal, PricingRoute.listing)
    running = announcement(deal, AnnouncementStatus.running)
    db.add(running)
    await db.commit()
    await refused(client, w, deal, "pricing_route_required")

    running.status = AnnouncementStatus.agreed
    db.add(
        ListingIntention(
            announcement_id=running.id,
            buyer_organization_id=w.buyer_org.id,
            offer_price=Decimal("820000.00"),
            status=IntentionStatus.qualified,
            answer_due_on=date.today(),
        )
    )
    await db.commit()
    problem = await refused(client, w, deal, "price_differs_from_published")
    assert problem["published_price"] == "820000.00"
    deal.agreed_price = Decimal("820000.00")
    await db.commit()
    await signs(client, w, deal)


async def test_an_auction_deal_signs_at_the_winning_bid(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.agreed, agreed_price=PRICE, priced=False)
    await routed(db, deal, PricingRoute.auction)
    db.add(auction(deal, AuctionStatus.no_sale, None))
    await db.commit()
    await refused(client, w, deal, "pricing_route_required")
    db.add(auction(deal, AuctionStatus.sold, Decimal("790000.00")))
    await db.commit()
    await refused(client, w, deal, "price_differs_from_published")
    deal.agreed_price = Decimal("790000.00")
    await db.commit()
    await signs(client, w, deal)


@pytest.mark.parametrize("route", [PricingRoute.listing, PricingRoute.auction])
async def test_only_the_routes_result_agrees_a_listing_or_auction_deal(
    client: httpx.AsyncClient, db: AsyncSession, route: PricingRoute
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.negotiating)
    await routed(db, deal, route)
    by_hand = await move(
        client, w.broker, deal.id, S.agreed, agreed_price="800000.00", transfer_mode="transfer"
    )
    assert (by_hand.status_code, by_hand.json()["code"]) == (409, "agreed_by_route_only")
    agreed = await service.agree_as_system(
        db, deal.id, route=route, price=PRICE, transfer_mode="transfer", reason="交易结果"
    )
    await db.commit()
    assert (agreed.stage, agreed.agreed_price) == (S.agreed, PRICE)


async def test_an_agreed_publicity_deal_is_agreed_by_its_broker(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.negotiating)
    await routed(db, deal, PricingRoute.agreed_publicity)
    agreed = await move(
        client, w.broker, deal.id, S.agreed, agreed_price="800000.00", transfer_mode="transfer"
    )
    assert agreed.status_code == 200, agreed.text


async def test_a_refused_registration_returns_to_signed_whatever_the_route(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.registration_submitted, priced=False)
    back = await service.move_as_system(db, deal.id, S.signed, reason="不予登记")
    await db.commit()
    assert back.stage is S.signed
