"""`/api/v1/{achievements|demands}/{id}/confidential…` (the details and their documents) and
`/api/v1/deals/{id}/disclosures|undertakings` (who may read them in a deal). Thin: parse, call the
service, present."""

import re
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, File, Query, Request, Response, UploadFile, status

from app.accounts.auth import CurrentUser
from app.confidential import disclosure, service, undertaking
from app.confidential.schemas import (
    ConfidentialRead,
    ConfidentialText,
    DisclosureRead,
    DocumentRead,
    ListingRef,
    UndertakingCreate,
    UndertakingRead,
    UndertakingText,
)
from app.contracts.documents import DocumentStore, document_store
from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep
from app.listings.kinds import KINDS
from app.listings.router import IfMatch

STORE = "confidential-documents"
# Uploads are multipart: the file plus the form's boundaries and headers.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_PATH = re.compile(r"^/api/v1/(achievements|demands)/[^/]+/confidential/documents$")

READ_RULE = """
**Who reads.** The owning organization's members and administrators (each administrator's read is
audited). A deal's counterpart (a member of the buyer organization for an achievement, of the
seller organization for a demand) and the deal's broker only while the deal is not lost (403
`deal_closed`), after the owner approved disclosure for that deal (`POST /deals/{id}/disclosures`;
else 403 `disclosure_not_approved`) and after that very user recorded a confidentiality undertaking
for the current version of the details (`POST /deals/{id}/undertakings`; else 403
`undertaking_required` with `current_version`). Every such read is audited (who, which version,
which deal). Anyone else: 404 `confidential_details_not_found`, as when there are none.
`deal_id` names the deal to read through when the caller stands in several."""

WRITE_RULE = """The owning organization's members and administrators; others 403 `not_listing_owner`
(404 if they cannot see the listing). Every change bumps `version` (the ETag) and is audited
(the text by its SHA-256 and length, never its content); send the ETag back as `If-Match`
(412 with `current_version` if it moved; `"0"` before anything was written). After a change,
counterparts must undertake again for the new version."""


def upload_limits(settings: Settings) -> dict[re.Pattern[str], int]:
    """The body limit of document uploads (BodySizeLimitMiddleware), above the app-wide one."""
    return {UPLOAD_PATH: settings.confidential_document_max_bytes + MULTIPART_OVERHEAD}


def _store(request: Request) -> DocumentStore:
    return document_store(request.app.state.settings.data_dir, STORE)


def _present(reading: service.Reading, response: Response) -> ConfidentialRead:
    response.headers["ETag"] = f'"{reading.details.version}"'
    response.headers["Cache-Control"] = "no-store"
    return ConfidentialRead(
        listing_kind=reading.kind,  # type: ignore[arg-type]
        listing_id=reading.listing_id,
        version=reading.details.version,
        text=reading.details.text,
        documents=[DocumentRead.model_validate(d) for d in reading.documents],
        updated_at=reading.details.updated_at,
        access=reading.access,
        deal_id=reading.deal.id if reading.deal else None,
    )


DealQuery = Annotated[uuid.UUID | None, Query(description="the deal to read through (counterparts, brokers)")]


