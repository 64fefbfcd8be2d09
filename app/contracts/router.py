import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from app.accounts.auth import CurrentUser
from app.accounts.models import User
from app.contracts import policy, public, repository, service, transitions
from app.contracts.documents import document_store
from app.contracts.http import ExactJSONRoute, IdempotencyKey, idempotent
from app.contracts.schemas import (
    AmendRequest,
    ApplicationCreate,
    ApplicationFields,
    ApplicationRead,
    CorrectionRequest,
    EventRead,
    ExpertOpinion,
    OptionalComment,
    QueueItem,
    Reason,
    RegisterRequest,
)
from app.contracts.vocabulary import ContractType
from app.contracts.workflow import Action, Status, allowed_actions
from app.core.db import SessionDep
from app.core.errors import NotFound, PreconditionFailed, problem_responses
from app.core.etags import if_match_version
from app.core.pagination import Page, PageDep

router = APIRouter(prefix="/contracts", tags=["contracts"], route_class=ExactJSONRoute)
public_router = APIRouter(tags=["contracts (public)"])

ACTION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description="the application's `version` you saw; 412 if it changed")
]


def _read(app: Any, user: User) -> ApplicationRead:
    read = ApplicationRead.model_validate(app)
    read.allowed_actions = allowed_actions(app.status, policy.capacities(user, app))
    return read


def _version(if_match: str | None) -> int | None:
    try:
        return if_match_version(if_match)
    except ValueError:
        raise PreconditionFailed(
            code="bad_if_match",
            message_en="If-Match must be a version number.",
            message_zh="If-Match 须为版本号。",
        ) from None


@router.post(
    "",
    response_model=ApplicationRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Start a registration application · 新建技术合同登记申请",
)
async def create_application(
    request: Request, session: SessionDep, user: CurrentUser, body: ApplicationCreate
) -> ApplicationRead:
    """Start an application for 技术合同认定登记 (a draft) as the seller side — for a technology import
    contract, the domestic buyer, the seller being abroad (no credit code, no region code). The
    applicant party is your organisation: its credit code must be your organisation's verified one
    (403 `organization_without_credit_code` / `organization_not_verified` otherwise; 422
    `not_applicant`), and its region is your organisation's registered region (may be left out; 422
    `not_applicant_region` if another). It is routed to that region's registration office (county,
    else city, else province). Amounts are strings or JSON numbers with at most two decimals;
    `claimed_technology_amount` must equal `contract_amount` minus the itemised deductions. Refused
    as implausible, naming the field (422): signed before `TECHEX_CONTRACT_SIGNED_ON_FLOOR` or in the
    future, validity ending before signing, buyer = seller, `contract_amount` above
    `TECHEX_CONTRACT_AMOUNT_CEILING`. 409 `duplicate_contract` (naming it in `duplicate_of`) while
    another application for the same contract — same parties, project name and signing date — is
    live or registered. The contract document is uploaded separately (`PUT …/document`)."""
    settings = request.app.state.settings
    return _read(await service.create_application(session, user=user, data=body, settings=settings), user)


@router.get(
    "",
    response_model=Page[ApplicationRead],
    responses=problem_responses(401),
    summary="List applications · 登记申请列表",
)
async def list_applications(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    status_: Annotated[Status | None, Query(alias="status")] = None,
) -> Page[ApplicationRead]:
    """Applications you may see: your organisation's, your office's (officers), all (administrators)."""
    rows, total = await repository.list_visible(session, user, page, status=status_)
    return Page.of([_read(r, user) for r in rows], total, page)


@router.get(
    "/queue",
    response_model=Page[QueueItem],
    responses=problem_responses(401, 403),
    summary="Officer's queue · 登记员待办",
)
async def officer_queue(session: SessionDep, user: CurrentUser, page: PageDep) -> Page[QueueItem]:
    """The office's work (登记员待办). New arrivals first — submitted applications waiting for
    acceptance and resubmissions after 补正 — longest waiting first, each with `waiting_since` (when
    it entered its current state) and `working_days_waited` (China's statutory working days after
    that day; 0 on the day itself). Then the other open applications by deadline, with overdue and
    due-soon flags; `working_days_left` is null until acceptance starts the clock."""
    items, total = await service.queue(session, user=user, page=page)
    return Page.of(items, total, page)


