"""Intentions (意向受让): a buyer's offer of at least the floor, the seller's answer and the buyer's
withdrawal, each under the announcement's row lock (docs/trading.md)."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.core import clock
from app.core.config import Settings
from app.core.errors import Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from app.core.types import in_yuan
from app.deals import policy
from app.matching.models import NotificationKind
from app.trading.listing import notices, period, repository, service
from app.trading.listing.schemas import IntentionCreate, IntentionDecision
from app.trading.listing.service import intention_view, invalid, not_running
from app.trading.models import ListingIntention
from app.trading.vocabulary import IntentionStatus

INTENTION_NOT_FOUND = NotFound(
    code="intention_not_found", message_en="No such intention.", message_zh="意向受让申请不存在。"
)


async def file_intention(
    session: AsyncSession,
    *,
    user: User,
    announcement_id: uuid.UUID,
    data: IntentionCreate,
    settings: Settings,
) -> ListingIntention:
    """A verified organization's member offers at least the floor, once per organization."""
    announcement, deal = await service.held(session, announcement_id)
    if user.organization_id == announcement.seller_organization_id or policy.acts_for_seller(user, deal):
        raise NotPermitted(
            code="seller_cannot_file",
            message_en="The seller side cannot file an intention on its own listing.",
            message_zh="卖方不能对自己的挂牌项目提交意向。",
        )
    organization = await repository.organization(session, user.organization_id)
    if organization is None or not organization.verified:
        raise NotPermitted(
            code="organization_not_verified",
            message_en="Only members of a verified organization may file an intention.",
            message_zh="只有已认证单位的成员可以提交意向受让申请。",
        )
    if not period.is_open(announcement):
        raise not_running(announcement)
    if data.offer_price < announcement.floor_price:
        raise ValidationFailed(
            code="offer_below_floor",
            message_en="The offer is below the floor price.",
            message_zh="报价低于挂牌底价。",
            errors=[
                FieldError(
                    "offer_price",
                    "below_floor",
                    f"At least the floor price, {in_yuan(announcement.floor_price)}.",
                    f"不得低于挂牌底价 {in_yuan(announcement.floor_price)} 元。",
                )
            ],
        )
    existing = await repository.live_intention_of(session, announcement.id, organization.id)
    if existing is not None:
        raise Conflict(
            code="duplicate_intention",
            message_en="Your organization already filed an intention on this listing.",
            message_zh="本单位已提交过意向受让申请。",
            extra={"duplicate_of": {"id": str(existing.id), "status": existing.status.value}},
        )
    intention = ListingIntention(
        announcement_id=announcement.id,
        buyer_organization_id=organization.id,
        submitted_by_id=user.id,
        offer_price=data.offer_price,
        note=data.note,
        status=IntentionStatus.filed,
        answer_due_on=await period.working_days_after(
            session, period.today(), settings.listing_intention_answer_working_days
        ),
    )
    session.add(intention)
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type="listing_intention",
        object_id=intention.id,
        action="filed",
        changes={"announcement_id": announcement.id, "offer_price": data.offer_price},
    )
    await notices.tell(
        session,
        announcement,
        kind=NotificationKind.listing_intention_filed,
        recipients=await notices.seller_side(session, announcement, deal),
        title=f"新的意向受让申请：{announcement.title}",
        explanation=[
            f"{organization.name} 报价 {in_yuan(data.offer_price)} 元，"
            f"请于 {intention.answer_due_on} 前确认资格。"
        ],
        details={"intention_id": str(intention.id), "status": intention.status.value},
    )
    await session.flush()
    await session.refresh(intention)
    return intention


async def decide(
    session: AsyncSession,
    *,
    user: User,
    announcement_id: uuid.UUID,
    intention_id: uuid.UUID,
    data: IntentionDecision,
) -> ListingIntention:
    """The seller qualifies or rejects (with a reason) a filed intention while the period runs."""
    announcement, deal = await service.held(session, announcement_id)
    if not policy.acts_for_seller(user, deal):
        raise NotPermitted(
            code="seller_side_only",
            message_en="Only the seller side decides.",
            message_zh="只有卖方可以确认资格。",
        )
    intention = await repository.intention(session, announcement.id, intention_id)
    if intention is None:
        raise INTENTION_NOT_FOUND
    if data.decision == "reject" and not data.reason:
        raise invalid("reason", "required", "Say why the buyer is rejected.", "请说明不予确认资格的理由。")
    if not period.is_open(announcement):
        raise not_running(announcement)
    _still_filed(intention)
    intention.status = IntentionStatus.qualified if data.decision == "qualify" else IntentionStatus.rejected
    intention.decided_by_id = user.id
    intention.decided_at = clock.now()
    intention.rejection_reason = data.reason if data.decision == "reject" else None
    await audit.record(
        session,
        actor=user,
        object_type="listing_intention",
        object_id=intention.id,
        action=intention.status.value,
        changes={"status": [IntentionStatus.filed, intention.status], "reason": intention.rejection_reason},
    )
    line = "资格确认通过。" if data.decision == "qualify" else f"资格确认未通过：{data.reason}"
    await notices.tell(
        session,
        announcement,
        kind=NotificationKind.listing_intention_answered,
        recipients=await notices.members(session, [intention.buyer_organization_id]),
        title=f"意向受让申请已答复：{announcement.title}",
        explanation=[line],
        details={"intention_id": str(intention.id), "status": intention.status.value},
    )
    await session.flush()
    await session.refresh(intention)
    return intention


def _still_filed(intention: ListingIntention) -> None:
    if intention.status is not IntentionStatus.filed:
        raise Conflict(
            code="intention_not_filed",
            message_en="The intention was already answered or withdrawn.",
            message_zh="该意向已答复或已撤回。",
            extra={"current_status": intention.status.value},
        )


async def withdraw_intention(
    session: AsyncSession, *, user: User, announcement_id: uuid.UUID, intention_id: uuid.UUID
) -> ListingIntention:
    """The buyer takes back an intention the seller has not answered, while the period runs."""
    announcement, deal = await service.held(session, announcement_id)
    intention = await repository.intention(session, announcement.id, intention_id)
    if intention is None or intention.buyer_organization_id != user.organization_id:
        raise INTENTION_NOT_FOUND
    if not period.is_open(announcement):
        raise not_running(announcement)
    _still_filed(intention)
    intention.status = IntentionStatus.withdrawn
    await audit.record(
        session,
        actor=user,
        object_type="listing_intention",
        object_id=intention.id,
        action="withdrawn",
        changes={"status": [IntentionStatus.filed, IntentionStatus.withdrawn]},
    )
    await notices.tell(
        session,
        announcement,
        kind=NotificationKind.listing_intention_filed,
        recipients=await notices.seller_side(session, announcement, deal),
        title=f"意向受让申请已撤回：{announcement.title}",
        explanation=["意向受让方撤回了尚未答复的申请。"],
        details={"intention_id": str(intention.id), "status": intention.status.value},
    )
    await session.flush()
    await session.refresh(intention)
    return intention


async def present_intention(session: AsyncSession, intention: ListingIntention) -> dict[str, Any]:
    names = await repository.organization_names(session, {intention.buyer_organization_id})
    return intention_view(intention, names.get(intention.buyer_organization_id, ""))
