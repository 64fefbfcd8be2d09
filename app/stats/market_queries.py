"""The market statistics' SQL (docs/deals.md): the funnel, the brokers' figures and one
listing's figures.

A deal's progress is read from `deals.reached_*_at` (when it first entered a stage, kept by
`app.deals.service.enter_stage`); `naive=True` reads the same from `deal_stage_events` instead,
the yardstick of the tests and of the benchmark. Both paths share every other word of the SQL, so
an equal answer means the derived columns are right.

Periods are cohorts: the interests filed and the deals opened within [since, until) (UTC instants
of Asia/Shanghai days), followed to wherever they have got today. A deal's region is its seller's,
an interest's its listing owner's, each by administrative-code prefix.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.accounts.models import Organization, User
from app.core.pagination import PageParams
from app.deals.models import REACHED_AT, Deal, DealStageEvent, Interest, ListingView
from app.deals.vocabulary import DealStage, InterestStatus
from app.stats.models import BrokerSide, Grain
from app.stats.models import MarketBrokerFigures as F
from app.stats.models import MarketBrokerRegistrationDays as R
from app.stats.models import MarketFunnelDay as D
from app.stats.models import MarketFunnelMonth as M

# Every stage, in the order of the rollups' columns.
ALL_STAGES = tuple(DealStage)
# The funnel's stages after the deal's opening, in order.
FUNNEL_STAGES = (DealStage.mandated, DealStage.agreed, DealStage.signed, DealStage.registered)
# The rollups' counts, in the funnel's order.
FUNNEL_COLUMNS = ("interests", "accepted", "deals", *(stage.value for stage in FUNNEL_STAGES))


@dataclass(frozen=True)
class Scope:
    """What a query covers: a cohort period, a region prefix, and for the brokers' figures the one
    organization a caller other than an administrator may see (None: all)."""

    since: datetime | None = None
    until: datetime | None = None
    region: str | None = None
    organization_id: uuid.UUID | None = None


def reached(stage: DealStage, *, naive: bool) -> ColumnElement[datetime]:
    """When the deal first entered `stage` (NULL if never): its column, or naively its history."""
    if naive:
        return (
            select(func.min(DealStageEvent.created_at))
            .where(DealStageEvent.deal_id == Deal.id, DealStageEvent.to_stage == stage)
            .scalar_subquery()
        )
    return getattr(Deal, REACHED_AT[stage])


def _cohort(statement: Select[Any], created_at: Any, organization_id: Any, scope: Scope) -> Select[Any]:
    """`statement` restricted to rows created in the period, whose organization is in the region."""
    if scope.since is not None:
        statement = statement.where(created_at >= scope.since)
    if scope.until is not None:
        statement = statement.where(created_at < scope.until)
    if scope.region is not None:
        region = aliased(Organization)
        statement = statement.join(region, region.id == organization_id).where(
            region.region_code.startswith(scope.region, autoescape=True)
        )
    return statement


def _interests(statement: Select[Any], scope: Scope) -> Select[Any]:
    return _cohort(statement, Interest.created_at, Interest.owner_organization_id, scope)


def _deals(statement: Select[Any], scope: Scope) -> Select[Any]:
    return _cohort(statement, Deal.created_at, Deal.seller_organization_id, scope)


@dataclass
class FunnelCounts:
    interests: int
    accepted: int
    deals: int
    # Deals of the cohort that have entered each of FUNNEL_STAGES.
    stages: dict[DealStage, int]


async def funnel(session: AsyncSession, scope: Scope, *, naive: bool = False) -> FunnelCounts:
    """From the rollups: the whole months of the period and the days of the partial months at
    either end (a period within one month reads its days). `naive` counts the cohort's rows and
    reads each stage reached from the history."""
    if not naive:
        return await _funnel_from_rollups(session, scope)
    accepted = func.count().filter(Interest.status == InterestStatus.accepted)
    interests, accepted_count = (
        await session.execute(_interests(select(func.count(), accepted).select_from(Interest), scope))
    ).one()
    stages = [func.count(reached(stage, naive=naive)) for stage in FUNNEL_STAGES]
    deals, *entered = (
        await session.execute(_deals(select(func.count(), *stages).select_from(Deal), scope))
    ).one()
    return FunnelCounts(interests, accepted_count, deals, dict(zip(FUNNEL_STAGES, entered, strict=True)))


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _rollup(model: type[M] | type[D], period: Any, first: date | None, end: date | None) -> Select[Any]:
    """The rollup's rows of [first, end) (either side open when None)."""
    columns = [getattr(model, name) for name in FUNNEL_COLUMNS]
    statement = select(model.region_code, *columns)
    if first is not None:
        statement = statement.where(period >= first)
    if end is not None:
        statement = statement.where(period < end)
    return statement


