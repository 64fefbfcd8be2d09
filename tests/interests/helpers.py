"""Interests on top of the deals' world: a published demand of the buyer, and the API calls."""

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.listings.models import Achievement, Demand
from app.listings.vocabulary import ListingStatus
from app.matching.models import Notification
from tests.contracts.helpers import Person
from tests.deals.factory import published_achievement

BODY = {
    "intended_use": "用于新能源汽车动力电池隔膜产线升级",
    "budget_min": "500000",
    "budget_max": "900000.50",
    "timeline": "2027 年上半年完成中试",
    "questions": "专利是否可独占许可？",
}


async def published_demand(db: AsyncSession, owner: Organization, **fields: Any) -> Demand:
    demand = Demand(
        title=str(fields.pop("title", "动力电池热失控预警技术")),
        description="寻求电池热失控早期预警方案。",
        owner_organization_id=owner.id,
        status=fields.pop("status", ListingStatus.published),
        field="new_energy",
        budget_min=Decimal("300000"),
        budget_max=Decimal("1000000"),
        contacts=[{"name": "王工", "phone": "13800000000", "email": "wang@example.com"}],
        **fields,
    )
    db.add(demand)
    await db.commit()
    return demand


async def achievement_in(
    db: AsyncSession, owner: Organization, status: ListingStatus, title: str
) -> Achievement:
    """An achievement of `owner` in `status` (published_achievement publishes)."""
    achievement = await published_achievement(db, owner, title=title)
    achievement.status = status
    await db.commit()
    return achievement


async def express(
    client: httpx.AsyncClient, who: Person, kind: str, listing_id: Any, **changes: Any
) -> httpx.Response:
    path = "achievements" if kind == "achievement" else "demands"
    return await client.post(
        f"/api/v1/{path}/{listing_id}/interests", json={**BODY, **changes}, headers=who.headers
    )


async def expressed(
    client: httpx.AsyncClient, who: Person, kind: str, listing_id: Any, **changes: Any
) -> dict[str, Any]:
    response = await express(client, who, kind, listing_id, **changes)
    assert response.status_code == 201, response.text
    return response.json()


async def notifications_of(db: AsyncSession, who: Person) -> list[Notification]:
    return list(
        await db.scalars(
            select(Notification)
            .where(Notification.user_id == who.user_id)
            .order_by(Notification.created_at)
            .execution_options(populate_existing=True)
        )
    )
