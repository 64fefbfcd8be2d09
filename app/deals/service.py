"""The deal's rules. `open_deal` and `enter_stage` are the two primitives every other part builds on
(an accepted interest opens a deal; a broker's move, a pricing route or the registration's outcome
enters a stage): each writes the stage history and the audit in the caller's transaction."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit import service as audit
from app.audit.service import Actor, SystemActor
from app.core.db import unique_violation
from app.core.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PreconditionFailed,
    ValidationFailed,
)
from app.core.pagination import PageParams
from app.core.types import today_in_china
from app.deals import policy, repository, stages
from app.deals.models import REACHED_AT, Deal, DealStageEvent, Mandate
from app.deals.policy import Side
from app.deals.schemas import DealCreate, DealUpdate, StageMove
from app.deals.stages import Mover
from app.deals.vocabulary import CLOSED_STAGES, DealStage
from app.listings.vocabulary import ListingStatus
from app.trading.vocabulary import PricingRoute

ONE_OPEN_DEAL_CONSTRAINTS = frozenset({"uq_deals_open_achievement_buyer", "uq_deals_open_demand_seller"})


def duplicate_deal(holder: Deal | None) -> Conflict:
    return Conflict(
        code="duplicate_deal",
        message_en="An open deal already concerns this listing and counterpart.",
        message_zh="该成果（需求）与同一对方已有进行中的交易项目。",
        extra={"duplicate_of": {"id": str(holder.id), "stage": holder.stage.value}} if holder else {},
    )


async def open_deal(
    session: AsyncSession,
    *,
    actor: Actor | SystemActor | None,
    title: str,
    seller_organization_id: uuid.UUID | None,
    buyer_organization_id: uuid.UUID | None,
    achievement_id: uuid.UUID | None = None,
    demand_id: uuid.UUID | None = None,
    stage: DealStage = DealStage.lead,
    broker_user_id: uuid.UUID | None = None,
    broker_agency_id: uuid.UUID | None = None,
) -> Deal:
    """A new deal in `stage`, its first stage event and its audit entry; 409 `duplicate_deal`
    naming the open deal that already holds the same listing and counterpart. A technology
    manager's lead names them as its broker (until a mandate says otherwise)."""
    deal = Deal(
        title=title,
        stage=stage,
        seller_organization_id=seller_organization_id,
        buyer_organization_id=buyer_organization_id,
        achievement_id=achievement_id,
        demand_id=demand_id,
        broker_user_id=broker_user_id,
        broker_agency_id=broker_agency_id,
        created_by_id=actor.id if actor else None,
    )
    try:
        async with session.begin_nested():
            session.add(deal)
            await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc) not in ONE_OPEN_DEAL_CONSTRAINTS:
            raise
        holder = await repository.open_deal_for(
            session,
            achievement_id=achievement_id,
            demand_id=demand_id,
            buyer_organization_id=buyer_organization_id,
            seller_organization_id=seller_organization_id,
        )
        raise duplicate_deal(holder) from None
    now = datetime.now(UTC)
    mark_reached(deal, stage, now)
    session.add(
        DealStageEvent(
            deal_id=deal.id,
            from_stage=None,
            to_stage=stage,
            actor_user_id=actor.id if actor else None,
            created_at=now,
        )
    )
    await audit.record(
        session,
        actor=actor,
        object_type="deal",
        object_id=deal.id,
        action="open",
        changes={
            "stage": stage,
            "seller_organization_id": seller_organization_id,
            "buyer_organization_id": buyer_organization_id,
            "achievement_id": achievement_id,
            "demand_id": demand_id,
            "broker_user_id": broker_user_id,
            "broker_agency_id": broker_agency_id,
        },
    )
    return deal


def mark_reached(deal: Deal, stage: DealStage, at: datetime) -> None:
    """Record when `deal` first entered a stage of the market funnel, at its stage event's instant
    (a deal resumed or moved back keeps the first time)."""
    column = REACHED_AT.get(stage)
    if column is not None and getattr(deal, column) is None:
        setattr(deal, column, at)