async def _funnel_from_rollups(session: AsyncSession, scope: Scope) -> FunnelCounts:
    # The scope's bounds are midnights in Asia/Shanghai: their dates are the days.
    first = None if scope.since is None else scope.since.date()
    end = None if scope.until is None else scope.until.date()
    # Whole months [months_from, months_to); the days outside them come from the daily rollup.
    months_from = None if first is None else first if first.day == 1 else _next_month(first)
    months_to = None if end is None else end.replace(day=1)
    if months_from is not None and months_to is not None and months_from >= months_to:
        parts = [_rollup(D, D.day, first, end)]
    else:
        parts = [_rollup(M, M.month, months_from, months_to)]
        if first is not None and months_from != first:
            parts.append(_rollup(D, D.day, first, months_from))
        if end is not None and months_to != end:
            parts.append(_rollup(D, D.day, months_to, end))
    rows = union_all(*parts).subquery()
    statement = select(*(func.coalesce(func.sum(rows.c[name]), 0) for name in FUNNEL_COLUMNS))
    if scope.region is not None:
        statement = statement.where(rows.c.region_code.startswith(scope.region, autoescape=True))
    interests, accepted, deals, *entered = (await session.execute(statement)).one()
    stages = {stage: int(n) for stage, n in zip(FUNNEL_STAGES, entered, strict=True)}
    return FunnelCounts(int(interests), int(accepted), int(deals), stages)


@dataclass
class InterestFigures:
    handled: int
    registered: int
    # Median whole Asia/Shanghai days from the interest to its deal's registration.
    median_days: Decimal | None


@dataclass
class DealFigures:
    by_stage: dict[DealStage, int]
    registered: int
    registered_technology_amount: Decimal


Figures = tuple[InterestFigures | None, DealFigures | None]


@dataclass
class BrokerCounts:
    """One page of each ranking (registered technology amount, then deals, descending; then the
    key), and how many brokers each ranking holds."""

    agencies: dict[uuid.UUID, Figures]
    managers: dict[uuid.UUID, Figures]
    agencies_total: int = 0
    managers_total: int = 0


def _page(table: dict[uuid.UUID, Figures], page: PageParams) -> dict[uuid.UUID, Figures]:
    """The naive ranking's page, in the statement's order."""

    def order(item: tuple[uuid.UUID, Figures]) -> tuple[Decimal, int, str]:
        deals = item[1][1]
        if deals is None:
            return Decimal(0), 0, str(item[0])
        return -deals.registered_technology_amount, -sum(deals.by_stage.values()), str(item[0])

    ranked = sorted(table.items(), key=order)
    return dict(ranked[page.offset : page.offset + page.limit])


def _china_day(instant: Any) -> ColumnElement[date]:
    return cast(func.timezone("Asia/Shanghai", instant), Date)


def _days(median: float | None) -> Decimal | None:
    # Whole days, so the median is an integer or a half: exact in binary and in Decimal.
    return None if median is None else Decimal(str(median)).quantize(Decimal("0.1"))


