"""The end of a listing period: extension or close, one buyer agreed, an auction among several;
by the worker or the next read, exactly once."""

import asyncio
from datetime import date, datetime
from decimal import Decimal

import httpx
import time_machine
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.core.types import CHINA
from app.deals.models import Deal, Mandate
from app.deals.vocabulary import DealStage
from app.matching.models import Notification, NotificationKind
from app.trading.listing import closing
from app.trading.listing.closing import UNANSWERED
from app.trading.models import Auction, AuctionBidder, ListingAnnouncement, ListingIntention
from app.trading.vocabulary import AnnouncementStatus, AuctionStatus, IntentionStatus, PricingRoute
from tests.trading.listing.world import URL, announce, audits, china, decide, file, world

MONDAY_BEFORE_NATIONAL_DAY = china(2026, 9, 28, 10, 0)
# The ten-working-day period announced then ends at the end of 16 October, China time.
JUST_AFTER_THE_END = china(2026, 10, 17, 0, 0, 5)


async def _announcement(db: AsyncSession, announcement_id: str) -> ListingAnnouncement:
    found = await db.get(ListingAnnouncement, announcement_id, populate_existing=True)
    assert found is not None
    return found


async def test_no_qualified_buyer_extends_by_the_announced_step_then_closes(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w, extension_working_days=5, max_extensions=1)
        # Filed but never answered: not a qualified buyer.
        intention = (await file(client, w.buyers[0], body["id"], "900000.00")).json()
    with time_machine.travel(JUST_AFTER_THE_END, tick=False):
        await closing.conclude_due(app.state.database, app.state.settings)
        extended = await _announcement(db, body["id"])
        # 19–23 October.
        assert extended.status is AnnouncementStatus.running
        assert (extended.extensions_used, extended.period_ends_on) == (1, date(2026, 10, 23))
        # Still filed: the seller may answer during the extension.
        assert (await client.get(f"{URL}/{body['id']}")).json()["status"] == "running"
    with time_machine.travel(china(2026, 10, 24, 0, 1), tick=False):
        await app.state.background.drain()  # the worker's round
        closed = await _announcement(db, body["id"])
        assert closed.status is AnnouncementStatus.closed_no_buyer
    left = await db.get(ListingIntention, intention["id"], populate_existing=True)
    assert left is not None and (left.status, left.rejection_reason) == (IntentionStatus.rejected, UNANSWERED)
    assert await audits(db, body["id"], "extended") == 1
    assert await audits(db, body["id"], "period_ended") == 1
    told = await db.execute(
        select(Notification.user_id).where(Notification.kind == NotificationKind.listing_period_ended)
    )
    recipients = set(told.scalars())
    assert {w.seller.id, w.broker.id, w.buyers[0].id} <= recipients
    deal = await db.get(Deal, w.deal.id, populate_existing=True)
    # No buyer: the deal no longer waits for the listing, its parties may choose a route again.
    assert deal is not None and deal.stage is DealStage.negotiating and deal.pricing_route is None


async def test_one_qualified_buyer_agrees_the_deal_at_its_offer_on_the_next_read(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w, transfer_mode="license_exclusive")
        chosen = (await file(client, w.buyers[0], body["id"], "860000.00")).json()
        refused = (await file(client, w.buyers[1], body["id"], "990000.00")).json()
        await file(client, w.buyers[2], body["id"], "950000.00")
        assert (await decide(client, w, body["id"], chosen["id"], "qualify")).status_code == 200
        assert (
            await decide(client, w, body["id"], refused["id"], "reject", reason="资质不符")
        ).status_code == 200
    with time_machine.travel(JUST_AFTER_THE_END, tick=False):
        # No worker needed: reading the announcement ends its period.
        read = (await client.get(f"{URL}/{body['id']}")).json()
        assert read["status"] == "agreed" and read["closed_at"] is not None
    deal = await db.get(Deal, w.deal.id, populate_existing=True)
    assert deal is not None
    assert deal.stage is DealStage.agreed
    assert (deal.agreed_price, deal.transfer_mode) == (Decimal("860000.00"), "license_exclusive")
    assert (deal.buyer_organization_id, deal.pricing_route) == (w.buyer_orgs[0].id, PricingRoute.listing)
    unanswered = await db.execute(
        select(ListingIntention.status).where(ListingIntention.buyer_organization_id == w.buyer_orgs[2].id)
    )
    assert unanswered.scalar_one() is IntentionStatus.rejected


