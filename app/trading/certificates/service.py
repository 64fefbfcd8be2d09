"""The transaction certificate (交易凭证): issued once per agreed deal by an administrator, revoked
with a ground and a reason, verified by anyone (docs/trading.md).

Issuing locks the deal row first (a second request for the same deal waits, then finds the first
certificate: 409), then takes the year's serial under the counter row's lock in the same
transaction, so numbers are gapless and unique."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, User
from app.audit.service import record
from app.core import clock
from app.core.config import Settings
from app.core.errors import Conflict, NotFound
from app.core.types import CHINA, in_yuan
from app.deals import repository as deal_repository
from app.deals import service as deals
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.interests import notify
from app.interests.repository import active_members
from app.listings.vocabulary import TransferMode
from app.matching.models import NotificationKind
from app.trading.certificates import documents, repository
from app.trading.certificates.schemas import (
    CertificateIssue,
    CertificateRead,
    CertificateRevocation,
    CertificateVerification,
)
from app.trading.models import TransactionCertificate
from app.trading.vocabulary import CertificateStatus, DepositStatus, PricingRoute, RevocationGround

# A deal is certified once it is agreed, and stays certifiable after (signed, registered); not
# while on hold or lost.
CERTIFIABLE = frozenset(
    {DealStage.agreed, DealStage.signed, DealStage.registration_submitted, DealStage.registered}
)
# The sellers art. 18 of the 促进科技成果转化法 binds to a pricing route.
PUBLIC_SELLERS = frozenset({OrganizationKind.university, OrganizationKind.research_institute})
NO_ROUTE_LABEL = "协议成交"
MODE_LABELS = {mode.value: mode.label for mode in TransferMode}

CERTIFICATE_NOT_FOUND = NotFound(
    code="transaction_certificate_not_found",
    message_en="No transaction certificate has this number.",
    message_zh="没有该编号的交易凭证。",
)


def china_day(at: datetime | None) -> date | None:
    return None if at is None else at.astimezone(CHINA).date()


def _refused(deal: Deal, code: str, en: str, zh: str, **extra: Any) -> Conflict:
    return Conflict(
        code=code, message_en=en, message_zh=zh, extra={"current_status": deal.stage.value, **extra}
    )


async def _listed_on(session: AsyncSession, deal: Deal) -> date | None:
    """The day the deal's pricing route made the subject public, once its result stands at the
    deal's price; 409 `route_result_not_standing` otherwise. None for a deal without a route."""
    missing = _refused(
        deal,
        "route_result_not_standing",
        "The deal's pricing route has no result standing at the agreed price.",
        "该项目的定价程序尚无按成交价有效的结果（公示未期满、挂牌未成交、竞价未成交或保证金已没收）。",
    )
    if deal.pricing_route is PricingRoute.agreed_publicity:
        publicity = await repository.completed_publicity(session, deal.id, deal.agreed_price)
        if publicity is None:
            raise missing
        return china_day(publicity.starts_at)
    if deal.pricing_route is PricingRoute.listing:
        listing = await repository.agreed_listing(session, deal.id, deal.buyer_organization_id)
        if listing is None or listing[1].offer_price != deal.agreed_price:
            raise missing
        return listing[0].period_starts_on
    if deal.pricing_route is PricingRoute.auction:
        sold = await repository.sold_auction(session, deal.id)
        if sold is None or sold[0].best_amount != deal.agreed_price:
            raise missing
        auction, winner = sold
        # A winner who did not sign in time forfeited the deposit: the seller decides what follows.
        if winner is None or winner.deposit_status is DepositStatus.forfeited:
            raise missing
        listing = await repository.announcement(session, auction.announcement_id)
        return listing.period_starts_on if listing is not None else china_day(auction.created_at)
    seller = await repository.organization(session, deal.seller_organization_id)
    if seller is not None and seller.kind in PUBLIC_SELLERS:
        raise _refused(
            deal,
            "pricing_route_required",
            "A university or research institute prices by agreement with publicity, listing or auction.",
            "高等院校、科研院所转让科技成果须通过协议定价公示、挂牌交易或拍卖确定价格。",
        )
    return None


def _check_certifiable(deal: Deal) -> None:
    if deal.stage not in CERTIFIABLE:
        raise _refused(
            deal,
            "deal_not_agreed",
            "Only an agreed deal (agreed, signed or registered) gets a transaction certificate.",
            "只有已成交（含已签订、已登记）的交易项目可以出具交易凭证。",
        )
    for field in ("seller_organization_id", "buyer_organization_id", "agreed_price"):
        if getattr(deal, field) is None:
            raise _refused(
                deal,
                "parties_required",
                "A certificate names both parties and the price.",
                "交易凭证须载明买卖双方和成交价。",
                field=field,
            )