def _handled(parts: list[Select[Any]], side: str, mine: Any) -> Select[Any]:
    """Per key: the interests handled, those registered and the median days to registration. The
    parts name different keys for one interest (or leave out the key another part counted)."""
    handled = union_all(*parts).subquery()
    statement = select(
        literal(side),
        handled.c.key,
        func.count(),
        func.count(handled.c.days),
        func.percentile_cont(0.5).within_group(handled.c.days),
    ).group_by(handled.c.key)
    return statement if mine is None else statement.where(mine(handled.c.key))


async def brokers(
    session: AsyncSession, scope: Scope, page: PageParams, *, naive: bool = False
) -> BrokerCounts:
    """Per agency and per technology manager: the interests they handled (filed on a client's
    behalf, or whose deal they broker) and the deals they broker, of the period's cohorts. An
    interest filed on behalf counts for the technology manager's own organization as agency.

    From the year, month and day rollups; `naive` reads the cohorts' interests, their deals and
    the stage history instead."""
    if not naive:
        return await _brokers_from_rollups(session, scope, page)
    registered_at = reached(DealStage.registered, naive=True)
    on_behalf = aliased(User)
    statement = (
        select(
            Interest.on_behalf_broker_id.label("on_behalf"),
            on_behalf.organization_id.label("on_behalf_agency"),
            Deal.broker_user_id.label("broker"),
            Deal.broker_agency_id.label("agency"),
            (_china_day(registered_at) - _china_day(Interest.created_at)).label("days"),
        )
        .select_from(Interest)
        .outerjoin(on_behalf, on_behalf.id == Interest.on_behalf_broker_id)
        .outerjoin(Deal, Deal.id == Interest.deal_id)
        .where(Interest.on_behalf_broker_id.is_not(None) | Deal.broker_user_id.is_not(None))
    )
    c = _interests(statement, scope).cte("cohort").prefix_with("MATERIALIZED").c
    own_agency = own_manager = None
    members = select(User.id)
    if scope.organization_id is not None:
        members = members.where(User.organization_id == scope.organization_id)
        own_agency = lambda key: key == scope.organization_id  # noqa: E731
        own_manager = lambda key: key.in_(members)  # noqa: E731
    by_manager = _handled(
        [
            select(c.on_behalf.label("key"), c.days).where(c.on_behalf.is_not(None)),
            select(c.broker.label("key"), c.days).where(
                c.broker.is_not(None), c.broker.is_distinct_from(c.on_behalf)
            ),
        ],
        "manager",
        own_manager,
    )
    by_agency = _handled(
        [
            select(c.on_behalf_agency.label("key"), c.days).where(c.on_behalf_agency.is_not(None)),
            select(c.agency.label("key"), c.days).where(
                c.agency.is_not(None), c.agency.is_distinct_from(c.on_behalf_agency)
            ),
        ],
        "agency",
        own_agency,
    )
    result = BrokerCounts({}, {})
    for side, key, count, converted, median in (
        await session.execute(union_all(by_manager, by_agency))
    ).all():
        figures = InterestFigures(count, converted, _days(median))
        (result.managers if side == "manager" else result.agencies)[key] = (figures, None)

    brokered = _deals(
        select(
            Deal.broker_user_id,
            Deal.broker_agency_id,
            func.count(registered_at),
            func.sum(Deal.registered_technology_amount).filter(registered_at.is_not(None)),
            *(func.count().filter(Deal.stage == stage) for stage in DealStage),
        )
        .select_from(Deal)
        .where(Deal.broker_user_id.is_not(None))
        .group_by(Deal.broker_user_id, Deal.broker_agency_id),
        scope,
    )
    staff: set[uuid.UUID] = set()
    if scope.organization_id is not None:
        brokered = brokered.where(
            (Deal.broker_agency_id == scope.organization_id) | Deal.broker_user_id.in_(members)
        )
        staff = set((await session.execute(members)).scalars())
    for manager, agency, registered, amount, *by_stage in (await session.execute(brokered)).all():
        targets: list[tuple[dict[uuid.UUID, Figures], uuid.UUID]] = []
        if scope.organization_id is None or manager in staff:
            targets.append((result.managers, manager))
        if agency is not None and scope.organization_id in (None, agency):
            targets.append((result.agencies, agency))
        for table, key in targets:
            interests, deals = table.get(key, (None, None))
            deals = deals or DealFigures(dict.fromkeys(DealStage, 0), 0, Decimal("0.00"))
            for stage, count in zip(DealStage, by_stage, strict=True):
                deals.by_stage[stage] += count
            deals.registered += registered
            deals.registered_technology_amount += amount or Decimal("0.00")
            table[key] = (interests, deals)
    return BrokerCounts(
        _page(result.agencies, page), _page(result.managers, page), len(result.agencies), len(result.managers)
    )


