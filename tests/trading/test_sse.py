"""Live auction events (GET /api/v1/auctions/{id}/events) against `techex serve` in its own process:
events arrive without polling, Last-Event-ID replays without gaps or duplicates, `closed` ends the
stream, the LISTEN connection comes back, an unknown auction is 404, shutdown does not wait for
open streams. The fan-out's rule for a slow subscriber is tested on the hub itself."""

import asyncio
import json
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.core.config import Settings
from app.trading.auctions import closing
from app.trading.auctions.events import CHANNEL, EventType, publish
from app.trading.auctions.live import APPLICATION_NAME, AuctionEvents, Signal
from search.relay import plain_dsn
from tests.conftest import served
from tests.trading.auctions.helpers import AuctionWorld, auction_world, bid, open_with_bidders

HEARTBEAT_SECONDS = 1


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    with served(settings, TECHEX_AUCTION_EVENTS_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS)) as (url, _):
        yield url


async def started_auction(
    client: httpx.AsyncClient, db: AsyncSession, *, ends_in: timedelta
) -> tuple[AuctionWorld, dict[str, Any]]:
    """An auction between `alpha` and `beta` (deposits received) that has just started and ends
    `ends_in` after its start; bids in the last 5 minutes move its end."""
    a = await auction_world(client, db)
    starts_at = now() + timedelta(seconds=1)
    auction, _ = await open_with_bidders(
        client, a, starts_at=starts_at, ends_at=(starts_at + ends_in).isoformat()
    )
    await asyncio.sleep((starts_at - now()).total_seconds() + 0.05)
    return a, auction


async def raise_bid(client: httpx.AsyncClient, a: AuctionWorld, auction: dict[str, Any]) -> dict[str, Any]:
    """The next valid bid, through the bid route: alpha and beta take turns outbidding each other."""
    current = await client.get(f"/api/v1/auctions/{auction['id']}")
    amount = current.json()["min_next_bid"]
    who = a.beta if current.json()["bid_count"] % 2 else a.alpha
    response = await bid(client, who, auction["id"], amount)
    assert response.status_code == 201, response.text
    return response.json()


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


async def test_a_bid_reaches_the_stream_without_polling(
    client: httpx.AsyncClient, db: AsyncSession, server: str
) -> None:
    # Ends 5 minutes and 2 seconds after the start: the first bid leaves the end alone, a bid
    # two seconds later moves it.
    a, auction = await started_auction(client, db, ends_in=timedelta(minutes=5, seconds=2))
    async with httpx.AsyncClient(base_url=server) as http, open_stream(http, auction["id"]) as stream:
        snapshot = await stream.next()
        assert snapshot["event"] == "snapshot" and "id" not in snapshot
        assert snapshot["data"] == {
            **snapshot["data"],  # type: ignore[dict-item]
            "auction_id": auction["id"],
            "status": "running",  # started, no bid yet: running, as the auction's page says
            "best_amount": None,
            "last_sequence": 0,
            "opening_price": "500000.00",
            "increment": "10000.00",
        }
        assert "reserve_price" not in snapshot["data"]  # type: ignore[operator]
        started = time.monotonic()
        first = await raise_bid(client, a, auction)
        assert (await stream.next())["id"] == "1"
        assert time.monotonic() - started < 2  # pushed, not found by a poll
        await asyncio.sleep(2.5)
        second = await raise_bid(client, a, auction)
        assert not first["extended"] and second["extended"]
        events = await stream.until(lambda event: event["event"] == "new_end")
        assert [(event["event"], event["id"]) for event in events] == [("best_bid", "2"), ("new_end", "2")]
        assert events[0]["data"]["amount"] == "510000.00"  # type: ignore[index]
        assert events[1]["data"]["ends_at"] == events[0]["data"]["ends_at"]  # type: ignore[index]
        # Nothing happens: a heartbeat comment keeps the connection open.
        assert await stream.next(HEARTBEAT_SECONDS * 3) == {"comment": "heartbeat"}


async def test_bids_through_the_api_reach_every_subscriber(
    client: httpx.AsyncClient, db: AsyncSession, server: str
) -> None:
    a, auction = await started_auction(client, db, ends_in=timedelta(minutes=6))
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
    client: httpx.AsyncClient, db: AsyncSession, server: str
) -> None:
    # Inside the anti-sniping window from the start: every bid moves the end.
    a, auction = await started_auction(client, db, ends_in=timedelta(minutes=4))
    for _ in range(10):
        await raise_bid(client, a, auction)

    async def keep_bidding() -> None:
        for _ in range(20):
            await raise_bid(client, a, auction)

    async with httpx.AsyncClient(base_url=server) as http:
        # Connections race the bids: each must see 6 … 30, in order, once.
        bidding = asyncio.create_task(keep_bidding())
        for _ in range(3):
            async with open_stream(http, auction["id"], last_event_id=5) as stream:
                assert (await stream.next())["event"] == "snapshot"
                events = await stream.until(lambda e: e["event"] == "new_end" and sequence_of(e) == 30)
                bids = [sequence_of(e) for e in events if e["event"] == "best_bid"]
                assert bids == list(range(6, 31))
                assert [e["id"] for e in events if e["event"] == "best_bid"] == [str(n) for n in bids]
                # Replayed or live, each bid's best_bid comes with the new_end it caused.
                assert [sequence_of(e) for e in events if e["event"] == "new_end"] == bids
        await bidding


