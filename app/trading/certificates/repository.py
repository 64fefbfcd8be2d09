"""The SQL of the deal confirmation and the transaction certificate: the route's result rows they
print, the certificates themselves and the per-year counter."""

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, User
from app.listings.models import Achievement
from app.trading.models import (
    Auction,
    AuctionBidder,
    ListingAnnouncement,
    ListingIntention,
    PricingPublicity,
    TransactionCertificate,
    TransactionCertificateCounter,
)
from app.trading.vocabulary import AnnouncementStatus, AuctionStatus, IntentionStatus, PublicityStatus


async def agreed_listing(
    session: AsyncSession, deal_id: uuid.UUID, buyer_organization_id: uuid.UUID | None
) -> tuple[ListingAnnouncement, ListingIntention] | None:
    """The deal's latest listing agreed with the buyer, and the buyer's qualified intention."""
    statement = (
        select(ListingAnnouncement, ListingIntention)
        .join(ListingIntention, ListingIntention.announcement_id == ListingAnnouncement.id)
        .where(
            ListingAnnouncement.deal_id == deal_id,
            ListingAnnouncement.status == AnnouncementStatus.agreed,
            ListingIntention.status == IntentionStatus.qualified,
            ListingIntention.buyer_organization_id == buyer_organization_id,
        )
        .order_by(ListingAnnouncement.closed_at.desc().nulls_last(), ListingAnnouncement.id)
        .limit(1)
    )
    found = (await session.execute(statement)).first()
    return None if found is None else (found[0], found[1])


async def sold_auction(
    session: AsyncSession, deal_id: uuid.UUID
) -> tuple[Auction, AuctionBidder | None] | None:
    """The deal's latest sold auction and its winner (the best bidder)."""
    statement = (
        select(Auction, AuctionBidder)
        .outerjoin(AuctionBidder, AuctionBidder.id == Auction.best_bidder_id)
        .where(Auction.deal_id == deal_id, Auction.status == AuctionStatus.sold)
        .order_by(Auction.closed_at.desc().nulls_last(), Auction.id)
        .limit(1)
    )
    found = (await session.execute(statement)).first()
    return None if found is None else (found[0], found[1])


async def announcement(
    session: AsyncSession, announcement_id: uuid.UUID | None
) -> ListingAnnouncement | None:
    return None if announcement_id is None else await session.get(ListingAnnouncement, announcement_id)


async def completed_publicity(
    session: AsyncSession, deal_id: uuid.UUID, price: Decimal | None
) -> PricingPublicity | None:
    """The deal's latest publicity that completed (no objection upheld) at `price`."""
    statement = (
        select(PricingPublicity)
        .where(
            PricingPublicity.deal_id == deal_id,
            PricingPublicity.status == PublicityStatus.completed,
            PricingPublicity.proposed_price == price,
        )
        .order_by(PricingPublicity.starts_at.desc(), PricingPublicity.id)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def organization(session: AsyncSession, organization_id: uuid.UUID | None) -> Organization | None:
    return None if organization_id is None else await session.get(Organization, organization_id)


async def user(session: AsyncSession, user_id: uuid.UUID | None) -> User | None:
    return None if user_id is None else await session.get(User, user_id)


async def achievement(session: AsyncSession, achievement_id: uuid.UUID | None) -> Achievement | None:
    return None if achievement_id is None else await session.get(Achievement, achievement_id)


async def certificate_of_deal(session: AsyncSession, deal_id: uuid.UUID) -> TransactionCertificate | None:
    statement = select(TransactionCertificate).where(TransactionCertificate.deal_id == deal_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def certificate(
    session: AsyncSession, number: str, *, lock: bool = False
) -> TransactionCertificate | None:
    statement = select(TransactionCertificate).where(TransactionCertificate.number == number)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def next_serial(session: AsyncSession, year: int) -> int:
    """The year's next serial, taken under the counter row's lock (held until the transaction
    ends): numbers are gapless, since a rolled-back issue rolls the counter back too."""
    statement = (
        insert(TransactionCertificateCounter)
        .values(year=year, last_serial=1)
        .on_conflict_do_update(
            index_elements=[TransactionCertificateCounter.year],
            set_={"last_serial": TransactionCertificateCounter.last_serial + 1},
        )
        .returning(TransactionCertificateCounter.last_serial)
    )
    return (await session.execute(statement)).scalar_one()
