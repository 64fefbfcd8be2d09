"""Evidence that the market works: one listing's figures for its owner, the brokers' figures, and
the funnel of a region and period (docs/deals.md defines every figure)."""

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.core.errors import FieldError, NotFound, NotPermitted, ValidationFailed
from app.core.pagination import PageParams
from app.core.types import CHINA
from app.deals.vocabulary import DealStage, DeclineReason, InterestStatus
from app.listings import repository as listings
from app.listings.kinds import KINDS
from app.stats import market_queries as queries
from app.stats.market_queries import FUNNEL_STAGES, Scope
from app.stats.service import Positional, ratio_of

LISTING_KINDS = ("achievement", "demand")


def rate(count: int, previous: int) -> Decimal | None:
    """count ÷ previous, exact (28 significant digits rounded down when it does not end); None when
    there is nothing to convert."""
    return ratio_of(Decimal(count), Decimal(previous)) if previous else None


def scope_of(
    since: date | None,
    until: date | None,
    region: str | None,
    organization_id: uuid.UUID | None = None,
) -> Scope:
    """The UTC instants bounding Asia/Shanghai days [since, until], inclusive; 422 if reversed."""
    if since is not None and until is not None and until < since:
        raise ValidationFailed(errors=[FieldError("to", "before_from", "is before `from`", "早于起始日期")])
    return Scope(
        since=None if since is None else datetime.combine(since, time(), CHINA),
        until=None if until is None else datetime.combine(until + timedelta(days=1), time(), CHINA),
        region=region,
        organization_id=organization_id,
    )


class Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    since: date | None = Field(serialization_alias="from")
    until: date | None = Field(serialization_alias="to")


class RegionPeriod(Period):
    region: str | None = Field(
        description="行政区划代码前缀：交易项目按卖方所在地，意向按成果（需求）发布机构所在地"
    )


class FunnelStep(BaseModel):
    step: str = Field(description="interests, accepted, deals, mandated, agreed, signed, registered")
    label: str
    count: int
    rate: Positional | None = Field(description="本步 ÷ 上一步（精确；上一步为 0 或首步时为空）")


class Funnel(RegionPeriod):
    steps: list[FunnelStep]


FUNNEL_LABELS = {"interests": "意向", "accepted": "已接受", "deals": "交易项目"}


async def funnel(
    session: AsyncSession,
    *,
    since: date | None,
    until: date | None,
    region: str | None,
    naive: bool = False,
) -> Funnel:
    """`naive` reads the stage history instead of the deals' stage columns (the benchmark's yardstick)."""
    counts = await queries.funnel(session, scope_of(since, until, region), naive=naive)
    figures = [
        ("interests", FUNNEL_LABELS["interests"], counts.interests),
        ("accepted", FUNNEL_LABELS["accepted"], counts.accepted),
        ("deals", FUNNEL_LABELS["deals"], counts.deals),
        *((stage.value, stage.label, counts.stages[stage]) for stage in FUNNEL_STAGES),
    ]
    steps = [
        FunnelStep(step=step, label=label, count=count, rate=rate(count, figures[i - 1][2]) if i else None)
        for i, (step, label, count) in enumerate(figures)
    ]
    return Funnel(since=since, until=until, region=region, steps=steps)


class BrokerFigures(BaseModel):
    interests_handled: int = Field(description="经手意向：代客户提交的，或其居间交易项目源自的意向")
    interests_registered: int = Field(description="其中交易项目已认定登记的")
    conversion: Positional | None = Field(description="意向→登记转化率 = 已登记 ÷ 经手意向（精确）")
    median_days_to_registration: Decimal | None = Field(
        description="从意向到认定登记的天数中位数（北京时间自然日）"
    )
    deals: int
    deals_by_stage: dict[DealStage, int] = Field(description="居间交易项目按当前阶段")
    registered_deals: int
    registered_technology_amount: Decimal = Field(description="已登记交易项目的认定技术交易额（元）")


class AgencyFigures(BrokerFigures):
    organization_id: uuid.UUID
    name: str


class ManagerFigures(BrokerFigures):
    user_id: uuid.UUID
    name: str
    organization_id: uuid.UUID


class BrokerStatistics(RegionPeriod):
    agencies: list[AgencyFigures] = Field(
        description="按已登记技术交易额、交易项目数降序排名的一页 / one page of the ranking"
    )
    agencies_total: int = Field(description="排名中的服务机构数")
    technology_managers: list[ManagerFigures] = Field(description="同上，技术经理人")
    technology_managers_total: int = Field(description="排名中的技术经理人数")
    limit: int
    offset: int


def sees_all_brokers(user: User) -> bool:
    # Government bodies hold administrator accounts only (ROLE_ORGANIZATION_KINDS).
    return user.role == Role.admin


