"""Online bidding (网络竞价): opening an auction, its bidders and their deposits, cancelling it.
The bids are `bidding`, the close and forfeiture `closing`, what each caller sees `views`, who is
told `notices` (docs/trading.md)."""

import secrets
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit.service import Actor, SystemActor, record
from app.core import clock
from app.core.config import Settings
from app.core.db import add_unique
from app.core.errors import Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from app.deals import repository as deals
from app.deals.service import NOT_FOUND as DEAL_NOT_FOUND
from app.deals.service import release_pricing_route
from app.deals.vocabulary import DealStage
from app.interests import repository as members
from app.interests.notify import send
from app.matching.models import NotificationKind
from app.trading.auctions import repository
from app.trading.auctions.bidding import AUCTION_NOT_FOUND
from app.trading.auctions.events import EventType, publish
from app.trading.auctions.notices import listing_of, tell_closed
from app.trading.auctions.schemas import AuctionCreate
from app.trading.auctions.views import seller_side
from app.trading.models import Auction, AuctionBidder
from app.trading.vocabulary import AUCTION_CLOSED, AuctionStatus, DepositStatus, PricingRoute


def bidder_code(taken: set[str]) -> str:
    """A 竞买号 that says nothing about the bidder (random, not in filing order)."""
    while True:
        code = f"{secrets.randbelow(9000) + 1000}"
        if code not in taken:
            taken.add(code)
            return code


async def open_auction(
    session: AsyncSession,
    *,
    actor: Actor | SystemActor,
    deal_id: uuid.UUID,
    seller_organization_id: uuid.UUID,
    achievement_id: uuid.UUID | None,
    title: str,
    transfer_mode: str,
    opening_price: Decimal,
    increment: Decimal,
    reserve_price: Decimal | None,
    deposit_amount: Decimal,
    starts_at: datetime,
    ends_at: datetime,
    bidder_organization_ids: list[uuid.UUID] = [],  # noqa: B006 - never mutated
    announcement_id: uuid.UUID | None = None,
) -> Auction:
    """Create a scheduled auction and its qualified bidders (those a listing qualified, or none yet),
    audited. The caller has checked who may do it and the terms."""
    auction = Auction(
        deal_id=deal_id,
        announcement_id=announcement_id,
        achievement_id=achievement_id,
        seller_organization_id=seller_organization_id,
        title=title,
        transfer_mode=transfer_mode,
        opening_price=opening_price,
        increment=increment,
        reserve_price=reserve_price,
        deposit_amount=deposit_amount,
        starts_at=starts_at,
        scheduled_ends_at=ends_at,
        ends_at=ends_at,
        created_by_id=actor.id,
    )
    session.add(auction)
    await session.flush()
    taken: set[str] = set()
    for organization_id in bidder_organization_ids:
        session.add(
            AuctionBidder(
                auction_id=auction.id,
                organization_id=organization_id,
                code=bidder_code(taken),
                qualified_by_id=actor.id,
            )
        )
    await record(
        session,
        actor=actor,
        object_type="auction",
        object_id=auction.id,
        action="opened",
        changes={
            "deal_id": deal_id,
            "announcement_id": announcement_id,
            "opening_price": opening_price,
            "increment": increment,
            "deposit_amount": deposit_amount,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "bidders": len(bidder_organization_ids),
        },
    )
    await session.flush()
    return auction


NOT_SELLER_SIDE = NotPermitted(
    code="seller_side_only",
    message_en="Only the seller, the deal's broker or an administrator may do this.",
    message_zh="仅卖方、交易项目的经纪人或管理员可以执行此操作。",
)
ADMIN_ONLY = NotPermitted(
    code="admin_only", message_en="Only an administrator may do this.", message_zh="仅管理员可以执行此操作。"
)


def _invalid(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(field, code, en, zh)])


def _closed(auction: Auction) -> Conflict:
    return Conflict(
        code="auction_closed",
        message_en="The auction is closed.",
        message_zh="竞价已结束。",
        extra={"current_status": auction.status.value},
    )


async def _locked(session: AsyncSession, auction_id: uuid.UUID) -> Auction:
    auction = await repository.get(session, auction_id, lock=True)
    if auction is None:
        raise AUCTION_NOT_FOUND
    return auction


# --- Creating an auction ---------------------------------------------------------------------------


