"""Who hears of a listing's steps, and the one way they are told (notifications and webhooks in
the step's transaction, app/interests/notify.py)."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.deals.models import Deal
from app.interests import notify
from app.interests import repository as people
from app.matching.models import NotificationKind
from app.trading.models import ListingAnnouncement


async def seller_side(
    session: AsyncSession, announcement: ListingAnnouncement, deal: Deal
) -> list[uuid.UUID]:
    """The seller's active members and the deal's broker."""
    users = await people.active_members(session, announcement.seller_organization_id)
    if deal.broker_user_id is not None and deal.broker_user_id not in users:
        users += await people.active_user_ids(session, [deal.broker_user_id])
    return users


async def members(session: AsyncSession, organization_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    users: list[uuid.UUID] = []
    for organization_id in dict.fromkeys(organization_ids):
        users += await people.active_members(session, organization_id)
    return users


async def tell(
    session: AsyncSession,
    announcement: ListingAnnouncement,
    *,
    kind: NotificationKind,
    recipients: list[uuid.UUID],
    title: str,
    explanation: list[str],
    details: dict[str, Any],
) -> None:
    if not recipients:
        return
    await notify.send(
        session,
        kind=kind,
        listing_kind="achievement",
        listing_id=announcement.achievement_id,
        recipients=recipients,
        title=title,
        explanation=explanation,
        details={"announcement_id": str(announcement.id), "deal_id": str(announcement.deal_id), **details},
    )