def _figures(
    interests: queries.InterestFigures | None, deals: queries.DealFigures | None
) -> dict[str, object]:
    handled = interests.handled if interests else 0
    registered = interests.registered if interests else 0
    return {
        "interests_handled": handled,
        "interests_registered": registered,
        "conversion": rate(registered, handled),
        "median_days_to_registration": interests.median_days if interests else None,
        "deals": sum(deals.by_stage.values()) if deals else 0,
        "deals_by_stage": deals.by_stage if deals else dict.fromkeys(DealStage, 0),
        "registered_deals": deals.registered if deals else 0,
        "registered_technology_amount": deals.registered_technology_amount if deals else Decimal("0.00"),
    }


async def broker_statistics(
    session: AsyncSession,
    *,
    user: User,
    since: date | None,
    until: date | None,
    region: str | None,
    page: PageParams,
    naive: bool = False,
) -> BrokerStatistics:
    """Administrators (government's accounts) see every broker; anyone else their own
    organization as an agency and its technology managers. The same page of both rankings.
    `naive` as for `funnel`."""
    scope = scope_of(since, until, region, None if sees_all_brokers(user) else user.organization_id)
    counts = await queries.brokers(session, scope, page, naive=naive)
    organizations, people = await queries.names(session, list(counts.agencies), list(counts.managers))
    # Up to 200 rows typed by the queries themselves: constructed, not validated field by field
    # again (a fifth of the report's time on the largest page).
    agencies = [
        AgencyFigures.model_construct(
            organization_id=key, name=organizations.get(key, ""), **_figures(*value)
        )
        for key, value in counts.agencies.items()
    ]
    managers = [
        ManagerFigures.model_construct(
            user_id=key,
            name=people[key][0] if key in people else "",
            organization_id=people[key][1] if key in people else key,
            **_figures(*value),
        )
        for key, value in counts.managers.items()
    ]
    return BrokerStatistics(
        since=since,
        until=until,
        region=region,
        agencies=agencies,
        agencies_total=counts.agencies_total,
        technology_managers=managers,
        technology_managers_total=counts.managers_total,
        limit=page.limit,
        offset=page.offset,
    )


class ViewDay(BaseModel):
    day: date
    organizations: int


class Views(BaseModel):
    total: int = Field(description="浏览机构·日之和：每个已登录的其他机构每天计一次")
    organizations: int = Field(description="期内浏览过的不同机构数")
    by_day: list[ViewDay] = Field(description="按日（北京时间），仅列有浏览的日子")


class Interests(BaseModel):
    total: int
    open: int
    accepted: int
    declined: int
    withdrawn: int
    declined_by_reason: dict[DeclineReason, int]


class ListingStatistics(Period):
    listing_kind: str
    listing_id: uuid.UUID
    views: Views
    interests: Interests
    deals: int
    deals_by_stage: dict[DealStage, int]
    registered_deals: int
    registered_contract_amount: Decimal = Field(description="已登记交易项目的认定合同成交额（元）")
    registered_technology_amount: Decimal = Field(description="已登记交易项目的认定技术交易额（元）")


async def listing_statistics(
    session: AsyncSession,
    *,
    user: User,
    kind: str,
    listing_id: uuid.UUID,
    since: date | None,
    until: date | None,
) -> ListingStatistics:
    """For the owner's members and administrators: 404 where the caller cannot see the listing,
    403 where they can but it is another organization's (as the listings' own changes answer)."""
    spec = KINDS[kind]
    scope_of(since, until, None)
    found = await listings.get_readable(session, spec.model, listing_id, user)
    if found is None:
        raise NotFound(
            code="listing_not_found", message_en=f"No such {kind}.", message_zh=f"{spec.label_zh}不存在。"
        )
    if user.role != Role.admin and found.owner_organization_id != user.organization_id:
        raise NotPermitted(
            code="not_listing_owner",
            message_en=f"Only the {kind}'s owner sees its statistics.",
            message_zh=f"仅{spec.label_zh}的发布机构可查看其统计。",
        )
    counts = await queries.listing(session, kind, listing_id, since, until)
    by_status = {status: 0 for status in InterestStatus}
    by_reason = {reason: 0 for reason in DeclineReason}
    for (status, reason), count in counts.interests.items():
        by_status[InterestStatus(status)] += count
        if status == InterestStatus.declined and reason is not None:
            by_reason[DeclineReason(reason)] += count
    return ListingStatistics(
        since=since,
        until=until,
        listing_kind=kind,
        listing_id=listing_id,
        views=Views(
            total=sum(n for _, n in counts.views_by_day),
            organizations=counts.viewing_organizations,
            by_day=[ViewDay(day=day, organizations=n) for day, n in counts.views_by_day],
        ),
        interests=Interests(total=sum(by_status.values()), declined_by_reason=by_reason, **by_status),
        deals=sum(counts.deals_by_stage.values()),
        deals_by_stage={stage: counts.deals_by_stage.get(stage, 0) for stage in DealStage},
        registered_deals=counts.registered_deals,
        registered_contract_amount=counts.registered_contract_amount,
        registered_technology_amount=counts.registered_technology_amount,
    )
