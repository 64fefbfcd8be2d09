"""The auction's clock: the close on time, with no request needed, and the forfeiture of a winner's
deposit when the contract is not signed in time.

Restart-safe: nothing is remembered between ticks. Each tick asks the database which open auctions
are past their end (one indexed query, `ix_auctions_open_ends_at`) and closes each in a short
transaction of its own, under the auction's row lock, re-reading its end there — a last-second bid
may have moved it. Any number of processes may run the clock: the lock and that re-check make a
close happen once."""

import asyncio
import logging
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import SystemActor, record
from app.contracts.service import deadline
from app.core import clock
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import AppError
from app.core.types import CHINA, in_yuan, today_in_china
from app.deals import repository as deals
from app.deals.service import agree_as_system, reached, release_pricing_route
from app.deals.vocabulary import DealStage
from app.interests import repository as members
from app.interests.notify import send
from app.matching.models import NotificationKind
from app.trading.auctions import repository
from app.trading.auctions.events import EventType, publish
from app.trading.auctions.notices import listing_of, tell_closed
from app.trading.models import Auction
from app.trading.vocabulary import AuctionStatus, DepositStatus, PricingRoute

log = logging.getLogger("techex.auctions")


def reserve_met(auction: Auction) -> bool:
    return auction.best_amount is not None and (
        auction.reserve_price is None or auction.best_amount >= auction.reserve_price
    )


async def close(session: AsyncSession, auction_id: uuid.UUID, settings: Settings) -> bool:
    """Close one auction if it is open and its end has passed (False otherwise). Sold when the best
    bid reaches the reserve (or there is none): the winner's deposit is applied, the others'
    released, the deal agreed at the best bid with the winner as buyer, and the winner has
    `auction_sign_working_days` to sign. Otherwise no sale, every deposit released."""
    auction = await repository.get(session, auction_id, lock=True)
    now = clock.now()
    if auction is None or auction.status not in repository.OPEN or auction.ends_at > now:
        return False
    sold = reserve_met(auction)
    auction.status = AuctionStatus.sold if sold else AuctionStatus.no_sale
    auction.closed_at = now
    auction.version += 1
    bidders = [bidder for bidder, _ in await repository.bidders(session, auction.id)]
    winner = next((b for b in bidders if sold and b.id == auction.best_bidder_id), None)
    for bidder in bidders:
        if bidder.deposit_status is DepositStatus.received:
            bidder.deposit_status = DepositStatus.applied if bidder is winner else DepositStatus.released
            bidder.deposit_settled_at = now
    if winner is not None:
        signing = await deadline(session, now.astimezone(CHINA).date(), settings.auction_sign_working_days)
        auction.sign_by = signing.due_on
    await record(
        session,
        actor=SystemActor(),
        object_type="auction",
        object_id=auction.id,
        action="closed",
        changes={
            "status": auction.status,
            "final_amount": auction.best_amount if sold else None,
            "winner_code": winner.code if winner else None,
            "bid_count": auction.bid_count,
            "sign_by": auction.sign_by,
        },
    )
    explanation = [f"竞价结束：{auction.status.label}"]
    if winner is not None:
        assert auction.best_amount is not None
        explanation += [
            f"成交价 {in_yuan(auction.best_amount)} 元，竞得人 {winner.code}",
            f"请于 {auction.sign_by} 前签订合同",
        ]
        await _agree(session, auction, winner.organization_id)
    else:
        await release_pricing_route(session, auction.deal_id, reason="auction_no_sale")
    await publish(
        session,
        auction.id,
        EventType.closed,
        {
            "status": auction.status.value,
            "final_amount": in_yuan(auction.best_amount) if winner and auction.best_amount else None,
            "winner_code": winner.code if winner else None,
            "closed_at": now.isoformat(),
        },
    )
    await tell_closed(session, auction, bidders, explanation=explanation)
    await session.flush()
    return True


async def _agree(session: AsyncSession, auction: Auction, buyer_organization_id: uuid.UUID) -> None:
    """The deal agreed at the winning price. If the deal cannot be agreed any more (put on hold or
    lost meanwhile, or a guard refuses), the sale stands and the deal is left to its parties: the
    refusal is audited on the auction rather than holding the close back for ever."""
    assert auction.best_amount is not None
    try:
        async with session.begin_nested():
            await agree_as_system(
                session,
                auction.deal_id,
                route=PricingRoute.auction,
                price=auction.best_amount,
                transfer_mode=auction.transfer_mode,
                buyer_organization_id=buyer_organization_id,
                reason=f"网络竞价成交（竞价 {auction.id}）",
            )
    except AppError as refused:
        log.warning(
            "auction sold, deal not agreed", extra={"auction_id": str(auction.id), "code": refused.code}
        )
        await record(
            session,
            actor=SystemActor(),
            object_type="auction",
            object_id=auction.id,
            action="deal_not_agreed",
            changes={"code": refused.code, "deal_id": auction.deal_id},
        )


