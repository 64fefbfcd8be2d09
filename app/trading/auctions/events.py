"""What an auction tells its live followers: a new best bid, a new end, the close.

`publish` queues a PostgreSQL NOTIFY in the caller's transaction, so an event leaves only if the
bid (or close) commits, and reaches every API process listening on the channel — the SSE route
(`GET /api/v1/auctions/{id}/events`) fans it out to its subscribers. Bidders' names never travel
here, only their codes."""

import json
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "auction_events"


class EventType(StrEnum):
    best_bid = "best_bid"
    new_end = "new_end"
    closed = "closed"


async def publish(
    session: AsyncSession, auction_id: uuid.UUID, event: EventType, data: dict[str, Any]
) -> None:
    """`data` must be JSON-ready (amounts as strings, times ISO 8601) and small (NOTIFY's payload
    is limited to 8,000 bytes)."""
    payload = json.dumps(
        {"auction_id": str(auction_id), "type": event.value, "data": data}, ensure_ascii=False
    )
    await session.execute(select(func.pg_notify(CHANNEL, payload)))
