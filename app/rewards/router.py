"""Reward rules (administrators) and the rewards report with its XLSX export."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.accounts.auth import AdminUser, CurrentUser
from app.contracts.http import ExactJSONRoute
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep
from app.rewards import export, service
from app.rewards.schemas import RewardReport, RuleCreate, RuleRead, RuleUpdate

router = APIRouter(prefix="/rewards", tags=["rewards"], route_class=ExactJSONRoute)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Year = Annotated[int, Query(ge=2000, le=2199, description="登记年度（按中国时间的登记日期）")]
Region = Annotated[
    str | None,
    Query(
        pattern=r"^\d{2}(\d{2}(\d{2})?)?$",
        description="行政区划代码前缀：只列出地区与之重叠（一方为另一方前缀）的规则；每条规则仍按其全部地区计算",
    ),
]
RULE_RULES = """A rule pays one beneficiary (agency = the deal's broker agency, technology_manager = its
broker, buyer, seller) `rate` (a fraction, 0 < rate ≤ 1, up to six decimals) of the certified
technology amount of each registered contract reached through a deal in its region (a GB/T 2260
prefix of the registration's region) and period, at most `annual_cap` per beneficiary and
registration year; contracts whose certified contract amount is below `minimum_contract_amount`
and, with `exclude_related_party`, related-party deals are excluded.

422 `reward_rule_overlap` when another rule for the same beneficiary overlaps in region (one code a
prefix of the other) and period; the problem names it in `overlapping_rule` ({id, name}). Checked
under a lock, so two concurrent writes cannot both pass. 422 `validation_failed` naming
`valid_until` when it is before `valid_from`. Administrators only (403 `role_required`)."""


@router.get(
    "/rules",
    response_model=Page[RuleRead],
    responses=problem_responses(401, 403),
    summary="List reward rules · 奖励规则列表",
)
async def list_rules(session: SessionDep, _: AdminUser, page: PageDep) -> Page[RuleRead]:
    """Every reward rule, by region, beneficiary and start, paged. Administrators only."""
    rules, total = await service.list_rules(session, page)
    return Page.of([RuleRead.model_validate(r) for r in rules], total, page)


@router.post(
    "/rules",
    response_model=RuleRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 422),
    summary="Create a reward rule · 新建奖励规则",
    description=RULE_RULES,
)
async def create_rule(session: SessionDep, admin: AdminUser, body: RuleCreate) -> RuleRead:
    return RuleRead.model_validate(await service.create_rule(session, admin=admin, data=body))


@router.get(
    "/rules/{rule_id}",
    response_model=RuleRead,
    responses=problem_responses(401, 403, 404),
    summary="Read a reward rule · 奖励规则详情",
)
async def read_rule(session: SessionDep, _: AdminUser, rule_id: uuid.UUID) -> RuleRead:
    """One rule. 404 `reward_rule_not_found`. Administrators only."""
    return RuleRead.model_validate(await service.get_rule(session, rule_id))


@router.patch(
    "/rules/{rule_id}",
    response_model=RuleRead,
    responses=problem_responses(401, 403, 404, 422),
    summary="Change a reward rule · 修改奖励规则",
    description="Change the fields sent (`valid_until`, `annual_cap`, `minimum_contract_amount` may be "
    "set to null). The report is computed from the rules as they are, so a change applies to every "
    "year's report at once. 404 `reward_rule_not_found`.\n\n" + RULE_RULES,
)
async def update_rule(
    session: SessionDep, admin: AdminUser, rule_id: uuid.UUID, body: RuleUpdate
) -> RuleRead:
    return RuleRead.model_validate(
        await service.update_rule(session, admin=admin, rule_id=rule_id, data=body)
    )


@router.delete(
    "/rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404),
    summary="Delete a reward rule · 删除奖励规则",
)
async def delete_rule(session: SessionDep, admin: AdminUser, rule_id: uuid.UUID) -> Response:
    """Delete a rule (audited with its last content). 404 `reward_rule_not_found`. Administrators only."""
    await service.delete_rule(session, admin=admin, rule_id=rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


REPORT = """The rewards of a registration year under every rule in force on some day of it: per rule and
beneficiary, the contracts counted (with the reward of each) and those excluded, with why; the
amount before and after the beneficiary's annual cap.

A contract counts when its registration is in force (registered, or an amendment under review: the
amounts in force) and its application names a deal: it is attributed to the deal's broker agency
and technology manager and to its buyer and seller organizations. The amount is the certified
technology amount in force (after 变更登记), the year its registration date, the region the
registration's region. Each contract's reward is rate × amount rounded to the fen half up; they are
summed, then capped. Exclusion reasons: `second_contract_of_deal` (one reward per deal: the first
registration counts), `no_broker`, `no_party`, `not_in_rule_region_or_period`, `related_party`,
`below_minimum` (the certified contract amount, 成交额, below the rule's minimum).

Administrators (a government organization's users are administrators) see every row, and the
contracts of the rule's region no beneficiary can be found for (`unattributed`); anyone else sees
every rule but only the rows that pay their own organization (agency, buyer, seller) or themselves
(technology manager)."""


@router.get(
    "",
    response_model=RewardReport,
    responses=problem_responses(401, 422),
    summary="Rewards report · 奖励核算",
    description=REPORT,
)
async def rewards(session: SessionDep, user: CurrentUser, year: Year, region: Region = None) -> RewardReport:
    return await service.report(session, user=user, year=year, region=region)


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {"content": {XLSX: {}}, "description": "the report as XLSX"},
        **problem_responses(401, 422),
    },
    summary="Export the rewards report · 导出奖励核算",
    description="The report of `GET /rewards` for the same caller and parameters as an XLSX, with the "
    "same figures: sheet 汇总 (one row per rule and beneficiary) and sheet 明细 (one row per contract, "
    "计入 or 不计 with the reason). Every cell is text; one that begins with `= + - @`, a tab or a "
    "carriage return is written behind an apostrophe so that no spreadsheet runs it as a formula.",
)
async def export_rewards(
    session: SessionDep, user: CurrentUser, year: Year, region: Region = None
) -> Response:
    report = await service.report(session, user=user, year=year, region=region)
    return Response(
        export.write_report(report),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="rewards-{year}.xlsx"'},
    )