async def forfeit(session: AsyncSession, auction_id: uuid.UUID) -> bool:
    """The winner's deposit is forfeited when `sign_by` has passed and the deal has not reached
    `signed`; the winner and the seller are told, and the seller decides what follows."""
    auction = await repository.get(session, auction_id, lock=True)
    if auction is None or auction.status is not AuctionStatus.sold or auction.sign_by is None:
        return False
    if auction.sign_by >= today_in_china() or auction.best_bidder_id is None:
        return False
    winner = await repository.bidder(session, auction.id, auction.best_bidder_id)
    deal = await deals.get_for_system(session, auction.deal_id)
    if winner is None or winner.deposit_status is not DepositStatus.applied or deal is None:
        return False
    if reached(deal, DealStage.signed):
        return False
    winner.deposit_status, winner.deposit_settled_at = DepositStatus.forfeited, clock.now()
    await record(
        session,
        actor=SystemActor(),
        object_type="auction",
        object_id=auction.id,
        action="deposit_forfeited",
        changes={"bidder_code": winner.code, "amount": auction.deposit_amount, "sign_by": auction.sign_by},
    )
    recipients = await members.active_members(session, winner.organization_id)
    recipients += await members.active_members(session, auction.seller_organization_id)
    await send(
        session,
        kind=NotificationKind.deposit_forfeited,
        **listing_of(auction),
        recipients=recipients,
        title=f"保证金没收：{auction.title}",
        explanation=[
            f"竞得人 {winner.code} 未在 {auction.sign_by} 前签订合同",
            f"保证金 {in_yuan(auction.deposit_amount)} 元没收",
            "卖方决定后续：终止交易项目或退回洽谈",
        ],
        details={
            "auction_id": str(auction.id),
            "bidder_code": winner.code,
            "sign_by": auction.sign_by.isoformat(),
        },
    )
    await session.flush()
    return True


async def close_due(database: Database, settings: Settings) -> int:
    """Close every auction past its end, each in its own short transaction."""
    async with database.sessionmaker() as session:
        due = await repository.due_ids(session, clock.now())
    closed = 0
    for auction_id in due:
        try:
            async with database.sessionmaker() as session:
                closed += await close(session, auction_id, settings)
                await session.commit()
        except Exception as exc:  # one auction that fails to close holds back none of the others
            log.exception(
                "closing an auction failed", extra={"auction_id": str(auction_id), "error": repr(exc)}
            )
    return closed


async def forfeit_due(database: Database) -> int:
    async with database.sessionmaker() as session:
        due = await repository.forfeitable_ids(session, today_in_china())
    forfeited = 0
    for auction_id in due:
        try:
            async with database.sessionmaker() as session:
                forfeited += await forfeit(session, auction_id)
                await session.commit()
        except Exception as exc:  # as for closes: one failure holds back none of the others
            log.exception(
                "forfeiting a deposit failed", extra={"auction_id": str(auction_id), "error": repr(exc)}
            )
    return forfeited


async def tick(database: Database, settings: Settings) -> float:
    """One round of the clock; how long to sleep after it. Idle, it is one indexed query: the next
    open auction's end. The sleep lasts until that end, at most `auction_clock_max_sleep_seconds`
    (an auction opened meanwhile may end sooner; a bid only ever moves an end later, so bids need
    not wake the clock)."""
    async with database.sessionmaker() as session:
        end = await repository.next_end(session)
    longest = settings.auction_clock_max_sleep_seconds
    if end is None:
        return longest
    wait = (end - clock.now()).total_seconds()
    if wait > 0:
        return min(wait, longest)
    closed = await close_due(database, settings)
    if closed:
        log.info("auctions closed", extra={"closed": closed})
        return 0
    return RETRY_SECONDS  # due but not closed (a failure): tried again, not in a busy loop


# How soon a close that failed is tried again.
RETRY_SECONDS = 1.0


async def run_clock(database: Database, settings: Settings) -> None:
    while True:
        try:
            pause = await tick(database, settings)
        except Exception as exc:  # the database is away: the next round tries again
            log.warning("closing auctions failed", extra={"error": repr(exc)})
            pause = settings.auction_clock_max_sleep_seconds
        await asyncio.sleep(pause)


async def forfeit_periodically(database: Database) -> None:
    while True:
        try:
            forfeited = await forfeit_due(database)
            if forfeited:
                log.info("auction deposits forfeited", extra={"forfeited": forfeited})
        except Exception as exc:  # the database is away: the next round tries again
            log.warning("forfeiting deposits failed", extra={"error": repr(exc)})
        await asyncio.sleep(FORFEIT_EVERY.total_seconds())


# Signing periods are counted in days: checking every ten minutes is punctual enough.
FORFEIT_EVERY = timedelta(minutes=10)
