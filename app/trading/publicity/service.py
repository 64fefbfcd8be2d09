"""协议定价公示: a university's or research institute's seller publishes the price agreed in
negotiation; anyone signed in may object during the period, which suspends it until the seller or
an administrator decides. Services flush, never commit; every change is audited in the same
transaction; every time is the server's (`app.core.clock`)."""

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, Role, User
from app.audit import service as audit
from app.confidential.service import document_name, document_type
from app.core import clock
from app.core.config import Settings
from app.core.db import add_unique
from app.core.errors import Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from app.core.pagination import PageParams
from app.core.types import CHINA, safe_text
from app.deals import policy
from app.deals import service as deals
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.listings.models import Achievement
from app.matching.models import NotificationKind
from app.trading.guards import PUBLIC_SELLERS, SYSTEM_ROUTES
from app.trading.models import Auction, ListingAnnouncement, PricingPublicity, PublicityObjection
from app.trading.publicity import repository
from app.trading.publicity.completion import OBJECT, complete_if_due, parties, tell
from app.trading.publicity.schemas import Decision
from app.trading.vocabulary import ObjectionStatus, PricingRoute, PublicityStatus

_REASON = TypeAdapter(safe_text(max_length=2000, min_length=1))

NOT_FOUND = NotFound(
    code="publicity_not_found", message_en="No such pricing publicity.", message_zh="协议定价公示不存在。"
)
OBJECTION_NOT_FOUND = NotFound(
    code="objection_not_found", message_en="No such objection.", message_zh="异议不存在。"
)


def period_end(published_at: datetime, days: int) -> datetime:
    """The end of the period: 24:00 (Asia/Shanghai) of the `days`-th calendar day after the day of
    publication — the day it starts does not count (民法典 art. 201)."""
    first = published_at.astimezone(CHINA).date()
    return datetime.combine(first + timedelta(days=days + 1), time(0), CHINA).astimezone(published_at.tzinfo)


def seconds_left(ends_at: datetime, now: datetime) -> int:
    # Rounded up: a suspension never shortens the period.
    return max(0, math.ceil((ends_at - now).total_seconds()))


def present(publicity: PricingPublicity) -> dict[str, Any]:
    return {
        **{c.key: getattr(publicity, c.key) for c in PricingPublicity.__table__.columns},
        "status_label": publicity.status.label,
    }


# --- publishing ----------------------------------------------------------------------------------


async def publish(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, terms: str, settings: Settings
) -> PricingPublicity:
    """The seller side (or the deal's broker) publishes the deal's agreed price for the set period;
    the deal's pricing route becomes agreed_publicity."""
    deal = await deals.locked(session, user, deal_id, None)
    if not policy.acts_for_seller(user, deal):
        raise NotPermitted(
            code="seller_side_only",
            message_en="Only the seller's members or the deal's broker publish its price.",
            message_zh="只有卖方单位成员或本项目的技术经理人可以发布协议定价公示。",
        )
    if deal.stage is not DealStage.agreed:
        raise Conflict(
            code="deal_not_agreed",
            message_en="A price is published once the deal is agreed.",
            message_zh="交易项目达成一致（已成交）后方可公示协议价格。",
            extra={"current_status": deal.stage.value},
        )
    seller = (
        await session.get(Organization, deal.seller_organization_id) if deal.seller_organization_id else None
    )
    if seller is None or seller.kind not in PUBLIC_SELLERS:
        raise Conflict(
            code="publicity_not_applicable",
            message_en="Agreed-price publicity is for sellers that are universities or research institutes.",
            message_zh="协议定价公示适用于高等院校、科研院所作为卖方的项目。",
            extra={"current_status": deal.stage.value},
        )
    if deal.pricing_route in SYSTEM_ROUTES:
        raise Conflict(
            code="publicity_not_applicable",
            message_en="This deal's price was set by its listing or auction.",
            message_zh="该项目已通过挂牌或拍卖定价，无需协议定价公示。",
            extra={"current_status": deal.stage.value},
        )
    if await repository.live_for_deal(session, deal.id) is not None:
        raise publicity_live()
    assert deal.agreed_price is not None  # the `agreed` guard requires it
    achievement = await session.get(Achievement, deal.achievement_id) if deal.achievement_id else None
    now = clock.now()
    publicity = PricingPublicity(
        deal_id=deal.id,
        achievement_id=deal.achievement_id,
        seller_organization_id=seller.id,
        achievement_name=(achievement.title if achievement else deal.title)[:200],
        proposed_price=deal.agreed_price,
        terms=terms,
        period_days=settings.pricing_publicity_days,
        starts_at=now,
        ends_at=period_end(now, settings.pricing_publicity_days),
        status=PublicityStatus.running,
        published_by_id=user.id,
    )
    if await add_unique(session, publicity, "uq_pricing_publicities_live_deal"):
        raise publicity_live()  # published a moment ago by a concurrent request
    await audit.record(
        session,
        actor=user,
        object_type=OBJECT,
        object_id=publicity.id,
        action="publish",
        changes={
            "deal_id": deal.id,
            "proposed_price": publicity.proposed_price,
            "period_days": publicity.period_days,
            "ends_at": publicity.ends_at,
        },
    )
    if deal.pricing_route is not PricingRoute.agreed_publicity:
        await audit.record(
            session,
            actor=user,
            object_type="deal",
            object_id=deal.id,
            action="update",
            changes={"pricing_route": [deal.pricing_route, PricingRoute.agreed_publicity]},
        )
        deal.pricing_route = PricingRoute.agreed_publicity
        deal.version += 1
    await session.flush()
    return publicity