@router.get(
    "/{application_id}",
    response_model=ApplicationRead,
    responses=problem_responses(401, 404),
    summary="Read one application · 登记申请详情",
)
async def read_application(
    session: SessionDep, user: CurrentUser, application_id: uuid.UUID
) -> ApplicationRead:
    """One application with the actions you may take on it now."""
    return _read(await service.get_application(session, user=user, application_id=application_id), user)


@router.put(
    "/{application_id}",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Replace the application form · 修改登记申请",
)
async def update_application(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    body: ApplicationFields,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """Replace the form of a draft, or of an application waiting for correction (补正), by the rules
    of creation. Once submitted, the application stays at the office it was submitted to."""
    app = await service.update_application(
        session,
        user=user,
        application_id=application_id,
        data=body,
        expected_version=_version(if_match),
        settings=request.app.state.settings,
    )
    return _read(app, user)


@router.put(
    "/{application_id}/document",
    response_model=ApplicationRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    summary="Upload the contract document · 上传合同文本",
)
async def upload_document(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    name: Annotated[
        str, Query(min_length=1, max_length=255, pattern=r"^[^/\\<>\x00-\x1f]+$", description="文件名")
    ],
) -> ApplicationRead:
    """Upload the contract document (合同文本) as the raw request body (up to the server's body
    limit); the server computes its SHA-256 and records it with the name on the application (drafts
    and applications awaiting correction). The document is read back only through this application.
    409 `duplicate_contract` if another live or registered application has the same document."""
    store = document_store(request.app.state.settings.data_dir)
    app = await service.attach_document(
        session, user=user, application_id=application_id, name=name, data=await request.body(), store=store
    )
    return _read(app, user)


@router.get(
    "/{application_id}/document",
    responses={
        **problem_responses(401, 404),
        200: {"content": {"application/octet-stream": {}}, "description": "合同文本"},
    },
    summary="Download the contract document · 下载合同文本",
)
async def download_document(
    request: Request, session: SessionDep, user: CurrentUser, application_id: uuid.UUID
) -> Response:
    """The stored contract document, for those who may see the application."""
    app = await service.get_application(session, user=user, application_id=application_id)
    data = await document_store(request.app.state.settings.data_dir).get(app.id, app.document_sha256 or "")
    if data is None:
        raise NotFound(
            code="document_not_stored", message_en="No document was uploaded.", message_zh="未上传合同文本。"
        )
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": "attachment", "X-Content-SHA256": app.document_sha256 or ""},
    )


@router.get(
    "/{application_id}/history",
    response_model=Page[EventRead],
    responses=problem_responses(401, 404),
    summary="Application history · 登记申请历史",
)
async def application_history(
    session: SessionDep, user: CurrentUser, application_id: uuid.UUID, page: PageDep
) -> Page[EventRead]:
    """Every decision and amendment, oldest first, paged (`{items, total, limit, offset}`); superseded
    amounts stay here. 办理历史。"""
    await service.get_application(session, user=user, application_id=application_id)
    events, total = await repository.event_page(session, application_id, page)
    return Page.of([EventRead.model_validate(e) for e in events], total, page)


def _replay_guard(
    request: Request, session: SessionDep, user: User, application_id: uuid.UUID
) -> dict[str, Any]:
    """What `idempotent` needs to replay a stored answer on this application: how long keys last,
    and whether the application is still at the version that answer showed (else its status)."""

    async def changed_since(stored: Any) -> str | None:
        app = await service.get_application(session, user=user, application_id=application_id)
        if isinstance(stored, dict) and stored.get("version") == app.version:
            return None
        return app.status.value

    hours = request.app.state.settings.idempotency_key_hours
    return {"changed_since": changed_since, "ttl": timedelta(hours=hours)}


async def _act(
    request: Request,
    session: SessionDep,
    user: User,
    application_id: uuid.UUID,
    action: Action,
    params: dict[str, Any] | None = None,
    if_match: str | None = None,
) -> ApplicationRead:
    app = await transitions.act(
        session,
        user=user,
        application_id=application_id,
        action=action,
        settings=request.app.state.settings,
        params=params,
        expected_version=_version(if_match),
    )
    return _read(app, user)


