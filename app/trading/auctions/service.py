"""Online bidding (网络竞价): opening an auction. The bidding rules, the close, deposits and the
result are added beside this (docs/trading.md)."""

import secrets
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor, SystemActor, record
from app.trading.models import Auction, AuctionBidder


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