async def enter_stage(
    session: AsyncSession,
    deal: Deal,
    to_stage: DealStage,
    *,
    actor: Actor | SystemActor | None,
    reason: str | None = None,
) -> DealStageEvent:
    """Move `deal` to `to_stage` with no rule checked (callers own the rules): the stage history,
    the version and the audit entry, in the caller's transaction. The caller holds the row
    (SELECT … FOR UPDATE or an If-Match version check) so that two moves cannot interleave."""
    from_stage = deal.stage
    deal.held_from_stage = from_stage if to_stage is DealStage.on_hold else None
    deal.stage = to_stage
    deal.stage_reason = reason
    now = datetime.now(UTC)
    deal.stage_changed_at = now
    deal.version += 1
    mark_reached(deal, to_stage, now)
    event = DealStageEvent(
        deal_id=deal.id,
        from_stage=from_stage,
        to_stage=to_stage,
        actor_user_id=actor.id if actor else None,
        reason=reason,
        created_at=now,
    )
    session.add(event)
    await audit.record(
        session,
        actor=actor,
        object_type="deal",
        object_id=deal.id,
        action=f"stage:{to_stage.value}",
        changes={"stage": [from_stage, to_stage], "reason": reason},
    )
    return event


# --- The deal's routes ---------------------------------------------------------------------------

NOT_FOUND = NotFound(code="deal_not_found", message_en="No such deal.", message_zh="交易项目不存在。")
# Where a deal stands on its way; on_hold counts where it was held from.
PROGRESS = (
    DealStage.lead,
    DealStage.mandated,
    DealStage.diligence,
    DealStage.negotiating,
    DealStage.agreed,
    DealStage.signed,
    DealStage.registration_submitted,
    DealStage.registered,
)


def invalid(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(field, code, en, zh)])


def reached(deal: Deal, stage: DealStage) -> bool:
    """Whether the deal is at `stage` or past it (a deal on hold, where it was held from)."""
    current = deal.held_from_stage if deal.stage is DealStage.on_hold else deal.stage
    return current in PROGRESS and PROGRESS.index(current) >= PROGRESS.index(stage)  # type: ignore[arg-type]


def deal_closed(deal: Deal) -> Conflict:
    return Conflict(
        code="deal_closed",
        message_en="The deal is closed (registered or lost).",
        message_zh="交易项目已结束（已登记或已终止）。",
        extra={"current_status": deal.stage.value},
    )


def movers(user: User, deal: Deal) -> frozenset[Mover]:
    return frozenset(Mover(side.value) for side in policy.sides(user, deal))


async def locked(session: AsyncSession, user: User, deal_id: uuid.UUID, if_match: int | None) -> Deal:
    """The deal held FOR UPDATE, its version checked against If-Match inside the lock (`None`:
    If-Match `*`): two changes cannot interleave, and the second learns of the first (412)."""
    deal = await repository.get_visible(session, user, deal_id, lock=True)
    if deal is None:
        raise NOT_FOUND
    if if_match is not None and deal.version != if_match:
        raise PreconditionFailed(extra={"current_version": deal.version})
    return deal


async def get(session: AsyncSession, *, user: User, deal_id: uuid.UUID) -> Deal:
    deal = await repository.get_visible(session, user, deal_id)
    if deal is None:
        raise NOT_FOUND
    return deal


async def present(session: AsyncSession, user: User, deal: Deal) -> dict[str, Any]:
    return (await present_many(session, user, [deal]))[0]