async def _snapshot(
    session: AsyncSession,
    deal: Deal,
    *,
    number: str,
    listed_on: date | None,
    review_conclusion: str,
    issued_at: datetime,
    exchange: str,
) -> dict[str, str | None]:
    """What the certificate states, as strings (docs: how the hash is computed)."""
    seller = await repository.organization(session, deal.seller_organization_id)
    buyer = await repository.organization(session, deal.buyer_organization_id)
    assert seller is not None and buyer is not None and deal.agreed_price is not None
    broker = await repository.user(session, deal.broker_user_id)
    agency = await repository.organization(session, deal.broker_agency_id)
    achievement = await repository.achievement(session, deal.achievement_id)
    mode = deal.transfer_mode
    return {
        "format": documents.FORMAT,
        "number": number,
        "deal_id": str(deal.id),
        "project_title": deal.title,
        "subject": achievement.title if achievement is not None else deal.title,
        "transfer_mode": mode,
        "transfer_mode_label": MODE_LABELS.get(mode or "", "—"),
        "seller_name": seller.name,
        "seller_credit_code": seller.credit_code,
        "buyer_name": buyer.name,
        "buyer_credit_code": buyer.credit_code,
        "broker_name": (broker.full_name or broker.email) if broker is not None else None,
        "broker_agency": agency.name if agency is not None else None,
        "route": deal.pricing_route.value if deal.pricing_route else None,
        "route_label": deal.pricing_route.label if deal.pricing_route else NO_ROUTE_LABEL,
        "listed_on": listed_on.isoformat() if listed_on else None,
        "agreed_on": _iso(china_day(deal.reached_agreed_at)),
        "signed_on": _iso(china_day(deal.reached_signed_at)),
        "price": in_yuan(deal.agreed_price),
        "payment_terms": deal.payment_terms,
        "review_conclusion": review_conclusion,
        "issued_on": _iso(china_day(issued_at)),
        "exchange": exchange,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


async def _recipients(session: AsyncSession, deal: Deal) -> list[uuid.UUID]:
    users: list[uuid.UUID] = []
    for organization_id in (deal.seller_organization_id, deal.buyer_organization_id):
        if organization_id is not None:
            users += await active_members(session, organization_id)
    if deal.broker_user_id is not None:
        users.append(deal.broker_user_id)
    return users


async def _notify(
    session: AsyncSession,
    deal: Deal,
    kind: NotificationKind,
    title: str,
    explanation: list[str],
    **details: Any,
) -> None:
    # A deal without a listing (a broker's lead) is named by itself.
    kind_of_listing, listing_id = ("deal", deal.id)
    if deal.achievement_id is not None:
        kind_of_listing, listing_id = ("achievement", deal.achievement_id)
    elif deal.demand_id is not None:
        kind_of_listing, listing_id = ("demand", deal.demand_id)
    await notify.send(
        session,
        kind=kind,
        listing_kind=kind_of_listing,
        listing_id=listing_id,
        recipients=await _recipients(session, deal),
        title=title,
        explanation=explanation,
        details={"deal_id": str(deal.id), **details},
    )


async def issue(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, data: CertificateIssue, settings: Settings
) -> CertificateRead:
    deal = await deals.locked(session, user, deal_id, None)
    first = await repository.certificate_of_deal(session, deal.id)
    if first is not None:
        raise Conflict(
            code="duplicate_transaction_certificate",
            message_en=f"This deal already has transaction certificate {first.number}.",
            message_zh=f"该交易项目已出具交易凭证 {first.number}，不能重复出具。",
            extra={"duplicate_of": {"number": first.number, "status": first.status.value}},
        )
    _check_certifiable(deal)
    listed_on = await _listed_on(session, deal)
    issued_at = clock.now()
    year = issued_at.astimezone(CHINA).year
    number = f"JY-{year}-{await repository.next_serial(session, year):06d}"
    content = await _snapshot(
        session,
        deal,
        number=number,
        listed_on=listed_on,
        review_conclusion=data.review_conclusion,
        issued_at=issued_at,
        exchange=settings.certificate_exchange_name,
    )
    certificate = TransactionCertificate(
        deal_id=deal.id,
        number=number,
        content=content,
        content_hash=documents.digest(content),
        review_conclusion=data.review_conclusion,
        issued_at=issued_at,
        issued_by_id=user.id,
    )
    session.add(certificate)
    await session.flush()
    await record(
        session,
        actor=user,
        object_type="transaction_certificate",
        object_id=certificate.id,
        action="issued",
        changes={"deal_id": deal.id, "number": number, "content_hash": certificate.content_hash},
    )
    await _notify(
        session,
        deal,
        NotificationKind.transaction_certificate_issued,
        f"交易凭证 {number} 已出具",
        [
            f"交易项目“{deal.title}”的交易凭证已出具。",
            f"成交价 {content['price']} 元；交易方式：{content['route_label']}。",
        ],
        number=number,
    )
    return present(certificate, settings)


def present(certificate: TransactionCertificate, settings: Settings) -> CertificateRead:
    return CertificateRead(
        number=certificate.number,
        deal_id=certificate.deal_id,
        status=certificate.status,
        content=certificate.content,
        content_hash=certificate.content_hash,
        review_conclusion=certificate.review_conclusion,
        issued_at=certificate.issued_at,
        issued_by_id=certificate.issued_by_id,
        revoked_at=certificate.revoked_at,
        revocation_ground=certificate.revocation_ground,
        revocation_reason=certificate.revocation_reason,
        verification_url=documents.verification_url(settings.public_base_url, certificate.number),
    )


async def _visible(
    session: AsyncSession, user: User, number: str, *, lock: bool = False
) -> tuple[TransactionCertificate, Deal]:
    """The certificate if `user` stands in its deal (the deal's visibility rule); 404 otherwise, the
    same as for a number never issued."""
    certificate = await repository.certificate(session, number, lock=lock)
    if certificate is None:
        raise CERTIFICATE_NOT_FOUND
    deal = await deal_repository.get_visible(session, user, certificate.deal_id)
    if deal is None:
        raise CERTIFICATE_NOT_FOUND
    return certificate, deal


async def get(session: AsyncSession, *, user: User, number: str, settings: Settings) -> CertificateRead:
    certificate, _ = await _visible(session, user, number)
    return present(certificate, settings)


def _revoked(en: str, zh: str) -> Conflict:
    return Conflict(
        code="transaction_certificate_revoked",
        message_en=en,
        message_zh=zh,
        extra={"current_status": CertificateStatus.revoked.value},
    )


async def pdf(session: AsyncSession, *, user: User, number: str, settings: Settings) -> bytes:
    certificate, _ = await _visible(session, user, number)
    if certificate.status is CertificateStatus.revoked:
        raise _revoked(
            "The certificate was revoked; none is printed any more.", "该交易凭证已撤销，不再出具。"
        )
    return documents.certificate_pdf(
        certificate.content, content_hash=certificate.content_hash, base_url=settings.public_base_url
    )


async def revoke(
    session: AsyncSession, *, user: User, number: str, data: CertificateRevocation, settings: Settings
) -> CertificateRead:
    certificate, deal = await _visible(session, user, number, lock=True)
    if certificate.status is CertificateStatus.revoked:
        raise _revoked("The certificate is already revoked.", "该交易凭证已撤销。")
    certificate.status = CertificateStatus.revoked
    certificate.revoked_at = clock.now()
    certificate.revoked_by_id = user.id
    certificate.revocation_ground = data.ground
    certificate.revocation_reason = data.reason
    await session.flush()
    await record(
        session,
        actor=user,
        object_type="transaction_certificate",
        object_id=certificate.id,
        action="revoked",
        changes={"status": ["valid", "revoked"], "ground": data.ground, "reason": data.reason},
    )
    await _notify(
        session,
        deal,
        NotificationKind.transaction_certificate_revoked,
        f"交易凭证 {number} 已撤销",
        [f"撤销事由：{data.ground.label}。", f"理由：{data.reason}"],
        number=number,
        ground=data.ground.value,
    )
    return present(certificate, settings)


async def verify(session: AsyncSession, number: str, *, show_amounts: bool) -> CertificateVerification:
    """Anyone's check of a number: valid or revoked (ground, reason, date), the hash, and the few
    facts a printout is compared with; no contacts, no credit codes."""
    certificate = await repository.certificate(session, number)
    if certificate is None:
        raise CERTIFICATE_NOT_FOUND
    content = certificate.content
    ground = certificate.revocation_ground
    return CertificateVerification(
        number=certificate.number,
        status=certificate.status,
        status_label=certificate.status.label,
        project_title=content["project_title"],
        route_label=content["route_label"],
        seller_name=content["seller_name"],
        buyer_name=content["buyer_name"],
        price=content["price"] if show_amounts else None,
        issued_on=date.fromisoformat(content["issued_on"]),
        content_hash=certificate.content_hash,
        revoked_on=china_day(certificate.revoked_at),
        revocation_ground=ground,
        revocation_ground_label=RevocationGround(ground).label if ground else None,
        revocation_reason=certificate.revocation_reason,
    )
