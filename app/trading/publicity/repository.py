"""The pricing publicities' queries, and the running listing announcements and auctions the public
page shows beside them (read from the trading tables directly)."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, fetch_page
from app.trading.models import Auction, ListingAnnouncement, PricingPublicity, PublicityObjection
from app.trading.vocabulary import AnnouncementStatus, AuctionStatus, ObjectionStatus, PublicityStatus

LIVE = (PublicityStatus.running, PublicityStatus.suspended)


async def get(
    session: AsyncSession, publicity_id: uuid.UUID, *, lock: bool = False
) -> PricingPublicity | None:
    statement = select(PricingPublicity).where(PricingPublicity.id == publicity_id)
    if lock:
        # Re-read under the lock: a row read earlier in the session may have changed since.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def live_for_deal(session: AsyncSession, deal_id: uuid.UUID) -> PricingPublicity | None:
    statement = select(PricingPublicity).where(
        PricingPublicity.deal_id == deal_id, PricingPublicity.status.in_(LIVE)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def of_deal(session: AsyncSession, deal_id: uuid.UUID) -> Sequence[PricingPublicity]:
    """The deal's publicities, the latest first (by the server clock's start)."""
    statement = (
        select(PricingPublicity)
        .where(PricingPublicity.deal_id == deal_id)
        .order_by(PricingPublicity.starts_at.desc(), PricingPublicity.created_at.desc())
    )
    return (await session.scalars(statement)).all()


async def page_live(session: AsyncSession, page: PageParams) -> tuple[list[PricingPublicity], int]:
    statement = select(PricingPublicity).where(PricingPublicity.status.in_(LIVE))
    rows, total = await fetch_page(session, statement, page, PricingPublicity.ends_at, PricingPublicity.id)
    return list(rows.scalars()), total


async def due_ids(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    """Running publicities whose period has run out (ix_pricing_publicities_status_ends_at)."""
    statement = (
        select(PricingPublicity.id)
        .where(PricingPublicity.status == PublicityStatus.running, PricingPublicity.ends_at <= now)
        .order_by(PricingPublicity.ends_at)
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def objection(
    session: AsyncSession, publicity_id: uuid.UUID, objection_id: uuid.UUID, *, lock: bool = False
) -> PublicityObjection | None:
    statement = select(PublicityObjection).where(
        PublicityObjection.id == objection_id, PublicityObjection.publicity_id == publicity_id
    )
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def page_objections(
    session: AsyncSession, publicity_id: uuid.UUID, page: PageParams, *, objector_user_id: uuid.UUID | None
) -> tuple[list[PublicityObjection], int]:
    statement = select(PublicityObjection).where(PublicityObjection.publicity_id == publicity_id)
    if objector_user_id is not None:
        statement = statement.where(PublicityObjection.objector_user_id == objector_user_id)
    rows, total = await fetch_page(
        session, statement, page, PublicityObjection.created_at, PublicityObjection.id
    )
    return list(rows.scalars()), total


async def pending_count(session: AsyncSession, publicity_id: uuid.UUID) -> int:
    statement = select(PublicityObjection.id).where(
        PublicityObjection.publicity_id == publicity_id, PublicityObjection.status == ObjectionStatus.pending
    )
    return len((await session.scalars(statement)).all())


async def running_announcements(session: AsyncSession, limit: int) -> Sequence[ListingAnnouncement]:
    statement = (
        select(ListingAnnouncement)
        .where(ListingAnnouncement.status == AnnouncementStatus.running)
        .order_by(ListingAnnouncement.ends_at, ListingAnnouncement.id)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def open_auctions(session: AsyncSession, limit: int) -> Sequence[Auction]:
    statement = (
        select(Auction)
        .where(Auction.status.in_((AuctionStatus.scheduled, AuctionStatus.running)))
        .order_by(Auction.ends_at, Auction.id)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()
