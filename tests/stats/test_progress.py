"""Targets, progress toward them, the statistics API and the policy targets of seed-demo."""

import asyncio
from datetime import date
from decimal import Decimal

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.contracts.workflow import Action
from app.core.config import Settings
from app.core.types import today_in_china
from app.demo import SEEDERS
from app.stats.demo import seed_targets
from app.stats.service import Positional, project
from tests.stats import factory


def test_projection_arithmetic() -> None:
    # 1000 over 2018-01-01…2018-12-31; 250 achieved in the first 73 days → 292 days to reach 1000.
    figures = project(
        Decimal("1000.00"), Decimal("250.00"), date(2018, 1, 1), date(2018, 12, 31), date(2018, 3, 14)
    )
    assert figures["percentage"] == Decimal("25.00")
    assert figures["remaining"] == Decimal("750.00")
    assert figures["run_rate_per_day"] == Decimal("3.42")  # 250 / 73, rounded down
    assert figures["projected_date"] == date(2018, 10, 19)  # day 292 of the year
    assert figures["on_track"] is True and figures["reached"] is False
    reached = project(Decimal("100"), Decimal("150"), date(2018, 1, 1), date(2018, 12, 31), date(2019, 6, 1))
    assert reached["reached"] and reached["remaining"] == 0 and reached["projected_date"] is None
    assert reached["percentage"] == Decimal("150.00")
    nothing = project(Decimal("100"), Decimal("0"), date(2018, 1, 1), date(2018, 12, 31), date(2017, 6, 1))
    assert nothing["projected_date"] is None and nothing["run_rate_per_day"] == 0
    assert nothing["on_track"] is None  # the period has not started


@pytest.mark.parametrize(
    ("achieved", "ratio", "percentage"),
    [
        ("850000.00", "0.0000085", "0.000850"),  # 0.00085 % of 1000亿 (it read 0.00)
        ("1.00", "0.00000000001", "0.00000000100"),  # one 元: still not 0
        ("12345678.90", "0.000123456789", "0.0123"),
        ("33333333333.33", "0.3333333333333", "33.33"),
        ("99999999999.99", "0.9999999999999", "99.99"),  # rounded down: not 100 before it is reached
        ("0.00", "0", "0.00"),
    ],
)
def test_ratio_at_full_precision_and_a_percentage_that_never_hides_progress(
    achieved: str, ratio: str, percentage: str
) -> None:
    figures = project(
        Decimal("100000000000.00"), Decimal(achieved), date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 30)
    )
    positional = TypeAdapter(Positional)
    assert positional.dump_python(figures["ratio"], mode="json") == ratio
    assert positional.dump_python(figures["percentage"], mode="json") == percentage


def test_on_track_whenever_the_period_has_started() -> None:
    # 365,000 over 2026: the straight-line schedule is 1,000 a day, due for the days before as_of.
    def on_track(achieved: int, as_of: date) -> bool | None:
        figures = project(Decimal(365000), Decimal(achieved), date(2026, 1, 1), date(2026, 12, 31), as_of)
        return figures["on_track"]  # type: ignore[return-value]

    assert on_track(0, date(2025, 12, 31)) is None  # not started
    assert on_track(0, date(2026, 1, 1)) is True  # the first day: nothing was due yet
    assert on_track(0, date(2026, 1, 2)) is False
    assert on_track(1000, date(2026, 1, 2)) is True  # the first day's share
    assert on_track(99999, date(2026, 4, 11)) is False  # 100 days before 11 April: 100,000 due
    assert on_track(100000, date(2026, 4, 11)) is True
    assert on_track(364999, date(2026, 12, 31)) is True  # the last day is still running
    assert on_track(364999, date(2027, 1, 1)) is False  # over, and not reached
    assert on_track(365000, date(2027, 3, 1)) is True