def publicity_live() -> Conflict:
    return Conflict(
        code="publicity_live",
        message_en="This deal's price is already being published.",
        message_zh="该项目已有进行中的协议定价公示。",
    )


# --- public reads ---------------------------------------------------------------------------------


async def page_live(session: AsyncSession, page: PageParams) -> tuple[list[PricingPublicity], int]:
    """Running and suspended publicities, the soonest to end first; those whose period ran out are
    completed first, so the page never shows one as running past its end."""
    for publicity_id in await repository.due_ids(session, clock.now(), 1000):
        await _current(session, publicity_id)
    return await repository.page_live(session, page)


async def get(session: AsyncSession, publicity_id: uuid.UUID) -> PricingPublicity:
    return await _current(session, publicity_id)


async def _current(session: AsyncSession, publicity_id: uuid.UUID) -> PricingPublicity:
    """The publicity locked and, if its period ran out, completed."""
    publicity = await repository.get(session, publicity_id, lock=True)
    if publicity is None:
        raise NOT_FOUND
    await complete_if_due(session, publicity)
    return publicity


@dataclass
class Board:
    """What the public page /publicity/trading shows: the prices being published, the listings
    running and the auctions announced or under way (the trading tables read directly)."""

    publicities: list[PricingPublicity]
    publicity_total: int
    announcements: Sequence[ListingAnnouncement]
    auctions: Sequence[Auction]


async def board(session: AsyncSession, limit: int) -> Board:
    publicities, total = await page_live(session, PageParams(limit=limit, offset=0))
    return Board(
        publicities=publicities,
        publicity_total=total,
        announcements=await repository.running_announcements(session, limit),
        auctions=await repository.open_auctions(session, limit),
    )


# --- objections ----------------------------------------------------------------------------------


async def object_(
    session: AsyncSession,
    *,
    user: User,
    publicity_id: uuid.UUID,
    reason: str,
    document: tuple[str | None, str | None, bytes] | None,
    settings: Settings,
) -> PublicityObjection:
    """An objection (异议) during the period suspends the publicity: the clock stands still with
    the seconds left kept in `remaining_seconds`. One pending objection per person."""
    try:
        reason = _REASON.validate_python(reason)
    except ValidationError:
        raise _invalid(
            "reason",
            "required",
            "Say why you object (up to 2,000 characters).",
            "请填写异议理由（不超过 2000 字）。",
        ) from None
    name = content_type = data = None
    if document is not None:
        name, declared, data = document
        limit = settings.pricing_objection_document_max_bytes
        if not data:
            raise _invalid("file", "empty", "The file is empty.", "文件为空。")
        if len(data) > limit:
            raise _invalid("file", "too_large", f"At most {limit} bytes.", f"文件不能超过 {limit} 字节。")
        name, content_type = document_name(name), document_type(declared, data)
    publicity = await _current(session, publicity_id)
    if publicity.status not in repository.LIVE:
        raise Conflict(
            code="publicity_ended",
            message_en="The publicity period is over: objections are no longer taken.",
            message_zh="公示期已结束，不再受理异议。",
            extra={"current_status": publicity.status.value},
        )
    now = clock.now()
    objection = PublicityObjection(
        publicity_id=publicity.id,
        objector_user_id=user.id,
        objector_organization_id=user.organization_id,
        reason=reason,
        document_name=name,
        document_content_type=content_type,
        document=data,
    )
    if await add_unique(session, objection, "uq_publicity_objections_pending_objector"):
        raise Conflict(
            code="objection_pending",
            message_en="Your earlier objection to this publicity is still pending.",
            message_zh="您对该公示的异议尚在处理中。",
        )
    suspended = publicity.status is PublicityStatus.running
    if suspended:
        publicity.status = PublicityStatus.suspended
        publicity.suspended_at = now
        publicity.remaining_seconds = seconds_left(publicity.ends_at, now)
        publicity.version += 1
    await audit.record(
        session,
        actor=user,
        object_type=OBJECT,
        object_id=publicity.id,
        action="object",
        changes={
            "objection_id": objection.id,
            "document": {"name": name, "size": len(data)} if data else None,
            **({"status": [PublicityStatus.running, PublicityStatus.suspended]} if suspended else {}),
            "remaining_seconds": publicity.remaining_seconds,
        },
    )
    deal = await _deal(session, publicity)
    await tell(
        session,
        publicity,
        deal,
        kind=NotificationKind.publicity_objection_filed,
        recipients=await parties(session, deal, buyer=False),
        title=f"协议定价公示收到异议：{publicity.achievement_name}",
        explanation=["公示已暂停，请卖方或管理员处理异议（成立则项目退回洽谈，不成立则公示继续）。"],
        details={"objection_id": str(objection.id)},
    )
    await session.flush()
    await session.refresh(objection)
    return objection


