"""Targets, progress toward them, and the contract statistics."""

import math
import uuid
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.audit.service import SystemActor
from app.contracts.schemas import Amount
from app.contracts.vocabulary import ContractType, IPCategory, PartyKind
from app.core.db import add_unique
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.regions import current_regions
from app.core.types import CENT, SafeText, safe_text
from app.core.vocabulary import TechnologyField
from app.stats.models import Metric, Target
from app.stats.queries import Group, GroupBy, totals

RegionPrefix = Annotated[str, StringConstraints(pattern=r"^\d{2}(\d{2}(\d{2})?)?$")]


class TargetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: safe_text(max_length=200, min_length=1)
    region_prefixes: list[RegionPrefix] = Field(
        min_length=1,
        max_length=50,
        description="行政区划代码前缀，范围为其并集：['32'] 江苏，['3201','3205'] 南京+苏州",
    )
    period_start: date = Field(ge=date(1980, 1, 1), le=date(2199, 12, 31))
    period_end: date = Field(ge=date(1980, 1, 1), le=date(2199, 12, 31))
    metric: Metric = Field(description="contract_amount=技术合同成交额, technology_amount=技术交易额")
    amount: Amount = Field(description="目标金额（元）")
    source: Annotated[SafeText, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def _ordered(self) -> "TargetCreate":
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class TargetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    region_prefixes: list[str]
    period_start: date
    period_end: date
    metric: Metric
    amount: Decimal
    source: str


# A ratio or percentage in positional notation: str() would write a small one as "8.5E-7".
Positional = Annotated[
    Decimal,
    PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?$"}),
]
# Significant digits of the display percentage: a nonzero achievement never shows as 0.
PERCENTAGE_DIGITS = 3


class Progress(BaseModel):
    target: TargetRead
    as_of: date
    achieved: Decimal = Field(description="已完成（元）：已登记合同（按最新变更金额，不含注销）")
    ratio: Positional = Field(
        description="完成比例 = 已完成 ÷ 目标金额，全精度（除不尽时 28 位有效数字，向下取）"
    )
    percentage: Positional = Field(
        description="完成百分比（供显示，向下取）：至少两位小数、至少三位有效数字，"
        "如 30.00、0.000850；非零进度不会显示为 0"
    )
    remaining: Decimal
    run_rate_per_day: Decimal = Field(description="日均完成额（元/天，按期内已过天数）")
    projected_date: date | None = Field(description="按当前速度达到目标的日期；已达成或无进展时为空")
    reached: bool
    on_track: bool | None = Field(
        description="进度正常：已达成，或已完成额不少于目标按期内天数均摊到截至日前一天（含）的份额"
        "（截至日当天尚未过完，不计入；期初第一天总为 true）；期末已过而未达成为 false；期未开始为空"
    )


NO_TARGET = NotFound(code="target_not_found", message_en="No such target.", message_zh="目标不存在。")


async def create_target(session: AsyncSession, *, user: User | SystemActor, data: TargetCreate) -> Target:
    target = Target(id=uuid.uuid4(), created_by_id=getattr(user, "id", None), **data.model_dump())
    if await add_unique(session, target, "uq_targets_name"):
        raise Conflict(
            code="target_exists", message_en="A target of this name exists.", message_zh="同名目标已存在。"
        )
    await audit.record(
        session,
        actor=user,
        object_type="target",
        object_id=target.id,
        action="create",
        changes=data.model_dump(),
    )
    await session.refresh(target)
    return target


async def get_target(session: AsyncSession, target_id: uuid.UUID) -> Target:
    target = (await session.execute(select(Target).where(Target.id == target_id))).scalar_one_or_none()
    if target is None:
        raise NO_TARGET
    return target


async def list_targets(session: AsyncSession, page: PageParams) -> tuple[list[Target], int]:
    rows, total = await fetch_page(session, select(Target), page, Target.period_start, Target.name, Target.id)
    return list(rows.scalars()), total


def ratio_of(achieved: Decimal, amount: Decimal) -> Decimal:
    """achieved ÷ amount: exact when the division ends, else 28 significant digits rounded down
    (never more than achieved); a target of 0 is met."""
    if not amount:
        return Decimal(1)
    with localcontext(prec=28, rounding=ROUND_DOWN):
        return achieved / amount


def display_percentage(ratio: Decimal) -> Decimal:
    """The ratio in per cent, rounded down to two decimals or, below 1 %, to three significant
    digits: 30.00, 1.23, 0.000850 — never 0.00 for a nonzero achievement, nor 100.00 before it."""
    percent = ratio.scaleb(2)
    if not percent:
        return Decimal("0.00")
    places = max(2, PERCENTAGE_DIGITS - 1 - percent.adjusted())
    return percent.quantize(Decimal(1).scaleb(-places), ROUND_DOWN)


def project(amount: Decimal, achieved: Decimal, start: date, end: date, as_of: date) -> dict[str, object]:
    """The arithmetic of progress, pure: a constant run rate since `start` extrapolated, and the
    straight-line schedule (the target spread evenly over the period's days) for `on_track`."""
    until = min(as_of, end)
    elapsed = (until - start).days + 1 if until >= start else 0
    reached = achieved >= amount
    rate = (achieved / elapsed).quantize(CENT, ROUND_DOWN) if elapsed else Decimal("0.00")
    projected = None
    if not reached and achieved > 0 and elapsed:
        days = math.ceil(amount * elapsed / achieved) - 1
        # Beyond the calendar (a trickle against a huge target) there is no date to give.
        projected = start + timedelta(days=days) if days < (date.max - start).days else None
    on_track = None
    if as_of >= start:
        # The days of the period before `as_of`: its own registrations are still coming in, so the
        # first day is on track with nothing yet, and once the period is over every day is due.
        completed = min((as_of - start).days, (end - start).days + 1)
        on_track = reached or achieved * ((end - start).days + 1) >= amount * completed
    ratio = ratio_of(achieved, amount)
    return {
        "achieved": achieved,
        "ratio": ratio,
        "percentage": display_percentage(ratio),
        "remaining": max(amount - achieved, Decimal("0.00")),
        "run_rate_per_day": rate,
        "projected_date": projected,
        "reached": reached,
        "on_track": on_track,
    }


async def progress(session: AsyncSession, *, target_id: uuid.UUID, as_of: date) -> Progress:
    target = await get_target(session, target_id)
    until = min(as_of, target.period_end)
    achieved = Decimal("0.00")
    if until >= target.period_start:
        groups = await totals(
            session, GroupBy.total, since=target.period_start, until=until, prefixes=target.region_prefixes
        )
        if groups:
            achieved = getattr(groups[0], target.metric.value)
    figures = project(target.amount, achieved, target.period_start, target.period_end, as_of)
    return Progress(target=TargetRead.model_validate(target), as_of=as_of, **figures)  # type: ignore[arg-type]


_LABELS: dict[GroupBy, dict[str, str]] = {
    GroupBy.type: {t.value: t.label for t in ContractType},
    GroupBy.field: {f.value: f.label for f in TechnologyField},
    GroupBy.seller_kind: {k.value: k.label for k in PartyKind},
    GroupBy.ip_kind: {k.value: k.label for k in IPCategory},
}


def label(group_by: GroupBy, key: str) -> str:
    if group_by == GroupBy.city:
        return current_regions().get(key + "00", key)
    if group_by in (GroupBy.month, GroupBy.total):
        return key
    return _LABELS[group_by].get(key, key)


class GroupRead(BaseModel):
    key: str
    label: str
    count: int
    contract_amount: Decimal
    technology_amount: Decimal


class Statistics(BaseModel):
    group_by: GroupBy
    since: date | None = Field(serialization_alias="from")
    until: date | None = Field(serialization_alias="to")
    region: str | None
    groups: list[GroupRead]
    total: GroupRead


def statistics(
    group_by: GroupBy, groups: list[Group], since: date | None, until: date | None, region: str | None
) -> Statistics:
    total = GroupRead(
        key="total",
        label="合计",
        count=sum(g.count for g in groups),
        contract_amount=sum((g.contract_amount for g in groups), Decimal("0.00")),
        technology_amount=sum((g.technology_amount for g in groups), Decimal("0.00")),
    )
    return Statistics(
        group_by=group_by,
        since=since,
        until=until,
        region=region,
        total=total,
        groups=[
            GroupRead(
                key=g.key,
                label=label(group_by, g.key),
                count=g.count,
                contract_amount=g.contract_amount,
                technology_amount=g.technology_amount,
            )
            for g in groups
        ],
    )
