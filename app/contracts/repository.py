"""All SQL of the contracts domain."""

import uuid
from datetime import date, datetime

from sqlalchemy import Select, and_, case, false, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, OrganizationKind, User
from app.contracts import policy
from app.contracts.models import (
    HOLDS_THE_CONTRACT,
    CalendarDay,
    CalendarYear,
    ContractApplication,
    ContractEvent,
    RegistrationCounter,
)
from app.contracts.vocabulary import ContractType
from app.contracts.workflow import IN_FORCE_STATES, OPEN_STATES, Status
from app.core.pagination import PageParams, fetch_page


def _visible(user: User) -> Select[tuple[ContractApplication]]:
    return select(ContractApplication).where(policy.visible(user))


async def get_visible(
    session: AsyncSession, user: User, application_id: uuid.UUID, *, lock: bool = False
) -> ContractApplication | None:
    statement = _visible(user).where(ContractApplication.id == application_id)
    if lock:
        # Serialises concurrent actions on one application: the second waits, then sees the new state.
        statement = statement.with_for_update()
    statement = statement.execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession, user: User, page: PageParams, *, status: Status | None = None
) -> tuple[list[ContractApplication], int]:
    statement = _visible(user)
    if status is not None:
        statement = statement.where(ContractApplication.status == status)
    rows, total = await fetch_page(
        session, statement, page, ContractApplication.created_at.desc(), ContractApplication.id
    )
    return list(rows.scalars()), total


# Waiting for the office to take them up: a new submission (to accept or send back for 补正) and a
# resubmission after 补正 (its clock already running again). They head the officer's queue.
ARRIVALS = frozenset({Status.submitted, Status.resubmitted})


async def office_queue(
    session: AsyncSession, office_id: uuid.UUID, page: PageParams
) -> tuple[list[tuple[ContractApplication, datetime]], int]:
    """One page of the office's open applications with the instant each entered its current state:
    arrivals first, longest waiting first; then the rest by deadline. And how many there are."""
    entered = (
        select(func.max(ContractEvent.created_at))
        .where(
            ContractEvent.application_id == ContractApplication.id,
            ContractEvent.to_status == ContractApplication.status,
            ContractEvent.from_status != ContractEvent.to_status,  # an expert opinion keeps the wait
        )
        .correlate(ContractApplication)
        .scalar_subquery()
    )
    waiting_since = func.coalesce(entered, ContractApplication.submitted_at, ContractApplication.updated_at)
    arrival = ContractApplication.status.in_([s.value for s in ARRIVALS])
    statement = select(ContractApplication, waiting_since).where(
        ContractApplication.office_id == office_id,
        ContractApplication.status.in_([s.value for s in OPEN_STATES | ARRIVALS]),
        arrival | ContractApplication.due_on.is_not(None),
    )
    rows, total = await fetch_page(
        session,
        statement,
        page,
        case((arrival, 0), else_=1),
        case((arrival, waiting_since)),
        ContractApplication.due_on,
        ContractApplication.id,
    )
    return [(app, since) for app, since in rows], total


