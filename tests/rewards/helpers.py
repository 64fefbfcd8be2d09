"""Registered contracts reached through deals, for the rewards tests.

The hand-off route that links an application to its deal is another part of issue 20; until it is
merged these tests link them as it will: `ContractApplication.deal_id` on the application and
`Deal.contract_application_id` on the deal, written directly."""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, OrganizationKind, Role
from app.contracts.models import ContractApplication
from app.core.types import today_in_china
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from tests.contracts import helpers as contracts
from tests.contracts.helpers import Person, World, person
from tests.deals.factory import DealWorld, deal_at, deal_world
from tests.fixtures.accounts import create_organization

# The Jiangsu draft rule as the migration seeds it (the tests' tables start empty).
JIANGSU = {
    "name": "江苏省技术转移服务机构奖励（征求意见稿）",
    "region_code": "32",
    "valid_from": "2024-01-01",
    "beneficiary": "agency",
    "rate": "0.03",
    "annual_cap": "1000000.00",
}
# A registration large enough for expert review: 20,000,000.00 元, 15,000,000.00 certified technology.
LARGE = {
    "contract_amount": "20000000.00",
    "claimed_technology_amount": "15000000.00",
    "deductions": {"equipment": "5000000.00"},
}


@dataclass
class RewardWorld:
    deals: DealWorld
    contracts: World

    @property
    def admin(self) -> Person:
        return self.contracts.admin

    @property
    def year(self) -> int:
        return today_in_china().year  # registrations made now are registered today


async def reward_world(client: httpx.AsyncClient, db: AsyncSession) -> RewardWorld:
    return RewardWorld(await deal_world(client, db), await contracts.world(client, db))


async def rule(client: httpx.AsyncClient, admin: Person, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/rewards/rules", json={**JIANGSU, **fields}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def other_agency(client: httpx.AsyncClient, db: AsyncSession) -> tuple[Organization, Person]:
    agency = await create_organization(db, kind=OrganizationKind.agency, region_code="320506")
    return agency, await person(client, db, Role.tech_manager, agency)


async def registered_deal(
    client: httpx.AsyncClient,
    db: AsyncSession,
    rw: RewardWorld,
    amount: str = "700000.00",
    *,
    deal: Deal | None = None,
    **overrides: Any,
) -> tuple[dict[str, Any], Deal]:
    """A contract registered (technology amount `amount`) and linked to `deal` — by default a new
    one between the world's seller and buyer, brokered by its technology manager and agency, at
    `registered` (so that the next one may be opened for the same listing and buyer)."""
    app = await contracts.registered(client, rw.contracts, amount, **overrides)
    if deal is None:
        deal = await deal_at(db, rw.deals, DealStage.registered)
        deal.contract_application_id = uuid.UUID(app["id"])
    await db.execute(
        update(ContractApplication)
        .where(ContractApplication.id == uuid.UUID(app["id"]))
        .values(deal_id=deal.id)
    )
    await db.commit()
    return app, deal


async def report(
    client: httpx.AsyncClient, who: Person, year: int, region: str | None = None, expect: int = 200
) -> dict[str, Any]:
    params: dict[str, Any] = {"year": year, **({"region": region} if region else {})}
    response = await client.get("/api/v1/rewards", params=params, headers=who.headers)
    assert response.status_code == expect, response.text
    return response.json()


def section(report: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(s for s in report["rules"] if s["rule"]["id"] == rule_id)


def only(report: dict[str, Any], rule_id: str) -> dict[str, Any]:
    """The one beneficiary of a rule's section."""
    (beneficiary,) = section(report, rule_id)["beneficiaries"]
    return beneficiary
