"""The two primitives every part of the deals domain builds on: opening a deal and entering a stage."""

from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind
from app.audit.models import AuditEntry
from app.audit.service import SystemActor
from app.core.errors import Conflict
from app.deals import service
from app.deals.models import DealStageEvent
from app.deals.vocabulary import DealStage
from app.listings.models import Achievement
from tests.deals.factory import deal_at, deal_world
from tests.fixtures.accounts import create_organization


async def test_a_second_open_deal_for_the_same_listing_and_buyer_names_the_first(
    app: FastAPI, db: AsyncSession
) -> None:
    university = await create_organization(db)
    enterprise = await create_organization(db, kind=OrganizationKind.enterprise)
    achievement = Achievement(title="一种锂电池隔膜", owner_organization_id=university.id)
    db.add(achievement)
    await db.commit()
    first = await service.open_deal(
        db,
        actor=SystemActor(),
        title=achievement.title,
        seller_organization_id=university.id,
        buyer_organization_id=enterprise.id,
        achievement_id=achievement.id,
    )
    await db.commit()

    try:
        await service.open_deal(
            db,
            actor=SystemActor(),
            title=achievement.title,
            seller_organization_id=university.id,
            buyer_organization_id=enterprise.id,
            achievement_id=achievement.id,
        )
    except Conflict as exc:
        assert exc.code == "duplicate_deal"
        assert exc.extra["duplicate_of"]["id"] == str(first.id)
    else:
        raise AssertionError("a second open deal was opened")

    # Once the first is lost, the same buyer may start again.
    await service.enter_stage(db, first, DealStage.lost, actor=SystemActor(), reason="预算取消")
    await db.commit()
    second = await service.open_deal(
        db,
        actor=SystemActor(),
        title=achievement.title,
        seller_organization_id=university.id,
        buyer_organization_id=enterprise.id,
        achievement_id=achievement.id,
    )
    await db.commit()
    assert second.id != first.id


async def test_entering_a_stage_keeps_its_history_and_audit(app: FastAPI, db: AsyncSession) -> None:
    seller = await create_organization(db)
    deal = await service.open_deal(
        db, actor=SystemActor(), title="线索", seller_organization_id=seller.id, buyer_organization_id=None
    )
    await service.enter_stage(db, deal, DealStage.on_hold, actor=SystemActor(), reason="等待预算")
    await db.commit()
    assert (deal.stage, deal.held_from_stage, deal.version) == (DealStage.on_hold, DealStage.lead, 2)

    events = (
        await db.execute(
            select(DealStageEvent.from_stage, DealStageEvent.to_stage)
            .where(DealStageEvent.deal_id == deal.id)
            .order_by(DealStageEvent.id)
        )
    ).all()
    assert events == [(None, DealStage.lead), (DealStage.lead, DealStage.on_hold)]
    audited = await db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id == str(deal.id))
    )
    assert audited == 2


async def test_the_factory_walks_a_deal_to_any_stage(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.signed)
    assert (deal.stage, deal.broker_user_id, deal.agreed_price) == (
        DealStage.signed,
        w.broker.user_id,
        Decimal("800000.00"),
    )
    held = await deal_at(db, await deal_world(client, db), DealStage.on_hold)
    assert (held.stage, held.held_from_stage) == (DealStage.on_hold, DealStage.negotiating)
