import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from app.accounts.auth import AdminUser, CurrentUser
from app.contracts import repository as contracts_repository
from app.contracts.http import ExactJSONRoute
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep
from app.core.types import today_in_china
from app.stats import service
from app.stats.queries import GroupBy, totals

targets_router = APIRouter(prefix="/targets", tags=["targets"], route_class=ExactJSONRoute)
stats_router = APIRouter(prefix="/stats", tags=["statistics"])

Region = Annotated[
    str | None, Query(pattern=r"^\d{2}(\d{2}(\d{2})?)?$", description="行政区划代码前缀（卖方所在地）")
]
# Bounded so that month arithmetic never leaves the calendar; far wider than any registration.
EARLIEST, LATEST = date(1980, 1, 1), date(2199, 12, 31)
From = Annotated[date | None, Query(alias="from", ge=EARLIEST, le=LATEST, description="登记日期起（含）")]
To = Annotated[date | None, Query(alias="to", ge=EARLIEST, le=LATEST, description="登记日期止（含）")]


@targets_router.post(
    "",
    response_model=service.TargetRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Set a target · 设定目标",
)
async def create_target(
    session: SessionDep, admin: AdminUser, body: service.TargetCreate
) -> service.TargetRead:
    """Set a target (administrators): a region (union of code prefixes), a period, a metric, an amount."""
    return service.TargetRead.model_validate(await service.create_target(session, user=admin, data=body))


@targets_router.get(
    "",
    response_model=Page[service.TargetRead],
    responses=problem_responses(401),
    summary="List targets · 目标列表",
)
async def list_targets(session: SessionDep, _: CurrentUser, page: PageDep) -> Page[service.TargetRead]:
    """All targets, by start of period, paged (`{items, total, limit, offset}`). 全部目标，按期间起始排序。"""
    targets, total = await service.list_targets(session, page)
    return Page.of([service.TargetRead.model_validate(t) for t in targets], total, page)


@targets_router.get(
    "/{target_id}/progress",
    response_model=service.Progress,
    responses=problem_responses(401, 404),
    summary="Progress towards a target · 目标进度",
)
async def target_progress(
    session: SessionDep,
    _: CurrentUser,
    target_id: uuid.UUID,
    as_of: Annotated[date | None, Query(ge=EARLIEST, le=LATEST, description="截至日期（默认今天）")] = None,
) -> service.Progress:
    """Achieved (registered contracts at their amounts in force, cancelled ones excluded, by the
    seller's region and the registration date), the ratio to the target at full precision, a display
    percentage that never shows a nonzero achievement as 0, remaining, run rate per day, the date
    the target is reached at that rate, and `on_track` whenever the period has started: reached, or
    at least the target's straight-line share for the days before `as_of` (so true on the first
    day); null before the period starts."""
    return await service.progress(session, target_id=target_id, as_of=as_of or today_in_china())


@stats_router.get(
    "/contracts",
    response_model=service.Statistics,
    response_model_by_alias=True,
    responses=problem_responses(401, 422),
    summary="Contract statistics · 技术合同统计",
)
async def contract_statistics(
    session: SessionDep,
    _: CurrentUser,
    group_by: GroupBy = GroupBy.type,
    since: From = None,
    until: To = None,
    region: Region = None,
) -> service.Statistics:
    """Registered contracts: count, contract amount (成交额) and certified technology amount (技术交易额)
    grouped by type, field, city, seller_kind, ip_kind or month. Exact to the fen."""
    groups = await totals(session, group_by, since=since, until=until, prefixes=[region] if region else None)
    return service.statistics(group_by, groups, since, until, region)


class DeadlineStats(BaseModel):
    decisions: int
    on_time: int
    late: int


@stats_router.get(
    "/deadlines",
    response_model=DeadlineStats,
    responses=problem_responses(401, 422),
    summary="Deadline statistics · 办理时限统计",
)
async def deadline_statistics(
    session: SessionDep, _: CurrentUser, since: From = None, until: To = None, region: Region = None
) -> DeadlineStats:
    """How many decisions (registered or refused) met their working-day deadline, by decision date."""
    on_time, late = await contracts_repository.deadline_stats(
        session, region=region, since=since, until=until
    )
    return DeadlineStats(decisions=on_time + late, on_time=on_time, late=late)


routers = (targets_router, stats_router)
