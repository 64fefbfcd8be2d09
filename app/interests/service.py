"""Expressions of interest (意向) and the owner's answer (DOMAIN.md: Deals, "Expression of
interest"). A verified organization, or a technology manager for a verified client, tells the owner
of a published achievement or demand what it would do with it; the owner accepts — contacts are
released to both sides and a deal is opened — or declines with a reason the interested side always
receives; the interested side may withdraw while it is open. Every step notifies the other side
(app/interests/notify.py); an interest left unanswered too long is reported to the interested side
once (`remind_unanswered`)."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit.service import SystemActor, record
from app.core.db import Database, add_unique
from app.core.errors import Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from app.core.pagination import PageParams
from app.core.types import CHINA, today_in_china
from app.deals import repository as deals
from app.deals import service as deal_service
from app.deals.models import Deal, Interest
from app.deals.vocabulary import InterestStatus
from app.interests import notify, repository
from app.interests.repository import InterestRow
from app.interests.schemas import (
    ContactPerson,
    InterestContacts,
    InterestCreate,
    InterestDecline,
    InterestRead,
)
from app.listings.vocabulary import ListingStatus
from app.matching.models import NotificationKind

ONE_OPEN_INTEREST = ("uq_interests_open_achievement", "uq_interests_open_demand")
LABELS = {"achievement": "科技成果", "demand": "技术需求"}


def _not_found() -> NotFound:
    return NotFound(code="interest_not_found", message_en="No such interest.", message_zh="意向不存在。")


def _listing_not_found(kind: str) -> NotFound:
    return NotFound(
        code="listing_not_found", message_en=f"No such {kind}.", message_zh=f"{LABELS[kind]}不存在。"
    )


def _already_answered(interest: Interest) -> Conflict:
    return Conflict(
        code="interest_already_answered",
        message_en="This interest has already been answered or withdrawn.",
        message_zh="该意向已答复或已撤回。",
        extra={"current_status": interest.status.value},
    )


def _owner_side(user: User, interest: Interest) -> bool:
    return user.organization_id == interest.owner_organization_id


def _interested_side(user: User, interest: Interest) -> bool:
    return user.organization_id == interest.organization_id or user.id == interest.on_behalf_broker_id


# --- expressing interest ---------------------------------------------------------------------


async def express(
    session: AsyncSession, *, user: User, kind: str, listing_id: uuid.UUID, data: InterestCreate
) -> InterestRead:
    """A new open interest of the user's organization (or of the client a technology manager
    files for) in a published listing; the listing's owner is notified."""
    if data.budget_min is not None and data.budget_max is not None and data.budget_min > data.budget_max:
        en, zh = "must not be below budget_min", "预算上限不得低于预算下限"
        raise ValidationFailed(errors=[FieldError("budget_max", "budget_range", en, zh)])
    if not user.organization.verified:
        raise NotPermitted(
            code="organization_not_verified",
            message_en="Only members of verified organizations may express interest.",
            message_zh="机构通过认证后方可表达合作意向。",
        )
    organization_id = user.organization_id
    broker_id = None
    if data.on_behalf_of_organization_id is not None:
        organization_id, broker_id = await _client(session, user, data.on_behalf_of_organization_id), user.id
    listing = await repository.listing(session, kind, listing_id)
    if listing is None or (
        listing.status == ListingStatus.draft and listing.owner_organization_id != user.organization_id
    ):
        raise _listing_not_found(kind)  # another's draft does not exist for the caller
    if listing.owner_organization_id in (organization_id, user.organization_id):
        raise Conflict(
            code="own_listing",
            message_en="This listing belongs to your (or your client's) organization.",
            message_zh="不能对本机构（或客户自己）的成果、需求表达意向。",
        )
    if listing.status != ListingStatus.published:
        raise Conflict(
            code="listing_not_open",
            message_en="This listing is no longer open for interest.",
            message_zh="该信息已关闭、过期或下架，不再接受意向。",
            extra={"current_status": listing.status.value},
        )
    interest = Interest(
        id=uuid.uuid4(),
        achievement_id=listing_id if kind == "achievement" else None,
        demand_id=listing_id if kind == "demand" else None,
        owner_organization_id=listing.owner_organization_id,
        organization_id=organization_id,
        submitted_by_id=user.id,
        on_behalf_broker_id=broker_id,
        intended_use=data.intended_use,
        budget_min=data.budget_min,
        budget_max=data.budget_max,
        timeline=data.timeline,
        questions=data.questions,
    )
    if await add_unique(session, interest, *ONE_OPEN_INTEREST):
        holder = await repository.open_interest(
            session, kind=kind, listing_id=listing_id, organization_id=organization_id
        )
        raise Conflict(
            code="duplicate_interest",
            message_en="Your organization already has an open interest in this listing.",
            message_zh="本机构（客户）对该信息已有待答复的意向。",
            extra={"duplicate_of": {"id": str(holder.id), "status": holder.status.value}} if holder else {},
        )
    await record(
        session,
        actor=user,
        object_type="interest",
        object_id=interest.id,
        action="expressed",
        changes={
            f"{kind}_id": listing_id,
            "organization_id": organization_id,
            "on_behalf_broker_id": broker_id,
            "budget_min": data.budget_min,
            "budget_max": data.budget_max,
        },
    )
    found = await _row(session, interest.id)
    await notify.notify(
        session,
        kind=NotificationKind.interest_received,
        interest=interest,
        recipients=await notify.owner_side(session, interest),
        title=found.listing_title,
        explanation=[f"意向方：{found.organization_name}"],
        details={"organization_name": found.organization_name},
    )
    return _view(found, user)