def _check_terms(data: AuctionCreate, settings: Settings, now: datetime) -> None:
    if data.reserve_price is not None and data.reserve_price < data.opening_price:
        raise _invalid(
            "reserve_price",
            "below_opening_price",
            "The reserve is not below the opening price.",
            "保留价不得低于起拍价。",
        )
    low = (data.opening_price * settings.auction_deposit_min_ratio).quantize(Decimal("0.01"))
    high = (data.opening_price * settings.auction_deposit_max_ratio).quantize(Decimal("0.01"))
    if not low <= data.deposit_amount <= high:
        raise _invalid(
            "deposit_amount",
            "deposit_out_of_range",
            f"The deposit is {low}–{high} (a share of the opening price).",
            f"保证金应为 {low}–{high} 元（起拍价的一定比例）。",
        )
    if data.starts_at < now:
        raise _invalid("starts_at", "in_the_past", "The start is not before now.", "开始时间不得早于现在。")
    if data.ends_at <= data.starts_at:
        raise _invalid("ends_at", "before_start", "The end is after the start.", "结束时间须晚于开始时间。")


async def create(session: AsyncSession, *, user: User, settings: Settings, data: AuctionCreate) -> Auction:
    """An auction for a deal at `negotiating`, by its seller side (members, broker, administrators):
    the deal takes the auction route. 409 `auction_live` while the deal has a scheduled or running
    auction, 409 `pricing_route_in_progress` while a listing or a publicity of it runs, 409
    `buyer_known` when the deal already names its buyer (the auction finds it)."""
    deal = await deals.get_visible(session, user, data.deal_id, lock=True)
    if deal is None:
        raise DEAL_NOT_FOUND
    if deal.seller_organization_id is None or not (
        user.role == Role.admin
        or user.organization_id == deal.seller_organization_id
        or user.id == deal.broker_user_id
    ):
        raise NOT_SELLER_SIDE
    if deal.stage is not DealStage.negotiating:
        raise Conflict(
            code="deal_not_negotiating",
            message_en="An auction prices a deal in negotiation.",
            message_zh="仅洽谈定价阶段的交易项目可以发起竞价。",
            extra={"current_status": deal.stage.value},
        )
    if deal.buyer_organization_id is not None:
        raise Conflict(
            code="buyer_known",
            message_en="The deal already names its buyer; an auction is for finding one.",
            message_zh="交易项目已确定买方，不能再发起竞价。",
            extra={"current_status": deal.stage.value, "field": "buyer_organization_id"},
        )
    live = await repository.live_for_deal(session, deal.id)
    if live is not None:
        raise Conflict(
            code="auction_live",
            message_en="The deal already has a scheduled or running auction.",
            message_zh="该交易项目已有待开始或进行中的竞价。",
            extra={"current_status": live.status.value, "duplicate_of": {"id": str(live.id)}},
        )
    route = await repository.other_route_in_progress(session, deal.id)
    if route is not None:
        raise Conflict(
            code="pricing_route_in_progress",
            message_en="Another pricing route of this deal is under way.",
            message_zh="该交易项目已有进行中的其他定价方式（挂牌或协议定价公示）。",
            extra={"current_status": deal.stage.value, "field": route},
        )
    _check_terms(data, settings, clock.now())
    auction = await open_auction(
        session,
        actor=user,
        deal_id=deal.id,
        seller_organization_id=deal.seller_organization_id,
        achievement_id=deal.achievement_id,
        title=data.title,
        transfer_mode=data.transfer_mode.value,
        opening_price=data.opening_price,
        increment=data.increment,
        reserve_price=data.reserve_price,
        deposit_amount=data.deposit_amount,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
    )
    if deal.pricing_route is not PricingRoute.auction:
        await record(
            session,
            actor=user,
            object_type="deal",
            object_id=deal.id,
            action="update",
            changes={"pricing_route": [deal.pricing_route, PricingRoute.auction]},
        )
        deal.pricing_route = PricingRoute.auction
        deal.version += 1
    await session.flush()
    return auction


# --- Bidders and deposits --------------------------------------------------------------------------


