"""The listing's SQL: announcements, their intentions, and the period ends the worker closes."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.core.pagination import PageParams, fetch_page
from app.deals.models import Deal
from app.trading.models import Auction, ListingAnnouncement, ListingIntention, PricingPublicity
from app.trading.vocabulary import AnnouncementStatus, AuctionStatus, IntentionStatus, PublicityStatus

LIVE = (IntentionStatus.filed, IntentionStatus.qualified)


async def get(
    session: AsyncSession, announcement_id: uuid.UUID, *, lock: bool = False
) -> ListingAnnouncement | None:
    """With `lock`, held FOR UPDATE until the transaction ends: every change of the announcement
    and of its intentions, and the period's end, take this lock, so they happen one at a time."""
    statement = select(ListingAnnouncement).where(ListingAnnouncement.id == announcement_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def page_running(
    session: AsyncSession, page: PageParams, now: datetime
) -> tuple[list[ListingAnnouncement], int]:
    """Running announcements whose period has not run out, the soonest end first (one whose end
    passed is the worker's to close, and no longer takes intentions)."""
    statement = select(ListingAnnouncement).where(
        ListingAnnouncement.status == AnnouncementStatus.running, ListingAnnouncement.ends_at > now
    )
    rows, total = await fetch_page(
        session, statement, page, ListingAnnouncement.ends_at, ListingAnnouncement.id
    )
    return list(rows.scalars()), total


async def next_due(session: AsyncSession, now: datetime) -> ListingAnnouncement | None:
    """The running announcement whose period ran out first, locked; one another worker holds is
    skipped (served by the index on status, ends_at)."""
    statement = (
        select(ListingAnnouncement)
        .where(ListingAnnouncement.status == AnnouncementStatus.running, ListingAnnouncement.ends_at <= now)
        .order_by(ListingAnnouncement.ends_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def deal(session: AsyncSession, deal_id: uuid.UUID) -> Deal | None:
    return await session.get(Deal, deal_id)


async def organization(session: AsyncSession, organization_id: uuid.UUID | None) -> Organization | None:
    return None if organization_id is None else await session.get(Organization, organization_id)


async def organization_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def route_in_progress(session: AsyncSession, deal_id: uuid.UUID) -> str | None:
    """The pricing route already under way on this deal (a running listing, a publicity running
    or suspended, an auction scheduled or running), if any."""
    checks = (
        (
            "listing",
            select(ListingAnnouncement.id).where(
                ListingAnnouncement.deal_id == deal_id,
                ListingAnnouncement.status == AnnouncementStatus.running,
            ),
        ),
        (
            "agreed_publicity",
            select(PricingPublicity.id).where(
                PricingPublicity.deal_id == deal_id,
                PricingPublicity.status.in_((PublicityStatus.running, PublicityStatus.suspended)),
            ),
        ),
        (
            "auction",
            select(Auction.id).where(
                Auction.deal_id == deal_id,
                Auction.status.in_((AuctionStatus.scheduled, AuctionStatus.running)),
            ),
        ),
    )
    for route, statement in checks:
        if await session.scalar(statement.limit(1)) is not None:
            return route
    return None


async def intentions(
    session: AsyncSession, announcement_id: uuid.UUID, *, organization_id: uuid.UUID | None = None
) -> list[ListingIntention]:
    """The announcement's intentions (one organization's only, if given), the highest offer first."""
    statement = select(ListingIntention).where(ListingIntention.announcement_id == announcement_id)
    if organization_id is not None:
        statement = statement.where(ListingIntention.buyer_organization_id == organization_id)
    statement = statement.order_by(ListingIntention.offer_price.desc(), ListingIntention.created_at)
    return list((await session.execute(statement)).scalars())


async def live_intentions(session: AsyncSession, announcement_id: uuid.UUID) -> list[ListingIntention]:
    """Filed and qualified intentions, locked (the caller holds the announcement), highest offer
    first, then the earliest filed."""
    statement = (
        select(ListingIntention)
        .where(ListingIntention.announcement_id == announcement_id, ListingIntention.status.in_(LIVE))
        .order_by(ListingIntention.offer_price.desc(), ListingIntention.created_at, ListingIntention.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(statement)).scalars())


async def live_intention_of(
    session: AsyncSession, announcement_id: uuid.UUID, organization_id: uuid.UUID
) -> ListingIntention | None:
    statement = select(ListingIntention).where(
        ListingIntention.announcement_id == announcement_id,
        ListingIntention.buyer_organization_id == organization_id,
        ListingIntention.status != IntentionStatus.withdrawn,
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def intention(
    session: AsyncSession, announcement_id: uuid.UUID, intention_id: uuid.UUID
) -> ListingIntention | None:
    """One intention of the announcement, locked (the caller holds the announcement)."""
    statement = (
        select(ListingIntention)
        .where(ListingIntention.id == intention_id, ListingIntention.announcement_id == announcement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()
