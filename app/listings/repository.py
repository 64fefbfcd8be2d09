"""All SQL of the listings domain. Reads take the caller and apply `policy.visible_clause`,
so no query can return a row its caller may not see."""

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, bindparam, func, select, update
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.accounts.models import Organization, Role, User
from app.listings import policy
from app.listings.models import ListingColumns
from app.listings.vocabulary import ListingStatus

_SORTS = {
    "-updated_at": lambda m: (m.updated_at.desc(), m.id.desc()),
    "updated_at": lambda m: (m.updated_at.asc(), m.id.asc()),
    "-published_at": lambda m: (m.published_at.desc().nulls_last(), m.id.desc()),
    "-created_at": lambda m: (m.created_at.desc(), m.id.desc()),
}


def _read_columns(model: type[ListingColumns]) -> tuple[Any, ...]:
    # Plain columns rather than entities: reads need no identity map, and skipping it is most of
    # the per-request cost of a detail page (docs/benchmarks.md).
    return (*model.__table__.columns, Organization.name.label("owner_organization_name"))


@dataclass(frozen=True)
class _Caller:
    """A caller whose identity is a bind parameter, to compile `visible_clause` once."""

    role: Role
    id: Any = field(default_factory=lambda: bindparam("p_user"))
    organization_id: Any = field(default_factory=lambda: bindparam("p_org"))


@functools.cache
def _detail_query(model: type[ListingColumns], audience: str) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The detail query compiled once per kind and caller shape: SQL with $n placeholders, the
    parameter names in order, and the constant parameters. The visibility rule is
    `policy.visible_clause` itself, compiled — not restated."""
    caller: Any = (
        None if audience == "anonymous" else _Caller(Role.admin if audience == "admin" else Role.member)
    )
    statement = (
        select(*_read_columns(model))
        .join(Organization, Organization.id == model.owner_organization_id)
        .where(model.id == bindparam("p_id"), policy.visible_clause(model, caller))
    )
    compiled = statement.compile(dialect=asyncpg_dialect())
    constants = {
        k: v.value if isinstance(v, Enum) else v for k, v in compiled.params.items() if v is not None
    }
    return str(compiled), tuple(compiled.positiontup or ()), constants


async def get_visible(
    connection: Any, model: type[ListingColumns], listing_id: uuid.UUID, user: User | None
) -> dict[str, Any] | None:
    """The listing's columns and its owner's name, if `user` may see it.

    `connection` is the pool's asyncpg connection: the hottest query of the service (every detail
    page) runs with SQL compiled once, skipping SQLAlchemy's per-execution work (docs/benchmarks.md)."""
    audience = "anonymous" if user is None else "admin" if user.role == Role.admin else "member"
    sql, order, constants = _detail_query(model, audience)
    values = {**constants, "p_id": listing_id}
    if user is not None:
        values.update(p_org=user.organization_id, p_user=user.id)
    record = await connection.fetchrow(sql, *(values[name] for name in order))
    return dict(record.items()) if record is not None else None


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
    connection: AsyncConnection,
    model: type[ListingColumns],
    user: User | None,
    conditions: Sequence[ColumnElement[bool]],
    *,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    where = [policy.visible_clause(model, user), *conditions]
    total = (await connection.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
    statement = (
        select(*_read_columns(model))
        .join(Organization, Organization.id == model.owner_organization_id)
        .where(*where)
        .order_by(*_SORTS[sort](model))
        .limit(limit)
        .offset(offset)
    )
    return list((await connection.execute(statement)).mappings()), total


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