def build_router(kind: str) -> APIRouter:
    spec = KINDS[kind]
    label = spec.label_zh
    router = APIRouter(prefix=f"/{spec.path}/{{listing_id}}/confidential", tags=[f"{spec.path} · {label}"])

    @router.get(
        "",
        response_model=ConfidentialRead,
        responses=problem_responses(401, 403, 404),
        summary=f"Read {spec.a_kind}'s confidential details · 查看{label}保密信息",
        description=READ_RULE,
    )
    async def read(
        session: SessionDep,
        user: CurrentUser,
        listing_id: uuid.UUID,
        response: Response,
        deal_id: DealQuery = None,
    ) -> ConfidentialRead:
        reading = await service.read(session, kind, user=user, listing_id=listing_id, deal_id=deal_id)
        return _present(reading, response)

    @router.put(
        "",
        response_model=ConfidentialRead,
        responses=problem_responses(401, 403, 404, 412, 422),
        summary=f"Write {spec.a_kind}'s confidential text · 填写{label}保密信息",
        description="Replace the confidential text (422 `validation_failed` naming `text` past "
        "`TECHEX_CONFIDENTIAL_TEXT_MAX_CHARS`). Never indexed, listed, exported or sent in a webhook."
        f"\n\n{WRITE_RULE}",
    )
    async def write(
        request: Request,
        session: SessionDep,
        user: CurrentUser,
        listing_id: uuid.UUID,
        body: ConfidentialText,
        if_match: IfMatch,
        response: Response,
    ) -> ConfidentialRead:
        reading = await service.write_text(
            session,
            kind,
            user=user,
            listing_id=listing_id,
            text=body.text,
            if_match=if_match,
            settings=request.app.state.settings,
        )
        return _present(reading, response)

    @router.post(
        "/documents",
        response_model=ConfidentialRead,
        status_code=status.HTTP_201_CREATED,
        responses=problem_responses(401, 403, 404, 412, 413, 415, 422),
        summary=f"Add a confidential document · 上传{label}保密文件",
        description="Multipart field `file`: PDF, Word/Excel/PowerPoint (OOXML), PNG, JPEG or UTF-8 "
        "text, by its declared type and its bytes alike (else 415 `unsupported_document_type`); at most "
        "`TECHEX_CONFIDENTIAL_DOCUMENT_MAX_BYTES` (422 naming `file`, 413 far beyond) and "
        f"`TECHEX_CONFIDENTIAL_DOCUMENTS_MAX` documents per listing (422).\n\n{WRITE_RULE}",
        # Names the operation and its multipart body schema plainly (the path's id would add "__").
        generate_unique_id_function=lambda route: f"add_{kind}_confidential_document",
    )
    async def add_document(
        request: Request,
        session: SessionDep,
        user: CurrentUser,
        listing_id: uuid.UUID,
        file: Annotated[UploadFile, File(description="the document")],
        if_match: IfMatch,
        response: Response,
    ) -> ConfidentialRead:
        settings = request.app.state.settings
        reading, document = await service.add_document(
            session,
            kind,
            user=user,
            listing_id=listing_id,
            name=file.filename,
            content_type=file.content_type,
            data=await file.read(settings.confidential_document_max_bytes + 1),
            if_match=if_match,
            store=_store(request),
            settings=settings,
        )
        response.headers["Location"] = (
            f"/api/v1/{spec.path}/{listing_id}/confidential/documents/{document.id}"
        )
        return _present(reading, response)

    @router.get(
        "/documents/{document_id}",
        response_class=Response,
        responses={
            **problem_responses(401, 403, 404),
            200: {"content": {"application/octet-stream": {}}, "description": "the document"},
        },
        summary=f"Download a confidential document · 下载{label}保密文件",
        description=READ_RULE,
    )
    async def download(
        request: Request,
        session: SessionDep,
        user: CurrentUser,
        listing_id: uuid.UUID,
        document_id: uuid.UUID,
        deal_id: DealQuery = None,
    ) -> Response:
        document, data = await service.read_document(
            session,
            kind,
            user=user,
            listing_id=listing_id,
            document_id=document_id,
            deal_id=deal_id,
            store=_store(request),
        )
        return Response(
            data,
            media_type=document.content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.name)}",
                "X-Content-SHA256": document.sha256,
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    @router.delete(
        "/documents/{document_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=problem_responses(401, 403, 404, 412),
        summary=f"Delete a confidential document · 删除{label}保密文件",
        description=f"The document's bytes are removed once the deletion is committed.\n\n{WRITE_RULE}",
    )
    async def delete_document(
        request: Request,
        session: SessionDep,
        user: CurrentUser,
        listing_id: uuid.UUID,
        document_id: uuid.UUID,
        if_match: IfMatch,
        after: BackgroundTasks,
    ) -> None:
        document = await service.delete_document(
            session, kind, user=user, listing_id=listing_id, document_id=document_id, if_match=if_match
        )
        # Background tasks run after the response, so after the commit: a rolled-back deletion
        # keeps its bytes.
        after.add_task(_store(request).delete, document.id)

    return router


deals_router = APIRouter(prefix="/deals/{deal_id}", tags=["deals · 交易项目"])