async def test_progress_counts_registered_contracts_in_scope(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, signed_in
) -> None:
    s = await factory.setup(db)
    admin = await signed_in(role=Role.admin)
    body = {
        "name": "南京+苏州 2026",
        "region_prefixes": ["3201", "3205"],
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "metric": "technology_amount",
        "amount": 1000000,
    }
    created = await client.post("/api/v1/targets", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    target_id = created.json()["id"]
    in_scope = await factory.register(
        db,
        s,
        settings,
        region="320102",
        on=date(2026, 2, 10),
        contract_amount=Decimal("300000.00"),
        technology_amount=Decimal("200000.10"),
    )
    await factory.register(
        db,
        s,
        settings,
        region="320505",
        on=date(2026, 3, 5),
        contract_amount=Decimal("100000.00"),
        technology_amount=Decimal("50000.00"),
    )
    await factory.register(
        db,
        s,
        settings,
        region="360102",
        on=date(2026, 3, 5),  # Jiangxi: out of scope
        contract_amount=Decimal("900000.00"),
        technology_amount=Decimal("900000.00"),
    )
    await factory.register(
        db,
        s,
        settings,
        region="320102",
        on=date(2025, 12, 31),  # before the period
        contract_amount=Decimal("900000.00"),
        technology_amount=Decimal("900000.00"),
    )
    cancelled = await factory.register(
        db,
        s,
        settings,
        region="320505",
        on=date(2026, 4, 1),
        contract_amount=Decimal("70000.00"),
        technology_amount=Decimal("70000.00"),
    )
    await factory.officer_act(
        db, s, settings, "320505", cancelled, Action.cancel, {"reason": "注销"}, date(2026, 4, 2)
    )
    await factory.officer_act(
        db,
        s,
        settings,
        "320102",
        in_scope,
        Action.amend,
        {
            "contract_amount": Decimal("300000.00"),
            "technology_amount": Decimal("250000.10"),
            "reason": "变更",
        },
        date(2026, 5, 1),
    )

    response = await client.get(
        f"/api/v1/targets/{target_id}/progress?as_of=2026-03-31", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    progress = response.json()
    assert progress["achieved"] == "300000.10"  # 250000.10 (amended) + 50000.00
    assert progress["ratio"] == "0.3000001" and progress["percentage"] == "30.00"
    assert progress["remaining"] == "699999.90"
    assert progress["run_rate_per_day"] == "3333.33"  # over 90 days
    assert progress["projected_date"] == "2026-10-27"  # ceil(1e6 * 90 / 300000.10) = day 300 of the year
    assert progress["on_track"] is True


async def test_progress_of_a_running_period_shows_a_small_share_and_whether_on_track(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, signed_in
) -> None:
    s = await factory.setup(db)
    admin = await signed_in(role=Role.admin)
    body = {
        "name": "江苏 2026",
        "region_prefixes": ["32"],
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "metric": "contract_amount",
        "amount": "100000000000",
    }
    created = await client.post("/api/v1/targets", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    await factory.register(
        db,
        s,
        settings,
        region="320102",
        on=date(2026, 2, 10),
        contract_amount=Decimal("850000.00"),
        technology_amount=Decimal("800000.00"),
    )
    response = await client.get(
        f"/api/v1/targets/{created.json()['id']}/progress?as_of=2026-06-30", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    progress = response.json()
    assert (progress["achieved"], progress["ratio"], progress["percentage"]) == (
        "850000.00",
        "0.0000085",
        "0.000850",
    )
    assert progress["on_track"] is False and progress["reached"] is False


async def test_statistics_api_groups_and_labels(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, signed_in
) -> None:
    s = await factory.setup(db)
    viewer = await signed_in(role=Role.admin)
    await factory.register(
        db,
        s,
        settings,
        region="320102",
        on=date(2026, 2, 10),
        contract_amount=Decimal("10.00"),
        technology_amount=Decimal("5.01"),
        field="agriculture",
    )
    await factory.register(
        db,
        s,
        settings,
        region="320505",
        on=date(2026, 3, 10),
        contract_amount=Decimal("20.00"),
        technology_amount=Decimal("0.02"),
        contract_type="consulting",
    )
    city = (await client.get("/api/v1/stats/contracts?group_by=city", headers=viewer.headers)).json()
    assert [(g["key"], g["label"], g["count"]) for g in city["groups"]] == [
        ("3201", "南京市", 1),
        ("3205", "苏州市", 1),
    ]
    assert city["total"]["technology_amount"] == "5.03"
    by_type = (
        await client.get("/api/v1/stats/contracts?group_by=type&region=3205", headers=viewer.headers)
    ).json()
    assert [(g["key"], g["label"]) for g in by_type["groups"]] == [("consulting", "技术咨询")]
    month = (
        await client.get(
            "/api/v1/stats/contracts?group_by=month&from=2026-02-15&to=2026-03-31", headers=viewer.headers
        )
    ).json()
    assert [g["key"] for g in month["groups"]] == ["2026-03"]
    assert month["from"] == "2026-02-15"
    bad = await client.get("/api/v1/stats/contracts?group_by=colour", headers=viewer.headers)
    assert bad.status_code == 422
    deadlines = (await client.get("/api/v1/stats/deadlines", headers=viewer.headers)).json()
    assert deadlines == {"decisions": 2, "on_time": 2, "late": 0}
    assert (await client.get("/api/v1/stats/contracts")).status_code == 401


async def test_seed_demo_adds_the_three_policy_targets_once(db: AsyncSession, app) -> None:
    assert seed_targets in SEEDERS
    assert (await seed_targets(db)).startswith("targets: 4 added")
    await db.commit()
    assert (await seed_targets(db)).startswith("targets: 0 added")
    from sqlalchemy import select

    from app.stats.models import Target

    targets = {t.name: t for t in (await db.execute(select(Target))).scalars()}
    sunan = next(t for t in targets.values() if t.name.startswith("苏南"))
    assert sorted(sunan.region_prefixes) == ["3201", "3202", "3204", "3205", "3211"]
    assert sunan.amount == Decimal("50000000000.00") and sunan.period_end == date(2018, 12, 31)
    jiangsu = targets["江苏省技术合同成交额 2018–2020"]
    assert jiangsu.amount == Decimal("100000000000.00") and jiangsu.region_prefixes == ["32"]
    jiangxi = next(t for t in targets.values() if t.name.startswith("江西"))
    assert (jiangxi.period_start, jiangxi.amount) == (date(2016, 1, 1), Decimal("10000000000.00"))
    # This year's, at the scale of what is registered (nothing here: the 10万元 floor).
    this_year = targets[f"江苏省技术合同成交额 {today_in_china().year}（演示）"]
    assert this_year.period_end == date(today_in_china().year, 12, 31) and this_year.amount == Decimal(
        "100000.00"
    )


async def test_a_target_name_is_taken_once_even_by_simultaneous_requests(
    client: httpx.AsyncClient, signed_in
) -> None:
    admin = await signed_in(role=Role.admin)
    body = {
        "name": "江苏 2027",
        "region_prefixes": ["32"],
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
        "metric": "contract_amount",
        "amount": "100000000000",
    }
    # Found by a concurrency probe: the name was checked, then inserted; the losers of the race
    # hit the unique constraint and answered 500.
    responses = await asyncio.gather(
        *(client.post("/api/v1/targets", json=body, headers=admin.headers) for _ in range(6))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"target_exists"}
    listed = await client.get("/api/v1/targets", headers=admin.headers)
    assert [t["name"] for t in listed.json()["items"]] == ["江苏 2027"] and listed.json()["total"] == 1