async def present_many(session: AsyncSession, user: User, deals: list[Deal]) -> list[dict[str, Any]]:
    """Deals as `DealRead` answers them to `user` (their mandates in one query): the commission
    terms only to the party that engaged the broker, the broker and administrators (the
    counterpart negotiates the price with them)."""
    mandates = await repository.mandates_in_force(session, [deal.id for deal in deals])
    today = today_in_china()
    answers = []
    for deal in deals:
        mandate = mandates.get(deal.id)
        mandate_data = None
        if mandate is not None:
            terms_visible = (
                user.role == Role.admin
                or user.id == mandate.technology_manager_id
                or user.organization_id == mandate.engaged_by_organization_id
            )
            mandate_data = {
                **{c: getattr(mandate, c) for c in MANDATE_FIELDS},
                "commission_rate": mandate.commission_rate if terms_visible else None,
                "commission_fixed": mandate.commission_fixed if terms_visible else None,
                "in_force": in_force(mandate, today),
            }
        held = movers(user, deal)
        answers.append(
            {
                **{c.key: getattr(deal, c.key) for c in Deal.__table__.columns if c.key != "created_by_id"},
                "stage_label": deal.stage.label,
                "mandate": mandate_data,
                "sides": sorted(side.value for side in held),
                "allowed_moves": stages.allowed(deal.stage, deal.held_from_stage, held),
            }
        )
    return answers


MANDATE_FIELDS = (
    "id",
    "engaged_by_organization_id",
    "technology_manager_id",
    "agency_organization_id",
    "starts_on",
    "ends_on",
    "created_at",
)


def in_force(mandate: Mandate, day: date) -> bool:
    return (
        mandate.ended_at is None
        and mandate.starts_on <= day
        and (mandate.ends_on is None or day <= mandate.ends_on)
    )


async def _listing_party(
    session: AsyncSession,
    kind: str,
    listing_id: uuid.UUID | None,
    given: uuid.UUID | None,
    *,
    new: bool = True,
) -> uuid.UUID | None:
    """The party a listing makes: its owner (the seller of an achievement, the buyer of a demand).
    A `new` deal needs the listing published; an open deal keeps its listing whatever became of it."""
    if listing_id is None:
        return given
    field = f"{kind}_id"
    listing = await (repository.achievement if kind == "achievement" else repository.demand)(
        session, listing_id
    )
    if listing is None or (new and listing.status is not ListingStatus.published):
        raise invalid(field, "not_published", "No such published listing.", "该成果（需求）不存在或未发布。")
    if given is not None and given != listing.owner_organization_id:
        party = "seller" if kind == "achievement" else "buyer"
        raise invalid(
            f"{party}_organization_id",
            "not_listing_owner",
            f"The {party} of a deal on this {kind} is its owner.",
            "交易一方须为该成果（需求）的所有单位。",
        )
    return listing.owner_organization_id


async def _check_parties(session: AsyncSession, seller: uuid.UUID | None, buyer: uuid.UUID | None) -> None:
    for field, organization_id in (("seller_organization_id", seller), ("buyer_organization_id", buyer)):
        if organization_id is not None and not await repository.organization_exists(session, organization_id):
            raise invalid(field, "unknown_organization", "No such organization.", "单位不存在。")
    if seller is not None and seller == buyer:
        raise invalid(
            "buyer_organization_id", "same_party", "Seller and buyer must differ.", "买卖双方不能为同一单位。"
        )


async def create_lead(session: AsyncSession, *, user: User, data: DealCreate) -> Deal:
    """A technology manager's lead: they are its broker (their organization its agency) until a
    mandate names someone; the listings' owners are the parties they imply."""
    seller = await _listing_party(session, "achievement", data.achievement_id, data.seller_organization_id)
    buyer = await _listing_party(session, "demand", data.demand_id, data.buyer_organization_id)
    await _check_parties(session, seller, buyer)
    deal = await open_deal(
        session,
        actor=user,
        title=data.title,
        seller_organization_id=seller,
        buyer_organization_id=buyer,
        achievement_id=data.achievement_id,
        demand_id=data.demand_id,
        broker_user_id=user.id,
        broker_agency_id=user.organization_id,
    )
    await session.flush()
    await session.refresh(deal)
    return deal


async def list_mine(
    session: AsyncSession, *, user: User, page: PageParams, stage: DealStage | None
) -> tuple[list[Deal], int]:
    return await repository.page_visible(session, user, page, stage=stage)