async def test_a_closed_event_ends_the_stream_and_a_closed_auction_says_so_at_once(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, server: str
) -> None:
    a, auction = await started_auction(client, db, ends_in=timedelta(minutes=6))
    await raise_bid(client, a, auction)
    async with httpx.AsyncClient(base_url=server) as http:
        async with open_stream(http, auction["id"]) as stream:
            assert (await stream.next())["data"]["last_sequence"] == 1  # type: ignore[index]
            winning = await raise_bid(client, a, auction)
            # The auction's clock, moved past the end: the real close, sold at the best bid.
            with time_machine.travel(datetime.fromisoformat(winning["ends_at"]) + timedelta(seconds=1)):
                assert await closing.close_due(app.state.database, settings) == 1
            events = await stream.until(lambda e: e["event"] == "closed")
            assert [e["event"] for e in events] == ["best_bid", "closed"]
            assert events[-1]["data"] == {
                **events[-1]["data"],  # type: ignore[dict-item]
                "status": "sold",
                "final_amount": "510000.00",
                "winner_code": winning["bidder_code"],
            }
            assert await stream.next() is None  # the server ended the response
        async with open_stream(http, auction["id"], last_event_id=1) as stream:
            events = [await stream.next() for _ in range(3)]
            assert [e["event"] for e in events] == ["snapshot", "best_bid", "closed"]  # type: ignore[index]
            assert events[2]["data"]["winner_code"] == winning["bidder_code"]  # type: ignore[index]
            assert await stream.next() is None


async def test_the_servers_own_clock_closes_the_auction_and_ends_the_stream(
    client: httpx.AsyncClient, db: AsyncSession, server: str
) -> None:
    """No request closes it: the served process's worker does, on time, and the event follows."""
    a = await auction_world(client, db)
    starts_at = now() + timedelta(seconds=1)
    auction, _ = await open_with_bidders(
        client, a, starts_at=starts_at, ends_at=(starts_at + timedelta(seconds=2)).isoformat()
    )
    async with httpx.AsyncClient(base_url=server) as http, open_stream(http, auction["id"]) as stream:
        assert (await stream.next())["event"] == "snapshot"
        closed = await stream.until(lambda e: e["event"] == "closed", seconds=15)
        assert closed[-1]["data"] == {**closed[-1]["data"], "status": "no_sale", "final_amount": None}  # type: ignore[dict-item]
        assert await stream.next() is None


async def test_the_listen_connection_comes_back_and_subscribers_catch_up(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, server: str
) -> None:
    a, auction = await started_auction(client, db, ends_in=timedelta(minutes=6))
    async with httpx.AsyncClient(base_url=server) as http, open_stream(http, auction["id"]) as stream:
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
        await raise_bid(client, a, auction)
        events = await stream.until(lambda e: e["event"] == "snapshot")
        await raise_bid(client, a, auction)
        rest = await stream.until(lambda e: e["event"] == "best_bid" and sequence_of(e) == 2)
        # The first bid arrived live or in the catch-up after the new snapshot: never both, never lost.
        assert [sequence_of(e) for e in events + rest if e["event"] == "best_bid"] == [1, 2]


async def test_a_client_that_leaves_leaves_no_subscription_behind(
    client: httpx.AsyncClient, db: AsyncSession, server: str
) -> None:
    _, auction = await started_auction(client, db, ends_in=timedelta(minutes=6))
    async with httpx.AsyncClient(base_url=server) as http:
        for _ in range(3):
            async with open_stream(http, auction["id"]) as stream:
                assert (await stream.next())["event"] == "snapshot"
                assert await _open_streams(http) >= 1
        # The server notices at once (the connection closed), not at the next heartbeat.
        async with asyncio.timeout(HEARTBEAT_SECONDS / 2):
            while await _open_streams(http):  # noqa: ASYNC110 - another process's figure, polled
                await asyncio.sleep(0.05)


async def _open_streams(http: httpx.AsyncClient) -> float:
    metrics = (await http.get("/metrics")).text
    return float(re.search(r"^techex_auction_event_subscribers (\S+)$", metrics, re.MULTILINE)[1])  # type: ignore[index]


async def test_an_unknown_auction_is_404_and_a_bad_last_event_id_422(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as http:
        response = await http.get(f"/api/v1/auctions/{uuid.uuid4()}/events")
        assert response.status_code == 404
        assert response.json()["code"] == "auction_not_found"
        response = await http.get(f"/api/v1/auctions/{uuid.uuid4()}/events", headers={"Last-Event-ID": "x"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "Last-Event-ID"


async def test_shutdown_ends_open_streams_instead_of_waiting_for_them(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, auction = await started_auction(client, db, ends_in=timedelta(minutes=6))
    with served(settings) as (url, process):
        async with httpx.AsyncClient(base_url=url) as http, open_stream(http, auction["id"]) as stream:
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
