"""People and deals for the deals tests: a university (seller) with a published achievement, an
enterprise (buyer), an agency with its technology manager, an administrator and an outsider, each
signed in; and a deal brought to any stage through the domain's own primitives."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, OrganizationKind, Role
from app.audit.service import SystemActor
from app.core import clock
from app.deals import service
from app.deals.models import Deal, Mandate
from app.deals.vocabulary import DealStage
from app.listings.models import Achievement
from app.listings.vocabulary import ListingStatus
from app.trading.guards import PUBLIC_SELLERS
from app.trading.models import PricingPublicity
from app.trading.vocabulary import PricingRoute, PublicityStatus
from tests.contracts.helpers import Person, person
from tests.fixtures.accounts import create_organization

# The path of a deal that goes well, in order (on_hold and lost branch off any open stage).
PATH = (
    DealStage.lead,
    DealStage.mandated,
    DealStage.diligence,
    DealStage.negotiating,
    DealStage.agreed,
    DealStage.signed,
    DealStage.registration_submitted,
    DealStage.registered,
)


@dataclass
class DealWorld:
    seller_org: Organization
    seller: Person
    buyer_org: Organization
    buyer: Person
    agency: Organization
    broker: Person
    admin: Person
    outsider: Person
    achievement: Achievement


async def published_achievement(db: AsyncSession, owner: Organization, **fields: object) -> Achievement:
    achievement = Achievement(
        title=str(fields.pop("title", "一种高安全性锂电池隔膜的制备方法")),
        description=str(fields.pop("description", "隔膜耐热 200 ℃，已完成中试。")),
        owner_organization_id=owner.id,
        status=ListingStatus.published,
        transfer_modes=list(fields.pop("transfer_modes", ["transfer", "license_ordinary"])),  # type: ignore[call-overload]
        ip_rights=[{"kind": "invention_patent", "number": "ZL202310000001.2", "status": "granted"}],
        field=fields.pop("field", "new_energy"),
        asking_price=Decimal("800000.00"),
        **fields,
    )
    db.add(achievement)
    await db.commit()
    return achievement


async def deal_world(client: httpx.AsyncClient, db: AsyncSession) -> DealWorld:
    seller_org = await create_organization(db, kind=OrganizationKind.university, region_code="320102")
    buyer_org = await create_organization(db, kind=OrganizationKind.enterprise, region_code="320583")
    agency = await create_organization(db, kind=OrganizationKind.agency, region_code="320106")
    government = await create_organization(db, kind=OrganizationKind.government, region_code="320000")
    stranger_org = await create_organization(db, kind=OrganizationKind.enterprise, region_code="320102")
    return DealWorld(
        seller_org=seller_org,
        seller=await person(client, db, Role.member, seller_org),
        buyer_org=buyer_org,
        buyer=await person(client, db, Role.member, buyer_org),
        agency=agency,
        broker=await person(client, db, Role.tech_manager, agency),
        admin=await person(client, db, Role.admin, government),
        outsider=await person(client, db, Role.member, stranger_org),
        achievement=await published_achievement(db, seller_org),
    )


async def deal_at(
    db: AsyncSession,
    w: DealWorld,
    stage: DealStage,
    *,
    agreed_price: Decimal = Decimal("800000.00"),
    commission_rate: Decimal = Decimal("0.05"),
    priced: bool = True,
) -> Deal:
    """A deal between `w`'s seller and buyer on `w.achievement`, mandated to `w.broker`, walked along
    PATH up to `stage` (no rules checked: the primitives only). A university seller's deal that
    reaches `agreed` has its price published and the publicity completed (what signing requires),
    unless `priced` is False."""
    deal = await service.open_deal(
        db,
        actor=SystemActor(),
        title=w.achievement.title,
        seller_organization_id=w.seller_org.id,
        buyer_organization_id=w.buyer_org.id,
        achievement_id=w.achievement.id,
    )
    target = PATH.index(stage) if stage in PATH else PATH.index(DealStage.negotiating)
    for step in PATH[1 : target + 1]:
        if step is DealStage.mandated:
            db.add(
                Mandate(
                    deal_id=deal.id,
                    engaged_by_organization_id=w.seller_org.id,
                    technology_manager_id=w.broker.user_id,
                    agency_organization_id=w.agency.id,
                    commission_rate=commission_rate,
                    starts_on=date.today(),
                )
            )
            deal.broker_user_id, deal.broker_agency_id = w.broker.user_id, w.agency.id
        if step is DealStage.agreed:
            deal.agreed_price, deal.transfer_mode = agreed_price, "transfer"
            if priced and w.seller_org.kind in PUBLIC_SELLERS:
                completed_publicity(db, deal)
        await service.enter_stage(db, deal, step, actor=SystemActor())
    if stage not in PATH:
        await service.enter_stage(db, deal, stage, actor=SystemActor(), reason="测试")
    await db.commit()
    return deal


def completed_publicity(db: AsyncSession, deal: Deal) -> PricingPublicity:
    """The deal's agreed price published and its period run out with no objection (added to `db`,
    not committed), its pricing route set accordingly: what app/trading/guards.py asks of a
    university or research institute seller before the contract is signed."""
    assert deal.agreed_price is not None
    ended = clock.now() - timedelta(seconds=1)
    publicity = PricingPublicity(
        deal_id=deal.id,
        achievement_id=deal.achievement_id,
        seller_organization_id=deal.seller_organization_id,
        achievement_name=deal.title,
        proposed_price=deal.agreed_price,
        period_days=15,
        starts_at=ended - timedelta(days=15),
        ends_at=ended,
        status=PublicityStatus.completed,
        completed_at=ended,
    )
    db.add(publicity)
    deal.pricing_route = PricingRoute.agreed_publicity
    return publicity


async def etag(client: httpx.AsyncClient, who: Person, deal_id: object) -> str:
    response = await client.get(f"/api/v1/deals/{deal_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


async def move(
    client: httpx.AsyncClient, who: Person, deal_id: object, to: DealStage | str, **body: object
) -> httpx.Response:
    """POST …/stage as `who`, with the deal's current ETag unless `if_match` is given."""
    if_match = body.pop("if_match", None) or await etag(client, who, deal_id)
    return await client.post(
        f"/api/v1/deals/{deal_id}/stage",
        json={"to": str(to), **body},
        headers={**who.headers, "If-Match": str(if_match)},
    )
