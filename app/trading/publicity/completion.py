"""A publicity completes when its period runs out with no objection pending: lazily when anything
reads it (the public API, the signing guard), and by the worker's periodic round so the deal's
parties are told on time even if nobody looks. Both take the publicity's row lock, so it is
completed — and the parties told — once."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import SystemActor
from app.core import clock
from app.core.db import Database
from app.deals.models import Deal
from app.interests import notify
from app.interests.repository import active_members
from app.matching.models import NotificationKind
from app.trading.models import PricingPublicity
from app.trading.publicity import repository
from app.trading.vocabulary import PublicityStatus

OBJECT = "pricing_publicity"
BATCH = 100


async def parties(session: AsyncSession, deal: Deal, *, buyer: bool = True) -> list[uuid.UUID]:
    """Who hears of the publicity: the seller's users and the deal's broker, and the buyer's users."""
    users: list[uuid.UUID] = []
    if deal.seller_organization_id is not None:
        users += await active_members(session, deal.seller_organization_id)
    if deal.broker_user_id is not None:
        users.append(deal.broker_user_id)
    if buyer and deal.buyer_organization_id is not None:
        users += await active_members(session, deal.buyer_organization_id)
    return users


async def tell(
    session: AsyncSession,
    publicity: PricingPublicity,
    deal: Deal,
    *,
    kind: NotificationKind,
    recipients: list[uuid.UUID],
    title: str,
    explanation: list[str],
    details: dict[str, str] | None = None,
) -> None:
    """A notification about `publicity` (concerning the deal's achievement, or its demand)."""
    listing_kind, listing_id = (
        ("achievement", deal.achievement_id)
        if deal.achievement_id is not None
        else ("demand", deal.demand_id)
    )
    if listing_id is None or not recipients:
        return
    await notify.send(
        session,
        kind=kind,
        listing_kind=listing_kind,
        listing_id=listing_id,
        recipients=recipients,
        title=title,
        explanation=explanation,
        details={"publicity_id": str(publicity.id), "deal_id": str(deal.id), **(details or {})},
    )


async def complete_if_due(session: AsyncSession, publicity: PricingPublicity) -> bool:
    """Complete `publicity` (held FOR UPDATE by the caller) if it is running and its period is
    over; tell the deal's parties. Whether it completed now."""
    if publicity.status is not PublicityStatus.running or publicity.ends_at > clock.now():
        return False
    publicity.status = PublicityStatus.completed
    # When the period ran out, not when someone noticed.
    publicity.completed_at = publicity.ends_at
    publicity.version += 1
    await audit.record(
        session,
        actor=SystemActor(),
        object_type=OBJECT,
        object_id=publicity.id,
        action="complete",
        changes={"status": [PublicityStatus.running, PublicityStatus.completed]},
    )
    deal = await session.get(Deal, publicity.deal_id)
    assert deal is not None  # deals are never deleted (RESTRICT)
    await tell(
        session,
        publicity,
        deal,
        kind=NotificationKind.publicity_completed,
        recipients=await parties(session, deal),
        title=f"协议定价公示期满：{publicity.achievement_name}",
        explanation=[
            f"公示价格 {publicity.proposed_price:,.2f} 元，公示期内无成立的异议。",
            "交易双方可按公示价格签订合同。",
        ],
    )
    await session.flush()
    return True


async def complete_due_of_deal(session: AsyncSession, deal_id: uuid.UUID) -> None:
    """Complete the deal's live publicity if its period is over (the signing guard reads it next)."""
    live = await repository.live_for_deal(session, deal_id)
    if live is not None and live.status is PublicityStatus.running and live.ends_at <= clock.now():
        locked = await repository.get(session, live.id, lock=True)
        assert locked is not None
        await complete_if_due(session, locked)


async def complete_all_due(database: Database) -> int:
    """Every publicity whose period is over, a batch per transaction (the worker's round). Idle, it
    is one indexed query."""
    completed = 0
    while True:
        async with database.sessionmaker() as session:
            due = await repository.due_ids(session, clock.now(), BATCH)
            for publicity_id in due:
                publicity = await repository.get(session, publicity_id, lock=True)
                if publicity is not None and await complete_if_due(session, publicity):
                    completed += 1
            await session.commit()
        if len(due) < BATCH:
            return completed
