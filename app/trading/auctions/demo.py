"""`techex seed-demo` for online bidding: one running auction, made through the services the API
calls, each step by the role that makes it. A demo technology manager opens a lead on a demo
university's achievement that no deal or interest touches yet, the university mandates them, they
bring it to negotiating and open the auction; the university qualifies two demo companies, the
exchange records their deposits, and one of them bids.

Runs after the deals' seeder (its technology managers and companies). Idempotent: once an auction
exists, running it again adds nothing."""

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, Role, User
from app.audit.service import SystemActor
from app.contracts.demo import EMAIL_DOMAIN
from app.core import clock
from app.core.config import Settings
from app.core.types import CENT, today_in_china
from app.deals import mandates
from app.deals import service as deals
from app.deals.demo import COMPANIES
from app.deals.schemas import DealCreate, MandateIn, StageMove
from app.deals.vocabulary import DealStage
from app.listings.vocabulary import TransferMode
from app.trading.auctions import bidding, service
from app.trading.auctions.schemas import AuctionCreate
from app.trading.demo import demo_user, untouched_achievement
from app.trading.models import Auction

OPENING = Decimal("2000000.00")
INCREMENT = Decimal("50000.00")
# Long enough to find it running when the demo is looked at; the clock closes it afterwards.
DURATION = timedelta(days=7)
# The start is at least "now" by the server's clock; the seeder waits this long for it to come.
LEAD_TIME = timedelta(seconds=1)


async def seed_auction(session: AsyncSession, settings: Settings) -> str:
    present = (await session.execute(select(func.count()).select_from(Auction))).scalar_one()
    if present:
        return f"auction: 0 added, {present} auctions already present"
    broker = await demo_user(session, User.email == f"broker1@{EMAIL_DOMAIN}")
    achievement = await untouched_achievement(session, last=True)
    companies = [
        await demo_user(session, Organization.name == name, User.role == Role.member)
        for name in COMPANIES[2:4]
    ]
    if broker is None or achievement is None or None in companies:
        return "auction: 0 added (no demo deals' brokers, universities or companies)"
    seller = await demo_user(
        session, Organization.id == achievement.owner_organization_id, User.role == Role.member
    )
    assert seller is not None
    title = f"{achievement.title[:190]} 网络竞价"
    lead = await deals.create_lead(
        session, user=broker, data=DealCreate(title=title, achievement_id=achievement.id)
    )
    mandate = MandateIn(
        engaged_by_organization_id=seller.organization_id,
        technology_manager_id=broker.id,
        commission_rate=Decimal("0.03"),
        starts_on=today_in_china(),
    )
    await mandates.put(session, user=seller, deal_id=lead.id, data=mandate, if_match=None)
    for step in (DealStage.mandated, DealStage.diligence, DealStage.negotiating):
        mover = seller if step is DealStage.mandated else broker
        await deals.move(session, user=mover, deal_id=lead.id, data=StageMove(to=step), if_match=None)
    starts_at = clock.now() + LEAD_TIME
    ratio = (settings.auction_deposit_min_ratio + settings.auction_deposit_max_ratio) / 2
    auction = await service.create(
        session,
        user=broker,
        settings=settings,
        data=AuctionCreate(
            deal_id=lead.id,
            title=title,
            transfer_mode=TransferMode((achievement.transfer_modes or ["transfer"])[0]),
            opening_price=OPENING,
            increment=INCREMENT,
            reserve_price=OPENING + 4 * INCREMENT,
            deposit_amount=(OPENING * ratio).quantize(CENT),
            starts_at=starts_at,
            ends_at=starts_at + DURATION,
        ),
    )
    for company in companies:
        assert company is not None and company.organization_id is not None
        bidder = await service.qualify(
            session, user=seller, auction_id=auction.id, organization_id=company.organization_id
        )
        await service.record_deposit(session, actor=SystemActor(), auction=auction, bidder=bidder)
    await asyncio.sleep(max((starts_at - clock.now()).total_seconds(), 0))
    first = companies[0]
    assert first is not None
    await bidding.place_bid(
        session, user=first, settings=settings, auction_id=auction.id, amount=OPENING, idempotency_key=None
    )
    return f"auction: 1 running auction added (ends {auction.ends_at:%Y-%m-%d %H:%M} UTC), 2 bidders, 1 bid"
