"""`techex seed-demo` loads once, and the lists, filters and statistics then show something."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.cli import cli
from app.contracts.models import ContractApplication
from app.contracts.workflow import Status
from app.core.config import Settings, get_settings
from app.core.types import today_in_china
from app.deals.models import Deal, Interest
from app.deals.vocabulary import DealStage, InterestStatus
from app.listings.cli import expire, seed
from app.listings.models import Achievement, Agency, Demand, Expert
from app.trading.models import PricingPublicity
from app.trading.vocabulary import PricingRoute, PublicityStatus
from tests.rewards.helpers import JIANGSU


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    """The test's settings with fewer demo contracts than `make run` loads (600), to stay quick."""
    return settings.model_copy(update={"demo_contracts": 150})


async def _count(db, model):
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def test_seed_demo_is_idempotent(app, client, db, demo_settings):
    first = await seed(app.state.database, demo_settings)
    assert any("714 achievements" in line for line in first)
    totals = [await _count(db, m) for m in (Achievement, Demand, Expert, Agency)]
    audits = await _count(db, AuditEntry)
    second = await seed(app.state.database, demo_settings)
    assert any("0 achievements, 0 demands, 0 experts, 0 agencies" in line for line in second)
    assert [await _count(db, m) for m in (Achievement, Demand, Expert, Agency)] == totals
    assert await _count(db, AuditEntry) == audits
    assert totals[0] == 714 and all(t > 5 for t in totals)

    for query, at_least in (
        ("/api/v1/achievements?field=agriculture&region=36", 5),
        ("/api/v1/achievements?region=32&maturity_min=7", 5),
        ("/api/v1/achievements?transfer_mode=license_exclusive&price_max=1000000", 5),
        ("/api/v1/demands?cooperation_mode=open_challenge", 2),
        ("/api/v1/experts?field=agriculture", 2),
        ("/api/v1/agencies?service_kind=technology_transfer", 2),
    ):
        assert (await client.get(query)).json()["total"] >= at_least, query
    confidential = (await client.get("/api/v1/demands?limit=50")).json()["items"]
    assert any(d["confidential"] and d["owner_organization_name"] is None for d in confidential)
    assert await expire(app.state.database) == {"achievement": 0, "demand": 0}


async def test_seed_demo_registers_contracts_and_a_target_for_this_year(
    app, client, db, demo_settings, signed_in, monkeypatch
):
    first = await seed(app.state.database, demo_settings)
    assert "contracts: 150 registered" in next(line for line in first if line.startswith("contracts:"))
    viewer = await signed_in(role=Role.admin)

    async def statistics(group_by: str) -> dict[str, dict]:
        response = await client.get(f"/api/v1/stats/contracts?group_by={group_by}", headers=viewer.headers)
        assert response.status_code == 200, response.text
        return {g["key"]: g for g in response.json()["groups"]}

    cities = await statistics("city")
    assert len(cities) >= 8 and {c[:2] for c in cities} == {"32", "36"}, cities
    years = {month[:4] for month in await statistics("month")}
    this_year = today_in_china().year
    assert {"2016", str(this_year)} <= years and len(years) >= 8, years
    assert len(await statistics("type")) == 5 and len(await statistics("field")) >= 8

    everything = (await db.execute(select(ContractApplication))).scalars().all()
    # The demo deals hand 4 applications off (3 registered, 1 submitted); the rest are the contracts'.
    applications = [a for a in everything if a.deal_id is None]
    handed_off = [a for a in everything if a.deal_id is not None]
    assert len(applications) == 150 and all(a.registration_number for a in applications)
    assert sorted(a.status for a in handed_off) == sorted([Status.registered] * 3 + [Status.submitted])
    assert sum(a.status == Status.cancelled for a in applications) >= 2
    amended = [a for a in applications if a.amendment_count]
    assert len(amended) >= 3 and all(a.status == Status.registered for a in amended)
    large = [
        a for a in applications if a.registered_technology_amount >= demo_settings.contract_large_threshold
    ]
    assert large and all(a.expert_opinions for a in large if a.amendment_count == 0)
    assert len({a.office_id for a in applications}) >= 8

    targets = (await client.get("/api/v1/targets", headers=viewer.headers)).json()
    targets = targets["items"] if isinstance(targets, dict) else targets  # a page, once lists share one
    current = next(t for t in targets if t["name"] == f"江苏省技术合同成交额 {this_year}（演示）")
    progress = (await client.get(f"/api/v1/targets/{current['id']}/progress", headers=viewer.headers)).json()
    assert Decimal(progress["achieved"]) > 0 and progress["on_track"] is not None, progress
    assert len(targets) == 4
    # The public pages show them (README: `DEMO_DATA=1 make run`, then /dashboard and /publicity).
    dashboard = await client.get("/dashboard")
    assert dashboard.status_code == 200 and dashboard.text.count('<section class="target"') == 4
    assert f'<span class="big percentage">{progress["percentage"]}%</span>' in dashboard.text
    in_force = sum(a.status != Status.cancelled for a in applications) + 3  # and the deals' 3
    assert f'<strong id="total">{in_force}</strong>' in (await client.get("/publicity")).text

    # `techex stats-verify` finds the summary equal to the contracts, on this test's database.
    monkeypatch.setenv("DATABASE_URL", demo_settings.database_url)
    get_settings.cache_clear()
    try:
        verified = await asyncio.to_thread(CliRunner().invoke, cli, ["stats-verify"])
    finally:
        get_settings.cache_clear()
    assert verified.exit_code == 0, verified.output

    audits = await _count(db, AuditEntry)
    second = await seed(app.state.database, demo_settings)
    assert "contracts: 0 added, 150 already present" in second
    assert "targets: 0 added, 4 already present" in second
    assert await _count(db, ContractApplication) == 154 and await _count(db, AuditEntry) == audits


