"""Deals agreed by a pricing route, for the confirmation and certificate tests: the route's result
rows written directly (as the listing and auction services leave them), then the deal agreed by
the shared `agree_as_system`; and the administrator's request issuing a certificate."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, User
from app.deals import service as deals
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.trading.models import (
    Auction,
    AuctionBidder,
    Bid,
    ListingAnnouncement,
    ListingIntention,
    PricingPublicity,
)
from app.trading.vocabulary import (
    AnnouncementStatus,
    AuctionStatus,
    DepositStatus,
    IntentionStatus,
    PricingRoute,
    PublicityStatus,
)
from tests.contracts.helpers import Person
from tests.deals.factory import DealWorld, deal_at, deal_world
from tests.fixtures.accounts import sign_in

CLOSED_AT = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)  # 15:30 in Beijing


async def sold_by_auction(db: AsyncSession, w: DealWorld, price: Decimal = Decimal("860000.00")) -> Deal:
    """An auction of `w`'s deal with two bidders and three bids, sold to `w.buyer_org` at `price`
    with its deposit applied; the deal agreed at that price."""
    deal = await deal_at(db, w, DealStage.negotiating)
    starts = CLOSED_AT - timedelta(hours=2)
    auction = Auction(
        deal_id=deal.id,
        achievement_id=w.achievement.id,
        seller_organization_id=w.seller_org.id,
        title=w.achievement.title,
        transfer_mode="transfer",
        opening_price=Decimal("800000.00"),
        increment=Decimal("20000.00"),
        deposit_amount=Decimal("80000.00"),
        starts_at=starts,
        scheduled_ends_at=CLOSED_AT - timedelta(minutes=3),
        ends_at=CLOSED_AT,
        status=AuctionStatus.sold,
        bid_count=3,
        extensions=1,
        closed_at=CLOSED_AT,
        sign_by=date(2026, 11, 27),
        created_at=datetime(2026, 11, 13, 2, 0, tzinfo=UTC),
    )
    db.add(auction)
    await db.flush()
    winner = AuctionBidder(
        auction_id=auction.id,
        organization_id=w.buyer_org.id,
        code="4821",
        deposit_status=DepositStatus.applied,
    )
    other = AuctionBidder(
        auction_id=auction.id,
        organization_id=w.outsider.organization_id,
        code="1377",
        deposit_status=DepositStatus.released,
    )
    db.add_all([winner, other])
    await db.flush()
    amounts = [(other, Decimal("800000.00")), (winner, Decimal("840000.00")), (winner, price)]
    for sequence, (bidder, amount) in enumerate(amounts, start=1):
        at = starts + timedelta(minutes=30 * sequence)
        db.add(
            Bid(
                auction_id=auction.id,
                bidder_id=bidder.id,
                sequence=sequence,
                amount=amount,
                placed_at=at,
                ends_at_after=CLOSED_AT,
            )
        )
    auction.best_amount, auction.best_bidder_id = price, winner.id
    await deals.agree_as_system(
        db,
        deal.id,
        route=PricingRoute.auction,
        price=price,
        transfer_mode="transfer",
        buyer_organization_id=w.buyer_org.id,
        reason="网络竞价成交",
    )
    await db.commit()
    return deal


async def agreed_by_listing(db: AsyncSession, w: DealWorld, price: Decimal = Decimal("820000.00")) -> Deal:
    """A listing of `w`'s deal that ended with one qualified buyer offering `price`."""
    deal = await deal_at(db, w, DealStage.negotiating)
    listing = ListingAnnouncement(
        deal_id=deal.id,
        achievement_id=w.achievement.id,
        seller_organization_id=w.seller_org.id,
        title=w.achievement.title,
        floor_price=Decimal("800000.00"),
        transfer_mode="license_ordinary",
        deposit_amount=Decimal("50000.00"),
        period_working_days=10,
        period_starts_on=date(2026, 9, 28),
        period_ends_on=date(2026, 10, 20),  # across the National Day holiday
        ends_at=datetime(2026, 10, 20, 16, 0, tzinfo=UTC),
        status=AnnouncementStatus.agreed,
        closed_at=datetime(2026, 10, 20, 16, 0, tzinfo=UTC),
    )
    db.add(listing)
    await db.flush()
    db.add(
        ListingIntention(
            announcement_id=listing.id,
            buyer_organization_id=w.buyer_org.id,
            offer_price=price,
            status=IntentionStatus.qualified,
            answer_due_on=date(2026, 10, 9),
        )
    )
    await deals.agree_as_system(
        db,
        deal.id,
        route=PricingRoute.listing,
        price=price,
        transfer_mode="license_ordinary",
        buyer_organization_id=w.buyer_org.id,
        reason="挂牌期满，一家合格意向受让方",
    )
    await db.commit()
    return deal


async def publicised(db: AsyncSession, deal: Deal, status: PublicityStatus) -> PricingPublicity:
    """A publicity of `deal`'s agreed price, in `status`; the deal takes the publicity route."""
    assert deal.agreed_price is not None and deal.seller_organization_id is not None
    publicity = PricingPublicity(
        deal_id=deal.id,
        achievement_id=deal.achievement_id,
        seller_organization_id=deal.seller_organization_id,
        achievement_name=deal.title,
        proposed_price=deal.agreed_price,
        period_days=15,
        starts_at=datetime(2026, 11, 1, 2, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 16, 2, 0, tzinfo=UTC),
        status=status,
    )
    db.add(publicity)
    deal.pricing_route = PricingRoute.agreed_publicity
    await db.commit()
    return publicity


CONCLUSION = "经审核，本项目交易程序合规，双方主体适格，准予出具交易凭证。"


async def issue(client: httpx.AsyncClient, who: Person, deal_id: object, **body: object) -> httpx.Response:
    return await client.post(
        f"/api/v1/deals/{deal_id}/transaction-certificate",
        json={"review_conclusion": CONCLUSION, **body},
        headers=who.headers,
    )


async def signed_in(client: httpx.AsyncClient, db: AsyncSession, who: Person) -> Person:
    """`who` signed in again: a token is valid for minutes of the (travelled) clock only."""
    email = (await db.execute(select(User.email).where(User.id == who.user_id))).scalar_one()
    return Person(who.user_id, who.organization_id, await sign_in(client, email))


async def enterprise_world(client: httpx.AsyncClient, db: AsyncSession) -> DealWorld:
    """A world whose seller is a company: no pricing route is required of it."""
    w = await deal_world(client, db)
    w.seller_org.kind = OrganizationKind.enterprise
    await db.commit()
    return w