async def test_two_qualified_buyers_go_to_an_auction_among_them_opening_at_the_floor(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        for buyer, offer in ((w.buyers[0], "850000.00"), (w.buyers[1], "900000.00")):
            intention = (await file(client, buyer, body["id"], offer)).json()
            assert (await decide(client, w, body["id"], intention["id"], "qualify")).status_code == 200
    with time_machine.travel(JUST_AFTER_THE_END, tick=False):
        await closing.conclude_due(app.state.database, app.state.settings)
    announcement = await _announcement(db, body["id"])
    assert announcement.status is AnnouncementStatus.to_auction
    auction = (
        await db.execute(select(Auction).where(Auction.announcement_id == announcement.id))
    ).scalar_one()
    assert auction.status is AuctionStatus.scheduled and auction.deal_id == w.deal.id
    assert (auction.opening_price, auction.increment, auction.deposit_amount, auction.reserve_price) == (
        Decimal("800000.00"),
        Decimal("10000.00"),
        Decimal("80000.00"),
        None,
    )
    # Three working days after Friday 16 October, at 10:00 China time, for the set 120 minutes.
    assert auction.starts_at == datetime(2026, 10, 21, 10, 0, tzinfo=CHINA)
    assert (auction.ends_at - auction.starts_at).total_seconds() == 120 * 60
    bidders = await db.execute(
        select(AuctionBidder.organization_id).where(AuctionBidder.auction_id == auction.id)
    )
    assert set(bidders.scalars()) == {w.buyer_orgs[0].id, w.buyer_orgs[1].id}
    deal = await db.get(Deal, w.deal.id, populate_existing=True)
    assert deal is not None and deal.stage is DealStage.negotiating


async def test_the_period_ends_once_when_workers_and_readers_race(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        for buyer in w.buyers[:2]:
            intention = (await file(client, buyer, body["id"], "900000.00")).json()
            await decide(client, w, body["id"], intention["id"], "qualify")
    with time_machine.travel(JUST_AFTER_THE_END, tick=False):
        database, settings = app.state.database, app.state.settings
        results = await asyncio.gather(
            *(closing.conclude_due(database, settings) for _ in range(4)),
            *(client.get(f"{URL}/{body['id']}") for _ in range(4)),
        )
        assert sum(r for r in results if isinstance(r, int)) <= 1
        assert all(r.json()["status"] == "to_auction" for r in results if isinstance(r, httpx.Response))
    auctions = await db.execute(select(func.count()).select_from(Auction).where(Auction.deal_id == w.deal.id))
    assert auctions.scalar_one() == 1
    assert await audits(db, body["id"], "period_ended") == 1


async def test_a_deal_put_on_hold_during_the_period_ends_the_listing_withdrawn(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        body = await announce(client, w)
        intention = (await file(client, w.buyers[0], body["id"], "900000.00")).json()
        await decide(client, w, body["id"], intention["id"], "qualify")
    deal = await db.get(Deal, w.deal.id, populate_existing=True)
    assert deal is not None
    deal.held_from_stage, deal.stage = deal.stage, DealStage.on_hold
    await db.commit()
    with time_machine.travel(JUST_AFTER_THE_END, tick=False):
        await closing.conclude_due(app.state.database, app.state.settings)
    assert (await _announcement(db, body["id"])).status is AnnouncementStatus.withdrawn
    deal = await db.get(Deal, w.deal.id, populate_existing=True)
    assert deal is not None and (deal.stage, deal.agreed_price) == (DealStage.on_hold, None)


async def test_an_outcome_the_deal_refuses_ends_the_listing_instead_of_leaving_it_due(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """A fixed commission above the single offer: the deal's `agreed` guard refuses the price."""
    with time_machine.travel(MONDAY_BEFORE_NATIONAL_DAY, tick=False):
        w = await world(db)
        mandate = (await db.execute(select(Mandate).where(Mandate.deal_id == w.deal.id))).scalar_one()
        mandate.commission_rate, mandate.commission_fixed = None, Decimal("950000.00")
        await db.commit()
        body = await announce(client, w)
        intention = (await file(client, w.buyers[0], body["id"], "900000.00")).json()
        await decide(client, w, body["id"], intention["id"], "qualify")
    with time_machine.travel(JUST_AFTER_THE_END, tick=False):
        await closing.conclude_due(app.state.database, app.state.settings)
        # Nothing is left due: a second round finds nothing.
        assert await closing.conclude_due(app.state.database, app.state.settings) == 0
    assert (await _announcement(db, body["id"])).status is AnnouncementStatus.withdrawn
    ended = await db.execute(
        select(AuditEntry.changes).where(
            AuditEntry.object_id == body["id"], AuditEntry.action == "period_ended"
        )
    )
    assert ended.scalar_one()["reason"] == "below_commission"
    deal = await db.get(Deal, w.deal.id, populate_existing=True)
    assert deal is not None and (deal.stage, deal.agreed_price, deal.buyer_organization_id) == (
        DealStage.negotiating,
        None,
        None,
    )
