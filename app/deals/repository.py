"""The deals' SQL. Every read of a deal goes through `visible_clause`, so a forgotten check in a
service cannot leak a deal to someone who stands in no side of it."""

import uuid
from datetime import date

from sqlalchemy import ColumnElement, Select, false, or_, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, Role, User
from app.core.pagination import PageParams, fetch_page
from app.deals.models import OPEN_SQL, Deal, DealNote, DealStageEvent, DealTask, Mandate
from app.deals.vocabulary import CLOSED_STAGES, DealStage
from app.listings.models import Achievement, Demand


async def open_deal_for(
    session: AsyncSession,
    *,
    achievement_id: uuid.UUID | None,
    demand_id: uuid.UUID | None,
    buyer_organization_id: uuid.UUID | None,
    seller_organization_id: uuid.UUID | None,
) -> Deal | None:
    """The open deal holding the same listing and counterpart (the partial unique indexes' key)."""
    query = select(Deal).where(text(OPEN_SQL))
    if achievement_id is not None:
        query = query.where(
            Deal.achievement_id == achievement_id, Deal.buyer_organization_id == buyer_organization_id
        )
    else:
        query = query.where(
            Deal.demand_id == demand_id, Deal.seller_organization_id == seller_organization_id
        )
    return (await session.execute(query.limit(1))).scalar_one_or_none()


def visible_clause(user: User) -> ColumnElement[bool]:
    """policy.sides in SQL: the deal's parties' members, its broker, administrators."""
    if user.role == Role.admin:
        return true()
    return or_(
        Deal.seller_organization_id == user.organization_id,
        Deal.buyer_organization_id == user.organization_id,
        Deal.broker_user_id == user.id,
    )


async def get_visible(
    session: AsyncSession, user: User, deal_id: uuid.UUID, *, lock: bool = False
) -> Deal | None:
    """The deal if `user` may see it; with `lock`, held FOR UPDATE until the request commits, so
    concurrent changers queue here and then see the version the first one wrote."""
    statement: Select[tuple[Deal]] = select(Deal).where(Deal.id == deal_id, visible_clause(user))
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def get_for_system(session: AsyncSession, deal_id: uuid.UUID) -> Deal | None:
    """The deal held FOR UPDATE for the service's own move (no user: no visibility rule)."""
    statement = (
        select(Deal).where(Deal.id == deal_id).with_for_update().execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def page_visible(
    session: AsyncSession, user: User, page: PageParams, *, stage: DealStage | None
) -> tuple[list[Deal], int]:
    statement = select(Deal).where(visible_clause(user))
    if stage is not None:
        statement = statement.where(Deal.stage == stage)
    rows, total = await fetch_page(session, statement, page, Deal.updated_at.desc(), Deal.id)
    return list(rows.scalars()), total


async def page_history(
    session: AsyncSession, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[DealStageEvent], int]:
    statement = select(DealStageEvent).where(DealStageEvent.deal_id == deal_id)
    rows, total = await fetch_page(session, statement, page, DealStageEvent.id)
    return list(rows.scalars()), total


async def mandate_in_force(
    session: AsyncSession, deal_id: uuid.UUID, *, lock: bool = False
) -> Mandate | None:
    """The deal's current mandate (not ended); whether its period covers a day is the caller's."""
    statement = select(Mandate).where(Mandate.deal_id == deal_id, Mandate.ended_at.is_(None))
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def mandates_in_force(session: AsyncSession, deal_ids: list[uuid.UUID]) -> dict[uuid.UUID, Mandate]:
    """The current mandate of each of these deals that has one."""
    if not deal_ids:
        return {}
    rows = await session.execute(
        select(Mandate).where(Mandate.deal_id.in_(deal_ids), Mandate.ended_at.is_(None))
    )
    return {mandate.deal_id: mandate for mandate in rows.scalars()}


async def user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def organization_exists(session: AsyncSession, organization_id: uuid.UUID) -> bool:
    found = await session.scalar(select(Organization.id).where(Organization.id == organization_id))
    return found is not None


async def achievement(session: AsyncSession, achievement_id: uuid.UUID) -> Achievement | None:
    return await session.get(Achievement, achievement_id)


async def demand(session: AsyncSession, demand_id: uuid.UUID) -> Demand | None:
    return await session.get(Demand, demand_id)


async def page_notes(
    session: AsyncSession, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[DealNote], int]:
    statement = select(DealNote).where(DealNote.deal_id == deal_id)
    rows, total = await fetch_page(session, statement, page, DealNote.created_at.desc(), DealNote.id)
    return list(rows.scalars()), total


async def page_tasks(
    session: AsyncSession, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[DealTask], int]:
    # Open tasks first, soonest due first; done ones after.
    statement = select(DealTask).where(DealTask.deal_id == deal_id)
    rows, total = await fetch_page(
        session, statement, page, DealTask.done_at.is_not(None), DealTask.due_on, DealTask.id
    )
    return list(rows.scalars()), total


async def task_for_update(session: AsyncSession, deal_id: uuid.UUID, task_id: uuid.UUID) -> DealTask | None:
    statement = (
        select(DealTask)
        .where(DealTask.id == task_id, DealTask.deal_id == deal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def page_overdue(
    session: AsyncSession, assignee: User, today: date, page: PageParams
) -> tuple[list[tuple[DealTask, str]], int]:
    """`assignee`'s open tasks due before `today`, on open deals they still see (a broker replaced
    by another mandate no longer sees the deal, nor its tasks)."""
    closed = [s.value for s in CLOSED_STAGES]
    statement = (
        select(DealTask, Deal.title)
        .join(Deal, Deal.id == DealTask.deal_id)
        .where(
            DealTask.assignee_id == assignee.id,
            DealTask.done_at.is_(None),
            DealTask.due_on < today,
            Deal.stage.not_in(closed),
            visible_clause(assignee) if assignee.is_active else false(),
        )
    )
    rows, total = await fetch_page(session, statement, page, DealTask.due_on, DealTask.id)
    return [(task, title) for task, title in rows.all()], total
