"""The listing's rules (挂牌, docs/trading.md): announcing, the frozen content and its
restart, withdrawal, and what a reader sees (intentions: intentions.py). Every change holds the
announcement's row lock, so changes, intentions and the period's end (closing.py) happen one at a
time."""

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.core import clock
from app.core.config import Settings
from app.core.errors import Conflict, FieldError, NotFound, NotPermitted, PreconditionFailed, ValidationFailed
from app.core.pagination import PageParams
from app.core.types import in_yuan
from app.deals import policy
from app.deals import repository as deals_repository
from app.deals.models import Deal
from app.deals.policy import Side
from app.deals.service import release_pricing_route
from app.deals.vocabulary import DealStage
from app.matching.models import NotificationKind
from app.trading.listing import closing, notices, period, repository
from app.trading.listing.schemas import (
    AnnouncementCreate,
    AnnouncementTerms,
    AnnouncementUpdate,
)
from app.trading.models import ListingAnnouncement, ListingIntention
from app.trading.vocabulary import AnnouncementStatus, IntentionStatus, PricingRoute

NOT_FOUND = NotFound(
    code="announcement_not_found", message_en="No such listing announcement.", message_zh="挂牌公告不存在。"
)
TERMS = tuple(AnnouncementTerms.model_fields)
# Terms that may be left empty: no extension step, and the free texts.
OPTIONAL_TERMS = frozenset({"extension_working_days", "conditions", "buyer_qualifications", "after_period"})


def invalid(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(field, code, en, zh)])


def not_running(announcement: ListingAnnouncement) -> Conflict:
    return Conflict(
        code="announcement_not_running",
        message_en="The listing period is over (or the announcement was withdrawn).",
        message_zh="挂牌期已结束或公告已撤回。",
        extra={"current_status": announcement.status.value},
    )


def check_terms(terms: dict[str, Any], settings: Settings) -> None:
    """The rules between the terms and the settings; the field named is the one to change."""
    if terms["period_working_days"] < settings.listing_min_period_working_days:
        raise invalid(
            "period_working_days",
            "period_too_short",
            f"The period is at least {settings.listing_min_period_working_days} working days.",
            f"披露期不少于 {settings.listing_min_period_working_days} 个工作日。",
        )
    step = terms["extension_working_days"]
    if step is not None and step < settings.listing_min_extension_working_days:
        raise invalid(
            "extension_working_days",
            "extension_too_short",
            f"An extension is at least {settings.listing_min_extension_working_days} working days.",
            f"每次延长不少于 {settings.listing_min_extension_working_days} 个工作日。",
        )
    if (step is None) != (terms["max_extensions"] == 0):
        raise invalid(
            "max_extensions",
            "extension_mismatch",
            "Announce an extension step with at least one extension, or neither.",
            "延长期限与延长次数须同时设置或同时省略。",
        )
    floor: Decimal = terms["floor_price"]
    low, high = floor * settings.auction_deposit_min_ratio, floor * settings.auction_deposit_max_ratio
    if not low <= terms["deposit_amount"] <= high:
        raise invalid(
            "deposit_amount",
            "deposit_out_of_range",
            f"The deposit is between {in_yuan(low)} and {in_yuan(high)} (of the floor price).",
            f"保证金须在挂牌底价的比例范围内：{in_yuan(low)}–{in_yuan(high)} 元。",
        )
    if terms["auction_increment"] > floor:
        raise invalid(
            "auction_increment",
            "increment_too_large",
            "The increment exceeds the floor price.",
            "加价幅度不能超过挂牌底价。",
        )


