"""What each caller sees of an auction: the reserve only to the seller side, whether it was met
only after the close, bidders by code (docs/trading.md)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.core import clock
from app.deals.models import Deal
from app.trading.auctions import repository
from app.trading.auctions.bidding import min_next_bid
from app.trading.models import Auction, AuctionBidder
from app.trading.vocabulary import AUCTION_CLOSED, AuctionStatus


def seller_side(user: User | None, auction: Auction, deal: Deal | None) -> bool:
    """The seller's members, the deal's broker and administrators: they run the auction and may
    see its reserve and its bidders' names."""
    if user is None:
        return False
    return (
        user.role == Role.admin
        or user.organization_id == auction.seller_organization_id
        or (deal is not None and deal.broker_user_id == user.id)
    )


def bidder_view(bidder: AuctionBidder, organization_name: str) -> dict[str, Any]:
    """A bidder in full, as the seller side and administrators see it."""
    return {
        "id": bidder.id,
        "code": bidder.code,
        "organization_id": bidder.organization_id,
        "organization_name": organization_name,
        "deposit_status": bidder.deposit_status,
    }


def effective_status(auction: Auction) -> AuctionStatus:
    """A scheduled auction whose start has passed is running, whether or not a bid recorded it."""
    if auction.status is AuctionStatus.scheduled and auction.starts_at <= clock.now():
        return AuctionStatus.running
    return auction.status


async def present(session: AsyncSession, user: User | None, auction: Auction) -> dict[str, Any]:
    """The auction as `user` (None: anonymous) may see it: the reserve only to the seller side;
    whether it was met only after the close; bidders by code, their names only to the seller side
    and, after a sale, the winner's to the parties (the seller side and the winner)."""
    deal = await repository.deal(session, auction.deal_id) if user is not None else None
    runs = seller_side(user, auction, deal)
    listed = await repository.bidders(session, auction.id)
    closed = auction.status in AUCTION_CLOSED
    sold = auction.status is AuctionStatus.sold
    mine = next(
        (b for b, _ in listed if user is not None and b.organization_id == user.organization_id), None
    )
    winner_seen = sold and (runs or (mine is not None and mine.id == auction.best_bidder_id))

    def shown(bidder: AuctionBidder, name: str, *, named: bool) -> dict[str, Any]:
        answer: dict[str, Any] = {"id": bidder.id, "code": bidder.code}
        if named:
            answer |= {"organization_id": bidder.organization_id, "organization_name": name}
        if runs or bidder is mine:
            answer["deposit_status"] = bidder.deposit_status
        return answer

    by_id = {b.id: (b, name) for b, name in listed}
    best = by_id.get(auction.best_bidder_id) if auction.best_bidder_id else None
    status = effective_status(auction)
    reserve_met = None
    if closed and auction.status is not AuctionStatus.cancelled:
        reserve_met = auction.best_amount is not None and (
            auction.reserve_price is None or auction.best_amount >= auction.reserve_price
        )
    return {
        **{c: getattr(auction, c) for c in PUBLIC_FIELDS},
        "deal_id": auction.deal_id if runs or winner_seen else None,
        "reserve_price": auction.reserve_price if runs else None,
        "reserve_met": reserve_met,
        "status": status,
        "status_label": status.label,
        "best_bidder_code": best[0].code if best else None,
        "min_next_bid": None if closed else min_next_bid(auction),
        "winner": shown(*best, named=winner_seen) if sold and best else None,
        "bidders": [shown(b, name, named=runs) for b, name in listed],
        "my_bidder": shown(mine, by_id[mine.id][1], named=True) if mine else None,
    }


PUBLIC_FIELDS = (
    "id",
    "announcement_id",
    "achievement_id",
    "seller_organization_id",
    "title",
    "transfer_mode",
    "opening_price",
    "increment",
    "deposit_amount",
    "starts_at",
    "scheduled_ends_at",
    "ends_at",
    "best_amount",
    "bid_count",
    "extensions",
    "closed_at",
    "sign_by",
    "version",
)