def buckets(first: date | None, end: date | None) -> list[tuple[Grain, date | None, date | None]]:
    """[first, end) (either side open when None) as whole years, the whole months outside them
    and the days outside those: (grain, from, to) with `to` exclusive. All time is its own."""
    if first is None and end is None:
        return [(Grain.all, None, None)]
    months_from = first if first is None or first.day == 1 else _next_month(first)
    months_to = None if end is None else end.replace(day=1)
    if months_from is not None and months_to is not None and months_from >= months_to:
        return [(Grain.day, first, end)]
    years_from = (
        months_from if months_from is None or months_from.month == 1 else date(months_from.year + 1, 1, 1)
    )
    years_to = None if months_to is None else months_to.replace(month=1)
    parts: list[tuple[Grain, date | None, date | None]] = []
    if years_from is not None and years_to is not None and years_from >= years_to:
        parts.append((Grain.month, months_from, months_to))
    else:
        parts.append((Grain.year, years_from, years_to))
        parts.append((Grain.month, months_from, years_from))
        parts.append((Grain.month, years_to, months_to))
    parts += [(Grain.day, first, months_from), (Grain.day, months_to, end)]
    # An unbounded side is the years'; any other part is bounded and may be empty.
    return [
        (g, lo, hi)
        for g, lo, hi in parts
        if g is Grain.year or (lo is not None and hi is not None and lo < hi)
    ]


# A period's buckets fill fixed slots — all time, years, two of months, two of days — so the brokers'
# statement is built once and only its parameters change; an unused slot is an empty range.
SLOTS = {
    Grain.all: ("all",),
    Grain.year: ("year",),
    Grain.month: ("month_a", "month_b"),
    Grain.day: ("day_a", "day_b"),
}
EMPTY = (date.max, date.max)
OPEN = (date.min, date.max)


def _slot(model: type[F] | type[R], name: str) -> ColumnElement[bool]:
    return and_(
        model.period >= bindparam(f"{name}_from", type_=Date),
        model.period < bindparam(f"{name}_to", type_=Date),
    )


def _in_period(model: type[F] | type[R]) -> ColumnElement[bool]:
    """The rollup rows of the period's slots and of the region (`code`: all time, years and months
    are kept at each prefix, days at the full code only)."""
    return or_(
        and_(model.grain == Grain.all, model.region_code == bindparam("code"), _slot(model, "all")),
        and_(model.grain == Grain.year, model.region_code == bindparam("code"), _slot(model, "year")),
        and_(
            model.grain == Grain.month,
            model.region_code == bindparam("code"),
            or_(_slot(model, "month_a"), _slot(model, "month_b")),
        ),
        and_(
            model.grain == Grain.day,
            model.region_code.startswith(bindparam("code")),
            or_(_slot(model, "day_a"), _slot(model, "day_b")),
        ),
    )


def _in_scope(model: type[F]) -> ColumnElement[bool]:
    """The period's rows and, unless `organization` is NULL (an administrator), those of that
    organization as agency and of its technology managers."""
    organization = bindparam("organization", type_=Uuid)
    return and_(
        _in_period(model),
        or_(
            organization.is_(None),
            and_(model.side == BrokerSide.agency, model.broker_id == organization),
            and_(
                model.side == BrokerSide.manager,
                model.broker_id.in_(select(User.id).where(User.organization_id == organization)),
            ),
        ),
    )


