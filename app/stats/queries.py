"""Reading the statistics: whole months from `contract_totals`, the partial months at either end
from `contract_daily_totals`, county-level regions from the contracts.

Both paths count the same thing — registered contracts at their amounts in force, by registration
date and the seller's (applicant party's) region — so their union is exact. `naive=True` answers
everything from `contract_applications`, the yardstick of tests and the benchmark.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ColumnElement, false, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import ContractApplication as C
from app.contracts.workflow import IN_FORCE_STATES
from app.stats.models import ContractDailyTotal as D
from app.stats.models import ContractTotal as T
from app.stats.summary import CITY, DIMENSIONS


class GroupBy(StrEnum):
    type = "type"
    field = "field"
    city = "city"
    seller_kind = "seller_kind"
    ip_kind = "ip_kind"
    month = "month"
    total = "total"


@dataclass
class Group:
    key: str
    count: int
    contract_amount: Decimal
    technology_amount: Decimal


def _prefixes(column: ColumnElement[str], prefixes: list[str] | None) -> ColumnElement[bool] | None:
    if not prefixes:
        return None
    return or_(false(), *(column.startswith(prefix, autoescape=True) for prefix in prefixes))


async def _from_summary(
    session: AsyncSession,
    group_by: GroupBy,
    first: date,
    last: date,
    prefixes: list[str] | None,
    *,
    daily: bool = False,
) -> list[tuple[str, int, Decimal, Decimal]]:
    """Sums from the monthly summary (`first`/`last` are first days of months) or, `daily`, from the
    daily one (`first`/`last` are days)."""
    table: type[T] | type[D] = D if daily else T
    period = D.day if daily else T.month
    dimension = group_by.value if group_by.value in DIMENSIONS else "all"
    key: ColumnElement[str]
    if group_by == GroupBy.city:
        key = table.region_code
    elif group_by == GroupBy.month:
        key = func.to_char(period, "YYYY-MM")
    elif group_by == GroupBy.total:
        key = literal("total")
    else:
        key = table.value
    statement = (
        select(
            key,
            func.sum(table.contract_count),
            func.sum(table.contract_amount),
            func.sum(table.technology_amount),
        )
        .where(table.dimension == dimension, period >= first, period <= last)
        .group_by(key)
    )
    if (condition := _prefixes(table.region_code, prefixes)) is not None:
        statement = statement.where(condition)
    return [tuple(row) for row in await session.execute(statement)]  # type: ignore[misc]


async def _from_contracts(
    session: AsyncSession,
    group_by: GroupBy,
    since: date | None,
    until: date | None,
    prefixes: list[str] | None,
) -> list[tuple[str, int, Decimal, Decimal]]:
    key: ColumnElement[str]
    if group_by == GroupBy.city:
        key = func.left(C.stats_region_code, 4)
    elif group_by == GroupBy.month:
        key = func.to_char(C.registered_on, "YYYY-MM")
    elif group_by == GroupBy.total:
        key = literal("total")
    else:
        key = getattr(C, DIMENSIONS[group_by.value])
    statement = (
        select(
            key,
            func.count(),
            func.sum(C.registered_contract_amount),
            func.sum(C.registered_technology_amount),
        )
        .where(C.status.in_(IN_FORCE_STATES))
        .group_by(key)
    )
    if since is not None:
        statement = statement.where(C.registered_on >= since)
    if until is not None:
        statement = statement.where(C.registered_on <= until)
    if (condition := _prefixes(C.stats_region_code, prefixes)) is not None:
        statement = statement.where(condition)
    return [tuple(row) for row in await session.execute(statement)]  # type: ignore[misc]


def _whole_months(since: date | None, until: date | None) -> tuple[date, date] | None:
    """First day of the first and of the last whole month inside [since, until]."""
    first = date(1900, 1, 1) if since is None else since
    if first.day != 1:
        first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = date(2999, 12, 1) if until is None else until
    if last.day != calendar.monthrange(last.year, last.month)[1]:
        last = last.replace(day=1) - timedelta(days=1)
    last = last.replace(day=1)
    return (first, last) if first <= last else None


async def totals(
    session: AsyncSession,
    group_by: GroupBy,
    *,
    since: date | None = None,
    until: date | None = None,
    prefixes: list[str] | None = None,
    naive: bool = False,
) -> list[Group]:
    """Registered contracts in [since, until] (registration dates, inclusive) within the region
    prefixes, grouped; exact to the fen whichever path answers."""
    parts: list[tuple[str, int, Decimal, Decimal]] = []
    county_level = any(len(prefix) > CITY for prefix in prefixes or ())
    months = None if naive or county_level else _whole_months(since, until)
    if naive or county_level:
        parts += await _from_contracts(session, group_by, since, until, prefixes)
    elif months is None:  # no whole month inside: both ends are set and less than two months apart
        assert since is not None and until is not None
        parts += await _from_summary(session, group_by, since, until, prefixes, daily=True)
    else:
        first, last = months
        parts += await _from_summary(session, group_by, first, last, prefixes)
        if since is not None and since < first:
            parts += await _from_summary(
                session, group_by, since, first - timedelta(days=1), prefixes, daily=True
            )
        last_day = last.replace(day=calendar.monthrange(last.year, last.month)[1])
        if until is not None and until > last_day:
            parts += await _from_summary(
                session, group_by, last_day + timedelta(days=1), until, prefixes, daily=True
            )
    merged: dict[str, Group] = {}
    for key, count, contract_amount, technology_amount in parts:
        group = merged.setdefault(str(key), Group(str(key), 0, Decimal("0.00"), Decimal("0.00")))
        group.count += int(count or 0)
        group.contract_amount += contract_amount or Decimal("0.00")
        group.technology_amount += technology_amount or Decimal("0.00")
    return [merged[key] for key in sorted(merged) if merged[key].count]