async def test_seed_demo_has_a_deal_at_every_stage_and_rewards_for_this_year(
    app, client, db, demo_settings, signed_in
):
    admin = await signed_in(role=Role.admin)
    # The migration seeds the Jiangsu draft rule; the tests' tables start empty.
    rule = await client.post("/api/v1/rewards/rules", json=JIANGSU, headers=admin.headers)
    assert rule.status_code == 201, rule.text
    first = await seed(app.state.database, demo_settings)
    assert "deals: 12 added" in next(line for line in first if line.startswith("deals:"))

    stages = {d.stage for d in (await db.execute(select(Deal))).scalars()}
    assert stages == set(DealStage)
    registered = (await db.execute(select(Deal).where(Deal.stage == DealStage.registered))).scalars().all()
    assert registered and all(d.registration_number and d.registered_technology_amount for d in registered)
    interests = (await db.execute(select(Interest))).scalars().all()
    assert {i.status for i in interests} == {
        InterestStatus.open,
        InterestStatus.accepted,
        InterestStatus.declined,
    }
    assert all(i.decline_reason for i in interests if i.status == InterestStatus.declined)
    oldest = min(i.created_at for i in interests if i.status == InterestStatus.open)
    assert datetime.now(UTC) - oldest > timedelta(days=30)

    year = today_in_china().year
    response = await client.get(
        "/api/v1/rewards", params={"year": year, "region": "32"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    counted = [c for r in response.json()["rules"] for b in r["beneficiaries"] for c in b["counted"]]
    assert len(counted) == len(registered)

    # The agreed deal's price is being published; the signed ones' publicities ran their period.
    assert next(line for line in first if line.startswith("pricing publicity:")).startswith(
        "pricing publicity: 1 running until "
    )
    running = (await client.get("/api/v1/publicity/pricing")).json()
    assert running["total"] == 1 and running["items"][0]["status"] == "running"
    publicities = (await db.execute(select(PricingPublicity))).scalars().all()
    # (The transaction certificates' demo adds a signed deal between two companies: no route.)
    assert (
        sum(p.status is PublicityStatus.completed for p in publicities)
        == sum(
            d.stage in (DealStage.signed, DealStage.registration_submitted, DealStage.registered)
            for d in (await db.execute(select(Deal))).scalars()
            if d.pricing_route is PricingRoute.agreed_publicity
        )
        >= 1
    )

    audits, deals = await _count(db, AuditEntry), await _count(db, Deal)
    second = await seed(app.state.database, demo_settings)
    assert next(line for line in second if line.startswith("deals:")).startswith("deals: 0 added")
    assert next(line for line in second if line.startswith("pricing publicity:")).startswith(
        "pricing publicity: 0 added"
    )
    assert (await _count(db, AuditEntry), await _count(db, Deal)) == (audits, deals)