async def announce(
    session: AsyncSession, *, user: User, data: AnnouncementCreate, settings: Settings
) -> ListingAnnouncement:
    """A running announcement on a negotiating deal with no buyer yet; the deal's route becomes
    listing. The deal is locked, so two announcements for it cannot both pass the checks."""
    deal = await deals_repository.get_visible(session, user, data.deal_id, lock=True)
    if deal is None:
        raise invalid("deal_id", "unknown_deal", "No such deal.", "交易项目不存在。")
    if not policy.acts_for_seller(user, deal):
        raise NotPermitted(
            code="seller_side_only",
            message_en="Only the seller's members or the deal's broker may do this.",
            message_zh="只有卖方成员或本项目的技术经理人可以操作。",
        )
    if deal.stage is not DealStage.negotiating:
        raise Conflict(
            code="deal_not_negotiating",
            message_en="A listing starts on a deal at negotiating.",
            message_zh="交易项目须处于洽谈定价阶段。",
            extra={"current_status": deal.stage.value},
        )
    achievement = (
        await deals_repository.achievement(session, deal.achievement_id) if deal.achievement_id else None
    )
    if achievement is None or achievement.owner_organization_id != deal.seller_organization_id:
        raise invalid(
            "deal_id",
            "no_achievement",
            "The deal sells no achievement of its seller.",
            "交易项目未关联卖方的成果。",
        )
    if deal.buyer_organization_id is not None:
        raise Conflict(
            code="buyer_known",
            message_en="A listing looks for a buyer; this deal has one (use the agreed-price publicity).",
            message_zh="挂牌用于征集受让方；本项目已有买方，请采用协议定价公示。",
            extra={"field": "buyer_organization_id", "current_status": deal.stage.value},
        )
    if route := await repository.route_in_progress(session, deal.id):
        raise Conflict(
            code="pricing_route_in_progress",
            message_en=f"A pricing route ({route}) is already under way on this deal.",
            message_zh="本项目已有进行中的定价程序。",
            extra={"current_status": deal.stage.value},
        )
    terms = data.model_dump(include=set(TERMS))
    check_terms(terms, settings)
    announcement = ListingAnnouncement(
        deal_id=deal.id,
        achievement_id=achievement.id,
        seller_organization_id=achievement.owner_organization_id,
        published_by_id=user.id,
        revision=1,
        extensions_used=0,
        version=1,
        status=AnnouncementStatus.running,
        **terms,
    )
    await period.start(session, announcement, period.today())
    session.add(announcement)
    await session.flush()
    if deal.pricing_route is not PricingRoute.listing:
        await audit.record(
            session,
            actor=user,
            object_type="deal",
            object_id=deal.id,
            action="update",
            changes=audit.diff(
                {"pricing_route": deal.pricing_route}, {"pricing_route": PricingRoute.listing}
            ),
        )
        deal.pricing_route = PricingRoute.listing
        deal.version += 1
    await audit.record(
        session,
        actor=user,
        object_type="listing_announcement",
        object_id=announcement.id,
        action="announced",
        changes={**terms, "deal_id": deal.id, "period_ends_on": announcement.period_ends_on},
    )
    await session.flush()
    await session.refresh(announcement)
    return announcement


async def get(
    session: AsyncSession, *, announcement_id: uuid.UUID, settings: Settings
) -> ListingAnnouncement:
    """One announcement, any status; one whose period ran out is concluded first (lazily)."""
    announcement = await repository.get(session, announcement_id)
    if announcement is None:
        raise NOT_FOUND
    if announcement.status is AnnouncementStatus.running and not period.is_open(announcement):
        await closing.settle(session, announcement, settings)
        await session.flush()
        await session.refresh(announcement)
    return announcement


async def list_running(session: AsyncSession, *, page: PageParams) -> tuple[list[ListingAnnouncement], int]:
    return await repository.page_running(session, page, clock.now())


async def held(
    session: AsyncSession, announcement_id: uuid.UUID, if_match: int | None = None
) -> tuple[ListingAnnouncement, Deal]:
    announcement = await repository.get(session, announcement_id, lock=True)
    if announcement is None:
        raise NOT_FOUND
    if if_match is not None and announcement.version != if_match:
        raise PreconditionFailed(extra={"current_version": announcement.version})
    deal = await repository.deal(session, announcement.deal_id)
    assert deal is not None
    return announcement, deal


async def revise(
    session: AsyncSession,
    *,
    user: User,
    announcement_id: uuid.UUID,
    data: AnnouncementUpdate,
    if_match: int | None,
    settings: Settings,
) -> ListingAnnouncement:
    """A content change is a new revision and restarts the period from today; there is no change
    without a restart. Intentions below a new floor are withdrawn (the buyer may file again at the
    new floor); the others go back to `filed` for the seller to confirm against the new terms."""
    announcement, deal = await held(session, announcement_id, if_match)
    if not policy.acts_for_seller(user, deal):
        raise NotPermitted(
            code="seller_side_only",
            message_en="Only the seller side may change it.",
            message_zh="只有卖方可以修改。",
        )
    if not period.is_open(announcement):
        raise not_running(announcement)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None and field not in OPTIONAL_TERMS:
            raise invalid(field, "required", "This field cannot be emptied.", "该字段不能为空。")
    changes = {k: ("" if v is None and k != "extension_working_days" else v) for k, v in changes.items()}
    changed = audit.diff({k: getattr(announcement, k) for k in changes}, changes)
    if not changed:
        return announcement
    check_terms({**{k: getattr(announcement, k) for k in TERMS}, **changes}, settings)
    for field, value in changes.items():
        setattr(announcement, field, value)
    before = announcement.period_ends_on
    announcement.revision += 1
    announcement.extensions_used = 0
    announcement.version += 1
    await period.start(session, announcement, period.today())
    await audit.record(
        session,
        actor=user,
        object_type="listing_announcement",
        object_id=announcement.id,
        action="revised",
        changes={
            **changed,
            "revision": announcement.revision,
            "period_ends_on": [before, announcement.period_ends_on],
        },
    )
    await _reopen_intentions(session, user, announcement, settings)
    await session.flush()
    await session.refresh(announcement)
    return announcement


