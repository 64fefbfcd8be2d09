"""Demo data of the stats domain: the three targets from the policy documents (DOMAIN.md), and one
for the current year so that progress shows a running period."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import SystemActor
from app.core.config import Settings
from app.core.types import today_in_china
from app.stats.models import Metric, Target
from app.stats.queries import GroupBy, totals
from app.stats.service import TargetCreate, create_target

YI = Decimal("100000000")  # 1亿元

# The 苏南 zone is the union of its five cities' region prefixes: 南京 3201, 无锡 3202, 常州 3204,
# 苏州 3205, 镇江 3211 — a target's scope is a list of prefixes, so a zone needs no extra table.
POLICY_TARGETS = [
    TargetCreate(
        name="江苏省技术合同成交额 2018–2020",
        region_prefixes=["32"],
        period_start=date(2018, 1, 1),
        period_end=date(2020, 12, 31),
        metric=Metric.contract_amount,
        amount=1000 * YI,
        source="苏政办发〔2018〕61号",
    ),
    TargetCreate(
        name="苏南国家科技成果转移转化示范区技术合同交易额 2018",
        region_prefixes=["3201", "3202", "3204", "3205", "3211"],
        period_start=date(2018, 1, 1),
        period_end=date(2018, 12, 31),
        metric=Metric.contract_amount,
        amount=500 * YI,
        source="苏南国家科技成果转移转化示范区建设实施方案",
    ),
    TargetCreate(
        name="江西省技术合同登记交易额 2016–2020",
        region_prefixes=["36"],
        period_start=date(2016, 1, 1),
        period_end=date(2020, 12, 31),
        metric=Metric.contract_amount,
        amount=100 * YI,
        source="江西省促进科技成果转移转化行动方案（2017-2020年）",
    ),
]


def _current_year_name(year: int) -> str:
    return f"江苏省技术合同成交额 {year}（演示）"


async def _current_year_target(session: AsyncSession, year: int) -> TargetCreate:
    """Jiangsu this year: last year's registered contract amount plus 15 %, rounded up to 10万元 —
    how a province sets its next target, at the scale of whatever contracts are there."""
    last = date(year - 1, 1, 1), date(year - 1, 12, 31)
    groups = await totals(session, GroupBy.total, since=last[0], until=last[1], prefixes=["32"])
    achieved = sum((g.contract_amount for g in groups), Decimal(0))
    step = Decimal(100_000)
    amount = max(-(-achieved * Decimal("1.15") // step) * step, step)
    return TargetCreate(
        name=_current_year_name(year),
        region_prefixes=["32"],
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
        metric=Metric.contract_amount,
        amount=amount,
        source="演示数据：上年登记成交额增长 15%",
    )


async def seed_targets(session: AsyncSession, settings: Settings | None = None) -> str:
    """Add the policy targets and this year's that are not there yet (by name); safe to run again.
    (`settings`: every seeder is given them; targets need none.)"""
    existing = set((await session.execute(select(Target.name))).scalars())
    year = today_in_china().year
    added = 0
    for target in POLICY_TARGETS:
        if target.name not in existing:
            await create_target(session, user=SystemActor(), data=target)
            added += 1
    if _current_year_name(year) not in existing:
        await create_target(session, user=SystemActor(), data=await _current_year_target(session, year))
        added += 1
    return f"targets: {added} added, {len(POLICY_TARGETS) + 1 - added} already present"
