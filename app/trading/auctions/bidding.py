"""A bid (出价): the rules of an online auction's bidding, applied under the auction's row lock.

The lock (`SELECT … FOR UPDATE` on the auction) serialises every bid on one auction: the best bid,
the count (so `sequence` is gapless) and the end are read and written by one bid at a time, and a
bid at a price already taken sees the new best and is refused (422) instead of colliding with the
unique (auction, amount). The live events leave with the bid's commit (`events.publish`)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit.service import SystemActor, record
from app.core import clock
from app.core.config import Settings
from app.core.errors import Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from app.core.types import in_yuan
from app.trading.auctions import repository
from app.trading.auctions.events import EventType, publish
from app.trading.models import Auction, AuctionBidder, Bid
from app.trading.vocabulary import AUCTION_CLOSED, AuctionStatus, DepositStatus

AUCTION_NOT_FOUND = NotFound(
    code="auction_not_found", message_en="No such auction.", message_zh="竞价不存在。"
)
SELLER_CANNOT_BID = NotPermitted(
    code="seller_cannot_bid",
    message_en="The seller and its members cannot bid on their own auction.",
    message_zh="卖方及其成员不得参与本场竞价。",
)
NOT_A_BIDDER = NotPermitted(
    code="not_a_bidder",
    message_en="Your organization is not a qualified bidder here, or its deposit has not been received.",
    message_zh="贵单位未取得本场竞买资格，或保证金尚未到账。",
)
KEY_REUSED = Conflict(
    code="idempotency_key_reused",
    message_en="This Idempotency-Key was already used for a bid of another amount.",
    message_zh="该 Idempotency-Key 已用于另一金额的出价。",
)


@dataclass(frozen=True)
class Placed:
    bid: Bid
    bidder_code: str
    extended: bool

    def answer(self) -> dict[str, Any]:
        return {
            "sequence": self.bid.sequence,
            "amount": self.bid.amount,
            "bidder_code": self.bidder_code,
            "placed_at": self.bid.placed_at,
            "ends_at": self.bid.ends_at_after,
            "extended": self.extended,
        }


def is_running(auction: Auction, now: datetime) -> bool:
    """Open for bids by the server's clock: a scheduled auction whose start has passed counts as
    running (the first bid records it)."""
    return (
        auction.status in (AuctionStatus.scheduled, AuctionStatus.running)
        and auction.starts_at <= now < auction.ends_at
    )


def min_next_bid(auction: Auction) -> Decimal:
    return auction.opening_price if auction.best_amount is None else auction.best_amount + auction.increment


def not_running(auction: Auction) -> Conflict:
    return Conflict(
        code="auction_not_running",
        message_en="The auction is not open for bids (not started yet, or closed).",
        message_zh="竞价未开始或已结束，不能出价。",
        extra={"current_status": auction.status.value},
    )


def _refused(code: str, auction: Auction, en: str, zh: str) -> ValidationFailed:
    lowest = min_next_bid(auction)
    return ValidationFailed(
        code=code,
        message_en=en,
        message_zh=zh,
        errors=[FieldError("amount", code, en, zh)],
        extra={"min_next_bid": in_yuan(lowest)},
    )


def check_amount(auction: Auction, amount: Decimal) -> None:
    """422 `bid_too_low` below the best bid plus one increment (the opening price for the first
    bid), 422 `bid_off_increment` when not a whole number of increments above the opening price;
    both name `min_next_bid`."""
    if amount < min_next_bid(auction):
        raise _refused(
            "bid_too_low",
            auction,
            "A bid must beat the best bid by at least one increment (or be at least the opening price).",
            "出价须不低于当前最高价加一个加价幅度（首次出价不低于起拍价）。",
        )
    if (amount - auction.opening_price) % auction.increment != 0:
        raise _refused(
            "bid_off_increment",
            auction,
            "A bid must be the opening price plus a whole number of increments.",
            "出价须为起拍价加整数倍的加价幅度。",
        )


async def qualified_bidder(session: AsyncSession, user: User, auction: Auction) -> AuctionBidder:
    """The caller's organization as a bidder allowed to bid: 409 for a closed auction, 403
    `seller_cannot_bid` for the seller's members, 403 `not_a_bidder` for an organization not
    qualified or whose required deposit is not received. Read before the lock: a qualification
    and a received deposit are never taken back while the auction runs (the close, which
    releases deposits, is refused under the lock by the running check)."""
    if auction.status in AUCTION_CLOSED:  # final: the deposits settled at the close say nothing now
        raise not_running(auction)
    if user.organization_id is not None and user.organization_id == auction.seller_organization_id:
        raise SELLER_CANNOT_BID
    bidder = await repository.bidder_of(session, auction.id, user.organization_id)
    if bidder is None:
        raise NOT_A_BIDDER
    if auction.deposit_amount > 0 and bidder.deposit_status is not DepositStatus.received:
        raise NOT_A_BIDDER
    return bidder


async def _first_of_key(
    session: AsyncSession, auction: Auction, user: User, key: str | None, amount: Decimal
) -> Placed | None:
    """The bid this user already placed with this Idempotency-Key, answered again (whatever has
    happened since, the close included); 409 `idempotency_key_reused` for another amount."""
    if key is None:
        return None
    first = await repository.bid_by_key(session, auction.id, user.id, key)
    if first is None:
        return None
    if first.amount != amount:
        raise KEY_REUSED
    bidder = await session.get(AuctionBidder, first.bidder_id)
    assert bidder is not None
    before = await repository.end_before(session, auction.id, first.sequence)
    return Placed(first, bidder.code, first.ends_at_after != (before or auction.scheduled_ends_at))


async def place_bid(
    session: AsyncSession,
    *,
    user: User,
    settings: Settings,
    auction_id: uuid.UUID,
    amount: Decimal,
    idempotency_key: str | None,
) -> Placed:
    """Accept a bid or refuse it; a retry with the same Idempotency-Key by the same user answers
    the first bid again (409 `idempotency_key_reused` for another amount)."""
    auction = await repository.get(session, auction_id)
    if auction is None:
        raise AUCTION_NOT_FOUND
    # A retry of a committed bid is answered without the lock; one still in flight is found
    # under it, once the first commits.
    if replay := await _first_of_key(session, auction, user, idempotency_key, amount):
        return replay
    bidder = await qualified_bidder(session, user, auction)
    if is_running(auction, clock.now()):
        # The best bid only rises and the opening price and increment never change: a bid too low
        # or off the increments now is refused without queueing on the lock behind the bids that
        # beat it (docs/benchmarks.md, "Online bidding").
        check_amount(auction, amount)
    auction = await repository.get(session, auction_id, lock=True)
    assert auction is not None  # auctions are never deleted
    if replay := await _first_of_key(session, auction, user, idempotency_key, amount):
        return replay
    now = clock.now()
    if not is_running(auction, now):
        raise not_running(auction)
    check_amount(auction, amount)
    if auction.status is AuctionStatus.scheduled:
        auction.status = AuctionStatus.running
        await record(
            session, actor=SystemActor(), object_type="auction", object_id=auction.id, action="started"
        )
    extended = auction.ends_at - now < timedelta(minutes=settings.auction_extension_minutes)
    if extended:
        auction.ends_at = now + timedelta(minutes=settings.auction_extension_minutes)
        auction.extensions += 1
    bid = Bid(
        auction_id=auction.id,
        bidder_id=bidder.id,
        sequence=auction.bid_count + 1,
        amount=amount,
        placed_by_id=user.id,
        idempotency_key=idempotency_key,
        placed_at=now,
        ends_at_after=auction.ends_at,
    )
    session.add(bid)
    await session.flush()
    auction.bid_count = bid.sequence
    auction.best_bid_id, auction.best_amount, auction.best_bidder_id = bid.id, amount, bidder.id
    auction.version += 1
    await record(
        session,
        actor=user,
        object_type="auction",
        object_id=auction.id,
        action="bid",
        changes={
            "sequence": bid.sequence,
            "amount": amount,
            "bidder_code": bidder.code,
            "ends_at": auction.ends_at,
        },
    )
    event = {
        "sequence": bid.sequence,
        "amount": in_yuan(amount),
        "bidder_code": bidder.code,
        "placed_at": now.isoformat(),
        "ends_at": auction.ends_at.isoformat(),
    }
    await publish(session, auction.id, EventType.best_bid, event)
    if extended:
        await publish(
            session, auction.id, EventType.new_end, {"sequence": bid.sequence, "ends_at": event["ends_at"]}
        )
    await session.flush()
    return Placed(bid, bidder.code, extended)
