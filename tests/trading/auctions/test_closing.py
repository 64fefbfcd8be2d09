"""The auction's clock with the server's clock moved by time-machine: a sale agrees the deal at the
winning price and settles the deposits, a reserve not met is no sale, the close re-reads a moved
end, a restarted process closes what is overdue, and an unsigned winner forfeits its deposit."""

import asyncio
import uuid
from datetime import datetime, timedelta

import httpx
import time_machine
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import SystemActor
from app.contracts.service import deadline
from app.core import clock
from app.core.config import Settings
from app.core.types import CHINA
from app.deals import service as deals
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.main import create_app
from app.matching.models import Notification, NotificationKind
from app.trading.auctions import closing
from app.trading.models import Auction, AuctionBidder
from app.trading.vocabulary import DepositStatus, PricingRoute
from tests.trading.auctions.helpers import AuctionWorld, auction_world, bid, open_with_bidders, terms


async def _bid_alpha_then_beta(
    client: httpx.AsyncClient, a: AuctionWorld, **terms: object
) -> tuple[dict, datetime]:
    """An auction where alpha bids the opening price and beta one increment more; its end."""
    auction, start = await open_with_bidders(client, a, **terms)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert (await bid(client, a.alpha, auction["id"], "500000.00")).status_code == 201
        assert (await bid(client, a.beta, auction["id"], "510000.00")).status_code == 201
    return auction, datetime.fromisoformat(auction["ends_at"])


async def _state(db: AsyncSession, auction_id: str) -> tuple[Auction, dict[str, DepositStatus], Deal]:
    db.expire_all()
    auction = (await db.execute(select(Auction).where(Auction.id == auction_id))).scalar_one()
    bidders = (
        await db.execute(select(AuctionBidder).where(AuctionBidder.auction_id == auction.id))
    ).scalars()
    deal = (await db.execute(select(Deal).where(Deal.id == auction.deal_id))).scalar_one()
    return auction, {str(b.organization_id): b.deposit_status for b in bidders}, deal


async def _told(db: AsyncSession, kind: NotificationKind) -> set[object]:
    return set(await db.scalars(select(Notification.user_id).where(Notification.kind == kind)))