async def _client(session: AsyncSession, user: User, client_id: uuid.UUID) -> uuid.UUID:
    """The client a technology manager files for: an existing, verified organization."""
    if user.role != Role.tech_manager:
        raise NotPermitted(
            code="on_behalf_requires_tech_manager",
            message_en="Only technology managers may express interest on behalf of a client.",
            message_zh="只有技术经理人可以代客户表达意向。",
        )
    client = await repository.organization(session, client_id)
    field = "on_behalf_of_organization_id"
    if client is None:
        raise ValidationFailed(
            errors=[FieldError(field, "organization_not_found", "no such organization", "机构不存在")]
        )
    if not client.verified:
        en, zh = "the client organization is not verified", "客户机构尚未通过认证"
        raise ValidationFailed(errors=[FieldError(field, "organization_not_verified", en, zh)])
    return client.id


# --- reading ---------------------------------------------------------------------------------


async def read(session: AsyncSession, *, user: User, interest_id: uuid.UUID) -> InterestRead:
    """The two sides and administrators; anyone else is told it does not exist."""
    found = await repository.row(session, interest_id)
    if found is None or not (
        user.role == Role.admin or _owner_side(user, found.interest) or _interested_side(user, found.interest)
    ):
        raise _not_found()
    return await _detail(session, found, user)


async def received(
    session: AsyncSession, *, user: User, status: InterestStatus | None, page: PageParams
) -> tuple[list[InterestRead], int]:
    rows, total = await repository.received(session, user=user, status=status, page=page)
    return [_view(found, user) for found in rows], total


async def sent(
    session: AsyncSession, *, user: User, status: InterestStatus | None, page: PageParams
) -> tuple[list[InterestRead], int]:
    rows, total = await repository.sent(session, user=user, status=status, page=page)
    return [_view(found, user) for found in rows], total


async def _row(session: AsyncSession, interest_id: uuid.UUID) -> InterestRow:
    found = await repository.row(session, interest_id)
    assert found is not None
    return found


def _days(start: datetime, end: datetime | None) -> int:
    last = end.astimezone(CHINA).date() if end is not None else today_in_china()
    return (last - start.astimezone(CHINA).date()).days


def _view(found: InterestRow, viewer: User) -> InterestRead:
    interest = found.interest
    open_ = interest.status == InterestStatus.open
    # A confidential demand hides its company from outsiders (listings' policy) until it accepts.
    hide_owner = (
        found.confidential
        and interest.status != InterestStatus.accepted
        and viewer.role != Role.admin
        and not _owner_side(viewer, interest)
    )
    return InterestRead(
        id=interest.id,
        listing_kind="achievement" if interest.achievement_id is not None else "demand",
        listing_id=interest.achievement_id or interest.demand_id,  # type: ignore[arg-type]
        listing_title=found.listing_title,
        owner_organization_id=None if hide_owner else interest.owner_organization_id,
        owner_organization_name=None if hide_owner else found.owner_organization_name,
        organization_id=interest.organization_id,
        organization_name=found.organization_name,
        filed_by_broker=interest.on_behalf_broker_id is not None,
        intended_use=interest.intended_use,
        budget_min=interest.budget_min,
        budget_max=interest.budget_max,
        timeline=interest.timeline,
        questions=interest.questions,
        status=interest.status,
        status_label=interest.status.label,
        decline_reason=interest.decline_reason,
        decline_reason_label=interest.decline_reason.label if interest.decline_reason else None,
        decline_note=interest.decline_note,
        answered_at=interest.answered_at,
        deal_id=interest.deal_id,
        created_at=interest.created_at,
        waiting_since=interest.created_at if open_ else None,
        age_days=_days(interest.created_at, None if open_ else interest.answered_at),
        unanswered_notified_at=interest.unanswered_notified_at,
    )


