"""`/api/v1/deals`: the deal, its stages, mandate, notes and tasks. Routers parse, authorise and
present; `service`, `mandates` and `tasks` hold the rules."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.auth import CurrentUser, require_role
from app.accounts.models import Role, User
from app.contracts.http import ExactJSONRoute
from app.core.db import SessionDep
from app.core.errors import FieldError, PreconditionRequired, ValidationFailed, problem_responses
from app.core.etags import if_match_version
from app.core.pagination import Page, PageDep
from app.deals import mandates, service, tasks
from app.deals.models import Deal
from app.deals.schemas import (
    STAGE,
    DealCreate,
    DealRead,
    DealUpdate,
    MandateIn,
    NoteIn,
    NoteRead,
    OverdueTaskRead,
    StageEventRead,
    StageMove,
    TaskIn,
    TaskRead,
)
from app.deals.vocabulary import DealStage

router = APIRouter(prefix="/deals", tags=["deals · 交易项目"], route_class=ExactJSONRoute)

VISIBILITY = """
**Who sees a deal.** Members of its seller and buyer organizations, its broker (the technology
manager of the mandate in force, or who created the lead) and administrators; to anyone else it
does not exist (404 `deal_not_found`)."""

CONCURRENCY = """
**Concurrent changes.** Responses carry `ETag: "<version>"`; this change requires it back in
`If-Match` (428 `precondition_required` without it, 412 `precondition_failed` with
`current_version` when someone changed the deal since). The deal is locked while it is checked and
changed, so of two changes sent with the same version exactly one succeeds."""


async def _required_if_match(
    if_match: Annotated[
        str | None, Header(alias="If-Match", description='ETag read earlier, e.g. "3" (required)')
    ] = None,
) -> int | None:
    if if_match is None:
        raise PreconditionRequired()
    try:
        return if_match_version(if_match)
    except ValueError:
        raise ValidationFailed(
            errors=[FieldError("If-Match", "invalid", 'expected an ETag such as "3"', '应为 ETag，如 "3"')]
        ) from None


IfMatch = Annotated[int | None, Depends(_required_if_match)]
TechManager = Annotated[User, Depends(require_role(Role.tech_manager))]


async def _present(session: AsyncSession, user: User, deal: Deal, response: Response) -> dict[str, Any]:
    response.headers["ETag"] = f'"{deal.version}"'
    return await service.present(session, user, deal)


@router.get(
    "/tasks/overdue",
    response_model=Page[OverdueTaskRead],
    responses=problem_responses(401, 403, 422),
    summary="My overdue tasks · 我的逾期任务",
    description="The caller's open tasks due before today (Asia/Shanghai), across the open deals they "
    "see, most overdue first. Administrators may pass `broker_id` for another user's list.",
)
async def overdue(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    broker_id: Annotated[uuid.UUID | None, Query(description="管理员：查看该经理人的逾期任务")] = None,
) -> Any:
    rows, total, today = await tasks.overdue(session, user=user, page=page, broker_id=broker_id)
    items = [
        {
            **TaskRead.model_validate(task, from_attributes=True).model_dump(),
            "deal_title": title,
            "days_overdue": (today - task.due_on).days,
        }
        for task, title in rows
    ]
    return Page.of(items, total, page)


@router.post(
    "",
    response_model=DealRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Create a lead · 新建意向项目",
    description="Technology managers only: a lead (意向) they broker, with a title and, if known, the "
    "seller and buyer organizations and the achievement or demand (published) it concerns; an "
    "achievement's owner is the seller, a demand's the buyer. 409 `duplicate_deal` (naming it in "
    "`duplicate_of`) while an open deal holds the same listing and counterpart.",
)
async def create(session: SessionDep, user: TechManager, body: DealCreate, response: Response) -> Any:
    deal = await service.create_lead(session, user=user, data=body)
    response.headers["Location"] = f"/api/v1/deals/{deal.id}"
    return await _present(session, user, deal, response)


@router.get(
    "",
    response_model=Page[DealRead],
    responses=problem_responses(401, 422),
    summary="List my deals · 我的交易项目",
    description=f"The deals the caller stands in (administrators: all), latest change first.\n{VISIBILITY}",
)
async def list_(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    stage: Annotated[DealStage | None, Query(description=STAGE)] = None,
) -> Any:
    deals, total = await service.list_mine(session, user=user, page=page, stage=stage)
    return Page.of(await service.present_many(session, user, deals), total, page)


@router.get(
    "/{deal_id}",
    response_model=DealRead,
    responses=problem_responses(401, 404, 422),
    summary="Read a deal · 交易项目详情",
    description="The deal, its mandate in force, the caller's sides and the stages they may move it to; "
    f"`ETag` is its version.\n{VISIBILITY}",
)
async def read(session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, response: Response) -> Any:
    deal = await service.get(session, user=user, deal_id=deal_id)
    return await _present(session, user, deal, response)


@router.patch(
    "/{deal_id}",
    response_model=DealRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    summary="Edit a deal · 修改交易项目",
    description="Send only the fields to change. Any side edits `title`, `payment_terms` and, until "
    "the contract is signed, `agreed_price` and `transfer_mode` (409 `terms_locked` after; an agreed "
    "deal keeps them; a price below the mandate's fixed commission is 422 `below_commission`). The "
    "broker or an administrator names the parties: a missing one until signed, a known one only while "
    "a lead (409 `parties_locked`; 403 `broker_only`). `related_party` is for administrators only "
    "(403 `admin_only`), on a registered deal too (it decides the reward). Anything else of a closed "
    f"deal is 409 `deal_closed`.\n{CONCURRENCY}",
)
async def edit(
    session: SessionDep,
    user: CurrentUser,
    deal_id: uuid.UUID,
    body: DealUpdate,
    if_match: IfMatch,
    response: Response,
) -> Any:
    deal = await service.update(session, user=user, deal_id=deal_id, data=body, if_match=if_match)
    return await _present(session, user, deal, response)


@router.post(
    "/{deal_id}/stage",
    response_model=DealRead,
    responses=problem_responses(401, 404, 409, 412, 422, 428),
    summary="Move a deal to a stage · 推进交易阶段",
    description="""Moves along the transition table (docs/deals.md): lead → mandated (a mandate in
force today, else 409 `mandate_required`) → diligence → negotiating → agreed (`agreed_price` and
`transfer_mode`, in this body or set before, else 422 `terms_required`) → signed (both parties known,
else 409 `parties_required`); `registration_submitted` and `registered` are entered by the
registration's outcome only. `on_hold` and `lost` from any open stage need a `reason`; a deal on hold
resumes to the stage it was held from. A move the caller may not make answers 409
`invalid_stage_transition` with `allowed`, the stages they may move it to.
"""
    + CONCURRENCY,
)
async def move(
    session: SessionDep,
    user: CurrentUser,
    deal_id: uuid.UUID,
    body: StageMove,
    if_match: IfMatch,
    response: Response,
) -> Any:
    deal = await service.move(session, user=user, deal_id=deal_id, data=body, if_match=if_match)
    return await _present(session, user, deal, response)


@router.get(
    "/{deal_id}/history",
    response_model=Page[StageEventRead],
    responses=problem_responses(401, 404, 422),
    summary="Stage history of a deal · 交易阶段记录",
    description=f"Every stage the deal entered, oldest first, with who moved it and why.\n{VISIBILITY}",
)
async def history(session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, page: PageDep) -> Any:
    events, total = await service.history(session, user=user, deal_id=deal_id, page=page)
    return Page.of(events, total, page)


@router.put(
    "/{deal_id}/mandate",
    response_model=DealRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    summary="Record the mandate · 登记委托",
    description="""The party that engages the broker (the deal's seller or buyer: 422 `not_a_party`)
records the mandate; only its members or administrators may (403 `not_engaging_party`). The
technology manager must hold that role (422 `not_a_technology_manager`); their organization is the
agency. Exactly one of `commission_rate` (a fraction 0–1, e.g. 0.03 = 3 %) and `commission_fixed`
(元, at most the agreed price when known: 422 `above_agreed_price`) — 422 `one_commission`
otherwise. `ends_on` may be omitted (open-ended). A new mandate ends the one in force; the deal's
broker follows it. The counterpart sees the broker but not the commission. Once the contract is
signed (on hold from there included) the mandate is fixed, since the registration is attributed to
its broker: 409 `mandate_locked`; a closed deal is 409 `deal_closed`.
"""
    + CONCURRENCY,
)
async def put_mandate(
    session: SessionDep,
    user: CurrentUser,
    deal_id: uuid.UUID,
    body: MandateIn,
    if_match: IfMatch,
    response: Response,
) -> Any:
    deal = await mandates.put(session, user=user, deal_id=deal_id, data=body, if_match=if_match)
    return await _present(session, user, deal, response)


@router.post(
    "/{deal_id}/notes",
    response_model=NoteRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 404, 422),
    summary="Add a note · 添加备注",
    description=f"Anyone who sees the deal may write a note on it (audited).\n{VISIBILITY}",
)
async def add_note(session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, body: NoteIn) -> Any:
    return await tasks.add_note(session, user=user, deal_id=deal_id, data=body)


@router.get(
    "/{deal_id}/notes",
    response_model=Page[NoteRead],
    responses=problem_responses(401, 404, 422),
    summary="Notes of a deal · 交易项目备注",
    description=f"Newest first.\n{VISIBILITY}",
)
async def notes(session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, page: PageDep) -> Any:
    items, total = await tasks.notes(session, user=user, deal_id=deal_id, page=page)
    return Page.of(items, total, page)


@router.post(
    "/{deal_id}/tasks",
    response_model=TaskRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 404, 409, 422),
    summary="Add a next-step task · 添加待办任务",
    description="A task with a due date (today or later, Asia/Shanghai: 422 `in_the_past`) on an open deal "
    "(409 `deal_closed`), for someone who sees the deal (422 `not_on_deal`); by default its broker. "
    f"Anyone who sees the deal may add one.\n{VISIBILITY}",
)
async def add_task(session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, body: TaskIn) -> Any:
    return await tasks.add_task(session, user=user, deal_id=deal_id, data=body)


@router.get(
    "/{deal_id}/tasks",
    response_model=Page[TaskRead],
    responses=problem_responses(401, 404, 422),
    summary="Tasks of a deal · 交易项目任务",
    description=f"Open tasks first, soonest due first.\n{VISIBILITY}",
)
async def list_tasks(session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, page: PageDep) -> Any:
    items, total = await tasks.tasks(session, user=user, deal_id=deal_id, page=page)
    return Page.of(items, total, page)


@router.post(
    "/{deal_id}/tasks/{task_id}/done",
    response_model=TaskRead,
    responses=problem_responses(401, 404, 409, 422),
    summary="Mark a task done · 完成任务",
    description=f"Anyone who sees the deal; a task already done is 409 `task_done`.\n{VISIBILITY}",
)
async def complete_task(
    session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, task_id: uuid.UUID
) -> Any:
    return await tasks.complete(session, user=user, deal_id=deal_id, task_id=task_id)