async def test_a_sale_agrees_the_deal_at_the_winning_price_and_settles_the_deposits(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, end = await _bid_alpha_then_beta(client, a, reserve_price="510000.00")
    with time_machine.travel(end + timedelta(seconds=1), tick=False):
        await closing.close_due(app.state.database, settings)
        public = (await client.get(f"/api/v1/auctions/{auction['id']}")).json()
        seller = (await client.get(f"/api/v1/auctions/{auction['id']}", headers=a.w.seller.headers)).json()
        winner = (await client.get(f"/api/v1/auctions/{auction['id']}", headers=a.beta.headers)).json()
        loser = (await client.get(f"/api/v1/auctions/{auction['id']}", headers=a.alpha.headers)).json()
    stored, deposits, deal = await _state(db, auction["id"])
    assert stored.status == "sold" and stored.closed_at is not None
    assert deposits == {
        str(a.beta.organization_id): DepositStatus.applied,
        str(a.alpha.organization_id): DepositStatus.released,
    }
    assert deal.stage is DealStage.agreed and deal.agreed_price == stored.best_amount
    assert deal.buyer_organization_id == a.beta.organization_id
    assert deal.pricing_route is PricingRoute.auction and deal.transfer_mode == "transfer"
    signing = await deadline(db, end.astimezone(CHINA).date(), settings.auction_sign_working_days)
    assert stored.sign_by == signing.due_on
    assert public["status"] == "sold" and public["reserve_met"] is True and public["reserve_price"] is None
    assert (
        public["winner"]["code"] == winner["my_bidder"]["code"]
        and public["winner"]["organization_id"] is None
    )
    assert (
        seller["winner"]["organization_id"]
        == winner["winner"]["organization_id"]
        == str(a.beta.organization_id)
    )
    assert loser["winner"]["organization_id"] is None and seller["reserve_price"] == "510000.00"
    told = await _told(db, NotificationKind.auction_closed)
    assert {a.w.seller.user_id, a.alpha.user_id, a.beta.user_id} <= told


async def test_a_best_bid_below_the_reserve_is_no_sale_and_every_deposit_is_released(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, end = await _bid_alpha_then_beta(client, a, reserve_price="600000.00")
    with time_machine.travel(end + timedelta(seconds=1), tick=False):
        await closing.close_due(app.state.database, settings)
        public = (await client.get(f"/api/v1/auctions/{auction['id']}", headers=a.beta.headers)).json()
    stored, deposits, deal = await _state(db, auction["id"])
    assert stored.status == "no_sale" and stored.sign_by is None
    assert set(deposits.values()) == {DepositStatus.released}
    assert deal.stage is DealStage.negotiating and deal.buyer_organization_id is None
    # The route gave no price: the parties may choose one again (another auction, a listing, …).
    assert deal.pricing_route is None
    assert public["reserve_met"] is False and public["reserve_price"] is None and public["winner"] is None


async def test_the_close_rereads_an_end_a_last_second_bid_moved(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, _start = await open_with_bidders(client, a)
    end = datetime.fromisoformat(auction["ends_at"])
    with time_machine.travel(end - timedelta(seconds=1), tick=False):
        assert (await bid(client, a.alpha, auction["id"], "500000.00")).json()["extended"] is True
    with time_machine.travel(end + timedelta(seconds=5), tick=False):
        assert await closing.close(db, uuid.UUID(auction["id"]), settings) is False
        await db.rollback()
        assert await closing.close_due(app.state.database, settings) == 0
    new_end = end - timedelta(seconds=1) + timedelta(minutes=settings.auction_extension_minutes)
    with time_machine.travel(new_end, tick=False):
        await closing.close_due(app.state.database, settings)
    stored, _, deal = await _state(db, auction["id"])
    assert stored.status == "sold" and stored.closed_at == new_end and deal.agreed_price == stored.best_amount


async def test_a_restarted_process_closes_an_overdue_auction(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, end = await _bid_alpha_then_beta(client, a)
    with time_machine.travel(end + timedelta(hours=1), tick=False):
        fresh = create_app(settings)
        async with fresh.router.lifespan_context(fresh):
            await closing.close_due(fresh.state.database, settings)
    stored, _, deal = await _state(db, auction["id"])
    assert stored.status == "sold" and stored.closed_at is not None and stored.closed_at > end
    assert deal.stage is DealStage.agreed


async def test_an_auction_without_bids_is_no_sale(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, _ = await open_with_bidders(client, a)
    with time_machine.travel(datetime.fromisoformat(auction["ends_at"]), tick=False):
        await closing.close_due(app.state.database, settings)
    stored, deposits, _ = await _state(db, auction["id"])
    assert stored.status == "no_sale" and set(deposits.values()) == {DepositStatus.released}


async def test_a_winner_who_does_not_sign_in_time_forfeits_the_deposit(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, end = await _bid_alpha_then_beta(client, a)
    with time_machine.travel(end + timedelta(seconds=1), tick=False):
        await closing.close_due(app.state.database, settings)
    stored, _, _ = await _state(db, auction["id"])
    assert stored.sign_by is not None
    last_day = datetime.combine(stored.sign_by, datetime.min.time(), CHINA) + timedelta(hours=23)
    with time_machine.travel(last_day, tick=False):
        assert await closing.forfeit_due(app.state.database) == 0  # still in time
    with time_machine.travel(last_day + timedelta(hours=2), tick=False):
        assert await closing.forfeit_due(app.state.database) == 1
        assert await closing.forfeit_due(app.state.database) == 0  # once
    _, deposits, deal = await _state(db, auction["id"])
    assert deposits[str(a.beta.organization_id)] is DepositStatus.forfeited
    assert deposits[str(a.alpha.organization_id)] is DepositStatus.released
    assert deal.stage is DealStage.agreed  # the seller decides what follows
    assert {a.beta.user_id, a.w.seller.user_id} <= await _told(db, NotificationKind.deposit_forfeited)
    assert a.alpha.user_id not in await _told(db, NotificationKind.deposit_forfeited)


async def test_a_winner_who_signed_keeps_the_deposit_applied(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, end = await _bid_alpha_then_beta(client, a)
    with time_machine.travel(end + timedelta(seconds=1), tick=False):
        await closing.close_due(app.state.database, settings)
    stored, _, deal = await _state(db, auction["id"])
    await deals.enter_stage(db, deal, DealStage.signed, actor=SystemActor())
    await db.commit()
    assert stored.sign_by is not None
    with time_machine.travel(
        datetime.combine(stored.sign_by + timedelta(days=3), datetime.min.time(), CHINA)
    ):
        assert await closing.forfeit_due(app.state.database) == 0
    _, deposits, _ = await _state(db, auction["id"])
    assert deposits[str(a.beta.organization_id)] is DepositStatus.applied


async def test_the_clock_sleeps_until_the_next_end_and_closes_it_then(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    assert await closing.tick(app.state.database, settings) == settings.auction_clock_max_sleep_seconds
    a = await auction_world(client, db)
    auction, end = await _bid_alpha_then_beta(client, a)
    with time_machine.travel(end - timedelta(seconds=2), tick=False):
        assert await closing.tick(app.state.database, settings) == 2.0
    with time_machine.travel(end + timedelta(milliseconds=1), tick=False):
        await closing.tick(app.state.database, settings)
    stored, _, _ = await _state(db, auction["id"])
    assert stored.status == "sold"


async def test_the_running_worker_closes_an_auction_on_time_with_no_request(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    starts_at = clock.now() + timedelta(seconds=1)
    body = terms(a.deal, starts_at=starts_at, ends_at=(starts_at + timedelta(seconds=2)).isoformat())
    opened = await client.post("/api/v1/auctions", json=body, headers=a.w.broker.headers)
    assert opened.status_code == 201, opened.text
    for _ in range(100):
        await asyncio.sleep(0.1)
        stored, _, _ = await _state(db, opened.json()["id"])
        if stored.closed_at is not None:
            break
    assert stored.status == "no_sale" and stored.closed_at is not None
    late = (stored.closed_at - stored.ends_at).total_seconds()
    assert 0 <= late < settings.auction_clock_max_sleep_seconds + 1
