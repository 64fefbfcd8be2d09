"""Every query of the rewards domain."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, delete, func, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, User
from app.contracts.models import ContractApplication
from app.contracts.workflow import IN_FORCE_STATES
from app.core.pagination import PageParams, fetch_page
from app.deals.models import Deal
from app.rewards.models import RewardRule
from app.rewards.vocabulary import Beneficiary

# Every write of a rule takes this transaction-level lock first, then checks for an overlapping rule:
# two concurrent creates run one after the other, and the second sees the first (READ COMMITTED
# takes a new snapshot per statement, after the lock is granted).
RULES_LOCK = "reward_rules"


async def lock_rules(session: AsyncSession) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(RULES_LOCK))))


def _regions_overlap(column: ColumnElement[str], code: str) -> ColumnElement[bool]:
    """One region code a prefix of the other ("32" and "3201" overlap, "3201" and "3205" do not)."""
    return or_(column == func.left(literal(code), func.length(column)), func.left(column, len(code)) == code)


async def find_overlapping(
    session: AsyncSession,
    *,
    beneficiary: Beneficiary,
    region_code: str,
    valid_from: date,
    valid_until: date | None,
    excluding: uuid.UUID | None = None,
) -> RewardRule | None:
    R = RewardRule
    statement = (
        select(R)
        .where(
            R.beneficiary == beneficiary,
            _regions_overlap(R.region_code, region_code),
            or_(R.valid_until.is_(None), R.valid_until >= valid_from),
            true() if valid_until is None else R.valid_from <= valid_until,
        )
        .order_by(R.valid_from, R.id)
        .limit(1)
    )
    if excluding is not None:
        statement = statement.where(R.id != excluding)
    return (await session.execute(statement)).scalar_one_or_none()


async def get_rule(
    session: AsyncSession, rule_id: uuid.UUID, *, for_update: bool = False
) -> RewardRule | None:
    statement = select(RewardRule).where(RewardRule.id == rule_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def list_rules(session: AsyncSession, page: PageParams) -> tuple[list[RewardRule], int]:
    R = RewardRule
    rows, total = await fetch_page(session, select(R), page, R.region_code, R.beneficiary, R.valid_from, R.id)
    return list(rows.scalars()), total


async def delete_rule(session: AsyncSession, rule_id: uuid.UUID) -> None:
    await session.execute(delete(RewardRule).where(RewardRule.id == rule_id))


async def rules_in_year(session: AsyncSession, year: int, region: str | None) -> list[RewardRule]:
    """The rules in force on some day of `year`, of a region overlapping `region` (all without)."""
    R = RewardRule
    statement = select(R).where(
        R.valid_from <= date(year, 12, 31), or_(R.valid_until.is_(None), R.valid_until >= date(year, 1, 1))
    )
    if region is not None:
        statement = statement.where(_regions_overlap(R.region_code, region))
    return list(
        (
            await session.execute(statement.order_by(R.region_code, R.beneficiary, R.valid_from, R.id))
        ).scalars()
    )


@dataclass(frozen=True)
class Attributed:
    """A registration in force that names a deal, with the deal's broker and parties."""

    contract_application_id: uuid.UUID
    registration_number: str
    deal_id: uuid.UUID
    registered_on: date
    stats_region_code: str
    contract_amount: Decimal
    technology_amount: Decimal
    # The deal's first registration in force (by date, then number): one reward per deal.
    first_of_deal: bool
    broker_user_id: uuid.UUID | None
    broker_agency_id: uuid.UUID | None
    buyer_organization_id: uuid.UUID | None
    seller_organization_id: uuid.UUID | None
    related_party: bool


async def attributed_in_year(session: AsyncSession, year: int) -> list[Attributed]:
    """Registrations in force registered in `year` that were reached through a deal, at their
    amounts in force (after amendments)."""
    C = ContractApplication
    in_force = and_(C.status.in_(IN_FORCE_STATES), C.deal_id.is_not(None))
    deals_of_year = select(C.deal_id).where(
        in_force, C.registered_on.between(date(year, 1, 1), date(year, 12, 31))
    )
    ranked = (
        select(
            C.id,
            C.deal_id,
            func.row_number()
            .over(partition_by=C.deal_id, order_by=(C.registered_on, C.registration_number, C.id))
            .label("rank"),
        )
        .where(in_force, C.deal_id.in_(deals_of_year))
        .subquery()
    )
    statement = (
        select(
            C.id,
            C.registration_number,
            C.deal_id,
            C.registered_on,
            C.stats_region_code,
            C.registered_contract_amount,
            C.registered_technology_amount,
            ranked.c.rank == 1,
            Deal.broker_user_id,
            Deal.broker_agency_id,
            Deal.buyer_organization_id,
            Deal.seller_organization_id,
            Deal.related_party,
        )
        .join(ranked, ranked.c.id == C.id)
        .join(Deal, Deal.id == C.deal_id)
        .where(C.registered_on.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(C.registered_on, C.registration_number, C.id)
    )
    return [Attributed(*row) for row in (await session.execute(statement)).all()]


async def names(
    session: AsyncSession, organization_ids: set[uuid.UUID], user_ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Organizations' names and users' full names (their e-mail when they gave none)."""
    found: dict[uuid.UUID, str] = {}
    if organization_ids:
        rows = await session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(organization_ids))
        )
        found.update({key: value for key, value in rows.all()})
    if user_ids:
        rows = await session.execute(
            select(User.id, func.coalesce(func.nullif(User.full_name, ""), User.email)).where(
                User.id.in_(user_ids)
            )
        )
        found.update({key: value for key, value in rows.all()})
    return found
