"""`/api/v1/listing-announcements`: listing (挂牌) announcements and intentions (意向受让). Routers
parse, authorise and present; `service` and `closing` hold the rules."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.auth import CurrentUser, OptionalUser, require_role
from app.accounts.models import Role, User
from app.contracts.http import ExactJSONRoute
from app.core.db import SessionDep
from app.core.errors import FieldError, PreconditionRequired, ValidationFailed, problem_responses
from app.core.etags import if_match_version
from app.core.pagination import Page, PageDep
from app.trading.listing import intentions, service
from app.trading.listing.schemas import (
    AnnouncementCreate,
    AnnouncementRead,
    AnnouncementUpdate,
    IntentionCreate,
    IntentionDecision,
    IntentionRead,
    Withdrawal,
)
from app.trading.models import ListingAnnouncement

router = APIRouter(prefix="/listing-announcements", tags=["listing · 挂牌"], route_class=ExactJSONRoute)

RULES = """
**Rules.** The period counts Chinese working days (holidays and 调休 make-up days) from the working
day after the announcement and ends at 24:00 Asia/Shanghai of its last working day. At its end:
no qualified buyer → the announced extension if one is left, else `closed_no_buyer`; one →
the deal is agreed at its offer (`agreed`); two or more → an online auction among them opening at
the floor price (`to_auction`). Intentions the seller has not answered by then count as not
qualified."""

CONCURRENCY = """
**Concurrent changes.** Responses carry `ETag: "<version>"`; send it back in `If-Match` (412
`precondition_failed` with `current_version` when the announcement changed since)."""


def _parse_if_match(value: str | None) -> int | None:
    try:
        return if_match_version(value)
    except ValueError:
        raise ValidationFailed(
            errors=[FieldError("If-Match", "invalid", 'expected an ETag such as "3"', '应为 ETag，如 "3"')]
        ) from None


async def _required_if_match(
    if_match: Annotated[
        str | None, Header(alias="If-Match", description='ETag read earlier, e.g. "3" (required)')
    ] = None,
) -> int | None:
    if if_match is None:
        raise PreconditionRequired()
    return _parse_if_match(if_match)


async def _optional_if_match(
    if_match: Annotated[
        str | None, Header(alias="If-Match", description='ETag read earlier, e.g. "3"')
    ] = None,
) -> int | None:
    return _parse_if_match(if_match)


IfMatch = Annotated[int | None, Depends(_required_if_match)]
OptionalIfMatch = Annotated[int | None, Depends(_optional_if_match)]
Member = Annotated[User, Depends(require_role(Role.member))]


async def _present(
    session: AsyncSession, user: User | None, announcement: ListingAnnouncement, response: Response
) -> dict[str, Any]:
    response.headers["ETag"] = f'"{announcement.version}"'
    return (await service.present(session, user, [announcement], detail=True))[0]


@router.post(
    "",
    response_model=AnnouncementRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Announce a listing · 发布挂牌公告",
    description="""The seller's members or the deal's broker announce a listing for the deal's