async def _detail(session: AsyncSession, found: InterestRow, viewer: User) -> InterestRead:
    view = _view(found, viewer)
    if found.interest.status == InterestStatus.accepted:
        view.contacts = await _contacts(session, found)
    return view


async def _person(session: AsyncSession, user_id: uuid.UUID | None) -> ContactPerson | None:
    person = await repository.user(session, user_id)
    if person is None or not person.is_active:
        return None
    organization = await repository.organization(session, person.organization_id)
    assert organization is not None
    return ContactPerson(name=person.full_name, email=person.email, organization_name=organization.name)


async def _contacts(session: AsyncSession, found: InterestRow) -> InterestContacts:
    interest = found.interest
    kind = "achievement" if interest.achievement_id is not None else "demand"
    listing = await repository.listing(session, kind, interest.achievement_id or interest.demand_id)  # type: ignore[arg-type]
    return InterestContacts(
        owner_organization_name=found.owner_organization_name,
        listing_contacts=list(listing.contacts) if listing is not None else [],
        interested=await _person(session, interest.submitted_by_id),
        broker=await _person(session, interest.on_behalf_broker_id),
    )


# --- answering -------------------------------------------------------------------------------


async def _answerable(session: AsyncSession, user: User, interest_id: uuid.UUID) -> Interest:
    """The open interest, locked, that `user` may answer as the listing's owner (or administrator)."""
    interest = await repository.lock(session, interest_id)
    if interest is None or not (
        user.role == Role.admin or _owner_side(user, interest) or _interested_side(user, interest)
    ):
        raise _not_found()
    if not (user.role == Role.admin or _owner_side(user, interest)):
        raise NotPermitted(
            code="not_listing_owner",
            message_en="Only the listing's owner answers an interest.",
            message_zh="只有成果（需求）所属机构可以答复意向。",
        )
    if interest.status != InterestStatus.open:
        raise _already_answered(interest)
    return interest


def _answer(interest: Interest, user: User, status: InterestStatus) -> None:
    interest.status = status
    interest.answered_at = datetime.now(UTC)
    interest.answered_by_id = user.id


async def accept(session: AsyncSession, *, user: User, interest_id: uuid.UUID) -> InterestRead:
    """Accept: contacts released to both sides and a deal opened at `lead` between the owner and
    the interested organization (an achievement's owner sells, a demand's owner buys). A
    technology manager who filed for the client becomes the deal's broker. If an open deal already
    holds the same listing and counterpart, the interest joins it rather than opening a second."""
    interest = await _answerable(session, user, interest_id)
    found = await _row(session, interest.id)
    deal = await _open_deal(session, user, interest, found.listing_title)
    _answer(interest, user, InterestStatus.accepted)
    interest.deal_id = deal.id
    await record(
        session,
        actor=user,
        object_type="interest",
        object_id=interest.id,
        action="accepted",
        changes={"status": ["open", "accepted"], "deal_id": deal.id},
    )
    await notify.notify(
        session,
        kind=NotificationKind.interest_accepted,
        interest=interest,
        recipients=await notify.interested_side(session, interest),
        title=found.listing_title,
        explanation=["对方已接受您的合作意向：双方联系方式已开放，交易项目已建立"],
        details={"deal_id": str(deal.id)},
    )
    return await _detail(session, await _row(session, interest.id), user)


