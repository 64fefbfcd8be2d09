"""The deal's stages as data: one table of moves (from → to) and the sides that may make each, and
a registry of guards per target stage that may refuse a move the table allows.

Pure apart from the guards: the table is tested without a database. The service locks the deal,
asks `resolve` whether the caller may make the move, runs the guards of the target stage, then
enters it (`service.enter_stage`) in one transaction."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from app.deals.vocabulary import CLOSED_STAGES, DealStage

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.deals.models import Deal


class Mover(StrEnum):
    """The capacity in which a move is made: a side of the deal (policy.Side) or the service itself."""

    seller = "seller"
    buyer = "buyer"
    broker = "broker"
    admin = "admin"
    # The service: the registration's outcome (the hand-off), a pricing route's result (issue 21).
    system = "system"


@dataclass(frozen=True)
class Move:
    source: DealStage
    target: DealStage
    movers: frozenset[Mover]
    # A resume: allowed only back to the stage the deal was put on hold from.
    resume: bool = False
    # on_hold and lost: the parties are told why.
    needs_reason: bool = False


S, M = DealStage, Mover
PARTIES = frozenset({M.seller, M.buyer, M.broker, M.admin})
WORKING = frozenset({M.broker, M.admin})
SYSTEM = frozenset({M.system})
# The stages a deal works through (on_hold and lost branch off them).
OPEN_WORKING_STAGES = tuple(s for s in S if s not in CLOSED_STAGES and s is not S.on_hold)


def _moves() -> tuple[Move, ...]:
    forward = (
        # Either party that engaged the broker may record the mandate, as may the broker.
        Move(S.lead, S.mandated, PARTIES),
        Move(S.mandated, S.diligence, WORKING),
        Move(S.diligence, S.negotiating, WORKING),
        # The pricing routes (app/trading) plug in here, as guards on `agreed` and `signed`; a
        # listing's or an auction's result enters `agreed` as the system (docs/trading.md).
        Move(S.negotiating, S.agreed, WORKING | SYSTEM),
        # An objection to the agreed price's publicity upheld: the deal goes back to negotiation,
        # as a consequence of that decision (app/trading/publicity), never as a move of its own.
        Move(S.agreed, S.negotiating, SYSTEM),
        # The parties sign the contract; either of them, or the broker, records it.
        Move(S.agreed, S.signed, PARTIES),
        # Entered only by the registration's outcome (the hand-off), never by a person.
        Move(S.signed, S.registration_submitted, SYSTEM),
        Move(S.registration_submitted, S.registered, SYSTEM),
        # Refused or withdrawn: the signed contract may be filed again.
        Move(S.registration_submitted, S.signed, SYSTEM),
    )
    # Any open stage may be paused or closed as lost, with a reason, by any side or the service
    # (an objection during publicity suspends the deal; DOMAIN.md).
    holds = tuple(Move(s, S.on_hold, PARTIES | SYSTEM, needs_reason=True) for s in OPEN_WORKING_STAGES)
    losses = tuple(
        Move(s, S.lost, PARTIES | SYSTEM, needs_reason=True) for s in (*OPEN_WORKING_STAGES, S.on_hold)
    )
    resumes = tuple(Move(S.on_hold, s, PARTIES | SYSTEM, resume=True) for s in OPEN_WORKING_STAGES)
    return (*forward, *holds, *losses, *resumes)


MOVES: tuple[Move, ...] = _moves()
_BY_KEY: dict[tuple[DealStage, DealStage], Move] = {(m.source, m.target): m for m in MOVES}
assert len(_BY_KEY) == len(MOVES), "one move per (from, to)"


def possible(move: Move, held_from: DealStage | None) -> bool:
    return not move.resume or move.target == held_from


def allowed(
    stage: DealStage, held_from: DealStage | None, movers: frozenset[Mover] | set[Mover]
) -> list[DealStage]:
    """The stages these movers may move a deal in `stage` to, in table order (what a 409 lists)."""
    return [m.target for m in MOVES if m.source == stage and m.movers & movers and possible(m, held_from)]


class MoveRefused(Exception):
    """`target` cannot be entered from `source` by these movers; `allowed` says what can."""

    def __init__(self, source: DealStage, target: DealStage, allowed: list[DealStage]) -> None:
        super().__init__(f"{source} → {target} refused")
        self.source = source
        self.target = target
        self.allowed = allowed


def resolve(
    stage: DealStage, held_from: DealStage | None, target: DealStage, movers: frozenset[Mover] | set[Mover]
) -> Move:
    move = _BY_KEY.get((stage, target))
    if move is None or not (move.movers & movers) or not possible(move, held_from):
        raise MoveRefused(stage, target, allowed(stage, held_from, movers))
    return move


# --- Guards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoveContext:
    """What a guard may read: the locked deal (with the move's terms already applied), the move."""

    session: "AsyncSession"
    deal: "Deal"
    move: Move
    movers: frozenset[Mover]


# A guard raises an AppError (its own 409 / 422 code) to refuse the move, or returns to allow it.
Guard = Callable[[MoveContext], Awaitable[None]]
GUARDS: dict[DealStage, list[Guard]] = {stage: [] for stage in DealStage}


def guard(*targets: DealStage) -> Callable[[Guard], Guard]:
    """Register a guard on entering `targets` (the pricing routes register theirs on `agreed`)."""

    def register(function: Guard) -> Guard:
        for target in targets:
            GUARDS[target].append(function)
        return function

    return register


async def run_guards(ctx: MoveContext) -> None:
    # A resume returns to where the deal was; the guards held when it first got there.
    if ctx.move.resume:
        return
    for check in GUARDS[ctx.move.target]:
        await check(ctx)