def _total(column: Any) -> ColumnElement[int]:
    # A bigint, not the numeric that sum(bigint) is: hundreds of rows decode without Decimal.
    return cast(func.sum(column), BigInteger)


def _brokers_statement() -> Select[Any]:
    """Both rankings' page: the sums per broker ranked, and the median of the days histogram for
    the brokers on the page only (it is the costly part: one row per interest to order)."""
    figures = (
        select(
            F.side,
            F.broker_id,
            _total(F.interests_handled).label("handled"),
            _total(F.interests_registered).label("registered"),
            _total(F.registered_deals).label("registered_deals"),
            func.sum(F.registered_technology_amount).label("amount"),
            *(
                _total(getattr(F, f"deals_{stage.value}")).label(f"deals_{stage.value}")
                for stage in ALL_STAGES
            ),
        )
        .where(_in_scope(F))
        .group_by(F.side, F.broker_id)
        .subquery()
    )
    deals = sum((figures.c[f"deals_{stage.value}"] for stage in ALL_STAGES[1:]), figures.c.deals_lead)
    kept = (
        select(
            figures,
            func.row_number()
            .over(
                partition_by=figures.c.side,
                order_by=(figures.c.amount.desc(), deals.desc(), figures.c.broker_id),
            )
            .label("rank"),
        )
        # Where every contribution to the period was taken back, nothing is left to show.
        .where(or_(figures.c.handled > 0, deals > 0))
        .cte("kept")
    )
    totals = select(kept.c.side, func.count().label("total")).group_by(kept.c.side).subquery()
    offset, limit = bindparam("offset", type_=Integer), bindparam("limit", type_=Integer)
    page = select(kept).where(kept.c.rank > offset, kept.c.rank <= offset + limit).cte("page")
    # Each histogram row as that many interests: percentile_cont itself, as the naive answer; one
    # broker of the page at a time, by the histogram's primary key.
    each = func.generate_series(1, cast(R.interests, Integer)).table_valued("n")
    median = (
        select(func.percentile_cont(0.5).within_group(R.days))
        .join(each, true())
        .where(R.side == page.c.side, R.broker_id == page.c.broker_id, _in_period(R))
        .scalar_subquery()
    )
    # Both sides always answer: their totals even when the page holds none of them.
    # (Not VALUES: a statement holding one is compiled afresh on every request.)
    sides = union_all(*(select(literal(side.value, String).label("side")) for side in BrokerSide)).subquery(
        "sides"
    )
    return (
        select(
            sides.c.side,
            func.coalesce(totals.c.total, 0),
            page.c.broker_id,
            page.c.handled,
            page.c.registered,
            median,
            page.c.registered_deals,
            page.c.amount,
            *(page.c[f"deals_{stage.value}"] for stage in ALL_STAGES),
        )
        .select_from(
            sides.outerjoin(totals, totals.c.side == sides.c.side).outerjoin(
                page, page.c.side == sides.c.side
            )
        )
        .order_by(sides.c.side, page.c.rank)
    )


BROKERS = _brokers_statement()


def _parameters(scope: Scope) -> dict[str, object]:
    # The scope's bounds are midnights in Asia/Shanghai: their dates are the days.
    first = None if scope.since is None else scope.since.date()
    end = None if scope.until is None else scope.until.date()
    parameters: dict[str, object] = {"code": scope.region or "", "organization": scope.organization_id}
    for grain, names in SLOTS.items():
        taken = [(lo or OPEN[0], hi or OPEN[1]) for g, lo, hi in buckets(first, end) if g is grain]
        for name, (lo, hi) in zip(names, taken + [EMPTY] * (len(names) - len(taken)), strict=True):
            parameters[f"{name}_from"], parameters[f"{name}_to"] = lo, hi
    return parameters


