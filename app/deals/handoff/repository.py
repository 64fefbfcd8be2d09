"""The hand-off's SQL."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.contracts.models import ContractApplication
from app.deals.models import Deal, DealStageEvent
from app.deals.vocabulary import DealStage
from app.listings.models import Achievement, Demand

# The stages a deal is signed from (entering `signed` from any of them is the contract's signing).
BEFORE_SIGNED = (
    DealStage.lead,
    DealStage.mandated,
    DealStage.diligence,
    DealStage.negotiating,
    DealStage.agreed,
)


async def get_deal(session: AsyncSession, deal_id: uuid.UUID, *, lock: bool = False) -> Deal | None:
    statement = select(Deal).where(Deal.id == deal_id).execution_options(populate_existing=True)
    if lock:
        # Serialises hand-offs and outcomes of one deal: the second waits, then sees the new state.
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def get_application(session: AsyncSession, application_id: uuid.UUID) -> ContractApplication | None:
    """The application as committed now (never an earlier read of this session)."""
    statement = (
        select(ContractApplication)
        .where(ContractApplication.id == application_id)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def get_organization(session: AsyncSession, organization_id: uuid.UUID) -> Organization | None:
    return await session.get(Organization, organization_id)


async def get_achievement(session: AsyncSession, achievement_id: uuid.UUID) -> Achievement | None:
    return await session.get(Achievement, achievement_id)


async def get_demand(session: AsyncSession, demand_id: uuid.UUID) -> Demand | None:
    return await session.get(Demand, demand_id)


async def signed_at(session: AsyncSession, deal_id: uuid.UUID) -> datetime | None:
    """When the deal last entered `signed` from an earlier stage: the contract's signing. A resume
    from hold or a return after a refused registration is no new signing."""
    statement = (
        select(DealStageEvent.created_at)
        .where(
            DealStageEvent.deal_id == deal_id,
            DealStageEvent.to_stage == DealStage.signed,
            (DealStageEvent.from_stage.is_(None)) | DealStageEvent.from_stage.in_(BEFORE_SIGNED),
        )
        .order_by(DealStageEvent.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