async def _open_deal(session: AsyncSession, user: User, interest: Interest, title: str) -> Deal:
    owner, counterpart = interest.owner_organization_id, interest.organization_id
    seller, buyer = (owner, counterpart) if interest.achievement_id is not None else (counterpart, owner)
    try:
        deal = await deal_service.open_deal(
            session,
            actor=user,
            title=title,
            seller_organization_id=seller,
            buyer_organization_id=buyer,
            achievement_id=interest.achievement_id,
            demand_id=interest.demand_id,
        )
    except Conflict as exc:
        holder = None
        if exc.code == "duplicate_deal":
            holder = await deals.open_deal_for(
                session,
                achievement_id=interest.achievement_id,
                demand_id=interest.demand_id,
                buyer_organization_id=buyer,
                seller_organization_id=seller,
            )
        if holder is None:
            raise
        return holder
    if interest.on_behalf_broker_id is not None:
        broker = await repository.user(session, interest.on_behalf_broker_id)
        if broker is not None:
            deal.broker_user_id, deal.broker_agency_id = broker.id, broker.organization_id
            await record(
                session,
                actor=user,
                object_type="deal",
                object_id=deal.id,
                action="broker_from_interest",
                changes={
                    "broker_user_id": broker.id,
                    "broker_agency_id": broker.organization_id,
                    "interest_id": interest.id,
                },
            )
    return deal


async def decline(
    session: AsyncSession, *, user: User, interest_id: uuid.UUID, data: InterestDecline
) -> InterestRead:
    """Decline with a reason category and a note; the interested side receives both."""
    interest = await _answerable(session, user, interest_id)
    _answer(interest, user, InterestStatus.declined)
    interest.decline_reason, interest.decline_note = data.reason, data.note
    await record(
        session,
        actor=user,
        object_type="interest",
        object_id=interest.id,
        action="declined",
        changes={"status": ["open", "declined"], "reason": data.reason, "note": data.note},
    )
    found = await _row(session, interest.id)
    explanation = [f"婉拒原因：{data.reason.label}"] + ([f"说明：{data.note}"] if data.note else [])
    await notify.notify(
        session,
        kind=NotificationKind.interest_declined,
        interest=interest,
        recipients=await notify.interested_side(session, interest),
        title=found.listing_title,
        explanation=explanation,
        details={"reason": data.reason.value, "reason_label": data.reason.label, "note": data.note},
    )
    return _view(found, user)


async def withdraw(session: AsyncSession, *, user: User, interest_id: uuid.UUID) -> InterestRead:
    """The interested side takes its open interest back; the owner is told."""
    interest = await repository.lock(session, interest_id)
    if interest is None or not (
        user.role == Role.admin or _owner_side(user, interest) or _interested_side(user, interest)
    ):
        raise _not_found()
    if not _interested_side(user, interest):
        raise NotPermitted(
            code="not_interested_side",
            message_en="Only the interested side withdraws its interest.",
            message_zh="只有意向方可以撤回意向。",
        )
    if interest.status != InterestStatus.open:
        raise _already_answered(interest)
    interest.status = InterestStatus.withdrawn
    await record(
        session,
        actor=user,
        object_type="interest",
        object_id=interest.id,
        action="withdrawn",
        changes={"status": ["open", "withdrawn"]},
    )
    found = await _row(session, interest.id)
    await notify.notify(
        session,
        kind=NotificationKind.interest_withdrawn,
        interest=interest,
        recipients=await notify.owner_side(session, interest),
        title=found.listing_title,
        explanation=[f"{found.organization_name} 撤回了合作意向"],
        details={"organization_name": found.organization_name},
    )
    return _view(found, user)


# --- unanswered ------------------------------------------------------------------------------

REMIND_BATCH = 200


async def remind_unanswered(session: AsyncSession, *, days: int, now: datetime | None = None) -> int:
    """Tell the interested side, once, of each open interest filed at least `days` days before
    `now` that the owner has not answered; one batch, the number told."""
    now = now or datetime.now(UTC)
    due = await repository.due_unanswered(session, before=now - timedelta(days=days), limit=REMIND_BATCH)
    for interest in due:
        interest.unanswered_notified_at = now
        await record(
            session,
            actor=SystemActor(),
            object_type="interest",
            object_id=interest.id,
            action="unanswered_notified",
            changes={"days": days},
        )
        found = await _row(session, interest.id)
        await notify.notify(
            session,
            kind=NotificationKind.interest_unanswered,
            interest=interest,
            recipients=await notify.interested_side(session, interest),
            title=found.listing_title,
            explanation=[f"对方已超过 {days} 天未答复您的合作意向"],
            details={"days": days, "waiting_since": interest.created_at.astimezone(CHINA).isoformat()},
        )
    return len(due)


async def remind_all_unanswered(database: Database, *, days: int) -> int:
    """Every due reminder, a batch per transaction (the worker's periodic job)."""
    told = 0
    while True:
        async with database.sessionmaker() as session:
            batch = await remind_unanswered(session, days=days)
            await session.commit()
        told += batch
        if batch < REMIND_BATCH:
            return told
