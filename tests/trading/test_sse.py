"""Live auction events (GET /api/v1/auctions/{id}/events) against `techex serve` in its own process:
events arrive without polling, Last-Event-ID replays without gaps or duplicates, `closed` ends the
stream, the LISTEN connection comes back, an unknown auction is 404, shutdown does not wait for
open streams. The fan-out's rule for a slow subscriber is tested on the hub itself."""

import asyncio
import json
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind
from app.audit.service import SystemActor
from app.core.clock import now
from app.core.config import Settings
from app.deals import service as deals
from app.deals.vocabulary import DealStage
from app.trading.auctions.events import CHANNEL, EventType, publish
from app.trading.auctions.live import APPLICATION_NAME, AuctionEvents, Signal
from app.trading.auctions.service import open_auction
from app.trading.models import Auction, AuctionBidder, Bid
from app.trading.vocabulary import AuctionStatus, DepositStatus
from search.relay import plain_dsn
from tests.conftest import served
from tests.deals.factory import published_achievement
from tests.fixtures.accounts import create_organization
from tests.trading.auctions.helpers import auction_world, open_with_bidders

HEARTBEAT_SECONDS = 1
OPENING, INCREMENT = Decimal("100000.00"), Decimal("1000.00")


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    with served(settings, TECHEX_AUCTION_EVENTS_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS)) as (url, _):
        yield url


@dataclass
class Running:
    id: uuid.UUID
    bidders: list[uuid.UUID]


async def running_auction(db: AsyncSession, bidders: int = 2) -> Running:
    """A running auction between `bidders` qualified organizations whose deposits were received."""
    seller = await create_organization(db)
    achievement = await published_achievement(db, seller)
    deal = await deals.open_deal(
        db,
        actor=SystemActor(),
        title=achievement.title,
        seller_organization_id=seller.id,
        buyer_organization_id=None,
        achievement_id=achievement.id,
        stage=DealStage.negotiating,
    )
    buyers = [await create_organization(db, kind=OrganizationKind.enterprise) for _ in range(bidders)]
    auction = await open_auction(
        db,
        actor=SystemActor(),
        deal_id=deal.id,
        seller_organization_id=seller.id,
        achievement_id=achievement.id,
        title=achievement.title,
        transfer_mode="transfer",
        opening_price=OPENING,
        increment=INCREMENT,
        reserve_price=None,
        deposit_amount=Decimal("10000.00"),
        starts_at=now() - timedelta(minutes=1),
        ends_at=now() + timedelta(hours=1),
        bidder_organization_ids=[buyer.id for buyer in buyers],
    )
    auction.status = AuctionStatus.running
    await db.execute(
        update(AuctionBidder)
        .where(AuctionBidder.auction_id == auction.id)
        .values(deposit_status=DepositStatus.received)
    )
    ids = (await db.scalars(select(AuctionBidder.id).where(AuctionBidder.auction_id == auction.id))).all()
    await db.commit()
    return Running(auction.id, list(ids))


async def place(app: FastAPI, auction: Running, *, moves_end: bool = False) -> int:
    """One accepted bid as the bidding service writes it: under the auction's row lock, the next
    sequence and a price one increment up, its events published in its transaction."""
    async with app.state.database.sessionmaker() as session:
        row = await session.get(Auction, auction.id, with_for_update=True)
        assert row is not None
        sequence = row.bid_count + 1
        amount = OPENING + INCREMENT * (sequence - 1)
        bidder = auction.bidders[sequence % len(auction.bidders)]
        placed_at = now()
        if moves_end:
            row.ends_at = row.ends_at + timedelta(minutes=5)
        session.add(
            Bid(
                auction_id=row.id,
                bidder_id=bidder,
                sequence=sequence,
                amount=amount,
                placed_at=placed_at,
                ends_at_after=row.ends_at,
            )
        )
        row.bid_count, row.best_amount, row.best_bidder_id = sequence, amount, bidder
        code = await session.scalar(select(AuctionBidder.code).where(AuctionBidder.id == bidder))
        data = {
            "sequence": sequence,
            "amount": str(amount),
            "bidder_code": code,
            "placed_at": placed_at.isoformat(),
            "ends_at": row.ends_at.isoformat(),
        }
        await publish(session, row.id, EventType.best_bid, data)
        if moves_end:
            await publish(
                session, row.id, EventType.new_end, {"sequence": sequence, "ends_at": data["ends_at"]}
            )
        await session.commit()
        return sequence


async def close(app: FastAPI, auction: Running) -> None:
    async with app.state.database.sessionmaker() as session:
        row = await session.get(Auction, auction.id, with_for_update=True)
        assert row is not None
        row.status, row.closed_at = AuctionStatus.sold, now()
        code = await session.scalar(select(AuctionBidder.code).where(AuctionBidder.id == row.best_bidder_id))
        data = {
            "status": "sold",
            "final_amount": str(row.best_amount),
            "winner_code": code,
            "closed_at": row.closed_at.isoformat(),
        }
        await publish(session, row.id, EventType.closed, data)
        await session.commit()