async def history(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[DealStageEvent], int]:
    deal = await get(session, user=user, deal_id=deal_id)
    return await repository.page_history(session, deal.id, page)


async def _commission_fits(
    session: AsyncSession, deal_id: uuid.UUID, agreed_price: Decimal | None, field: str
) -> None:
    mandate = await repository.mandate_in_force(session, deal_id)
    fixed = mandate.commission_fixed if mandate else None
    if fixed is not None and agreed_price is not None and fixed > agreed_price:
        raise invalid(
            field,
            "below_commission",
            "The agreed price cannot be below the mandate's fixed commission.",
            "成交价不能低于委托的固定佣金。",
        )


TERMS = ("agreed_price", "transfer_mode")
PARTIES = ("seller_organization_id", "buyer_organization_id")


async def update(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, data: DealUpdate, if_match: int | None
) -> Deal:
    """PATCH: any side edits the title, terms and payment terms (the terms until signed); the
    broker or an administrator names the parties (a missing one until signed, a known one only
    while a lead); only administrators mark a related-party deal, a registered one included."""
    deal = await locked(session, user, deal_id, if_match)
    changes = data.model_dump(exclude_unset=True)
    # Related parties often come to light only after registration, when the reward is due: an
    # administrator may still mark (or unmark) a registered deal; nothing else of a closed deal moves.
    if deal.stage in CLOSED_STAGES and (deal.stage is DealStage.lost or set(changes) - {"related_party"}):
        raise deal_closed(deal)
    held = policy.sides(user, deal)
    for field in ("title", "payment_terms", "related_party"):
        if field in changes and changes[field] is None:
            raise invalid(field, "required", "This field cannot be emptied.", "该字段不能为空。")
    if "related_party" in changes and Side.admin not in held:
        raise NotPermitted(
            code="admin_only",
            message_en="Only administrators decide whether a deal is between related parties.",
            message_zh="只有管理员可以认定关联交易。",
            extra={"field": "related_party"},
        )
    for field in TERMS:
        if field not in changes or changes[field] == getattr(deal, field):
            continue
        if reached(deal, DealStage.signed):
            raise Conflict(
                code="terms_locked",
                message_en="The terms of a signed deal cannot change.",
                message_zh="合同已签订，成交条件不能再修改。",
                extra={"field": field, "current_status": deal.stage.value},
            )
        if changes[field] is None and reached(deal, DealStage.agreed):
            raise invalid(
                field, "required", "An agreed deal keeps its terms.", "已成交的项目须保留成交条件。"
            )
    await _change_parties(session, user, deal, held, changes)

    changed = audit.diff({key: getattr(deal, key) for key in changes}, changes)
    if not changed:
        return deal
    if "agreed_price" in changed:
        await _commission_fits(session, deal.id, changes["agreed_price"], "agreed_price")
    key = {f: changes.get(f, getattr(deal, f)) for f in (*PARTIES, "achievement_id", "demand_id")}
    try:
        # The change in a savepoint: a party that makes this deal a second open one for the same
        # listing and counterpart breaks a unique index, and is answered like open_deal's.
        async with session.begin_nested():
            for field, value in changes.items():
                setattr(deal, field, value)
            deal.version += 1
            await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc) not in ONE_OPEN_DEAL_CONSTRAINTS:
            raise
        raise duplicate_deal(await repository.open_deal_for(session, **key)) from None
    await audit.record(
        session, actor=user, object_type="deal", object_id=deal.id, action="update", changes=changed
    )
    await session.refresh(deal)
    return deal