async def _reopen_intentions(
    session: AsyncSession, user: User, announcement: ListingAnnouncement, settings: Settings
) -> None:
    due = await period.working_days_after(
        session, period.today(), settings.listing_intention_answer_working_days
    )
    for intention in await repository.live_intentions(session, announcement.id):
        below = intention.offer_price < announcement.floor_price
        previous = intention.status
        intention.status = IntentionStatus.withdrawn if below else IntentionStatus.filed
        intention.answer_due_on = due
        intention.decided_by_id = None
        intention.decided_at = clock.now() if below else None
        intention.rejection_reason = (
            f"挂牌底价调整为 {in_yuan(announcement.floor_price)} 元" if below else None
        )
        await audit.record(
            session,
            actor=user,
            object_type="listing_intention",
            object_id=intention.id,
            action="withdrawn_below_floor" if below else "reopened",
            changes={"status": [previous, intention.status], "revision": announcement.revision},
        )
        line = (
            f"挂牌底价调整为 {in_yuan(announcement.floor_price)} 元，您的报价低于新底价，"
            "意向已撤回，可重新报价。"
            if below
            else "挂牌公告内容已修改，披露期重新计算，您的意向须经卖方重新确认资格。"
        )
        await notices.tell(
            session,
            announcement,
            kind=NotificationKind.listing_intention_answered,
            recipients=await notices.members(session, [intention.buyer_organization_id]),
            title=f"挂牌公告已修改：{announcement.title}",
            explanation=[line],
            details={"intention_id": str(intention.id), "status": intention.status.value},
        )


async def withdraw(
    session: AsyncSession, *, user: User, announcement_id: uuid.UUID, reason: str, if_match: int | None
) -> ListingAnnouncement:
    announcement, deal = await held(session, announcement_id, if_match)
    if not (policy.acts_for_seller(user, deal) or Side.admin in policy.sides(user, deal)):
        raise NotPermitted(
            code="seller_side_only",
            message_en="Only the seller side or an administrator may withdraw it.",
            message_zh="只有卖方或管理员可以撤牌。",
        )
    if not period.is_open(announcement):
        raise not_running(announcement)
    announcement.status = AnnouncementStatus.withdrawn
    announcement.closed_at = clock.now()
    announcement.version += 1
    await release_pricing_route(session, deal.id, reason="listing_withdrawn")
    await audit.record(
        session,
        actor=user,
        object_type="listing_announcement",
        object_id=announcement.id,
        action="withdrawn",
        changes={"status": [AnnouncementStatus.running, AnnouncementStatus.withdrawn], "reason": reason},
    )
    live = await repository.live_intentions(session, announcement.id)
    recipients = await notices.seller_side(session, announcement, deal)
    recipients += await notices.members(session, (i.buyer_organization_id for i in live))
    await notices.tell(
        session,
        announcement,
        kind=NotificationKind.listing_period_ended,
        recipients=recipients,
        title=f"挂牌已撤回：{announcement.title}",
        explanation=[f"撤牌原因：{reason}"],
        details={"outcome": AnnouncementStatus.withdrawn.value, "reason": reason},
    )
    await session.flush()
    await session.refresh(announcement)
    return announcement


# --- What a reader sees ----------------------------------------------------------------------------


async def present(
    session: AsyncSession, user: User | None, announcements: list[ListingAnnouncement], *, detail: bool
) -> list[dict[str, Any]]:
    """Announcements as `AnnouncementRead`; with `detail`, the intentions the reader may see: all of
    them for the seller side and administrators, their own organization's for a buyer's member."""
    names = await repository.organization_names(session, {a.seller_organization_id for a in announcements})
    answers = []
    for a in announcements:
        intentions = None
        if detail and user is not None:
            deal = await repository.deal(session, a.deal_id)
            assert deal is not None
            everyone = policy.acts_for_seller(user, deal) or Side.admin in policy.sides(user, deal)
            found = await repository.intentions(
                session, a.id, organization_id=None if everyone else user.organization_id
            )
            buyers = await repository.organization_names(session, {i.buyer_organization_id for i in found})
            intentions = [intention_view(i, buyers.get(i.buyer_organization_id, "")) for i in found]
        answers.append(
            {
                **{c.key: getattr(a, c.key) for c in ListingAnnouncement.__table__.columns},
                "seller_organization_name": names.get(a.seller_organization_id, ""),
                "status_label": a.status.label,
                "intentions": intentions,
            }
        )
    return answers


def intention_view(intention: ListingIntention, buyer_name: str) -> dict[str, Any]:
    """An intention as `IntentionRead`."""
    return {
        **{c.key: getattr(intention, c.key) for c in ListingIntention.__table__.columns},
        "buyer_organization_name": buyer_name,
        "status_label": intention.status.label,
    }