@router.post(
    "/{application_id}/submit",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Submit to the office · 提交登记申请",
)
async def submit(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response:
    """Submit the draft to the office (applicant). Send an `Idempotency-Key` to retry safely: a
    retry replays the first answer while the application is unchanged since (409
    `idempotency_key_stale` once it has moved on); keys are forgotten after
    `TECHEX_IDEMPOTENCY_KEY_HOURS`."""
    return await idempotent(
        session,
        user=user,
        key=idempotency_key,
        route=f"submit:{application_id}",
        body=None,
        **_replay_guard(request, session, user, application_id),
        operation=lambda: _act(request, session, user, application_id, Action.submit, if_match=if_match),
    )


@router.post(
    "/{application_id}/accept",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Accept for review · 受理",
)
async def accept(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """受理 (officer): the review clock starts — 15 Chinese working days by default."""
    return await _act(request, session, user, application_id, Action.accept, if_match=if_match)


@router.post(
    "/{application_id}/request-correction",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Request correction · 要求补正",
)
async def request_correction(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    body: CorrectionRequest,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """补正 (officer): list what is missing; the clock restarts when the applicant resubmits."""
    return await _act(
        request, session, user, application_id, Action.request_correction, {"items": body.items}, if_match
    )


@router.post(
    "/{application_id}/resubmit",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Resubmit after correction · 补正后重新提交",
)
async def resubmit(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """Resubmit after correction (applicant): the acceptance date becomes today."""
    return await _act(request, session, user, application_id, Action.resubmit, if_match=if_match)


@router.post(
    "/{application_id}/start-review",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Start the review · 开始审查",
)
async def start_review(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """Start the review (officer). Large (≥ the threshold) or disputed contracts go to expert review."""
    return await _act(request, session, user, application_id, Action.start_review, if_match=if_match)


@router.post(
    "/{application_id}/refer-to-experts",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Refer to expert review · 提交专家评审",
)
async def refer_to_experts(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    body: Reason,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """Refer a disputed contract to expert review (officer): 30 working days from acceptance."""
    return await _act(
        request, session, user, application_id, Action.refer_to_experts, {"reason": body.reason}, if_match
    )


@router.post(
    "/{application_id}/expert-opinions",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Record an expert's opinion · 录入专家意见",
)
async def add_expert_opinion(
    request: Request, session: SessionDep, user: CurrentUser, application_id: uuid.UUID, body: ExpertOpinion
) -> ApplicationRead:
    """Record an expert's opinion (officer)."""
    return await _act(
        request,
        session,
        user,
        application_id,
        Action.add_expert_opinion,
        {"opinion": body.model_dump(mode="json")},
    )


@router.post(
    "/{application_id}/register",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Register the contract · 准予登记",
)
async def register(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    body: RegisterRequest,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response:
    """准予登记 (officer): certify the technology amount (above zero, never above the contract amount)
    and issue the registration number. A contract without a price (contract amount 0) is not
    registrable: 409 `no_contract_price`, refuse it instead. Send an `Idempotency-Key` to retry safely:
    a retry replays the first answer only while the application is unchanged since (409
    `idempotency_key_stale` after, say, an objection reopened it); keys are forgotten after
    `TECHEX_IDEMPOTENCY_KEY_HOURS`."""
    return await idempotent(
        session,
        user=user,
        key=idempotency_key,
        route=f"register:{application_id}",
        body=body,
        **_replay_guard(request, session, user, application_id),
        operation=lambda: _act(
            request,
            session,
            user,
            application_id,
            Action.register,
            {"technology_amount": body.technology_amount, "comment": body.comment},
            if_match,
        ),
    )


@router.post(
    "/{application_id}/refuse",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Refuse registration · 不予登记",
)
async def refuse(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    body: Reason,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """不予登记 (officer), with the reason."""
    return await _act(
        request, session, user, application_id, Action.refuse, {"reason": body.reason}, if_match
    )


@router.post(
    "/{application_id}/amend",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Amend the registration · 变更登记",
)
async def amend(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    body: AmendRequest,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """变更登记 (officer): the new amounts (both above zero) supersede the registered ones; history
    keeps the old. A change bringing the technology amount to the large-contract threshold or above
    does not take effect yet: the registration goes to `amendment_review` (expert review, 30 working
    days; `pending_*_amount` show the change) and keeps counting at its registered amounts; after
    an expert opinion, `amend` again (from `amendment_review`) makes the change take effect
    (409 `expert_review_required` before), or `reject-amendment` leaves the registration as it was."""
    params = {
        "contract_amount": body.contract_amount,
        "technology_amount": body.technology_amount,
        "reason": body.reason,
    }
    return await _act(request, session, user, application_id, Action.amend, params, if_match)


@router.post(
    "/{application_id}/reject-amendment",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Reject an amendment · 不予变更登记",
)
async def reject_amendment(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    body: Reason,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """不予变更登记 (officer), with the reason: a change under expert review does not take effect; the
    registration stays as it was."""
    return await _act(
        request, session, user, application_id, Action.reject_amendment, {"reason": body.reason}, if_match
    )


@router.post(
    "/{application_id}/cancel",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Cancel the registration · 注销登记",
)
async def cancel(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    application_id: uuid.UUID,
    body: Reason,
    if_match: IfMatch = None,
) -> ApplicationRead:
    """注销登记 (officer): the contract stops counting; its certificate verifies as cancelled."""
    return await _act(
        request, session, user, application_id, Action.cancel, {"reason": body.reason}, if_match
    )


@router.post(
    "/{application_id}/object",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Raise an objection · 提出异议",
)
async def raise_objection(
    request: Request, session: SessionDep, user: CurrentUser, application_id: uuid.UUID, body: Reason
) -> ApplicationRead:
    """异议 (applicant or administrator) to a refusal or to the certified amount."""
    return await _act(request, session, user, application_id, Action.object, {"reason": body.reason})


@router.post(
    "/{application_id}/reopen",
    response_model=ApplicationRead,
    responses=ACTION_ERRORS,
    summary="Reopen after an objection · 异议复核",
)
async def reopen(
    request: Request, session: SessionDep, user: CurrentUser, application_id: uuid.UUID, body: OptionalComment
) -> ApplicationRead:
    """Take up an objection (officer): the review reopens with a new clock — 15 working days, 30 for
    a large (by the amount claimed or certified) or disputed contract."""
    return await _act(request, session, user, application_id, Action.reopen, {"comment": body.comment})


@router.get(
    "/{application_id}/certificate",
    responses={
        **problem_responses(401, 404, 409),
        200: {"content": {"application/pdf": {}}, "description": "登记证明 PDF"},
    },
    summary="Download the certificate · 下载登记证明",
)
async def certificate_pdf(
    request: Request, session: SessionDep, user: CurrentUser, application_id: uuid.UUID
) -> Response:
    """The certificate (登记证明) as PDF, with a QR code of its public verification address. Only
    while registered: 409 `not_registered`, `registration_cancelled` (注销), `registration_revoked`
    (异议复核后不予登记) or `registration_suspended` (异议复核中)."""
    pdf, number = await service.certificate_pdf(
        session, user=user, application_id=application_id, base_url=request.app.state.settings.public_base_url
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{number}.pdf"'},
    )


@public_router.get(
    "/certificates/{number}",
    response_model=public.CertificatePublic,
    responses=problem_responses(404, 422),
    summary="Verify a certificate · 登记证明核验",
)
async def verify_certificate(
    session: SessionDep,
    number: Annotated[str, Path(pattern=r"^\d{14,16}$")],
    version: Annotated[
        int | None, Query(ge=1, le=10_000, description="证明版本（印在证明上，二维码中已含）")
    ] = None,
) -> public.CertificatePublic:
    """Check a registration number (no login): valid, amended, cancelled, revoked or suspended, with
    the public data, the current certificate version and its hash (数据交易凭证). With the `version`
    printed on a certificate (its QR code carries it), an older version answers `superseded`; a
    version never issued is 404 `certificate_version_not_found`."""
    return await public.verify(session, number, version)


@public_router.get(
    "/publicity/contracts",
    response_model=Page[public.PublicityItem],
    responses=problem_responses(422),
    summary="Registered contracts made public · 登记公示",
)
async def publicity(
    request: Request,
    session: SessionDep,
    page: PageDep,
    region: Annotated[str | None, Query(pattern=r"^\d{2,6}$", description="行政区划代码前缀")] = None,
    from_: Annotated[date | None, Query(alias="from", description="登记日期起（含）")] = None,
    to: Annotated[date | None, Query(description="登记日期止（含）")] = None,
    type_: Annotated[ContractType | None, Query(alias="type", description="合同类型")] = None,
) -> Page[public.PublicityItem]:
    """公示: registered contracts, newest first; amounts shown or hidden by the exchange's setting.
    Filters: the seller's region code prefix, registration dates, contract type. The same list as a
    page for people: `/publicity`."""
    return await public.publicity(
        session,
        page,
        show_amounts=request.app.state.settings.publicity_shows_amounts,
        region=region,
        since=from_,
        until=to,
        contract_type=type_,
    )


from app.contracts.calendar_admin import router as calendar_router  # noqa: E402

routers = (router, public_router, calendar_router)
