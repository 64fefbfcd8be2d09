"""All SQL of the listings domain. Reads take the caller and apply `policy.visible_clause`,
so no query can return a row its caller may not see."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, User
from app.listings import policy
from app.listings.models import ListingColumns
from app.listings.vocabulary import ListingStatus

_SORTS = {
    "-updated_at": lambda m: (m.updated_at.desc(), m.id.desc()),
    "updated_at": lambda m: (m.updated_at.asc(), m.id.asc()),
    "-published_at": lambda m: (m.published_at.desc().nulls_last(), m.id.desc()),
    "-created_at": lambda m: (m.created_at.desc(), m.id.desc()),
}


async def get_visible(
    session: AsyncSession, model: type[ListingColumns], listing_id: uuid.UUID, user: User | None
) -> tuple[ListingColumns, str] | None:
    """The listing and its owner's name, if `user` may see it."""
    statement = (
        select(model, Organization.name)
        .join(Organization, Organization.id == model.owner_organization_id)
        .where(model.id == listing_id, policy.visible_clause(model, user))
    )
    row = (await session.execute(statement)).one_or_none()
    return (row[0], row[1]) if row else None


async def get_for_update(
    session: AsyncSession, model: type[ListingColumns], listing_id: uuid.UUID, user: User | None
) -> ListingColumns | None:
    """Lock the row for a change; concurrent changers queue here and then see the new version."""
    statement = (
        select(model)
        .where(model.id == listing_id, policy.visible_clause(model, user))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def owner_name(session: AsyncSession, organization_id: uuid.UUID) -> str:
    return (
        await session.execute(select(Organization.name).where(Organization.id == organization_id))
    ).scalar_one()


async def list_visible(
    session: AsyncSession,
    model: type[ListingColumns],
    user: User | None,
    conditions: Sequence[ColumnElement[bool]],
    *,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Any, str]], int]:
    where = [policy.visible_clause(model, user), *conditions]
    total = (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
    statement = (
        select(model, Organization.name)
        .join(Organization, Organization.id == model.owner_organization_id)
        .where(*where)
        .order_by(*_SORTS[sort](model))
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(statement)).all()
    return [(r[0], r[1]) for r in rows], total


async def list_owned(session: AsyncSession, model: type[ListingColumns], user: User) -> list[ListingColumns]:
    """Everything the caller's organization owns (for export), oldest first."""
    mine: ColumnElement[bool] = model.owner_organization_id == user.organization_id
    statement = select(model).where(mine).order_by(model.created_at, model.id)
    return list((await session.execute(statement)).scalars())


async def expire_due(
    session: AsyncSession, model: type[ListingColumns], end_date_column: str, today: date
) -> list[tuple[uuid.UUID, date]]:
    """Mark published listings whose end date has passed as expired; their ids and end dates."""
    column = getattr(model, end_date_column)
    statement = (
        update(model)
        .where(model.status == ListingStatus.published, column < today)
        .values(status=ListingStatus.expired, version=model.version + 1)
        .returning(model.id, column)
    )
    return [(r[0], r[1]) for r in (await session.execute(statement)).all()]


async def expert_of_user(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID | None:
    from app.listings.models import Expert

    return (await session.execute(select(Expert.id).where(Expert.user_id == user_id))).scalar_one_or_none()