async def _change_parties(
    session: AsyncSession, user: User, deal: Deal, held: frozenset[Side], changes: dict[str, Any]
) -> None:
    asked = [f for f in PARTIES if f in changes and changes[f] != getattr(deal, f)]
    if not asked:
        return
    if not held & {Side.broker, Side.admin}:
        raise NotPermitted(
            code="broker_only",
            message_en="Only the deal's broker or an administrator names its parties.",
            message_zh="只有本项目的技术经理人或管理员可以指定交易双方。",
            extra={"field": asked[0]},
        )
    for field in asked:
        filling = getattr(deal, field) is None
        if reached(deal, DealStage.signed) or not (filling or deal.stage is DealStage.lead):
            raise Conflict(
                code="parties_locked",
                message_en="A known party changes only while the deal is a lead; a missing one may be "
                "named until the contract is signed.",
                message_zh="交易双方仅在意向阶段可更换；缺少的一方可在签订合同前补充。",
                extra={"field": field, "current_status": deal.stage.value},
            )
    seller = changes.get("seller_organization_id", deal.seller_organization_id)
    buyer = changes.get("buyer_organization_id", deal.buyer_organization_id)
    await _listing_party(session, "achievement", deal.achievement_id, seller, new=False)
    await _listing_party(session, "demand", deal.demand_id, buyer, new=False)
    await _check_parties(session, seller, buyer)


def invalid_stage_transition(refused: stages.MoveRefused) -> InvalidTransition:
    return InvalidTransition(
        code="invalid_stage_transition",
        message_en=f"This deal cannot move from {refused.source.value} to {refused.target.value}"
        " (for you, or at all).",
        message_zh=f"交易项目不能由“{refused.source.label}”转为“{refused.target.label}”。",
        extra={"current_status": refused.source.value, "allowed": [s.value for s in refused.allowed]},
    )


async def move(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, data: StageMove, if_match: int | None
) -> Deal:
    """Move the deal along the table (`stages.MOVES`), after the target stage's guards; the terms
    sent with a move to `agreed` are recorded with it."""
    deal = await locked(session, user, deal_id, if_match)
    held = movers(user, deal)
    try:
        step = stages.resolve(deal.stage, deal.held_from_stage, data.to, held)
    except stages.MoveRefused as refused:
        raise invalid_stage_transition(refused) from None
    if step.needs_reason and not data.reason:
        raise invalid("reason", "required", "Say why the deal is paused or lost.", "请说明暂停或终止的原因。")
    terms = data.model_dump(include=set(TERMS), exclude_none=True)
    for field in terms:
        if data.to is not DealStage.agreed:
            raise invalid(
                field, "only_when_agreeing", "Terms go with a move to agreed only.", "仅在成交时随之记录。"
            )
    changed = audit.diff({k: getattr(deal, k) for k in terms}, terms)
    for key, value in terms.items():
        setattr(deal, key, value)
    await stages.run_guards(stages.MoveContext(session=session, deal=deal, move=step, movers=held))
    if changed:
        await audit.record(
            session, actor=user, object_type="deal", object_id=deal.id, action="update", changes=changed
        )
    await enter_stage(session, deal, data.to, actor=user, reason=data.reason)
    await session.flush()
    await session.refresh(deal)
    return deal


async def move_as_system(
    session: AsyncSession, deal_id: uuid.UUID, to: DealStage, *, reason: str | None = None
) -> Deal:
    """The service's own move (the registration's outcome, a pricing route's result): the same
    table (`Mover.system`), lock and guards as a person's move, audited with no user. 404 if the
    deal is gone, 409 `invalid_stage_transition` if the table does not allow it from here."""
    deal = await repository.get_for_system(session, deal_id)
    if deal is None:
        raise NOT_FOUND
    held = frozenset({Mover.system})
    try:
        step = stages.resolve(deal.stage, deal.held_from_stage, to, held)
    except stages.MoveRefused as refused:
        raise invalid_stage_transition(refused) from None
    await stages.run_guards(stages.MoveContext(session=session, deal=deal, move=step, movers=held))
    await enter_stage(session, deal, to, actor=SystemActor(), reason=reason)
    await session.flush()
    return deal