async def qualify(
    session: AsyncSession, *, user: User, auction_id: uuid.UUID, organization_id: uuid.UUID
) -> AuctionBidder:
    """竞买资格确认: the seller side qualifies an organization, which gets a code and is told.
    422 for the seller itself or an unknown organization, 409 `already_qualified`, 409
    `auction_closed`."""
    auction = await _locked(session, auction_id)
    if not seller_side(user, auction, await repository.deal(session, auction.deal_id)):
        raise NOT_SELLER_SIDE
    if auction.status in AUCTION_CLOSED:
        raise _closed(auction)
    if organization_id == auction.seller_organization_id:
        raise _invalid(
            "organization_id",
            "seller_cannot_bid",
            "The seller cannot bid on its own auction.",
            "卖方不得参与本场竞价。",
        )
    if not await deals.organization_exists(session, organization_id):
        raise _invalid("organization_id", "not_found", "No such organization.", "单位不存在。")
    taken = {b.code for b, _ in await repository.bidders(session, auction.id)}
    bidder = AuctionBidder(
        auction_id=auction.id,
        organization_id=organization_id,
        code=bidder_code(taken),
        qualified_by_id=user.id,
    )
    if await add_unique(session, bidder, "uq_auction_bidders_organization"):
        raise Conflict(
            code="already_qualified",
            message_en="This organization is already a bidder of the auction.",
            message_zh="该单位已取得本场竞买资格。",
            extra={"current_status": auction.status.value},
        )
    await record(
        session,
        actor=user,
        object_type="auction",
        object_id=auction.id,
        action="bidder_qualified",
        changes={"organization_id": organization_id, "code": bidder.code},
    )
    await send(
        session,
        kind=NotificationKind.auction_qualified,
        **listing_of(auction),
        recipients=await members.active_members(session, organization_id),
        title=f"竞买资格确认：{auction.title}",
        explanation=[
            f"竞买号 {bidder.code}",
            f"起拍价 {auction.opening_price} 元，加价幅度 {auction.increment} 元",
            f"保证金 {auction.deposit_amount} 元" if auction.deposit_amount > 0 else "无需保证金",
        ],
        details={
            "auction_id": str(auction.id),
            "bidder_code": bidder.code,
            "starts_at": auction.starts_at.isoformat(),
        },
    )
    return bidder


async def confirm_deposit(
    session: AsyncSession, *, user: User, auction_id: uuid.UUID, bidder_id: uuid.UUID
) -> AuctionBidder:
    """An administrator records that a bidder's deposit was received (a record, not a payment)."""
    if user.role != Role.admin:
        raise ADMIN_ONLY
    auction = await _locked(session, auction_id)
    bidder = await repository.bidder(session, auction.id, bidder_id)
    if bidder is None:
        raise NotFound(code="bidder_not_found", message_en="No such bidder.", message_zh="竞买人不存在。")
    if auction.status in AUCTION_CLOSED:
        raise _closed(auction)
    if auction.deposit_amount == 0 or bidder.deposit_status is not DepositStatus.awaiting:
        raise Conflict(
            code="deposit_not_awaiting",
            message_en="No deposit is awaited from this bidder.",
            message_zh="该竞买人无待确认的保证金。",
            extra={"current_status": bidder.deposit_status.value},
        )
    await record_deposit(session, actor=user, auction=auction, bidder=bidder)
    return bidder


async def record_deposit(
    session: AsyncSession, *, actor: Actor | SystemActor, auction: Auction, bidder: AuctionBidder
) -> None:
    """A bidder's deposit received, audited (the caller holds the auction's lock)."""
    bidder.deposit_status = DepositStatus.received
    bidder.deposit_confirmed_by_id, bidder.deposit_confirmed_at = actor.id, clock.now()
    await record(
        session,
        actor=actor,
        object_type="auction",
        object_id=auction.id,
        action="deposit_received",
        changes={"bidder_code": bidder.code, "amount": auction.deposit_amount},
    )
    await session.flush()


# --- Cancelling ------------------------------------------------------------------------------------


async def cancel(session: AsyncSession, *, user: User, auction_id: uuid.UUID, reason: str) -> Auction:
    """The seller or an administrator cancels an auction no one has bid on yet; deposits received
    are released and the bidders told."""
    auction = await _locked(session, auction_id)
    if not (user.role == Role.admin or user.organization_id == auction.seller_organization_id):
        raise NOT_SELLER_SIDE
    if auction.status in AUCTION_CLOSED:
        raise _closed(auction)
    if auction.bid_count > 0:
        raise Conflict(
            code="auction_has_bids",
            message_en="An auction with bids cannot be cancelled.",
            message_zh="已有出价的竞价不能取消。",
            extra={"current_status": auction.status.value},
        )
    now = clock.now()
    auction.status, auction.closed_at = AuctionStatus.cancelled, now
    auction.version += 1
    await release_pricing_route(session, auction.deal_id, reason="auction_cancelled")
    bidders = await repository.bidders(session, auction.id)
    for bidder, _ in bidders:
        if bidder.deposit_status is DepositStatus.received:
            bidder.deposit_status, bidder.deposit_settled_at = DepositStatus.released, now
    await record(
        session,
        actor=user,
        object_type="auction",
        object_id=auction.id,
        action="cancelled",
        changes={"reason": reason},
    )
    await publish(
        session,
        auction.id,
        EventType.closed,
        {
            "status": auction.status.value,
            "final_amount": None,
            "winner_code": None,
            "closed_at": now.isoformat(),
        },
    )
    await tell_closed(session, auction, [b for b, _ in bidders], explanation=[f"竞价已取消：{reason}"])
    await session.flush()
    return auction