async def office_for_region(session: AsyncSession, region_code: str) -> Organization | None:
    """The registration office of a region: the most specific of county → city → province."""
    candidates = [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
    specificity = case({code: rank for rank, code in enumerate(candidates)}, value=Organization.region_code)
    statement = (
        select(Organization)
        .where(
            Organization.kind == OrganizationKind.registration_office,
            Organization.region_code.in_(candidates),
            Organization.registration_point.is_not(None),
        )
        .order_by(specificity, Organization.created_at, Organization.id)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def holder_of_contract(
    session: AsyncSession,
    *,
    exclude_id: uuid.UUID,
    document_sha256: str | None,
    seller: str,
    buyer: str,
    project_name: str,
    signed_on: date,
) -> ContractApplication | None:
    """Another application holding the same contract (HOLDS_THE_CONTRACT): the same document, or
    the same parties (each by credit code, else name), project name and signing date."""
    same_document = ContractApplication.document_sha256 == document_sha256 if document_sha256 else false()
    same_contract = and_(
        func.coalesce(ContractApplication.seller_credit_code, ContractApplication.seller_name) == seller,
        func.coalesce(ContractApplication.buyer_credit_code, ContractApplication.buyer_name) == buyer,
        ContractApplication.project_name == project_name,
        ContractApplication.signed_on == signed_on,
    )
    statement = (
        select(ContractApplication)
        .where(
            ContractApplication.id != exclude_id,
            HOLDS_THE_CONTRACT,
            or_(same_document, same_contract),
        )
        .order_by(ContractApplication.created_at, ContractApplication.id)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def get_organization(session: AsyncSession, organization_id: uuid.UUID) -> Organization:
    return (
        await session.execute(select(Organization).where(Organization.id == organization_id))
    ).scalar_one()


async def next_sequence(session: AsyncSession, office_id: uuid.UUID, year: int) -> int:
    """The office's next number for the year; gapless because it rolls back with the transaction."""
    await session.execute(
        insert(RegistrationCounter)
        .values(office_id=office_id, year=year, last_sequence=0)
        .on_conflict_do_nothing()
    )
    result = await session.execute(
        update(RegistrationCounter)
        .where(RegistrationCounter.office_id == office_id, RegistrationCounter.year == year)
        .values(last_sequence=RegistrationCounter.last_sequence + 1)
        .returning(RegistrationCounter.last_sequence)
    )
    return result.scalar_one()


async def event_page(
    session: AsyncSession, application_id: uuid.UUID, page: PageParams
) -> tuple[list[ContractEvent], int]:
    statement = select(ContractEvent).where(ContractEvent.application_id == application_id)
    rows, total = await fetch_page(session, statement, page, ContractEvent.id)
    return list(rows.scalars()), total


async def events(session: AsyncSession, application_id: uuid.UUID) -> list[ContractEvent]:
    statement = (
        select(ContractEvent).where(ContractEvent.application_id == application_id).order_by(ContractEvent.id)
    )
    return list((await session.execute(statement)).scalars())


async def by_number(session: AsyncSession, number: str) -> ContractApplication | None:
    statement = select(ContractApplication).where(ContractApplication.registration_number == number)
    return (await session.execute(statement)).scalar_one_or_none()


async def publicity(
    session: AsyncSession,
    page: PageParams,
    *,
    region: str | None,
    since: date | None,
    until: date | None,
    contract_type: ContractType | None = None,
) -> tuple[list[tuple[ContractApplication, str]], int]:
    statement = (
        select(ContractApplication, Organization.name)
        .join(Organization, Organization.id == ContractApplication.office_id)
        .where(ContractApplication.status.in_(IN_FORCE_STATES))
    )
    if region:
        statement = statement.where(ContractApplication.stats_region_code.startswith(region, autoescape=True))
    if since:
        statement = statement.where(ContractApplication.registered_on >= since)
    if until:
        statement = statement.where(ContractApplication.registered_on <= until)
    if contract_type:
        statement = statement.where(ContractApplication.contract_type == contract_type)
    rows, total = await fetch_page(
        session,
        statement,
        page,
        ContractApplication.registered_on.desc(),
        ContractApplication.registration_number.desc(),
    )
    return [(row[0], row[1]) for row in rows], total


async def admin_calendar(session: AsyncSession, years: list[int]) -> dict[int, dict[date, bool]]:
    published = (
        await session.execute(select(CalendarYear.year).where(CalendarYear.year.in_(years)))
    ).scalars()
    calendar: dict[int, dict[date, bool]] = {year: {} for year in published}
    if calendar:
        days = await session.execute(select(CalendarDay).where(CalendarDay.year.in_(list(calendar))))
        for day in days.scalars():
            calendar[day.year][day.day] = day.is_working_day
    return calendar


async def deadline_stats(
    session: AsyncSession, *, region: str | None, since: date | None, until: date | None
) -> tuple[int, int]:
    statement = select(
        func.count().filter(ContractApplication.decided_on_time.is_(True)),
        func.count().filter(ContractApplication.decided_on_time.is_(False)),
    ).where(ContractApplication.decided_on.is_not(None))
    if region:
        statement = statement.where(ContractApplication.stats_region_code.startswith(region, autoescape=True))
    if since:
        statement = statement.where(ContractApplication.decided_on >= since)
    if until:
        statement = statement.where(ContractApplication.decided_on <= until)
    on_time, late = (await session.execute(statement)).one()
    return on_time, late


async def provisional_deadlines(
    session: AsyncSession, clocks: list[str]
) -> list[tuple[ContractApplication, str | None]]:
    """Applications whose deadline was counted without an official calendar, locked, each with the
    last of `clocks` (the transitions that start a deadline) in its history."""
    last_clock = (
        select(ContractEvent.action)
        .where(ContractEvent.application_id == ContractApplication.id, ContractEvent.action.in_(clocks))
        .order_by(ContractEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(ContractApplication, last_clock)
        .where(
            ContractApplication.due_provisional.is_(True),
            ContractApplication.accepted_on.is_not(None),
            ContractApplication.due_on.is_not(None),
        )
        .order_by(ContractApplication.id)
        .with_for_update(of=ContractApplication)
    )
    return [(app, clock) for app, clock in rows.all()]


async def opinions_since(session: AsyncSession, application_id: uuid.UUID, action: str) -> int:
    """Expert opinions recorded on the application since its last `action` event."""
    last = (
        select(func.max(ContractEvent.id))
        .where(ContractEvent.application_id == application_id, ContractEvent.action == action)
        .scalar_subquery()
    )
    statement = select(func.count()).where(
        ContractEvent.application_id == application_id,
        ContractEvent.action == "add_expert_opinion",
        ContractEvent.id > last,
    )
    return (await session.execute(statement)).scalar_one()
