"""Applying one workflow transition: lock, check, apply the effect, history, audit, summary.

Each effect is a small function keyed by the action; `act` is the only way the status changes.
"""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.contracts import numbering, policy, repository
from app.contracts.models import ContractApplication, ContractEvent
from app.contracts.service import (
    _invalid,
    _locked,
    above_ceiling,
    contribution,
    deadline,
    duplicate_contract,
    holder_of_contract,
    requires_experts,
    review_days,
)
from app.contracts.workflow import Action, Actor, Status, TransitionRefused, resolve
from app.core.config import Settings
from app.core.errors import Conflict, InvalidTransition, NotPermitted, ValidationFailed
from app.core.types import today_in_china
from app.outbox import service as outbox
from app.stats import summary

# The registration's outcome flowing back to the deal it was handed off from (app/deals/handoff).
DEAL_OUTCOME_TOPIC = "deal.registration"


class Context:
    """What an effect may use: the session, settings, the day, the request's parameters."""

    def __init__(
        self, session: AsyncSession, settings: Settings, today: date, params: dict[str, Any]
    ) -> None:
        self.session = session
        self.settings = settings
        self.today = today
        self.params = params


def _technology_amount_fits(amount: Decimal, contract_amount: Decimal, field: str) -> None:
    if amount > contract_amount:
        raise _invalid(
            field,
            "above_contract_amount",
            "The technology amount cannot exceed the contract amount.",
            "技术交易额不能超过合同成交额。",
        )


async def _start_clock(app: ContractApplication, ctx: Context, days: int) -> None:
    app.accepted_on = ctx.today
    due = await deadline(ctx.session, ctx.today, days)
    app.due_on, app.due_provisional = due.due_on, due.provisional