class Stream:
    """An open event stream, read event by event (comments included, as `{"comment": …}`)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, seconds: float = 10) -> dict[str, object] | None:
        """The next event, or None when the stream ended."""
        event: dict[str, object] = {}
        async with asyncio.timeout(seconds):
            async for line in self._lines:
                if line == "":
                    if event:
                        return event
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    return {"comment": value}
                event[name] = json.loads(value) if name == "data" else value
        return event or None

    async def until(self, predicate, seconds: float = 10) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
        """Events up to and including the first that satisfies `predicate`, heartbeats left out."""
        seen = []
        while True:
            event = await self.next(seconds)
            assert event is not None, f"the stream ended after {seen}"
            if "comment" in event:
                continue
            seen.append(event)
            if predicate(event):
                return seen


@asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient, auction_id: object, last_event_id: int | None = None
) -> AsyncIterator[Stream]:
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    async with http.stream("GET", f"/api/v1/auctions/{auction_id}/events", headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def sequence_of(event: dict[str, object]) -> int:
    return event["data"]["sequence"]  # type: ignore[index]


# --- the stream, end to end -----------------------------------------------------------------------


async def test_a_bid_reaches_the_stream_without_polling(app: FastAPI, db: AsyncSession, server: str) -> None:
    auction = await running_auction(db)
    async with httpx.AsyncClient(base_url=server) as http, open_stream(http, auction.id) as stream:
        snapshot = await stream.next()
        assert snapshot["event"] == "snapshot" and "id" not in snapshot
        assert snapshot["data"] == {
            **snapshot["data"],  # type: ignore[dict-item]
            "auction_id": str(auction.id),
            "status": "running",
            "best_amount": None,
            "last_sequence": 0,
            "opening_price": "100000.00",
        }
        assert "reserve_price" not in snapshot["data"]  # type: ignore[operator]
        started = time.monotonic()
        await place(app, auction)
        await place(app, auction, moves_end=True)
        events = await stream.until(lambda event: event["event"] == "new_end")
        assert time.monotonic() - started < 2  # pushed, not found by a poll
        assert [(event["event"], event["id"]) for event in events] == [
            ("best_bid", "1"),
            ("best_bid", "2"),
            ("new_end", "2"),
        ]
        assert events[1]["data"]["amount"] == "101000.00"  # type: ignore[index]
        assert events[1]["data"]["ends_at"] == events[2]["data"]["ends_at"]  # type: ignore[index]
        # Nothing happens: a heartbeat comment keeps the connection open.
        assert await stream.next(HEARTBEAT_SECONDS * 3) == {"comment": "heartbeat"}


async def test_bids_through_the_api_reach_every_subscriber(
    client: httpx.AsyncClient, db: AsyncSession, server: str
) -> None:
    a = await auction_world(client, db)
    auction, starts_at = await open_with_bidders(client, a, start_in=timedelta(seconds=1))
    await asyncio.sleep((starts_at - now()).total_seconds() + 0.1)
    url = f"/api/v1/auctions/{auction['id']}/bids"
    async with (
        httpx.AsyncClient(base_url=server) as http,
        open_stream(http, auction["id"]) as first,
        open_stream(http, auction["id"]) as second,
    ):
        for stream in (first, second):
            assert (await stream.next())["event"] == "snapshot"
        opening = await http.post(url, json={"amount": "500000.00"}, headers=a.alpha.headers)
        assert opening.status_code == 201, opening.text
        too_low = await http.post(url, json={"amount": "500000.00"}, headers=a.beta.headers)
        assert too_low.status_code == 422 and too_low.json()["min_next_bid"] == "510000.00"
        raised = await http.post(url, json={"amount": too_low.json()["min_next_bid"]}, headers=a.beta.headers)
        assert raised.status_code == 201, raised.text
        for stream in (first, second):
            events = await stream.until(lambda e: e["event"] == "best_bid" and sequence_of(e) == 2)
            # The same bids as the API answered (its times in Asia/Shanghai, the events' in UTC).
            assert [_instants(e["data"]) for e in events] == [
                _instants(opening.json()),
                _instants(raised.json()),
            ]


def _instants(bid: dict[str, object]) -> tuple[object, ...]:
    return (
        bid["sequence"],
        bid["amount"],
        bid["bidder_code"],
        datetime.fromisoformat(str(bid["placed_at"])),
        datetime.fromisoformat(str(bid["ends_at"])),
    )


async def test_last_event_id_replays_every_missed_bid_once_while_bids_keep_coming(
    app: FastAPI, db: AsyncSession, server: str
) -> None:
    auction = await running_auction(db, bidders=3)
    for _ in range(10):
        await place(app, auction, moves_end=True)

    async def keep_bidding() -> None:
        for _ in range(30):
            await place(app, auction)

    async with httpx.AsyncClient(base_url=server) as http:
        # Connections race the bids: each must see 6 … 40, in order, once.
        bidding = asyncio.create_task(keep_bidding())
        for _ in range(3):
            async with open_stream(http, auction.id, last_event_id=5) as stream:
                assert (await stream.next())["event"] == "snapshot"
                events = await stream.until(lambda e: e["event"] == "best_bid" and sequence_of(e) == 40)
                bids = [sequence_of(e) for e in events if e["event"] == "best_bid"]
                assert bids == list(range(6, 41))
                assert [e["id"] for e in events if e["event"] == "best_bid"] == [str(n) for n in bids]
                # The replayed bids that moved the end say so, as they did live.
                assert [sequence_of(e) for e in events if e["event"] == "new_end"] == list(range(6, 11))
        await bidding


async def test_a_closed_event_ends_the_stream_and_a_closed_auction_says_so_at_once(
    app: FastAPI, db: AsyncSession, server: str
) -> None:
    auction = await running_auction(db)
    await place(app, auction)
    async with httpx.AsyncClient(base_url=server) as http:
        async with open_stream(http, auction.id) as stream:
            assert (await stream.next())["data"]["last_sequence"] == 1  # type: ignore[index]
            await place(app, auction)
            await close(app, auction)
            events = await stream.until(lambda e: e["event"] == "closed")
            assert [e["event"] for e in events] == ["best_bid", "closed"]
            assert events[-1]["data"]["final_amount"] == "101000.00"  # type: ignore[index]
            assert await stream.next() is None  # the server ended the response
        async with open_stream(http, auction.id, last_event_id=1) as stream:
            events = [await stream.next() for _ in range(3)]
            assert [e["event"] for e in events] == ["snapshot", "best_bid", "closed"]  # type: ignore[index]
            assert events[2]["data"]["winner_code"] == events[1]["data"]["bidder_code"]  # type: ignore[index]
            assert await stream.next() is None


async def test_the_listen_connection_comes_back_and_subscribers_catch_up(
    app: FastAPI, db: AsyncSession, server: str
) -> None:
    auction = await running_auction(db)
    async with httpx.AsyncClient(base_url=server) as http, open_stream(http, auction.id) as stream:
        assert (await stream.next())["event"] == "snapshot"
        # PostgreSQL drops every listener (this process's and the server's); a bid follows at once,
        # perhaps before the server listens again.
        async with app.state.database.engine.begin() as connection:
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": APPLICATION_NAME},
            )
        assert killed >= 1
        await place(app, auction)
        events = await stream.until(lambda e: e["event"] == "snapshot")
        # The bid arrived live or in the catch-up after the new snapshot — never both, never lost.
        await place(app, auction)
        rest = await stream.until(lambda e: e["event"] == "best_bid" and sequence_of(e) == 2)
        bids = [sequence_of(e) for e in events + rest if e["event"] == "best_bid"]
        assert bids == [1, 2]


async def test_an_unknown_auction_is_404_and_a_bad_last_event_id_422(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as http:
        response = await http.get(f"/api/v1/auctions/{uuid.uuid4()}/events")
        assert response.status_code == 404
        assert response.json()["code"] == "auction_not_found"
        response = await http.get(f"/api/v1/auctions/{uuid.uuid4()}/events", headers={"Last-Event-ID": "x"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "Last-Event-ID"


async def test_shutdown_ends_open_streams_instead_of_waiting_for_them(
    db: AsyncSession, settings: Settings
) -> None:
    auction = await running_auction(db)
    with served(settings) as (url, process):
        async with httpx.AsyncClient(base_url=url) as http, open_stream(http, auction.id) as stream:
            assert (await stream.next())["event"] == "snapshot"
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert await stream.next() is None
            await asyncio.to_thread(process.wait, 10)
            assert time.monotonic() - started < 5


# --- the fan-out ------------------------------------------------------------------------------------


async def test_a_subscriber_that_falls_behind_is_cut_off_without_slowing_the_others(
    app: FastAPI, settings: Settings
) -> None:
    hub = AuctionEvents(queue_size=8, check_seconds=30)
    hub.start(plain_dsn(settings.database_url or ""))
    try:
        await asyncio.wait_for(hub.connected.wait(), 10)
        auction_id = uuid.uuid4()
        slow, fast = hub.subscribe(auction_id), hub.subscribe(auction_id)
        received: list[int] = []

        async def read_fast() -> None:
            while len(received) < 40:
                item = await fast.next(10)
                assert item is not None and not isinstance(item, Signal)
                received.append(item.sequence or 0)

        reader = asyncio.create_task(read_fast())
        async with app.state.database.sessionmaker() as session:  # ignored, and nothing breaks
            await session.execute(select(func.pg_notify(CHANNEL, f'{{"auction_id": "{auction_id}"}}')))
            await session.commit()
        for sequence in range(1, 41):
            async with app.state.database.sessionmaker() as session:
                await publish(session, auction_id, EventType.best_bid, {"sequence": sequence})
                await session.commit()
        await asyncio.wait_for(reader, 10)
        assert received == list(range(1, 41))
        # The one that never read: its queue filled, it was told to go and is no longer fed.
        assert await slow.next(1) is Signal.overflow
        assert hub.subscriber_count() == 1
    finally:
        await hub.stop()
