"""Who is told what of an auction (notifications and their webhooks, in the caller's transaction)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import in_yuan
from app.interests import repository as members
from app.interests.notify import send
from app.matching.models import NotificationKind
from app.trading.models import Auction, AuctionBidder
from app.trading.vocabulary import AuctionStatus


def listing_of(auction: Auction) -> dict[str, Any]:
    """What a notification points at: the achievement sold, or the auction itself."""
    if auction.achievement_id is not None:
        return {"listing_kind": "achievement", "listing_id": auction.achievement_id}
    return {"listing_kind": "auction", "listing_id": auction.id}


async def tell_closed(
    session: AsyncSession, auction: Auction, bidders: list[AuctionBidder], *, explanation: list[str]
) -> None:
    """auction_closed to the seller's members and every bidder's."""
    recipients = await members.active_members(session, auction.seller_organization_id)
    for bidder in bidders:
        recipients += await members.active_members(session, bidder.organization_id)
    sold = auction.status is AuctionStatus.sold
    winner_code = next((b.code for b in bidders if sold and b.id == auction.best_bidder_id), None)
    await send(
        session,
        kind=NotificationKind.auction_closed,
        **listing_of(auction),
        recipients=recipients,
        title=f"竞价结束：{auction.title}（{auction.status.label}）",
        explanation=explanation,
        details={
            "auction_id": str(auction.id),
            "status": auction.status.value,
            "final_amount": in_yuan(auction.best_amount) if sold and auction.best_amount else None,
            "winner_code": winner_code,
        },
    )
