"""委托: the party that engages a broker, the commission and the period. The deal's broker follows
the mandate in force; replacing a mandate ends the previous one."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit import service as audit
from app.core.errors import Conflict, NotPermitted
from app.deals import repository
from app.deals.models import Deal, Mandate
from app.deals.schemas import MandateIn
from app.deals.service import deal_closed, invalid, locked, reached
from app.deals.vocabulary import CLOSED_STAGES, DealStage


async def put(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, data: MandateIn, if_match: int | None
) -> Deal:
    """Record the mandate in force (the engaging party's members or an administrator) until the
    contract is signed: exactly one of a commission rate (0–1) or a fixed commission (at most the
    agreed price, when known)."""
    deal = await locked(session, user, deal_id, if_match)
    if deal.stage in CLOSED_STAGES:
        raise deal_closed(deal)
    # The broker of a signed contract is the one its registration (and reward) is attributed to:
    # replaced afterwards, the seller could hand the reward to an agency of its choosing.
    if reached(deal, DealStage.signed):
        raise Conflict(
            code="mandate_locked",
            message_en="The mandate of a signed deal cannot change.",
            message_zh="合同已签订，委托不能再变更。",
            extra={"current_status": deal.stage.value},
        )
    engaging = data.engaged_by_organization_id
    if engaging not in (deal.seller_organization_id, deal.buyer_organization_id):
        raise invalid(
            "engaged_by_organization_id",
            "not_a_party",
            "The broker is engaged by the deal's seller or buyer.",
            "委托方须为本项目的卖方或买方。",
        )
    if user.role != Role.admin and user.organization_id != engaging:
        raise NotPermitted(
            code="not_engaging_party",
            message_en="Only members of the engaging party or administrators record its mandate.",
            message_zh="只有委托方的成员或管理员可以登记委托。",
        )
    _check_terms(deal, data)
    manager = await repository.user(session, data.technology_manager_id)
    if manager is None or manager.role != Role.tech_manager or not manager.is_active:
        raise invalid(
            "technology_manager_id",
            "not_a_technology_manager",
            "The broker must be an active technology manager.",
            "受托人须为在册的技术经理人。",
        )

    previous = await repository.mandate_in_force(session, deal.id, lock=True)
    if previous is not None:
        previous.ended_at = datetime.now(UTC)
        # The one-in-force index holds at every statement: the old one ends before the new one exists.
        await session.flush()
        await audit.record(
            session,
            actor=user,
            object_type="deal",
            object_id=deal.id,
            action="mandate_end",
            changes={"mandate_id": previous.id, "technology_manager_id": previous.technology_manager_id},
        )
    mandate = Mandate(
        deal_id=deal.id,
        **data.model_dump(),
        agency_organization_id=manager.organization_id,
        created_by_id=user.id,
    )
    session.add(mandate)
    before = {"broker_user_id": deal.broker_user_id, "broker_agency_id": deal.broker_agency_id}
    deal.broker_user_id, deal.broker_agency_id = manager.id, manager.organization_id
    deal.version += 1
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type="deal",
        object_id=deal.id,
        action="mandate",
        changes={
            "mandate_id": mandate.id,
            **data.model_dump(),
            "agency_organization_id": manager.organization_id,
            **audit.diff(before, {"broker_user_id": manager.id, "broker_agency_id": manager.organization_id}),
        },
    )
    await session.refresh(deal)
    return deal


def _check_terms(deal: Deal, data: MandateIn) -> None:
    if (data.commission_rate is None) == (data.commission_fixed is None):
        raise invalid(
            "commission_rate" if data.commission_rate is None else "commission_fixed",
            "one_commission",
            "Give a commission rate or a fixed commission, not both nor neither.",
            "佣金比例与固定佣金须填且只填一项。",
        )
    if data.commission_fixed is not None and deal.agreed_price is not None:
        if data.commission_fixed > deal.agreed_price:
            raise invalid(
                "commission_fixed",
                "above_agreed_price",
                "A fixed commission cannot exceed the agreed price.",
                "固定佣金不能超过成交价。",
            )
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise invalid(
            "ends_on", "before_start", "The mandate ends before it starts.", "委托结束日早于开始日。"
        )
