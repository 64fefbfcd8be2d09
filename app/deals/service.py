"""The deal's rules. `open_deal` and `enter_stage` are the two primitives every other part builds on
(an accepted interest opens a deal; a broker's move, a pricing route or the registration's outcome
enters a stage): each writes the stage history and the audit in the caller's transaction."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import Actor, SystemActor
from app.core.db import unique_violation
from app.core.errors import Conflict
from app.deals import repository
from app.deals.models import REACHED_AT, Deal, DealStageEvent
from app.deals.vocabulary import DealStage

ONE_OPEN_DEAL_CONSTRAINTS = frozenset({"uq_deals_open_achievement_buyer", "uq_deals_open_demand_seller"})


def duplicate_deal(holder: Deal | None) -> Conflict:
    return Conflict(
        code="duplicate_deal",
        message_en="An open deal already concerns this listing and counterpart.",
        message_zh="该成果（需求）与同一对方已有进行中的交易项目。",
        extra={"duplicate_of": {"id": str(holder.id), "stage": holder.stage.value}} if holder else {},
    )


async def open_deal(
    session: AsyncSession,
    *,
    actor: Actor | SystemActor | None,
    title: str,
    seller_organization_id: uuid.UUID | None,
    buyer_organization_id: uuid.UUID | None,
    achievement_id: uuid.UUID | None = None,
    demand_id: uuid.UUID | None = None,
    stage: DealStage = DealStage.lead,
) -> Deal:
    """A new deal in `stage`, its first stage event and its audit entry; 409 `duplicate_deal`
    naming the open deal that already holds the same listing and counterpart."""
    deal = Deal(
        title=title,
        stage=stage,
        seller_organization_id=seller_organization_id,
        buyer_organization_id=buyer_organization_id,
        achievement_id=achievement_id,
        demand_id=demand_id,
        created_by_id=actor.id if actor else None,
    )
    try:
        async with session.begin_nested():
            session.add(deal)
            await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc) not in ONE_OPEN_DEAL_CONSTRAINTS:
            raise
        holder = await repository.open_deal_for(
            session,
            achievement_id=achievement_id,
            demand_id=demand_id,
            buyer_organization_id=buyer_organization_id,
            seller_organization_id=seller_organization_id,
        )
        raise duplicate_deal(holder) from None
    now = datetime.now(UTC)
    mark_reached(deal, stage, now)
    session.add(
        DealStageEvent(
            deal_id=deal.id,
            from_stage=None,
            to_stage=stage,
            actor_user_id=actor.id if actor else None,
            created_at=now,
        )
    )
    await audit.record(
        session,
        actor=actor,
        object_type="deal",
        object_id=deal.id,
        action="open",
        changes={
            "stage": stage,
            "seller_organization_id": seller_organization_id,
            "buyer_organization_id": buyer_organization_id,
            "achievement_id": achievement_id,
            "demand_id": demand_id,
        },
    )
    return deal


def mark_reached(deal: Deal, stage: DealStage, at: datetime) -> None:
    """Record when `deal` first entered a stage of the market funnel, at its stage event's instant
    (a deal resumed or moved back keeps the first time)."""
    column = REACHED_AT.get(stage)
    if column is not None and getattr(deal, column) is None:
        setattr(deal, column, at)


async def enter_stage(
    session: AsyncSession,
    deal: Deal,
    to_stage: DealStage,
    *,
    actor: Actor | SystemActor | None,
    reason: str | None = None,
) -> DealStageEvent:
    """Move `deal` to `to_stage` with no rule checked (callers own the rules): the stage history,
    the version and the audit entry, in the caller's transaction. The caller holds the row
    (SELECT … FOR UPDATE or an If-Match version check) so that two moves cannot interleave."""
    from_stage = deal.stage
    deal.held_from_stage = from_stage if to_stage is DealStage.on_hold else None
    deal.stage = to_stage
    deal.stage_reason = reason
    now = datetime.now(UTC)
    deal.stage_changed_at = now
    deal.version += 1
    mark_reached(deal, to_stage, now)
    event = DealStageEvent(
        deal_id=deal.id,
        from_stage=from_stage,
        to_stage=to_stage,
        actor_user_id=actor.id if actor else None,
        reason=reason,
        created_at=now,
    )
    session.add(event)
    await audit.record(
        session,
        actor=actor,
        object_type="deal",
        object_id=deal.id,
        action=f"stage:{to_stage.value}",
        changes={"stage": [from_stage, to_stage], "reason": reason},
    )
    return event
