"""Handing a signed deal off to registration: a draft application pre-filled from the deal, made by
the contracts service's own `create_application`, so every rule of registration applies to it."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.contracts import service as contracts
from app.contracts.models import ContractApplication
from app.contracts.schemas import ApplicationFields
from app.contracts.vocabulary import ContractType
from app.core.config import Settings
from app.core.errors import Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from app.core.types import CHINA
from app.deals.handoff import mapping, repository
from app.deals.handoff.schemas import HandOff
from app.deals.models import Deal
from app.deals.policy import SELLER_SIDE, sides
from app.deals.vocabulary import DealStage

DEAL_NOT_FOUND = NotFound(code="deal_not_found", message_en="No such deal.", message_zh="交易项目不存在。")


def _required(field: str, code: str = "required") -> FieldError:
    return FieldError(
        field, code, f"{field} is needed: the deal cannot fill it.", f"交易项目无法预填 {field}，须填写。"
    )


async def _party(session: AsyncSession, organization_id: uuid.UUID) -> dict[str, Any]:
    """A party of the form as its organization is on record."""
    organization = await repository.get_organization(session, organization_id)
    assert organization is not None  # a foreign key
    return {
        "name": organization.name,
        "credit_code": organization.credit_code,
        "region_code": organization.region_code,
        "kind": mapping.party_kind(organization.kind),
    }


async def _listing(session: AsyncSession, deal: Deal) -> tuple[list[dict[str, Any]], Any]:
    """The rights and the technology field the deal's listings state (the achievement's first)."""
    rights: list[dict[str, Any]] = []
    field = None
    if deal.achievement_id is not None and (
        achievement := await repository.get_achievement(session, deal.achievement_id)
    ):
        rights, field = list(achievement.ip_rights or []), achievement.field
    if (
        field is None
        and deal.demand_id is not None
        and (demand := await repository.get_demand(session, deal.demand_id))
    ):
        field = demand.field
    return rights, field


async def _held_by(session: AsyncSession, deal: Deal) -> ContractApplication | None:
    """The application that holds the deal now: its current one, unless refused or cancelled."""
    if deal.contract_application_id is None:
        return None
    current = await repository.get_application(session, deal.contract_application_id)
    return None if current is None or current.status in mapping.RELEASED else current


async def _fields(session: AsyncSession, deal: Deal, body: HandOff) -> ApplicationFields:
    missing = [
        name
        for name in ("agreed_price", "seller_organization_id", "buyer_organization_id")
        if getattr(deal, name) is None
    ]
    if missing:
        raise Conflict(
            code="deal_incomplete",
            message_en="The deal lacks what the application needs: " + ", ".join(missing) + ".",
            message_zh="交易项目缺少登记申请所需的信息：" + "、".join(missing) + "。",
            extra={"missing": missing},
        )
    assert deal.agreed_price is not None and deal.seller_organization_id and deal.buyer_organization_id
    rights, field = await _listing(session, deal)
    problems: list[FieldError] = []
    kind: tuple[Any, Any] | None = mapping.contract_kind(deal.transfer_mode, rights)
    if body.contract_type or body.contract_subtype:  # the party's word over the transfer mode's
        kind = (body.contract_type, body.contract_subtype)
        problems += [
            _required(name) for name in ("contract_type", "contract_subtype") if getattr(body, name) is None
        ]
    elif kind is None:
        problems.append(_required("contract_type", "not_implied_by_transfer_mode"))
    for name in ("valid_until", "socio_economic_objective"):
        if getattr(body, name) is None:
            problems.append(_required(name))
    if field is None and body.technology_field is None:
        problems.append(_required("technology_field"))
    if kind is not None and kind[0] == ContractType.transfer:
        problems += [
            _required(name, "required_for_transfer")
            for name in ("expected_new_investment", "expected_new_output")
            if getattr(body, name) is None
        ]
    if problems:
        raise ValidationFailed(errors=problems)
    assert kind is not None
    signed_on = body.signed_on or await _signed_on(session, deal)
    seller = await _party(session, deal.seller_organization_id)
    buyer = await _party(session, deal.buyer_organization_id)
    price: Decimal = deal.agreed_price
    try:
        return ApplicationFields(
            contract_type=kind[0],
            contract_subtype=kind[1],
            project_name=body.project_name or deal.title,
            buyer=buyer,
            seller=seller,
            signed_on=signed_on,
            valid_from=body.valid_from or signed_on,
            valid_until=body.valid_until,
            contract_amount=price,
            claimed_technology_amount=price - body.deductions.total(),
            deductions=body.deductions,
            technology_field=body.technology_field or field,
            ip_kind=body.ip_kind or mapping.ip_kind(rights),
            socio_economic_objective=body.socio_economic_objective,
            expected_new_investment=body.expected_new_investment,
            expected_new_output=body.expected_new_output,
            achievement_id=deal.achievement_id,
            demand_id=deal.demand_id,
            disputed=body.disputed,
        )
    except ValidationError as exc:  # what the deal recorded does not make a valid form
        raise ValidationFailed(
            errors=[
                FieldError(".".join(map(str, e["loc"])), e["type"], e["msg"], e["msg"]) for e in exc.errors()
            ]
        ) from None


async def _signed_on(session: AsyncSession, deal: Deal) -> date:
    signed = await repository.signed_at(session, deal.id)
    assert signed is not None  # a deal in `signed` entered it
    return signed.astimezone(CHINA).date()


async def hand_off(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, body: HandOff, settings: Settings
) -> ContractApplication:
    """The seller side or the broker hands a signed deal off: a draft application for the seller,
    linked both ways (the application's deal_id, the deal's contract_application_id). 404 to those
    who may not see the deal, 403 `not_seller_side` to its other readers, 409 `already_handed_off`
    while an application holds it, 409 `deal_not_signed` in any other stage."""
    deal = await repository.get_deal(session, deal_id, lock=True)
    held = sides(user, deal) if deal is not None else frozenset()
    if deal is None or not held:
        raise DEAL_NOT_FOUND
    if not held & SELLER_SIDE:
        raise NotPermitted(
            code="not_seller_side",
            message_en="Only the seller side or the deal's broker hands a deal off to registration.",
            message_zh="只有卖方或本项目的技术经理人可以将交易项目移交认定登记。",
        )
    if (holder := await _held_by(session, deal)) is not None:
        raise Conflict(
            code="already_handed_off",
            message_en="An application for this deal is already in progress or registered.",
            message_zh="该交易项目已有在办或已登记的认定登记申请。",
            extra={"application": {"id": str(holder.id), "status": holder.status.value}},
        )
    if deal.stage != DealStage.signed:
        raise Conflict(
            code="deal_not_signed",
            message_en="Only a signed deal is handed off to registration.",
            message_zh="交易项目签订合同后方可移交认定登记。",
            extra={"current_status": deal.stage.value},
        )
    data = await _fields(session, deal, body)
    application = await contracts.create_application(
        session,
        user=user,
        data=data,
        settings=settings,
        applicant_organization_id=deal.seller_organization_id,
        deal_id=deal.id,
    )
    previous = deal.contract_application_id
    deal.contract_application_id = application.id
    deal.version += 1
    await audit.record(
        session,
        actor=user,
        object_type="deal",
        object_id=deal.id,
        action="hand_off",
        changes={"contract_application_id": [previous, application.id]},
    )
    await session.flush()
    return application