achievement: the deal must be at `negotiating` (409 `deal_not_negotiating`), with no buyer yet (409
`buyer_known`: a known counterpart uses the agreed-price publicity) and no other pricing route under
way (409 `pricing_route_in_progress`). The period is at least `LISTING_MIN_PERIOD_WORKING_DAYS`
working days (422 `period_too_short`), an extension step at least
`LISTING_MIN_EXTENSION_WORKING_DAYS` (422 `extension_too_short`), announced with a number of
extensions (422 `extension_mismatch`); the deposit lies within the auction's deposit ratios of the
floor price (422 `deposit_out_of_range`). The deal's pricing route becomes `listing`.
"""
    + RULES,
)
async def announce(
    request: Request, session: SessionDep, user: CurrentUser, body: AnnouncementCreate, response: Response
) -> Any:
    announcement = await service.announce(session, user=user, data=body, settings=request.app.state.settings)
    response.headers["Location"] = f"/api/v1/listing-announcements/{announcement.id}"
    return await _present(session, user, announcement, response)


@router.get(
    "",
    response_model=Page[AnnouncementRead],
    responses=problem_responses(422),
    summary="Running listings · 挂牌中的项目",
    description="Public: the announcements whose period is running, the soonest end first "
    "(`intentions` is null here; read one announcement for them).",
)
async def list_running(session: SessionDep, page: PageDep) -> Any:
    items, total = await service.list_running(session, page=page)
    return Page.of(await service.present(session, None, items, detail=False), total, page)


@router.get(
    "/{announcement_id}",
    response_model=AnnouncementRead,
    responses=problem_responses(404, 422),
    summary="Read a listing announcement · 挂牌公告详情",
    description="Public, whatever its status. The seller's members, the deal's broker and "
    "administrators also see every intention; a buyer's member sees their organization's. "
    f"`ETag` is its version.\n{RULES}",
)
async def read(
    request: Request, session: SessionDep, user: OptionalUser, announcement_id: uuid.UUID, response: Response
) -> Any:
    announcement = await service.get(
        session, announcement_id=announcement_id, settings=request.app.state.settings
    )
    return await _present(session, user, announcement, response)


@router.patch(
    "/{announcement_id}",
    response_model=AnnouncementRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    summary="Change a listing announcement · 修改挂牌公告",
    description="""The seller side only (403 `seller_side_only`), while the period runs (409
`announcement_not_running`). Any change of content is a new `revision` and restarts the period from
today, extensions counted anew (audited with what changed); a request that changes nothing changes
nothing. Intentions offering less than a new floor are withdrawn (the buyer is told and may file
again); the others go back to `filed` for the seller to confirm against the new terms.
"""
    + CONCURRENCY
    + " `If-Match` is required here (428 without it).",
)
async def revise(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    announcement_id: uuid.UUID,
    body: AnnouncementUpdate,
    if_match: IfMatch,
    response: Response,
) -> Any:
    announcement = await service.revise(
        session,
        user=user,
        announcement_id=announcement_id,
        data=body,
        if_match=if_match,
        settings=request.app.state.settings,
    )
    return await _present(session, user, announcement, response)


@router.post(
    "/{announcement_id}/withdrawal",
    response_model=AnnouncementRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
    summary="Withdraw a listing · 撤牌",
    description="The seller side or an administrator, with a reason, while the period runs (409 "
    f"`announcement_not_running`); the buyers who filed are told.\n{CONCURRENCY}",
)
async def withdraw(
    session: SessionDep,
    user: CurrentUser,
    announcement_id: uuid.UUID,
    body: Withdrawal,
    if_match: OptionalIfMatch,
    response: Response,
) -> Any:
    announcement = await service.withdraw(
        session, user=user, announcement_id=announcement_id, reason=body.reason, if_match=if_match
    )
    return await _present(session, user, announcement, response)


@router.post(
    "/{announcement_id}/intentions",
    response_model=IntentionRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="File an intention · 提交意向受让申请",
    description="""A member of a verified organization (403 `organization_not_verified`), not of the
seller side (403 `seller_cannot_file`), while the period runs (409 `announcement_not_running`),
offering at least the floor price (422 `offer_below_floor` naming `offer_price`); one live intention
per organization (409 `duplicate_intention`). The seller answers within
`LISTING_INTENTION_ANSWER_WORKING_DAYS` working days (`answer_due_on`) and is told at once.""",
)
async def file_intention(
    request: Request, session: SessionDep, user: Member, announcement_id: uuid.UUID, body: IntentionCreate
) -> Any:
    intention = await intentions.file_intention(
        session, user=user, announcement_id=announcement_id, data=body, settings=request.app.state.settings
    )
    return await intentions.present_intention(session, intention)


@router.post(
    "/{announcement_id}/intentions/{intention_id}/decision",
    response_model=IntentionRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Qualify or reject an intention · 确认受让方资格",
    description="The seller side (403 `seller_side_only`) qualifies or rejects (a `reason` required) a "
    "`filed` intention (409 `intention_not_filed`) while the period runs (409 "
    "`announcement_not_running`); the buyer is told.",
)
async def decide(
    session: SessionDep,
    user: CurrentUser,
    announcement_id: uuid.UUID,
    intention_id: uuid.UUID,
    body: IntentionDecision,
) -> Any:
    intention = await intentions.decide(
        session, user=user, announcement_id=announcement_id, intention_id=intention_id, data=body
    )
    return await intentions.present_intention(session, intention)


@router.post(
    "/{announcement_id}/intentions/{intention_id}/withdrawal",
    response_model=IntentionRead,
    responses=problem_responses(401, 404, 409, 422),
    summary="Withdraw an intention · 撤回意向受让申请",
    description="The buyer's members take back an intention the seller has not answered (409 "
    "`intention_not_filed`) while the period runs (409 `announcement_not_running`); the seller is told. "
    "Another organization's intention does not exist for the caller (404).",
)
async def withdraw_intention(
    session: SessionDep, user: CurrentUser, announcement_id: uuid.UUID, intention_id: uuid.UUID
) -> Any:
    intention = await intentions.withdraw_intention(
        session, user=user, announcement_id=announcement_id, intention_id=intention_id
    )
    return await intentions.present_intention(session, intention)
