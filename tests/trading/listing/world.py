"""People and a deal for the listing tests: a university selling an achievement through a broker
on a negotiating deal with no buyer yet, three verified enterprises that may buy, an unverified
one, and an administrator. Times are the tests' (time-machine): everyone signs in again at the
moment they act, since a token is valid for minutes."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, OrganizationKind, Role, User
from app.audit.models import AuditEntry
from app.audit.service import SystemActor
from app.core.types import CHINA
from app.deals import service as deals
from app.deals.models import Deal, Mandate
from app.deals.vocabulary import DealStage
from app.listings.models import Achievement
from tests.deals.factory import published_achievement
from tests.fixtures.accounts import create_organization, create_user, sign_in

URL = "/api/v1/listing-announcements"


def china(*parts: int) -> datetime:
    """An instant given in China's time."""
    return datetime(*parts, tzinfo=CHINA)  # type: ignore[misc]


@dataclass
class World:
    seller_org: Organization
    seller: User
    broker: User
    buyer_orgs: list[Organization]
    buyers: list[User]
    unverified: User
    admin: User
    achievement: Achievement
    deal: Deal


async def world(db: AsyncSession) -> World:
    seller_org = await create_organization(db, kind=OrganizationKind.university)
    buyer_orgs = [await create_organization(db, kind=OrganizationKind.enterprise) for _ in range(3)]
    broker = await create_user(db, role=Role.tech_manager)
    achievement = await published_achievement(db, seller_org)
    deal = await deals.open_deal(
        db,
        actor=SystemActor(),
        title=achievement.title,
        seller_organization_id=seller_org.id,
        buyer_organization_id=None,
        achievement_id=achievement.id,
        broker_user_id=broker.id,
        broker_agency_id=broker.organization_id,
    )
    db.add(
        Mandate(
            deal_id=deal.id,
            engaged_by_organization_id=seller_org.id,
            technology_manager_id=broker.id,
            agency_organization_id=broker.organization_id,
            commission_rate=Decimal("0.05"),
            starts_on=datetime.now(CHINA).date(),
        )
    )
    for stage in (DealStage.mandated, DealStage.diligence, DealStage.negotiating):
        await deals.enter_stage(db, deal, stage, actor=SystemActor())
    await db.commit()
    return World(
        seller_org=seller_org,
        seller=await create_user(db, role=Role.member, organization=seller_org),
        broker=broker,
        buyer_orgs=buyer_orgs,
        buyers=[await create_user(db, role=Role.member, organization=org) for org in buyer_orgs],
        unverified=await create_user(
            db,
            role=Role.member,
            organization=await create_organization(db, kind=OrganizationKind.enterprise, verified=False),
        ),
        admin=await create_user(db, role=Role.admin),
        achievement=achievement,
        deal=deal,
    )


async def as_(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    """`user`'s headers, signed in now (the tests' clock)."""
    return await sign_in(client, user.email)


def terms(deal: Deal, **changes: Any) -> dict[str, Any]:
    return {
        "deal_id": str(deal.id),
        "title": "一种高安全性锂电池隔膜的制备方法 专利权转让",
        "floor_price": "800000.00",
        "transfer_mode": "transfer",
        "conditions": "签约后 30 日内一次付清。",
        "buyer_qualifications": "具备隔膜生产能力的企业法人。",
        "deposit_amount": "80000.00",
        "period_working_days": 10,
        "extension_working_days": None,
        "max_extensions": 0,
        "after_period": "一家合格受让方协议成交；两家以上网络竞价。",
        "auction_increment": "10000.00",
        **changes,
    }


async def announce(client: httpx.AsyncClient, w: World, **changes: Any) -> dict[str, Any]:
    response = await client.post(URL, json=terms(w.deal, **changes), headers=await as_(client, w.seller))
    assert response.status_code == 201, response.text
    return response.json()


async def file(client: httpx.AsyncClient, buyer: User, announcement_id: str, offer: str) -> httpx.Response:
    return await client.post(
        f"{URL}/{announcement_id}/intentions", json={"offer_price": offer}, headers=await as_(client, buyer)
    )


async def decide(
    client: httpx.AsyncClient, w: World, announcement_id: str, intention_id: str, decision: str, **body: str
) -> httpx.Response:
    return await client.post(
        f"{URL}/{announcement_id}/intentions/{intention_id}/decision",
        json={"decision": decision, **body},
        headers=await as_(client, w.seller),
    )


async def audits(db: AsyncSession, object_id: object, action: str) -> int:
    return (
        await db.execute(
            select(func.count()).where(AuditEntry.object_id == str(object_id), AuditEntry.action == action)
        )
    ).scalar_one()
