"""The auctions' SQL."""

import uuid
from datetime import date, datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.core.pagination import PageParams, fetch_page
from app.deals.models import Deal
from app.trading.models import Auction, AuctionBidder, Bid, ListingAnnouncement, PricingPublicity
from app.trading.vocabulary import AnnouncementStatus, AuctionStatus, DepositStatus, PublicityStatus

OPEN = (AuctionStatus.scheduled, AuctionStatus.running)
# What the public list shows: not the cancelled ones.
LISTED = (AuctionStatus.scheduled, AuctionStatus.running, AuctionStatus.sold, AuctionStatus.no_sale)


async def get(session: AsyncSession, auction_id: uuid.UUID, *, lock: bool = False) -> Auction | None:
    """The auction; with `lock`, held FOR UPDATE until the transaction ends — every bid, the close
    and every change of its bidders queue here, so they apply one at a time."""
    statement: Select[tuple[Auction]] = select(Auction).where(Auction.id == auction_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def live_for_deal(session: AsyncSession, deal_id: uuid.UUID) -> Auction | None:
    statement = select(Auction).where(Auction.deal_id == deal_id, Auction.status.in_(OPEN))
    return (await session.execute(statement)).scalar_one_or_none()


async def other_route_in_progress(session: AsyncSession, deal_id: uuid.UUID) -> str | None:
    """The other pricing route under way for the deal, if any: a running listing or a publicity
    running or suspended."""
    listing = select(ListingAnnouncement.id).where(
        ListingAnnouncement.deal_id == deal_id, ListingAnnouncement.status == AnnouncementStatus.running
    )
    if (await session.execute(listing.limit(1))).first():
        return "listing"
    publicity = select(PricingPublicity.id).where(
        PricingPublicity.deal_id == deal_id,
        PricingPublicity.status.in_([PublicityStatus.running, PublicityStatus.suspended]),
    )
    if (await session.execute(publicity.limit(1))).first():
        return "agreed_publicity"
    return None


async def page_listed(
    session: AsyncSession, page: PageParams, status: AuctionStatus | None, now: datetime
) -> tuple[list[Auction], int]:
    """Auctions by the status they show (`service.effective_status`): a scheduled auction whose
    start has passed is running, whether or not a bid recorded it yet."""
    started = and_(Auction.status == AuctionStatus.scheduled, Auction.starts_at <= now)
    if status is AuctionStatus.running:
        where = or_(Auction.status == AuctionStatus.running, started)
    elif status is AuctionStatus.scheduled:
        where = and_(Auction.status == AuctionStatus.scheduled, Auction.starts_at > now)
    else:
        where = Auction.status.in_([status] if status else LISTED)
    statement = select(Auction).where(where)
    rows, total = await fetch_page(session, statement, page, Auction.ends_at.desc(), Auction.id)
    return list(rows.scalars()), total


async def bidder_of(
    session: AsyncSession, auction_id: uuid.UUID, organization_id: uuid.UUID | None
) -> AuctionBidder | None:
    if organization_id is None:
        return None
    statement = select(AuctionBidder).where(
        AuctionBidder.auction_id == auction_id, AuctionBidder.organization_id == organization_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def bidder(session: AsyncSession, auction_id: uuid.UUID, bidder_id: uuid.UUID) -> AuctionBidder | None:
    statement = select(AuctionBidder).where(
        AuctionBidder.auction_id == auction_id, AuctionBidder.id == bidder_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def bidders(session: AsyncSession, auction_id: uuid.UUID) -> list[tuple[AuctionBidder, str]]:
    """The auction's bidders with their organizations' names, in code order."""
    statement = (
        select(AuctionBidder, Organization.name)
        .join(Organization, Organization.id == AuctionBidder.organization_id)
        .where(AuctionBidder.auction_id == auction_id)
        .order_by(AuctionBidder.code)
    )
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]


async def organization_name(session: AsyncSession, organization_id: uuid.UUID) -> str:
    return (
        await session.execute(select(Organization.name).where(Organization.id == organization_id))
    ).scalar_one()


async def bid_by_key(
    session: AsyncSession, auction_id: uuid.UUID, user_id: uuid.UUID, key: str
) -> Bid | None:
    statement = select(Bid).where(
        Bid.auction_id == auction_id, Bid.placed_by_id == user_id, Bid.idempotency_key == key
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def end_before(session: AsyncSession, auction_id: uuid.UUID, sequence: int) -> datetime | None:
    """The auction's end before its bid `sequence` (None for the first bid: the announced end)."""
    statement = select(Bid.ends_at_after).where(Bid.auction_id == auction_id, Bid.sequence == sequence - 1)
    return (await session.execute(statement)).scalar_one_or_none()


async def page_bids(
    session: AsyncSession, auction_id: uuid.UUID, page: PageParams
) -> tuple[list[tuple[Bid, str]], int]:
    statement = (
        select(Bid, AuctionBidder.code)
        .join(AuctionBidder, AuctionBidder.id == Bid.bidder_id)
        .where(Bid.auction_id == auction_id)
    )
    rows, total = await fetch_page(session, statement, page, Bid.sequence)
    return [(row[0], row[1]) for row in rows.all()], total


async def deal(session: AsyncSession, deal_id: uuid.UUID) -> Deal | None:
    return await session.get(Deal, deal_id)


# --- The clock's queries ---------------------------------------------------------------------------


async def due_ids(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Open auctions whose end has passed (ix_auctions_open_ends_at)."""
    statement = (
        select(Auction.id).where(Auction.status.in_(OPEN), Auction.ends_at <= now).order_by(Auction.ends_at)
    )
    return list((await session.execute(statement)).scalars())


async def next_end(session: AsyncSession) -> datetime | None:
    """The earliest end of an open auction (ix_auctions_open_ends_at): when the clock wakes next."""
    statement = select(Auction.ends_at).where(Auction.status.in_(OPEN)).order_by(Auction.ends_at).limit(1)
    return (await session.execute(statement)).scalar_one_or_none()


async def forfeitable_ids(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Sold auctions past their sign-by date whose winner's deposit is still applied."""
    statement = (
        select(Auction.id)
        .join(AuctionBidder, AuctionBidder.id == Auction.best_bidder_id)
        .where(
            Auction.status == AuctionStatus.sold,
            Auction.sign_by < today,
            AuctionBidder.deposit_status == DepositStatus.applied,
        )
    )
    return list((await session.execute(statement)).scalars())
