"""`/api/v1/{achievements,demands}/{id}/interests` and `/api/v1/interests`: expressing interest in
a listing and the owner's answer. Thin: the rules are in app/interests/service.py."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.accounts.auth import CurrentUser, require_role
from app.accounts.models import Role, User
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep
from app.deals.vocabulary import InterestStatus
from app.interests import service
from app.interests.schemas import InterestCreate, InterestDecline, InterestRead

router = APIRouter(tags=["interests · 合作意向"])

Filer = Annotated[User, Depends(require_role(Role.member, Role.tech_manager))]
StatusFilter = Annotated[InterestStatus | None, Query(description=InterestStatus.describe("只列此状态"))]


def _express_route(kind: str, path: str, label: str) -> None:
    @router.post(
        f"/{path}/{{listing_id}}/interests",
        response_model=InterestRead,
        status_code=status.HTTP_201_CREATED,
        responses=problem_responses(401, 403, 404, 409, 422),
        name=f"express_interest_in_{kind}",
        summary=f"Express interest in {'an' if kind[0] in 'aeiou' else 'a'} {kind} · 对{label}表达合作意向",
    )
    async def route(
        session: SessionDep, user: Filer, listing_id: uuid.UUID, data: InterestCreate, response: Response
    ) -> InterestRead:
        interest = await service.express(session, user=user, kind=kind, listing_id=listing_id, data=data)
        # As every other create answers: where to read it again (`GET /interests/{id}`).
        response.headers["Location"] = f"/api/v1/interests/{interest.id}"
        return interest

    route.__doc__ = f"""已认证机构的成员（或代客户的技术经理人）对已发布的{label}表达合作意向：
拟用途、预算范围、时间安排、想问的问题。所属机构的成员随即收到通知
（配置了通知地址的还会收到 `interest.received` 推送）。

A member (`member` or `tech_manager`) of a verified organization expresses interest in a published
{kind}. A technology manager may file on behalf of a verified client organization
(`on_behalf_of_organization_id`): the interest is the client's, and the manager is recorded and,
if the owner accepts, becomes the deal's broker.

- 403 `organization_not_verified` (the caller's organization), `on_behalf_requires_tech_manager`,
  `role_required` (administrators and registration officers do not express interest);
- 404 `listing_not_found`: no such {kind}, or another organization's draft;
- 409 `own_listing` (the caller's or the client's own), `listing_not_open` with `current_status`
  (closed, expired, taken down), `duplicate_interest` with `duplicate_of` (one open interest per
  organization and listing);
- 422 naming the field: `budget_max` below `budget_min` (`budget_range`), a negative amount, an
  `on_behalf_of_organization_id` that does not exist (`organization_not_found`) or is not verified
  (`organization_not_verified`)."""


_express_route("achievement", "achievements", "科技成果")
_express_route("demand", "demands", "技术需求")


@router.get(
    "/interests/received",
    response_model=Page[InterestRead],
    responses=problem_responses(401),
    summary="Interests in my organization's listings · 收到的合作意向",
)
async def received(
    session: SessionDep, user: CurrentUser, page: PageDep, status: StatusFilter = None
) -> Page[InterestRead]:
    """本机构的成果、需求收到的意向：待答复的在前（等待最久的最前，带 `waiting_since` 与 `age_days`），
    已答复的按答复时间倒序。管理员看到全部意向。联系方式只在单条意向的答复中给出。"""
    items, total = await service.received(session, user=user, status=status, page=page)
    return Page.of(items, total, page)


@router.get(
    "/interests/sent",
    response_model=Page[InterestRead],
    responses=problem_responses(401),
    summary="Interests my organization expressed · 我方提交的合作意向",
)
async def sent(
    session: SessionDep, user: CurrentUser, page: PageDep, status: StatusFilter = None
) -> Page[InterestRead]:
    """本机构提交的意向，以及本人代客户提交的意向，最新在前，带答复结果；被婉拒的带原因
    （`decline_reason`、`decline_reason_label`）和说明（`decline_note`）。"""
    items, total = await service.sent(session, user=user, status=status, page=page)
    return Page.of(items, total, page)


@router.get(
    "/interests/{interest_id}",
    response_model=InterestRead,
    responses=problem_responses(401, 404),
    summary="An interest · 合作意向详情",
)
async def read(session: SessionDep, user: CurrentUser, interest_id: uuid.UUID) -> InterestRead:
    """意向双方（所属机构、意向方及代办的技术经理人）和管理员可见，其他人答 404 `interest_not_found`。
    接受后 `contacts` 向双方开放：成果（需求）的联系人、提交意向的人及代办的技术经理人。"""
    return await service.read(session, user=user, interest_id=interest_id)


_ANSWER_ERRORS = """
- 403 `not_listing_owner`: the interested side cannot answer its own interest;
- 404 `interest_not_found`: neither side nor an administrator;
- 409 `interest_already_answered` with `current_status`: answered or withdrawn already (two answers
  at once: the first wins, the second gets this)."""


@router.post(
    "/interests/{interest_id}/accept",
    response_model=InterestRead,
    responses=problem_responses(401, 403, 404, 409),
    summary="Accept an interest · 接受合作意向",
)
async def accept(session: SessionDep, user: CurrentUser, interest_id: uuid.UUID) -> InterestRead:
    return await service.accept(session, user=user, interest_id=interest_id)


accept.__doc__ = (
    """所属机构的成员（或管理员）接受意向：双方联系方式开放（答复带 `contacts`），并建立交易项目（`deal_id`，
阶段 lead）。意向方收到通知。

The deal: for an achievement the owner sells and the interested organization buys; for a demand
the owner buys and the interested organization sells. If a technology manager filed the interest
for the client, that manager and their organization become the deal's broker (`broker_user_id`,
`broker_agency_id`; the mandate's terms are recorded later). If an open deal already concerns the
same listing and counterpart, the interest joins it instead of opening a second one."""
    + _ANSWER_ERRORS
)


@router.post(
    "/interests/{interest_id}/decline",
    response_model=InterestRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Decline an interest · 婉拒合作意向",
)
async def decline(
    session: SessionDep, user: CurrentUser, interest_id: uuid.UUID, data: InterestDecline
) -> InterestRead:
    return await service.decline(session, user=user, interest_id=interest_id, data=data)


decline.__doc__ = (
    """婉拒意向，须选择原因类别（`reason`，取值见 422 的说明）并可附说明（`note`）；
意向方总会收到原因与说明。"""
    + _ANSWER_ERRORS
)


@router.post(
    "/interests/{interest_id}/withdraw",
    response_model=InterestRead,
    responses=problem_responses(401, 403, 404, 409),
    summary="Withdraw an interest · 撤回合作意向",
)
async def withdraw(session: SessionDep, user: CurrentUser, interest_id: uuid.UUID) -> InterestRead:
    """意向方（本机构成员或代办的技术经理人）撤回待答复的意向；所属机构收到通知。

    - 403 `not_interested_side`: the owner's side cannot withdraw;
    - 404 `interest_not_found`; 409 `interest_already_answered` with `current_status`."""
    return await service.withdraw(session, user=user, interest_id=interest_id)
