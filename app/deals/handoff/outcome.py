"""The registration's outcome moving the deal, from the outbox (topic `deal.registration`, written
by the contracts workflow with every status change of an application that has a deal).

Idempotent and order-free: the handler ignores the payload's status and reads the application as it
is now, under the deal's row lock, and changes the deal only where it differs — a replay, a stale
message or one overtaken by a later one changes nothing and writes no history."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import SystemActor
from app.contracts.models import ContractApplication
from app.contracts.transitions import DEAL_OUTCOME_TOPIC
from app.contracts.workflow import IN_FORCE_STATES, Status
from app.deals import service as deals
from app.deals.handoff import mapping, repository
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.outbox.models import OutboxMessage

TOPIC = DEAL_OUTCOME_TOPIC
REGISTRATION_FIELDS = (
    "registration_number",
    "registered_on",
    "registered_contract_amount",
    "registered_technology_amount",
)


def registration_of(application: ContractApplication) -> dict[str, Any]:
    """The registration in force (an amendment's amounts once in force), or nothing."""
    in_force = application.status in IN_FORCE_STATES
    return {name: getattr(application, name) if in_force else None for name in REGISTRATION_FIELDS}


def reason_of(application: ContractApplication) -> str | None:
    if application.status == Status.refused:
        return f"不予登记：{application.refusal_reason or ''}"[:500]
    if application.status == Status.cancelled:
        return "登记已注销"
    return None


async def apply(session: AsyncSession, deal_id: uuid.UUID, application_id: uuid.UUID) -> bool:
    """Bring the deal in line with its application; True if anything changed."""
    # The deal first, then the application: read under the lock, the application is at least as new
    # as what any earlier holder of the lock saw, so a slower relay cannot move the deal backwards.
    deal = await repository.get_deal(session, deal_id, lock=True)
    if deal is None or deal.contract_application_id != application_id:
        return False  # a superseded application (refused, then handed off again) moves nothing
    application = await repository.get_application(session, application_id)
    if application is None or deal.stage == DealStage.lost:
        return False  # the parties closed the deal: it stays lost
    return await _follow(session, deal, application)


async def _follow(session: AsyncSession, deal: Deal, application: ContractApplication) -> bool:
    target = mapping.STAGE_OF_STATUS[application.status]
    # On hold: the outcome that leaves the deal where it was held from does not resume it.
    current = deal.held_from_stage if deal.stage == DealStage.on_hold else deal.stage
    changed = False
    if target != current:
        await deals.enter_stage(session, deal, target, actor=SystemActor(), reason=reason_of(application))
        changed = True
    registration = registration_of(application)
    before = {name: getattr(deal, name) for name in REGISTRATION_FIELDS}
    if registration != before:
        for name, value in registration.items():
            setattr(deal, name, value)
        if not changed:
            deal.version += 1
        await audit.record(
            session,
            actor=SystemActor(),
            object_type="deal",
            object_id=deal.id,
            action="registration",
            changes={"application_id": application.id, **audit.diff(before, registration)},
        )
        changed = True
    await session.flush()
    return changed


async def handler(session: AsyncSession, batch: Sequence[OutboxMessage]) -> None:
    """The relay's handler: each message names a deal (key) and an application (payload)."""
    for message in batch:
        await apply(session, uuid.UUID(message.key), uuid.UUID(message.payload["application_id"]))
