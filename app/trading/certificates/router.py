"""The deal confirmation (成交确认书) and the transaction certificate (交易凭证): issue, read, print,
revoke, and the public verification. Routers parse, authorise and present; the services hold the
rules."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from app.accounts.auth import AdminUser, CurrentUser
from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.trading.certificates import confirmation, service
from app.trading.certificates.schemas import (
    NUMBER_PATTERN,
    CertificateIssue,
    CertificateRead,
    CertificateRevocation,
    CertificateVerification,
)

router = APIRouter(tags=["trading · 交易凭证"])
Number = Annotated[str, Path(pattern=NUMBER_PATTERN, description="凭证编号 JY-<年份>-<流水号>")]
PDF = {200: {"content": {"application/pdf": {}}, "description": "PDF"}}
WHO = """
**Who.** The deal's parties (members of its seller and buyer organizations), its broker and
administrators; to anyone else the certificate does not exist (404
`transaction_certificate_not_found`, as for a number never issued)."""


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.get(
    "/deals/{deal_id}/confirmation.pdf",
    responses={**problem_responses(401, 404, 409), **PDF},
    summary="Download the deal confirmation · 下载成交确认书",
)
async def confirmation_pdf(
    request: Request, session: SessionDep, user: CurrentUser, deal_id: uuid.UUID
) -> Response:
    """The deal confirmation (成交确认书) of a deal agreed by a listing (its one qualified buyer) or
    sold by an auction: parties, subject, route, price, the listing's period or the auction's bid
    count and close, and the deposit. 409 `no_trading_result` for any other deal. The deal's
    parties, broker and administrators only (404 `deal_not_found` to anyone else)."""
    pdf = await confirmation.confirmation_pdf(
        session, user=user, deal_id=deal_id, settings=_settings(request)
    )
    return _pdf(pdf, f"confirmation-{deal_id}.pdf")


@router.post(
    "/deals/{deal_id}/transaction-certificate",
    response_model=CertificateRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Issue the transaction certificate · 出具交易凭证",
)
async def issue(
    request: Request,
    session: SessionDep,
    user: AdminUser,
    deal_id: uuid.UUID,
    body: CertificateIssue,
    response: Response,
) -> CertificateRead:
    """Administrators: the deal's one transaction certificate, numbered JY-<year>-<serial> (gapless
    per year), with the exchange's review conclusion. The deal must be agreed (or signed,
    registered: 409 `deal_not_agreed`), name both parties and the price (409 `parties_required`),
    and its pricing route's result must stand at the agreed price (409 `route_result_not_standing`);
    a university or research institute seller without a route is refused (409
    `pricing_route_required`), another seller's deal without a route is certified as 协议成交. A
    second request is 409 `duplicate_transaction_certificate` naming the first in `duplicate_of`;
    of concurrent requests exactly one succeeds. The parties and the broker are notified."""
    read = await service.issue(session, user=user, deal_id=deal_id, data=body, settings=_settings(request))
    response.headers["Location"] = f"/api/v1/transaction-certificates/{read.number}"
    return read


@router.get(
    "/transaction-certificates/{number}.pdf",
    responses={**problem_responses(401, 404, 409), **PDF},
    summary="Download a transaction certificate · 下载交易凭证",
    description="The certificate as PDF, with a QR code of its public verification page "
    "(`/verify/trade/{number}`) and its SHA-256. A revoked certificate is not printed (409 "
    f"`transaction_certificate_revoked`).{WHO}",
)
async def certificate_pdf(
    request: Request, session: SessionDep, user: CurrentUser, number: Number
) -> Response:
    pdf = await service.pdf(session, user=user, number=number, settings=_settings(request))
    return _pdf(pdf, f"transaction-certificate-{number}.pdf")


@router.get(
    "/transaction-certificates/{number}",
    response_model=CertificateRead,
    responses=problem_responses(401, 404),
    summary="Read a transaction certificate · 交易凭证详情",
    description=f"The certificate with its full snapshot (`content`: what is printed and hashed).{WHO}",
)
async def read(request: Request, session: SessionDep, user: CurrentUser, number: Number) -> CertificateRead:
    return await service.get(session, user=user, number=number, settings=_settings(request))


@router.post(
    "/transaction-certificates/{number}/revocation",
    response_model=CertificateRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Revoke a transaction certificate · 撤销交易凭证",
)
async def revoke(
    request: Request, session: SessionDep, user: AdminUser, number: Number, body: CertificateRevocation
) -> CertificateRead:
    """Administrators: revoke on one of the grounds (a party was unqualified, the procedure was
    broken, documents were false) with a reason; public verification then answers `revoked` with
    both and the date. Once only (409 `transaction_certificate_revoked`). The parties and the broker
    are notified."""
    return await service.revoke(session, user=user, number=number, data=body, settings=_settings(request))


@router.get(
    "/transaction-certificates/{number}/verification",
    response_model=CertificateVerification,
    responses=problem_responses(404, 422),
    summary="Verify a transaction certificate · 交易凭证核验",
)
async def verify(request: Request, session: SessionDep, number: Number) -> CertificateVerification:
    """No login: whether the number stands for a valid or a revoked certificate (with the ground,
    reason and date), its SHA-256 (a printout must show the same) and the few public facts: project,
    route, seller and buyer names, the price (unless the exchange publishes without amounts), the
    issue date. No contacts, no credit codes. 404 `transaction_certificate_not_found` for a number
    never issued."""
    return await service.verify(session, number, show_amounts=_settings(request).publicity_shows_amounts)