async def agree_as_system(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    route: PricingRoute,
    price: Decimal,
    transfer_mode: str,
    buyer_organization_id: uuid.UUID | None = None,
    reason: str,
) -> Deal:
    """A pricing route's result (a listing's single qualified buyer, an auction's winner): the deal
    takes the route, the price, the transfer mode and — where the route found it — the buyer, and
    enters `agreed` as the system; audited in the caller's transaction. The listing or auction row
    is locked by the caller, so one result is applied once."""
    deal = await repository.get_for_system(session, deal_id)
    if deal is None:
        raise NOT_FOUND
    terms: dict[str, Any] = {"pricing_route": route, "agreed_price": price, "transfer_mode": transfer_mode}
    if buyer_organization_id is not None:
        if deal.buyer_organization_id not in (None, buyer_organization_id):
            raise Conflict(
                code="buyer_differs",
                message_en="The route's buyer is not the deal's buyer.",
                message_zh="竞得方与交易项目的买方不一致。",
                extra={"current_status": deal.stage.value},
            )
        await _check_parties(session, deal.seller_organization_id, buyer_organization_id)
        terms["buyer_organization_id"] = buyer_organization_id
    changed = audit.diff({k: getattr(deal, k) for k in terms}, terms)
    for key, value in terms.items():
        setattr(deal, key, value)
    # Written now: move_as_system reads the deal again with populate_existing, which would put
    # back the stored (empty) terms, and the `agreed` guards would find none.
    await session.flush()
    if changed:
        await audit.record(
            session,
            actor=SystemActor(),
            object_type="deal",
            object_id=deal.id,
            action="update",
            changes=changed,
        )
    return await move_as_system(session, deal_id, DealStage.agreed, reason=reason)


async def release_pricing_route(session: AsyncSession, deal_id: uuid.UUID, *, reason: str) -> None:
    """A listing or an auction ended without a price (no buyer, no sale, withdrawn, cancelled): the
    deal no longer waits for that route's result, so its parties may choose a route again (another
    listing or auction, or — for a price they agree — publicity). Audited; nothing if another route
    is already set."""
    deal = await repository.get_for_system(session, deal_id)
    if deal is None or deal.pricing_route not in (PricingRoute.listing, PricingRoute.auction):
        return
    await audit.record(
        session,
        actor=SystemActor(),
        object_type="deal",
        object_id=deal.id,
        action="update",
        changes={"pricing_route": [deal.pricing_route, None], "reason": reason},
    )
    deal.pricing_route = None
    await session.flush()


# --- Guards of the stages this part owns (the pricing routes add theirs: docs/deals.md) ------------


@stages.guard(DealStage.mandated)
async def _mandate_in_force(ctx: stages.MoveContext) -> None:
    mandate = await repository.mandate_in_force(ctx.session, ctx.deal.id)
    if mandate is None or not in_force(mandate, today_in_china()):
        raise Conflict(
            code="mandate_required",
            message_en="Record a mandate in force today first (PUT …/mandate).",
            message_zh="请先登记当日有效的委托（PUT …/mandate）。",
            extra={"current_status": ctx.deal.stage.value},
        )


@stages.guard(DealStage.agreed)
async def _terms_known(ctx: stages.MoveContext) -> None:
    missing = [field for field in TERMS if getattr(ctx.deal, field) is None]
    if missing:
        raise ValidationFailed(
            code="terms_required",
            message_en="A deal is agreed at a price and a transfer mode.",
            message_zh="成交须有成交价和转化方式。",
            errors=[FieldError(f, "required", "Required to agree.", "成交时必填。") for f in missing],
        )
    await _commission_fits(ctx.session, ctx.deal.id, ctx.deal.agreed_price, "agreed_price")


@stages.guard(DealStage.signed)
async def _parties_known(ctx: stages.MoveContext) -> None:
    for field in PARTIES:
        if getattr(ctx.deal, field) is None:
            raise Conflict(
                code="parties_required",
                message_en="A contract is signed by a known seller and buyer.",
                message_zh="签订合同须明确买卖双方。",
                extra={"field": field, "current_status": ctx.deal.stage.value},
            )


# The pricing routes' guards on `agreed` and `signed` register on import (they import nothing of
# this module, so no cycle).
from app.trading import guards  # noqa: E402, F401
