"""The interests' SQL."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.accounts.models import Organization, Role, User
from app.core.pagination import PageParams, fetch_page
from app.deals.models import Interest
from app.deals.vocabulary import InterestStatus
from app.listings.models import Achievement, Demand
from app.matching.models import Subscription

Listing = Achievement | Demand


@dataclass(frozen=True)
class InterestRow:
    """An interest and what its view names: the listing's title, whether it is a confidential
    demand, and the two organizations' names."""

    interest: Interest
    listing_title: str
    confidential: bool
    owner_organization_name: str
    organization_name: str


def _rows() -> Select[Any]:
    owner = aliased(Organization)
    interested = aliased(Organization)
    return (
        select(
            Interest,
            func.coalesce(Achievement.title, Demand.title),
            func.coalesce(Demand.confidential, false()),
            owner.name,
            interested.name,
        )
        .outerjoin(Achievement, Achievement.id == Interest.achievement_id)
        .outerjoin(Demand, Demand.id == Interest.demand_id)
        .join(owner, owner.id == Interest.owner_organization_id)
        .join(interested, interested.id == Interest.organization_id)
    )


def _row(found: Any) -> InterestRow:
    return InterestRow(found[0], found[1], found[2], found[3], found[4])


async def row(session: AsyncSession, interest_id: uuid.UUID) -> InterestRow | None:
    found = (await session.execute(_rows().where(Interest.id == interest_id))).one_or_none()
    return None if found is None else _row(found)


async def lock(session: AsyncSession, interest_id: uuid.UUID) -> Interest | None:
    """The interest, locked for its answer: two answers at once are taken one after the other."""
    return await session.scalar(select(Interest).where(Interest.id == interest_id).with_for_update())


async def open_interest(
    session: AsyncSession, *, kind: str, listing_id: uuid.UUID, organization_id: uuid.UUID
) -> Interest | None:
    """The open interest of the organization in the listing (the partial unique indexes' key)."""
    column = Interest.achievement_id if kind == "achievement" else Interest.demand_id
    return await session.scalar(
        select(Interest).where(
            column == listing_id,
            Interest.organization_id == organization_id,
            Interest.status == InterestStatus.open,
        )
    )


async def listing(session: AsyncSession, kind: str, listing_id: uuid.UUID) -> Listing | None:
    model = Achievement if kind == "achievement" else Demand
    return await session.get(model, listing_id)


async def organization(session: AsyncSession, organization_id: uuid.UUID) -> Organization | None:
    return await session.get(Organization, organization_id)


async def user(session: AsyncSession, user_id: uuid.UUID | None) -> User | None:
    return None if user_id is None else await session.get(User, user_id)


# Open ones first, the longest waiting first; then the answered ones, the latest answer first.
_RECEIVED_ORDER = (
    case((Interest.status == InterestStatus.open, 0), else_=1),
    case((Interest.status == InterestStatus.open, Interest.created_at)),
    Interest.answered_at.desc(),
    Interest.id,
)


async def received(
    session: AsyncSession, *, user: User, status: InterestStatus | None, page: PageParams
) -> tuple[list[InterestRow], int]:
    """Interests in the user's organization's listings (every interest, for an administrator)."""
    statement = _rows()
    if user.role != Role.admin:
        statement = statement.where(Interest.owner_organization_id == user.organization_id)
    if status is not None:
        statement = statement.where(Interest.status == status)
    rows, total = await fetch_page(session, statement, page, *_RECEIVED_ORDER)
    return [_row(found) for found in rows.all()], total


async def sent(
    session: AsyncSession, *, user: User, status: InterestStatus | None, page: PageParams
) -> tuple[list[InterestRow], int]:
    """Interests of the user's organization, and those the user filed for clients; newest first."""
    statement = _rows().where(
        or_(Interest.organization_id == user.organization_id, Interest.on_behalf_broker_id == user.id)
    )
    if status is not None:
        statement = statement.where(Interest.status == status)
    rows, total = await fetch_page(session, statement, page, Interest.created_at.desc(), Interest.id)
    return [_row(found) for found in rows.all()], total


async def active_members(session: AsyncSession, organization_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        await session.scalars(
            select(User.id).where(User.organization_id == organization_id, User.is_active).order_by(User.id)
        )
    )


async def active_user_ids(session: AsyncSession, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(await session.scalars(select(User.id).where(User.id.in_(user_ids), User.is_active)))


async def webhooks_of(session: AsyncSession, user_ids: list[uuid.UUID]) -> list[Subscription]:
    """The users' active subscriptions that have a webhook, oldest first."""
    return list(
        await session.scalars(
            select(Subscription)
            .where(
                Subscription.user_id.in_(user_ids),
                Subscription.active,
                Subscription.webhook_url.is_not(None),
            )
            .order_by(Subscription.created_at, Subscription.id)
        )
    )


async def due_unanswered(session: AsyncSession, *, before: datetime, limit: int) -> list[Interest]:
    """Open interests filed before `before` whose interested side was not told yet, locked; rows
    another worker holds are skipped (it is telling them)."""
    return list(
        await session.scalars(
            select(Interest)
            .where(
                and_(
                    Interest.status == InterestStatus.open,
                    Interest.unanswered_notified_at.is_(None),
                    Interest.created_at <= before,
                )
            )
            .order_by(Interest.created_at, Interest.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
