"""All SQL of the listings domain. Reads take the caller and apply `policy.visible_clause`,
so no query can return a row its caller may not see."""

import functools
import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, Role, User
from app.deals.models import ListingView
from app.listings import filters, policy
from app.listings.models import ListingColumns
from app.listings.vocabulary import ListingStatus

_SORTS = {
    "-updated_at": lambda m: (m.updated_at.desc(), m.id.desc()),
    "updated_at": lambda m: (m.updated_at.asc(), m.id.asc()),
    "-published_at": lambda m: (m.published_at.desc().nulls_last(), m.id.desc()),
    "-created_at": lambda m: (m.created_at.desc(), m.id.desc()),
}


def _read(model: type[ListingColumns]) -> Select[Any]:
    """What the detail and the list pages select: the listing's columns and its owner's name.
    Plain columns rather than entities: reads need no identity map (docs/benchmarks.md)."""
    columns = (*model.__table__.columns, Organization.name.label("owner_organization_name"))
    return select(*columns).join(Organization, Organization.id == model.owner_organization_id)


@dataclass(frozen=True)
class _Caller:
    """A caller whose identity is a bind parameter, to compile `visible_clause` once."""

    role: Role
    id: Any = field(default_factory=lambda: bindparam("p_user"))
    organization_id: Any = field(default_factory=lambda: bindparam("p_org"))


# A compiled query: SQL with $n placeholders, its parameter names in order, and its constants.
_Compiled = tuple[str, tuple[str, ...], dict[str, Any]]


def _compile(statement: Any) -> _Compiled:
    compiled = statement.compile(dialect=asyncpg_dialect())
    constants = {
        k: v.value if isinstance(v, Enum) else v for k, v in compiled.params.items() if v is not None
    }
    return str(compiled), tuple(compiled.positiontup or ()), constants


def _audience(user: User | None) -> str:
    return "anonymous" if user is None else "admin" if user.role == Role.admin else "member"


def _visible(model: type[ListingColumns], audience: str) -> ColumnElement[bool]:
    """`policy.visible_clause` itself — not restated — for a caller whose identity is bound later."""
    caller: Any = (
        None if audience == "anonymous" else _Caller(Role.admin if audience == "admin" else Role.member)
    )
    return policy.visible_clause(model, caller)


def _arguments(query: _Compiled, user: User | None, values: dict[str, Any]) -> list[Any]:
    _, order, constants = query
    values = {**constants, **values}
    if user is not None:
        values.update(p_org=user.organization_id, p_user=user.id)
    return [values[name] for name in order]


# The hottest queries of the service (every detail page, every list page) run on the pool's asyncpg
# connection with SQL compiled once per shape, skipping SQLAlchemy's per-execution work
# (docs/benchmarks.md): a kind and caller shape for the detail; also the sort and the names of the
# filters asked for, a bounded set, for the list.
@functools.cache
def _detail_query(model: type[ListingColumns], audience: str) -> _Compiled:
    return _compile(_read(model).where(model.id == bindparam("p_id"), _visible(model, audience)))


@functools.lru_cache(maxsize=1024)
def _list_queries(
    model: type[ListingColumns], audience: str, sort: str, names: frozenset[str]
) -> tuple[_Compiled, _Compiled]:
    where = [_visible(model, audience), *(filters.condition(model, name) for name in sorted(names))]
    page = (
        _read(model)
        .where(*where)
        .order_by(*_SORTS[sort](model))
        .limit(bindparam("p_limit", type_=Integer))
        .offset(bindparam("p_offset", type_=Integer))
    )
    return _compile(select(func.count()).select_from(model).where(*where)), _compile(page)


async def get_visible(
    connection: asyncpg.Connection, model: type[ListingColumns], listing_id: uuid.UUID, user: User | None
) -> dict[str, Any] | None:
    """The listing's columns and its owner's name, if `user` may see it."""
    query = _detail_query(model, _audience(user))
    record = await connection.fetchrow(query[0], *_arguments(query, user, {"p_id": listing_id}))
    return dict(record.items()) if record is not None else None


async def list_visible(
    connection: asyncpg.Connection,
    model: type[ListingColumns],
    user: User | None,
    criteria: filters.Criteria,
    *,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the listings `user` may see that meet `criteria`, and how many there are."""
    count, page = _list_queries(model, _audience(user), sort, frozenset(criteria))
    total = await connection.fetchval(count[0], *_arguments(count, user, criteria))
    values = {**criteria, "p_limit": limit, "p_offset": offset}
    records = await connection.fetch(page[0], *_arguments(page, user, values))
    return [dict(record.items()) for record in records], total


# One row per listing, organization and day: a reload the same day changes nothing.
_RECORD_VIEW = _compile(
    pg_insert(ListingView)
    .values(
        listing_kind=bindparam("p_kind"),
        listing_id=bindparam("p_id"),
        day=bindparam("p_day"),
        organization_id=bindparam("p_org"),
    )
    .on_conflict_do_nothing()
)


async def record_view(
    connection: asyncpg.Connection, kind: str, listing_id: uuid.UUID, organization_id: uuid.UUID, day: date
) -> None:
    """Count `organization_id`'s reading of the listing's detail on `day` (Asia/Shanghai)."""
    values = {"p_kind": kind, "p_id": listing_id, "p_day": day, "p_org": organization_id}
    await connection.execute(_RECORD_VIEW[0], *(values[name] for name in _RECORD_VIEW[1]))


async def get_readable(
    session: AsyncSession, model: type[ListingColumns], listing_id: uuid.UUID, user: User | None
) -> ListingColumns | None:
    """The listing as an entity, if `user` may read it — the detail's rule (`visible_clause`), for
    the other reads of one listing (its matches, following a demand)."""
    return await session.scalar(
        select(model).where(model.id == listing_id, policy.visible_clause(model, user))
    )


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