async def _submit(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    if not app.document_sha256 or not app.document_name:
        raise _invalid(
            "document_sha256",
            "missing",
            "Attach the contract document before submitting.",
            "提交前须附合同文本。",
        )
    app.submitted_at = datetime.now(UTC)
    return {}


async def _accept(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    await _start_clock(app, ctx, ctx.settings.contract_review_working_days)
    return {"accepted_on": app.accepted_on, "due_on": app.due_on, "provisional": app.due_provisional}


async def _request_correction(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    app.correction_items = list(ctx.params["items"])
    app.due_on = None  # the clock restarts from the resubmission (DOMAIN.md, procedure step 4)
    return {"items": app.correction_items}


async def _resubmit(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    await _start_clock(app, ctx, ctx.settings.contract_review_working_days)
    return {"accepted_on": app.accepted_on, "due_on": app.due_on, "provisional": app.due_provisional}


async def _start_review(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    return {"requires_experts": requires_experts(app, ctx.settings)}


async def _refer_to_experts(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    if ctx.params.get("reason"):
        app.disputed = True
    assert app.accepted_on is not None
    due = await deadline(ctx.session, app.accepted_on, ctx.settings.contract_expert_review_working_days)
    app.due_on, app.due_provisional = due.due_on, due.provisional
    return {"due_on": app.due_on, "provisional": app.due_provisional}


async def _add_expert_opinion(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    opinion = {**ctx.params["opinion"], "recorded_on": ctx.today.isoformat()}
    app.expert_opinions = [*app.expert_opinions, opinion]
    return {"opinion": opinion}


async def _decide(app: ContractApplication, ctx: Context) -> None:
    app.decided_on = ctx.today
    app.decided_on_time = app.due_on is None or ctx.today <= app.due_on


async def _register(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    amount: Decimal = ctx.params["technology_amount"]
    if requires_experts(app, ctx.settings, certifying=amount) and not app.expert_opinions:
        raise Conflict(
            code="expert_review_required",
            message_en="This contract needs expert review (large or disputed) with at least one opinion.",
            message_zh="该合同（大额或有争议）须经专家评审并记录专家意见。",
        )
    # Registered again after an objection: the contract amount in force (perhaps amended) stays.
    contract_amount = app.registered_contract_amount if app.registration_number else app.contract_amount
    assert contract_amount is not None
    if contract_amount <= 0:
        # 火炬中心: a contract whose price is not stated is not registrable; the officer refuses it.
        raise Conflict(
            code="no_contract_price",
            message_en="A contract without a price (contract amount 0) cannot be registered; refuse it.",
            message_zh="合同成交额为零（价款不明确），不予登记。",
            extra={"field": "contract_amount"},
        )
    _technology_amount_fits(amount, contract_amount, "technology_amount")
    if app.registration_number is None:
        office = await repository.get_organization(ctx.session, app.office_id)
        assert office.region_code and office.registration_point
        sequence = await repository.next_sequence(ctx.session, app.office_id, ctx.today.year)
        if sequence > numbering.SEQUENCE_MAX:
            raise Conflict(
                code="sequence_exhausted",
                message_en="The office's numbers for this year are used up.",
                message_zh="本机构本年度登记编号已用完。",
            )
        app.registration_number = numbering.registration_number(
            year=ctx.today.year,
            region_code=office.region_code,
            registration_point=office.registration_point,
            sequence=sequence,
        )
        app.registered_on = ctx.today
    app.registered_contract_amount = contract_amount
    app.registered_technology_amount = amount
    await _decide(app, ctx)
    await summary.apply(ctx.session, contribution(app, +1))
    return {"registration_number": app.registration_number, "on_time": app.decided_on_time}


async def _refuse(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    app.refusal_reason = ctx.params["reason"]
    await _decide(app, ctx)
    return {"on_time": app.decided_on_time}


def amendment_needs_experts(technology_amount: Decimal, settings: Settings) -> bool:
    """A change registration bringing the technology amount to the large-contract threshold or
    above goes through expert review before it takes effect, as a registration would."""
    return technology_amount >= settings.contract_large_threshold


async def _refer_amendment(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    contract_amount: Decimal = ctx.params["contract_amount"]
    technology_amount: Decimal = ctx.params["technology_amount"]
    _technology_amount_fits(technology_amount, contract_amount, "technology_amount")
    app.pending_contract_amount, app.pending_technology_amount = contract_amount, technology_amount
    # The change is accepted today; the registration in force keeps counting meanwhile.
    await _start_clock(app, ctx, ctx.settings.contract_expert_review_working_days)
    return {
        "contract_amount": contract_amount,
        "technology_amount": technology_amount,
        "accepted_on": app.accepted_on,
        "due_on": app.due_on,
        "provisional": app.due_provisional,
    }


async def _end_amendment_review(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    proposed = {
        "contract_amount": app.pending_contract_amount,
        "technology_amount": app.pending_technology_amount,
    }
    app.pending_contract_amount = app.pending_technology_amount = None
    await _decide(app, ctx)
    return {"proposed": proposed, "on_time": app.decided_on_time}


async def _amend(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    contract_amount: Decimal = ctx.params["contract_amount"]
    technology_amount: Decimal = ctx.params["technology_amount"]
    if (too_large := above_ceiling(contract_amount, ctx.settings)) is not None:
        raise ValidationFailed(errors=[too_large])
    _technology_amount_fits(technology_amount, contract_amount, "technology_amount")
    decision: dict[str, Any] = {}
    if app.status == Status.amendment_review:
        if not await repository.opinions_since(ctx.session, app.id, Action.refer_amendment.value):
            raise Conflict(
                code="expert_review_required",
                message_en="This change needs at least one expert opinion before it takes effect.",
                message_zh="该变更登记须记录专家意见后方可生效。",
            )
        decision = await _end_amendment_review(app, ctx)
    before = contribution(app, -1)
    previous = {
        "contract_amount": app.registered_contract_amount,
        "technology_amount": app.registered_technology_amount,
    }
    app.registered_contract_amount = contract_amount
    app.registered_technology_amount = technology_amount
    app.amendment_count += 1
    after = contribution(app, +1)
    await summary.apply(
        ctx.session,
        summary.Contribution(
            registered_on=after.registered_on,
            region_code=after.region_code,
            values=after.values,
            count=0,
            contract_amount=after.contract_amount + before.contract_amount,
            technology_amount=after.technology_amount + before.technology_amount,
        ),
    )
    return {"previous": previous, **decision}


async def _reject_amendment(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    return await _end_amendment_review(app, ctx)


async def _leave_registered(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    await summary.apply(ctx.session, contribution(app, -1))
    return {}


async def _object(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    # A refused application holds its contract again once objected to: not if another one does now.
    if app.status == Status.refused and (holder := await holder_of_contract(ctx.session, app)):
        raise duplicate_contract(holder)
    if app.status == Status.registered:
        await summary.apply(ctx.session, contribution(app, -1))
    return {"objection_to": app.status.value}


async def _reopen(app: ContractApplication, ctx: Context) -> dict[str, Any]:
    await _start_clock(app, ctx, review_days(app, ctx.settings, Action.reopen.value))
    return {"accepted_on": app.accepted_on, "due_on": app.due_on, "provisional": app.due_provisional}


EFFECTS = {
    Action.submit: _submit,
    Action.accept: _accept,
    Action.request_correction: _request_correction,
    Action.resubmit: _resubmit,
    Action.start_review: _start_review,
    Action.refer_to_experts: _refer_to_experts,
    Action.add_expert_opinion: _add_expert_opinion,
    Action.register: _register,
    Action.refuse: _refuse,
    Action.amend: _amend,
    Action.refer_amendment: _refer_amendment,
    Action.reject_amendment: _reject_amendment,
    Action.cancel: _leave_registered,
    Action.object: _object,
    Action.reopen: _reopen,
}


def _refusal(error: TransitionRefused) -> InvalidTransition | NotPermitted:
    extra = {
        "current_status": error.source.value,
        "action": error.action.value,
        "allowed_actions": [a.value for a in error.allowed],
    }
    if error.exists:
        return NotPermitted(
            code="action_not_permitted",
            message_en=f"You may not {error.action.value} this application.",
            message_zh=f"您无权对该申请执行“{error.action.label}”。",
            extra=extra,
        )
    return InvalidTransition(
        message_en=f"'{error.action.value}' is not possible in state '{error.source.value}'.",
        message_zh=f"“{error.source.label}”状态下不能“{error.action.label}”。",
        extra=extra,
    )


async def _apply(
    app: ContractApplication, action: Action, capacities: frozenset[Actor], ctx: Context, user: User | None
) -> None:
    try:
        transition = resolve(app.status, action, capacities)
    except TransitionRefused as error:
        raise _refusal(error) from None
    source = app.status
    details = await EFFECTS[action](app, ctx)
    app.status = transition.target
    app.version += 1
    capacity = sorted(capacities & transition.actors)[0]
    amounts = action in (Action.register, Action.amend)
    comment = ctx.params.get("reason") or ctx.params.get("comment")
    ctx.session.add(
        ContractEvent(
            application_id=app.id,
            action=action.value,
            from_status=source.value,
            to_status=app.status.value,
            actor_user_id=user.id if user else None,
            actor_capacity=capacity.value,
            contract_amount=app.registered_contract_amount if amounts else None,
            technology_amount=app.registered_technology_amount if amounts else None,
            comment=comment,
            details=audit._jsonable(details),
        )
    )
    await audit.record(
        ctx.session,
        actor=user or audit.SystemActor(),
        object_type="contract_application",
        object_id=app.id,
        action=action.value,
        changes={"status": [source.value, app.status.value], **details},
    )


async def act(
    session: AsyncSession,
    *,
    user: User,
    application_id: uuid.UUID,
    action: Action,
    settings: Settings,
    params: dict[str, Any] | None = None,
    expected_version: int | None = None,
    today: date | None = None,
) -> ContractApplication:
    """Take `action` on the application as `user`: 404 if it is not visible to them, 403 if their
    capacity may not, 409 (with the allowed actions) if the state does not allow it."""
    app = await _locked(session, user, application_id, expected_version)
    source = app.status
    ctx = Context(session, settings, today or today_in_china(), dict(params or {}))
    capacities = policy.capacities(user, app)
    if (
        action == Action.amend
        and app.status == Status.registered
        and amendment_needs_experts(ctx.params["technology_amount"], settings)
    ):
        # The officer's change goes to experts first (30 working days); it takes effect by `amend`.
        try:
            resolve(app.status, action, capacities)
        except TransitionRefused as error:
            raise _refusal(error) from None
        await _apply(app, Action.refer_amendment, frozenset({Actor.system}), ctx, user)
    else:
        await _apply(app, action, capacities, ctx, user)
    if action == Action.start_review and requires_experts(app, settings):
        # Large or disputed contracts go to expert review automatically (30 working days).
        await _apply(
            app,
            Action.refer_to_experts,
            frozenset({Actor.system}),
            Context(session, settings, ctx.today, {}),
            None,
        )
    if app.deal_id is not None and (app.status != source or action == Action.amend):
        # One message per request however many transitions it took (start_review + referral):
        # the deal's handler reads the application's state when it runs, not this payload's.
        outbox.enqueue(
            session,
            topic=DEAL_OUTCOME_TOPIC,
            key=str(app.deal_id),
            payload={"application_id": str(app.id), "status": app.status.value, "version": app.version},
        )
    await session.flush()
    await session.refresh(app)
    return app
