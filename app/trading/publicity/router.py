"""`/api/v1/deals/{id}/pricing-publicity` (publish) and `/api/v1/publicity/pricing…` (the public
list, objections and their decision). Thin: parse, call the service, present."""

import re
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status

from app.accounts.auth import CurrentUser
from app.confidential.router import MULTIPART_OVERHEAD
from app.contracts.http import ExactJSONRoute
from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep
from app.trading.publicity import service
from app.trading.publicity.schemas import (
    DecisionIn,
    DecisionRead,
    ObjectionRead,
    PublicityCreate,
    PublicityRead,
)

OBJECTION_PATH = re.compile(r"^/api/v1/publicity/pricing/[^/]+/objections$")

PERIOD = """**The period.** `TECHEX_PRICING_PUBLICITY_DAYS` calendar days (default 15), the day of
publication not counted: it ends at 24:00 Asia/Shanghai of the last day (`ends_at`). An objection
suspends it; a dismissal resumes it with the time it had left, counted from the decision."""


def upload_limits(settings: Settings) -> dict[re.Pattern[str], int]:
    """The body limit of an objection's upload (BodySizeLimitMiddleware), above the app-wide one."""
    return {OBJECTION_PATH: settings.pricing_objection_document_max_bytes + MULTIPART_OVERHEAD}


deals_router = APIRouter(prefix="/deals", tags=["trading · 交易方式"], route_class=ExactJSONRoute)
router = APIRouter(prefix="/publicity/pricing", tags=["trading · 交易方式"], route_class=ExactJSONRoute)


@deals_router.post(
    "/{deal_id}/pricing-publicity",
    response_model=PublicityRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Publish the agreed price · 发布协议定价公示",
    description="The seller's members or the deal's broker publish the achievement's name and the "
    "deal's `agreed_price` (optional `terms`) on the public list; the deal's `pricing_route` becomes "
    "`agreed_publicity`. The deal must be `agreed` (409 `deal_not_agreed`) and its seller a "
    "university or research institute, its price not set by a listing or auction (else 409 "
    "`publicity_not_applicable`); 409 `publicity_live` while "
    f"one runs or is suspended. Audited.\n\n{PERIOD}",
)
async def publish(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    deal_id: uuid.UUID,
    body: PublicityCreate,
    response: Response,
) -> Any:
    publicity = await service.publish(
        session, user=user, deal_id=deal_id, terms=body.terms, settings=request.app.state.settings
    )
    response.headers["Location"] = f"/api/v1/publicity/pricing/{publicity.id}"
    return service.present(publicity)


@router.get(
    "",
    response_model=Page[PublicityRead],
    responses=problem_responses(422),
    summary="Running pricing publicities · 协议定价公示列表",
    description="Anonymous. Publicities running or suspended by an objection, the soonest to end "
    "first: the achievement, the price, the period and the status — never the parties' contacts."
    f"\n\n{PERIOD}",
)
async def list_(session: SessionDep, page: PageDep) -> Any:
    rows, total = await service.page_live(session, page)
    return Page.of([service.present(p) for p in rows], total, page)


@router.get(
    "/{publicity_id}",
    response_model=PublicityRead,
    responses=problem_responses(404, 422),
    summary="A pricing publicity · 协议定价公示详情",
    description=f"Anonymous; in any status (completed, objection upheld …).\n\n{PERIOD}",
)
async def read(session: SessionDep, publicity_id: uuid.UUID) -> Any:
    return service.present(await service.get(session, publicity_id))


@router.post(
    "/{publicity_id}/objections",
    response_model=ObjectionRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 404, 409, 413, 415, 422),
    summary="Object to a pricing publicity · 提出异议",
    description="Any signed-in user, during the period only (409 `publicity_ended` after it). "
    "Multipart: `reason` (required, up to 2,000 characters) and an optional `file` — PDF, "
    "Word/Excel/PowerPoint (OOXML), PNG, JPEG or UTF-8 text by its declared type and its bytes alike "
    "(else 415 `unsupported_document_type`), at most `TECHEX_PRICING_OBJECTION_DOCUMENT_MAX_BYTES` "
    "(422 naming `file`). The publicity is suspended (its clock stands still) and the seller side is "
    "told; 409 `objection_pending` while the caller's earlier objection is pending.",
    generate_unique_id_function=lambda route: "object_to_pricing_publicity",
)
async def object_(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    publicity_id: uuid.UUID,
    reason: Annotated[str, Form(description="异议理由")],
    file: Annotated[UploadFile | None, File(description="证明材料（可选）")] = None,
) -> Any:
    settings = request.app.state.settings
    document = None
    if file is not None:
        data = await file.read(settings.pricing_objection_document_max_bytes + 1)
        document = (file.filename, file.content_type, data)
    return await service.object_(
        session, user=user, publicity_id=publicity_id, reason=reason, document=document, settings=settings
    )


@router.get(
    "/{publicity_id}/objections",
    response_model=Page[ObjectionRead],
    responses=problem_responses(401, 404, 422),
    summary="Objections to a pricing publicity · 异议列表",
    description="The seller's members and administrators see every objection (to decide them), "
    "oldest first; anyone else signed in, their own.",
)
async def objections(session: SessionDep, user: CurrentUser, publicity_id: uuid.UUID, page: PageDep) -> Any:
    rows, total = await service.objections(session, user=user, publicity_id=publicity_id, page=page)
    return Page.of([ObjectionRead.model_validate(o) for o in rows], total, page)


@router.get(
    "/{publicity_id}/objections/{objection_id}/document",
    response_class=Response,
    responses={
        **problem_responses(401, 404),
        200: {"content": {"application/octet-stream": {}}, "description": "the document"},
    },
    summary="An objection's document · 下载异议证明材料",
    description="The seller's members, administrators and the objector; anyone else 404 "
    "`objection_not_found`, as when there is none.",
)
async def document(
    session: SessionDep, user: CurrentUser, publicity_id: uuid.UUID, objection_id: uuid.UUID
) -> Response:
    objection = await service.objection_document(
        session, user=user, publicity_id=publicity_id, objection_id=objection_id
    )
    assert objection.document is not None and objection.document_name is not None
    return Response(
        objection.document,
        media_type=objection.document_content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(objection.document_name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/{publicity_id}/objections/{objection_id}/decision",
    response_model=DecisionRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Decide an objection · 处理异议",
    description="The seller's members or an administrator (403 `seller_side_only`). `uphold`: the "
    "publicity ends (`objection_upheld`) and the deal goes back to `negotiating`; `dismiss`: once no "
    "other objection is pending the publicity runs again, `ends_at` = now + `remaining_seconds`. "
    "409 `objection_decided` if already decided. The objector is told. Audited.",
)
async def decide(
    session: SessionDep, user: CurrentUser, publicity_id: uuid.UUID, objection_id: uuid.UUID, body: DecisionIn
) -> Any:
    objection, publicity = await service.decide(
        session,
        user=user,
        publicity_id=publicity_id,
        objection_id=objection_id,
        decision=body.decision,
        note=body.note,
    )
    return {"objection": objection, "publicity": service.present(publicity)}
