"""Live auction events: one LISTEN connection per API process on `auction_events` (what
app/trading/auctions/events.py publishes in a bid's or a close's transaction), fanned out
in-process to every subscriber of that auction (docs/trading.md).

Each subscriber has a bounded queue; the listener only ever `put_nowait`s, so a subscriber that
does not keep up never slows the others: when its queue is full its stream is ended, and its
client resumes with Last-Event-ID from the bids table. When the LISTEN connection is lost, events
published meanwhile reach nobody; after reconnecting the hub tells every subscriber to catch up
from the database (`Signal.resync`)."""

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

import asyncpg
from prometheus_client import Counter, Gauge

from app.trading.auctions.events import CHANNEL, EventType

log = logging.getLogger("techex.auctions.live")

# How operators (and the tests) find the listener among PostgreSQL's backends.
APPLICATION_NAME = "techex-auction-events"
# A listener check that takes longer than this means the connection is gone (half-open TCP).
CHECK_TIMEOUT_SECONDS = 5.0
MAX_RECONNECT_DELAY_SECONDS = 10.0

# On /metrics beside the HTTP figures (per process).
SUBSCRIBERS = Gauge("techex_auction_event_subscribers", "Open live auction streams")
DROPPED = Counter(
    "techex_auction_event_subscribers_dropped_total", "Streams ended because the subscriber fell behind"
)
CONNECTS = Counter("techex_auction_event_listen_connects_total", "LISTEN connections established")


def frame(event: str, data: dict[str, Any], *, event_id: int | None = None) -> bytes:
    """One event in the text/event-stream format; `data` is JSON on one line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    # The bid's sequence (best_bid, new_end): the SSE id and what subscribers de-duplicate by.
    sequence: int | None
    # Formatted once, sent as is to every subscriber.
    frame: bytes


class Signal(Enum):
    """What the hub puts in a queue instead of an event."""

    # The LISTEN connection was re-established: events may have been missed, read the database.
    resync = auto()
    # The subscriber fell behind: its stream ends, its client resumes with Last-Event-ID.
    overflow = auto()
    # The process is stopping: streams end so that the server can stop (clients reconnect elsewhere).
    shutdown = auto()


class Subscription:
    def __init__(self, auction_id: uuid.UUID, size: int) -> None:
        self.auction_id = auction_id
        self.queue: asyncio.Queue[Event | Signal] = asyncio.Queue(size)

    async def next(self, seconds: float) -> Event | Signal | None:
        """The next event or signal, or None after `seconds` without one."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                return await self.queue.get()
        return None

    def end(self, signal: Signal) -> None:
        # What is still queued is dropped: the client resumes from the last event it received.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(signal)


class AuctionEvents:
    """The process's listener and its subscribers, by auction."""

    def __init__(self, *, queue_size: int, check_seconds: float) -> None:
        self.queue_size = queue_size
        self.check_seconds = check_seconds
        self._subscribers: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def start(self, dsn: str) -> None:
        self._task = asyncio.create_task(self._listen(dsn), name="auction-events-listen")

    async def stop(self) -> None:
        self.end_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def end_streams(self) -> None:
        """End every open stream (shutdown: the server waits for open responses before it stops)."""
        for subscription in self._all():
            self._discard(subscription)
            subscription.end(Signal.shutdown)

    def subscribe(self, auction_id: uuid.UUID) -> Subscription:
        subscription = Subscription(auction_id, self.queue_size)
        self._subscribers.setdefault(str(auction_id), set()).add(subscription)
        SUBSCRIBERS.inc()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._discard(subscription)

    def subscriber_count(self) -> int:
        return sum(len(subscriptions) for subscriptions in self._subscribers.values())

    def dispatch(self, payload: str) -> None:
        """Hand one notification to the auction's subscribers, never waiting on any of them."""
        try:
            message = json.loads(payload)
            kind, data = EventType(message["type"]), message["data"]
            subscriptions = self._subscribers.get(message["auction_id"])
            sequence = None if kind is EventType.closed else int(data["sequence"])
        except (ValueError, KeyError, TypeError):
            log.warning("malformed auction event ignored", extra={"payload": payload[:200]})
            return
        if not subscriptions:
            return
        event = Event(kind, sequence, frame(kind.value, data, event_id=sequence))
        for subscription in list(subscriptions):
            self._offer(subscription, event)

    def _resync(self) -> None:
        for subscription in self._all():
            self._offer(subscription, Signal.resync)

    def _offer(self, subscription: Subscription, item: Event | Signal) -> None:
        try:
            subscription.queue.put_nowait(item)
        except asyncio.QueueFull:
            self._discard(subscription)
            subscription.end(Signal.overflow)
            DROPPED.inc()

    def _all(self) -> list[Subscription]:
        return [
            subscription for subscriptions in self._subscribers.values() for subscription in subscriptions
        ]

    def _discard(self, subscription: Subscription) -> None:
        key = str(subscription.auction_id)
        subscriptions = self._subscribers.get(key)
        if subscriptions is not None and subscription in subscriptions:
            subscriptions.remove(subscription)
            SUBSCRIBERS.dec()
            if not subscriptions:
                del self._subscribers[key]

    async def _listen(self, dsn: str) -> None:
        delay = 0.5
        while True:
            try:
                connection = await asyncpg.connect(
                    dsn, server_settings={"application_name": APPLICATION_NAME}
                )
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                log.warning("auction events: cannot LISTEN yet", extra={"error": repr(error)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY_SECONDS)
                continue
            delay = 0.5
            try:
                await self._serve(connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
                log.warning("auction events: LISTEN connection lost", extra={"error": repr(error)})
            finally:
                self.connected.clear()
                connection.terminate()

    async def _serve(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(CHANNEL, lambda _c, _pid, _channel, payload: self.dispatch(payload))
        self.connected.set()
        CONNECTS.inc()
        # Whoever subscribed while nobody listened may have missed events.
        self._resync()
        await self._watch(connection, lost)

    async def _watch(self, connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Return when the connection is gone: closed by the server (the termination callback) or
        silently dead (a periodic query that does not answer)."""
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check_seconds):
                    await lost.wait()
            if not lost.is_set():
                async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                    await connection.fetchval("SELECT 1")
