"""One subscriber's event stream: a snapshot of the auction, the bids it missed (Last-Event-ID),
then the live events, de-duplicated by the bid's sequence, with a heartbeat comment while nothing
happens; a `closed` event ends it (docs/trading.md).

No event is lost or doubled: the subscription is taken before the database is read, so a bid
committed after the read arrives through the queue, and one the read already covered (its
sequence is at most the snapshot's `last_sequence`) is skipped when its notification arrives."""

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.core.clock import now
from app.core.db import Database
from app.core.errors import DatabaseUnavailable
from app.trading.auctions import live_repository
from app.trading.auctions.bidding import AUCTION_NOT_FOUND
from app.trading.auctions.events import EventType
from app.trading.auctions.live import AuctionEvents, Signal, Subscription, frame
from app.trading.auctions.views import effective_status
from app.trading.models import Auction
from app.trading.vocabulary import AUCTION_CLOSED, AuctionStatus

HEARTBEAT = b": heartbeat\n\n"


class EventStream(StreamingResponse):
    """The stream's response: its subscription ends with it, however it ends (the client left, the
    auction closed, the subscriber fell behind, the server is stopping). Not FastAPI's
    EventSourceResponse: that one makes the route a generator, which could not answer 404."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[bytes], *, on_close: Callable[[], None]) -> None:
        # no-store: a cache must never answer a stream; X-Accel-Buffering: nginx must not buffer it.
        super().__init__(content, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


@dataclass(frozen=True)
class CatchUp:
    """What the database says, as events: the snapshot, the missed bids, the close if it happened."""

    chunk: bytes
    last_sequence: int
    closed: bool


async def open_stream(
    database: Database,
    hub: AuctionEvents,
    auction_id: uuid.UUID,
    *,
    last_event_id: int | None,
    heartbeat_seconds: float,
) -> EventStream:
    """The auction's stream; 404 for an unknown auction (before anything is sent)."""
    subscription = hub.subscribe(auction_id)
    try:
        caught = await catch_up(database, auction_id, after=last_event_id)
        if caught is None:
            raise AUCTION_NOT_FOUND
    except BaseException:
        hub.unsubscribe(subscription)
        raise
    return EventStream(
        _events(database, subscription, caught, heartbeat_seconds),
        on_close=lambda: hub.unsubscribe(subscription),
    )


async def catch_up(database: Database, auction_id: uuid.UUID, *, after: int | None) -> CatchUp | None:
    """The snapshot, then the bids after `after` (none when None); None for an unknown auction."""
    async with database.driver_connection() as connection:
        state = await live_repository.snapshot(connection, auction_id)
        if state is None:
            return None
        last = state["last_sequence"]
        # Bounded by the snapshot's last sequence: a later bid comes through the queue.
        bids = await live_repository.bids_after(
            connection, auction_id, after=last if after is None else after, upto=last
        )
    chunks = [frame("snapshot", _snapshot(auction_id, state))]
    for bid in bids:
        chunks.append(frame(EventType.best_bid.value, _best_bid(bid), event_id=bid["sequence"]))
        if bid["ends_at"] != (bid["previous_ends_at"] or state["scheduled_ends_at"]):
            data = {"sequence": bid["sequence"], "ends_at": bid["ends_at"].isoformat()}
            chunks.append(frame(EventType.new_end.value, data, event_id=bid["sequence"]))
    closed = AuctionStatus(state["status"]) in AUCTION_CLOSED
    if closed:
        chunks.append(frame(EventType.closed.value, _closed(state)))
    return CatchUp(b"".join(chunks), last, closed)


async def _events(
    database: Database, subscription: Subscription, caught: CatchUp, heartbeat_seconds: float
) -> AsyncIterator[bytes]:
    while True:
        yield caught.chunk
        if caught.closed:
            return
        # The highest sequence sent (or covered by the snapshot), per kind: a bid's best_bid and
        # new_end share its sequence.
        sent = {EventType.best_bid: caught.last_sequence, EventType.new_end: caught.last_sequence}
        while True:
            item = await subscription.next(heartbeat_seconds)
            if item is None:
                yield HEARTBEAT
            elif isinstance(item, Signal):
                break
            elif item.type is EventType.closed:
                yield item.frame
                return
            elif item.sequence is not None and item.sequence > sent[item.type]:
                sent[item.type] = item.sequence
                yield item.frame
        if item is not Signal.resync:
            return  # overflow (the client resumes with Last-Event-ID) or shutdown
        # The LISTEN connection was lost for a while: a fresh snapshot and the bids missed since.
        try:
            again = await catch_up(database, subscription.auction_id, after=sent[EventType.best_bid])
        except (DatabaseUnavailable, OSError, asyncpg.PostgresError):
            return  # the database went away again: the client reconnects with Last-Event-ID
        if again is None:
            return
        caught = again


def _snapshot(auction_id: uuid.UUID, state: asyncpg.Record) -> dict[str, Any]:
    return {
        "auction_id": str(auction_id),
        # As the auction's page shows it: a scheduled auction whose start has passed is running.
        "status": effective_status(
            Auction(status=AuctionStatus(state["status"]), starts_at=state["starts_at"])
        ).value,
        "starts_at": state["starts_at"].isoformat(),
        "ends_at": state["ends_at"].isoformat(),
        "opening_price": str(state["opening_price"]),
        "increment": str(state["increment"]),
        "best_amount": _money(state["best_amount"]),
        "best_bidder_code": state["best_bidder_code"],
        "last_sequence": state["last_sequence"],
        # The server's clock, for a countdown that does not trust the client's.
        "server_time": now().isoformat(),
    }


def _best_bid(bid: asyncpg.Record) -> dict[str, Any]:
    return {
        "sequence": bid["sequence"],
        "amount": str(bid["amount"]),
        "bidder_code": bid["bidder_code"],
        "placed_at": bid["placed_at"].isoformat(),
        "ends_at": bid["ends_at"].isoformat(),
    }


def _closed(state: asyncpg.Record) -> dict[str, Any]:
    sold = state["status"] == AuctionStatus.sold
    return {
        "status": state["status"],
        "final_amount": _money(state["best_amount"]) if sold else None,
        "winner_code": state["best_bidder_code"] if sold else None,
        "closed_at": state["closed_at"].isoformat() if state["closed_at"] else None,
    }


def _money(amount: object) -> str | None:
    return None if amount is None else str(amount)