def _decides(user: User, publicity: PricingPublicity) -> bool:
    return user.role == Role.admin or user.organization_id == publicity.seller_organization_id


async def objections(
    session: AsyncSession, *, user: User, publicity_id: uuid.UUID, page: PageParams
) -> tuple[list[PublicityObjection], int]:
    """The objections the seller side and administrators decide (all of them), or the caller's own."""
    publicity = await repository.get(session, publicity_id)
    if publicity is None:
        raise NOT_FOUND
    objector = None if _decides(user, publicity) else user.id
    return await repository.page_objections(session, publicity.id, page, objector_user_id=objector)


async def objection_document(
    session: AsyncSession, *, user: User, publicity_id: uuid.UUID, objection_id: uuid.UUID
) -> PublicityObjection:
    """An objection's document: for the seller side, administrators and the objector; to anyone
    else, as when there is none, 404."""
    publicity = await repository.get(session, publicity_id)
    objection = await repository.objection(session, publicity_id, objection_id)
    if (
        publicity is None
        or objection is None
        or objection.document is None
        or not (_decides(user, publicity) or objection.objector_user_id == user.id)
    ):
        raise OBJECTION_NOT_FOUND
    return objection


async def decide(
    session: AsyncSession,
    *,
    user: User,
    publicity_id: uuid.UUID,
    objection_id: uuid.UUID,
    decision: Decision,
    note: str,
) -> tuple[PublicityObjection, PricingPublicity]:
    """The seller side or an administrator decides a pending objection. Upheld: the publicity ends
    and the deal goes back to negotiation (the system's move). Dismissed: once no objection is
    pending, the period resumes with the seconds it had left."""
    publicity = await repository.get(session, publicity_id, lock=True)
    if publicity is None:
        raise NOT_FOUND
    if not _decides(user, publicity):
        raise NotPermitted(
            code="seller_side_only",
            message_en="Only the seller's members or an administrator decide objections.",
            message_zh="只有卖方单位成员或管理员可以处理异议。",
        )
    objection = await repository.objection(session, publicity.id, objection_id, lock=True)
    if objection is None:
        raise OBJECTION_NOT_FOUND
    if objection.status is not ObjectionStatus.pending:
        raise Conflict(
            code="objection_decided",
            message_en="This objection has been decided.",
            message_zh="该异议已处理。",
            extra={"current_status": objection.status.value},
        )
    now = clock.now()
    upheld = decision is Decision.uphold
    objection.status = ObjectionStatus.upheld if upheld else ObjectionStatus.dismissed
    objection.decided_by_id, objection.decided_at, objection.decision_note = user.id, now, note or None
    await session.flush()
    before = publicity.status
    if publicity.status is PublicityStatus.suspended:
        if upheld:
            publicity.status = PublicityStatus.objection_upheld
            publicity.version += 1
            await deals.move_as_system(
                session, publicity.deal_id, DealStage.negotiating, reason="协议定价公示异议成立，退回洽谈"
            )
        elif await repository.pending_count(session, publicity.id) == 0:
            publicity.status = PublicityStatus.running
            publicity.ends_at = now + timedelta(seconds=publicity.remaining_seconds or 0)
            publicity.suspended_at = publicity.remaining_seconds = None
            publicity.version += 1
    await audit.record(
        session,
        actor=user,
        object_type=OBJECT,
        object_id=publicity.id,
        action=f"objection:{objection.status.value}",
        changes={
            "objection_id": objection.id,
            "note": note or None,
            **({"status": [before, publicity.status]} if before is not publicity.status else {}),
            **({"ends_at": publicity.ends_at} if publicity.status is PublicityStatus.running else {}),
        },
    )
    deal = await _deal(session, publicity)
    if objection.objector_user_id is not None:
        outcome = "成立，项目退回洽谈" if upheld else "不成立，公示继续"
        await tell(
            session,
            publicity,
            deal,
            kind=NotificationKind.publicity_objection_decided,
            recipients=[objection.objector_user_id],
            title=f"您的异议已处理：{publicity.achievement_name}",
            explanation=[f"异议{outcome}。", *([f"处理意见：{note}"] if note else [])],
            details={"objection_id": str(objection.id), "decision": decision.value},
        )
    await session.flush()
    await session.refresh(objection)
    await session.refresh(publicity)
    return objection, publicity


async def _deal(session: AsyncSession, publicity: PricingPublicity) -> Deal:
    deal = await session.get(Deal, publicity.deal_id)
    assert deal is not None  # deals are never deleted (RESTRICT)
    return deal


def _invalid(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(field, code, en, zh)])
