"""Demo data of the stats domain: the three targets from the policy documents (DOMAIN.md)."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import SystemActor
from app.stats.models import Metric, Target
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


async def seed_targets(session: AsyncSession) -> str:
    """Add the policy targets that are not there yet (by name); safe to run again."""
    existing = set((await session.execute(select(Target.name))).scalars())
    added = 0
    for target in POLICY_TARGETS:
        if target.name not in existing:
            await create_target(session, user=SystemActor(), data=target)
            added += 1
    return f"targets: {added} added, {len(POLICY_TARGETS) - added} already present"