async def _brokers_from_rollups(session: AsyncSession, scope: Scope, page: PageParams) -> BrokerCounts:
    result = BrokerCounts({}, {})
    # A generic plan cannot tell the unused slots (empty ranges) from the used ones and scans every
    # day; planning for the actual periods costs about a millisecond.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    parameters = _parameters(scope) | {"offset": page.offset, "limit": page.limit}
    for (
        side,
        total,
        key,
        handled,
        registered,
        median,
        registered_deals,
        amount,
        *by_stage,
    ) in await session.execute(BROKERS, parameters):
        if side == BrokerSide.manager:
            result.managers_total = total
        else:
            result.agencies_total = total
        if key is None:
            continue  # Nothing of this side on the page.
        interests = InterestFigures(handled, registered, _days(median)) if handled else None
        deals = (
            DealFigures(dict(zip(ALL_STAGES, by_stage, strict=True)), registered_deals, amount)
            if any(by_stage)
            else None
        )
        (result.managers if side == BrokerSide.manager else result.agencies)[key] = (interests, deals)
    return result


async def names(
    session: AsyncSession, organizations: list[uuid.UUID], users: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, tuple[str, uuid.UUID]]]:
    """Organizations' names; users' names and organizations."""
    # One array parameter each, not hundreds of bound values to render on every request.
    found = select(Organization.id, Organization.name).where(
        Organization.id == any_(bindparam("organizations", organizations, type_=ARRAY(Uuid)))
    )
    people = select(User.id, User.full_name, User.organization_id).where(
        User.id == any_(bindparam("users", users, type_=ARRAY(Uuid)))
    )
    return (
        {row[0]: row[1] for row in await session.execute(found)},
        {row[0]: (row[1], row[2]) for row in await session.execute(people)},
    )


@dataclass
class ListingCounts:
    views_by_day: list[tuple[date, int]]
    viewing_organizations: int
    # (status, decline reason) → interests.
    interests: dict[tuple[InterestStatus, Any], int]
    deals_by_stage: dict[DealStage, int]
    registered_deals: int
    registered_contract_amount: Decimal
    registered_technology_amount: Decimal


async def listing(
    session: AsyncSession, kind: str, listing_id: uuid.UUID, since: date | None, until: date | None
) -> ListingCounts:
    views = (
        select()
        .select_from(ListingView)
        .where(ListingView.listing_kind == kind, ListingView.listing_id == listing_id)
    )
    if since is not None:
        views = views.where(ListingView.day >= since)
    if until is not None:
        views = views.where(ListingView.day <= until)
    by_day = await session.execute(
        views.add_columns(ListingView.day, func.count()).group_by(ListingView.day).order_by(ListingView.day)
    )
    organizations = await session.scalar(
        views.add_columns(func.count(ListingView.organization_id.distinct()))
    )
    interest_listing = Interest.achievement_id if kind == "achievement" else Interest.demand_id
    interests = await session.execute(
        select(Interest.status, Interest.decline_reason, func.count())
        .where(interest_listing == listing_id)
        .group_by(Interest.status, Interest.decline_reason)
    )
    registered_at = reached(DealStage.registered, naive=False)
    deal_listing = Deal.achievement_id if kind == "achievement" else Deal.demand_id
    deals = (
        await session.execute(
            select(
                Deal.stage,
                func.count(),
                func.count(registered_at),
                func.sum(Deal.registered_contract_amount).filter(registered_at.is_not(None)),
                func.sum(Deal.registered_technology_amount).filter(registered_at.is_not(None)),
            )
            .where(deal_listing == listing_id)
            .group_by(Deal.stage)
        )
    ).all()
    return ListingCounts(
        views_by_day=[(row[0], row[1]) for row in by_day],
        viewing_organizations=organizations or 0,
        interests={(row[0], row[1]): row[2] for row in interests},
        deals_by_stage={DealStage(row[0]): row[1] for row in deals},
        registered_deals=sum(row[2] for row in deals),
        registered_contract_amount=sum((row[3] or Decimal("0.00") for row in deals), Decimal("0.00")),
        registered_technology_amount=sum((row[4] or Decimal("0.00") for row in deals), Decimal("0.00")),
    )