@deals_router.get(
    "/disclosures",
    response_model=Page[DisclosureRead],
    responses=problem_responses(401, 404),
    summary="A deal's disclosures · 交易项目的保密信息披露",
)
async def list_disclosures(session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, page: PageDep) -> Any:
    """Every approval of disclosure in this deal, revoked ones too, oldest first. Those who see the
    deal (its parties, its broker, administrators); others 404 `deal_not_found`."""
    rows, total = await disclosure.list_disclosures(session, user=user, deal_id=deal_id, page=page)
    return Page.of([DisclosureRead.model_validate(r) for r in rows], total, page)


@deals_router.post(
    "/disclosures",
    response_model=DisclosureRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": DisclosureRead, "description": "already approved: the approval in force"},
        **problem_responses(401, 403, 404, 409, 422),
    },
    summary="Approve disclosure in a deal · 同意在交易中披露保密信息",
)
async def approve(
    session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, body: ListingRef, response: Response
) -> Any:
    """The listing's owner (a member of its organization; not an administrator: 403
    `not_listing_owner`) lets the deal's counterpart and broker read its confidential details, each
    after their own undertaking. The listing must be the deal's (422 `validation_failed` naming
    `listing_id`); a lost deal answers 409 `deal_closed`. Audited; revocable."""
    approval, created = await disclosure.approve(
        session, user=user, deal_id=deal_id, kind=body.listing_kind, listing_id=body.listing_id
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return DisclosureRead.model_validate(approval)


@deals_router.delete(
    "/disclosures/{disclosure_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409),
    summary="Revoke a disclosure · 撤回保密信息披露",
)
async def revoke(
    session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, disclosure_id: uuid.UUID
) -> None:
    """The listing's owner withdraws the approval: from now on the counterpart and broker read
    nothing (403 `disclosure_not_approved`). Audited; 409 `disclosure_revoked` if already revoked."""
    await disclosure.revoke(session, user=user, deal_id=deal_id, disclosure_id=disclosure_id)


@deals_router.get(
    "/undertakings",
    response_model=Page[UndertakingRead],
    responses=problem_responses(401, 404),
    summary="A deal's confidentiality undertakings · 交易项目的保密承诺",
)
async def list_undertakings(session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, page: PageDep) -> Any:
    """Who undertook, when, for which version of which listing's details, under which text version."""
    rows, total = await disclosure.list_undertakings(session, user=user, deal_id=deal_id, page=page)
    return Page.of([UndertakingRead.model_validate(r) for r in rows], total, page)


@deals_router.post(
    "/undertakings",
    response_model=UndertakingRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": UndertakingRead, "description": "already undertaken for this version"},
        **problem_responses(401, 403, 404, 409, 422),
    },
    summary="Record a confidentiality undertaking · 签署保密承诺",
)
async def undertake(
    session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, body: UndertakingCreate, response: Response
) -> Any:
    """The caller (a member of the deal's counterpart, or its broker; else 403 `not_counterpart`)
    undertakes to keep the listing's details secret (`GET /confidentiality-undertaking` is the
    text), for the version they name: 409 `details_version_changed` with `current_version` if the
    details moved on, 422 naming `text_version` if the text did. Needs the owner's approval first
    (403 `disclosure_not_approved`); a lost deal answers 409 `deal_closed`. Each user undertakes for
    themselves, and again for each new version of the details. Audited."""
    row, created = await disclosure.undertake(
        session,
        user=user,
        deal_id=deal_id,
        kind=body.listing_kind,
        listing_id=body.listing_id,
        details_version=body.details_version,
        text_version=body.text_version,
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return UndertakingRead.model_validate(row)


text_router = APIRouter(tags=["deals · 交易项目"])


@text_router.get(
    "/confidentiality-undertaking",
    response_model=UndertakingText,
    summary="The confidentiality undertaking's text · 保密承诺文本",
)
async def undertaking_text() -> UndertakingText:
    """The text a reader accepts with `POST /deals/{id}/undertakings`, and its version."""
    return UndertakingText(version=undertaking.TEXT_VERSION, text=undertaking.TEXT)


routers = (*(build_router(kind) for kind in ("achievement", "demand")), deals_router, text_router)
