"""The owner's approval to disclose a listing's confidential details in a deal, and the readers'
undertakings. Services flush, never commit; every change is audited."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.confidential import errors, policy, repository, undertaking
from app.confidential.models import Disclosure, Undertaking
from app.core.db import add_unique
from app.core.errors import Conflict, FieldError, NotFound, NotPermitted
from app.core.pagination import PageParams
from app.deals import policy as deals_policy
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.listings.kinds import KINDS


async def deal_of(session: AsyncSession, user: User, deal_id: uuid.UUID) -> Deal:
    deal = await repository.deal(session, deal_id)
    if deal is None or not deals_policy.can_read(user, deal):
        raise errors.deal_not_found()
    return deal


def _listing_of(deal: Deal, kind: str, listing_id: uuid.UUID) -> None:
    if getattr(deal, repository.LISTING_COLUMN[kind]) != listing_id:
        raise errors.invalid(
            "listing_id",
            "not_in_deal",
            "This deal does not concern that listing.",
            "该交易项目不涉及此成果（需求）。",
        )


async def list_disclosures(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[Disclosure], int]:
    await deal_of(session, user, deal_id)
    return await repository.disclosure_page(session, deal_id, page)


async def list_undertakings(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[Undertaking], int]:
    await deal_of(session, user, deal_id)
    return await repository.undertaking_page(session, deal_id, page)


def _listing_ref(row: Disclosure | Undertaking) -> tuple[str, uuid.UUID]:
    if row.achievement_id is not None:
        return "achievement", row.achievement_id
    assert row.demand_id is not None  # ck one_listing
    return "demand", row.demand_id


async def approve(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, kind: str, listing_id: uuid.UUID
) -> tuple[Disclosure, bool]:
    """The owner's approval for this deal (the one in force if already given: created False)."""
    deal = await deal_of(session, user, deal_id)
    _listing_of(deal, kind, listing_id)
    listing = await repository.listing(session, KINDS[kind].model, listing_id)
    if listing is None or not policy.is_owner(kind, user, listing):
        raise errors.not_owner()
    if deal.stage is DealStage.lost:
        raise errors.deal_closed(deal)
    existing = await repository.disclosure_in_force(session, deal.id, kind, listing_id)
    if existing is not None:
        return existing, False
    details = await repository.details(session, kind, listing_id)
    disclosure = Disclosure(
        id=uuid.uuid4(),
        deal_id=deal.id,
        approved_by_id=user.id,
        details_version=details.version if details else None,
    )
    setattr(disclosure, repository.LISTING_COLUMN[kind], listing_id)
    if await add_unique(session, disclosure, "uq_deal_disclosures_in_force"):
        held = await repository.disclosure_in_force(session, deal.id, kind, listing_id)
        assert held is not None  # the concurrent approval that won
        return held, False
    await audit.record(
        session,
        actor=user,
        object_type="deal_disclosure",
        object_id=disclosure.id,
        action="approved",
        changes={
            "deal_id": deal.id,
            "listing": f"{kind}:{listing_id}",
            "details_version": disclosure.details_version,
        },
    )
    return disclosure, True


async def revoke(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, disclosure_id: uuid.UUID
) -> Disclosure:
    deal = await deal_of(session, user, deal_id)
    disclosure = await repository.disclosure(session, deal.id, disclosure_id)
    if disclosure is None:
        raise NotFound(
            code="disclosure_not_found", message_en="No such disclosure.", message_zh="披露记录不存在。"
        )
    kind, listing_id = _listing_ref(disclosure)
    listing = await repository.listing(session, KINDS[kind].model, listing_id)
    if listing is None or not policy.is_owner(kind, user, listing):
        raise errors.not_owner()
    if disclosure.revoked_at is not None:
        raise Conflict(
            code="disclosure_revoked",
            message_en="This disclosure was already revoked.",
            message_zh="该披露已撤回。",
        )
    disclosure.revoked_at, disclosure.revoked_by_id = datetime.now(UTC), user.id
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type="deal_disclosure",
        object_id=disclosure.id,
        action="revoked",
        changes={"deal_id": deal.id, "listing": f"{kind}:{listing_id}"},
    )
    return disclosure


async def undertake(
    session: AsyncSession,
    *,
    user: User,
    deal_id: uuid.UUID,
    kind: str,
    listing_id: uuid.UUID,
    details_version: int,
    text_version: str,
) -> tuple[Undertaking, bool]:
    """`user`'s undertaking for the current version (the one already recorded: created False)."""
    deal = await deal_of(session, user, deal_id)
    _listing_of(deal, kind, listing_id)
    capacity = policy.reader_capacity(kind, user, deal)
    if capacity is None:
        raise NotPermitted(
            code="not_counterpart",
            message_en="Only the deal's counterpart and its broker undertake; the owner and administrators "
            "read without.",
            message_zh="只有交易对方和技术经理人需要签署保密承诺。",
        )
    if deal.stage is DealStage.lost:
        raise errors.deal_closed(deal)
    if await repository.disclosure_in_force(session, deal.id, kind, listing_id) is None:
        raise errors.disclosure_not_approved(deal)
    details = await repository.details(session, kind, listing_id)
    if details is None:
        raise errors.details_not_found()
    if details_version != details.version:
        raise Conflict(
            code="details_version_changed",
            message_en="The details have another version now; read its number and undertake for it.",
            message_zh="保密信息已更新，请针对当前版本签署承诺。",
            extra={"current_version": details.version},
            errors=[FieldError("details_version", "stale", "not the current version", "不是当前版本")],
        )
    if text_version != undertaking.TEXT_VERSION:
        raise errors.invalid(
            "text_version",
            "outdated",
            f"The undertaking's text is version {undertaking.TEXT_VERSION}.",
            f"保密承诺文本的当前版本为 {undertaking.TEXT_VERSION}。",
        )
    row = Undertaking(
        id=uuid.uuid4(),
        deal_id=deal.id,
        user_id=user.id,
        organization_id=user.organization_id,
        capacity=capacity.value,
        details_version=details.version,
        text_version=text_version,
    )
    setattr(row, repository.LISTING_COLUMN[kind], listing_id)
    if await add_unique(session, row, "uq_confidentiality_undertakings_version"):
        given = await repository.undertakings_of(session, deal.id, kind, listing_id, user.id)
        return next(u for u in given if u.details_version == details.version), False
    await audit.record(
        session,
        actor=user,
        object_type="confidentiality_undertaking",
        object_id=row.id,
        action="undertaken",
        changes={
            "deal_id": deal.id,
            "listing": f"{kind}:{listing_id}",
            "capacity": capacity,
            "details_version": details.version,
            "text_version": text_version,
        },
    )
    return row, True
