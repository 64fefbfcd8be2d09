"""The deals' SQL."""

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.deals.models import OPEN_SQL, Deal


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
