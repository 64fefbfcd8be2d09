"""`GET /api/v1/auctions/{id}/events`: follow an auction live (Server-Sent Events). Public, like
the running auction itself; bidders appear by code only."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from app.core.db import DatabaseDep
from app.core.errors import problem_responses
from app.trading.auctions import live_stream
from app.trading.auctions.live import AuctionEvents
from app.trading.auctions.live_stream import EventStream

router = APIRouter(prefix="/auctions", tags=["auctions · 网络竞价"])

# Sequences are PostgreSQL integers: a larger Last-Event-ID is not one of ours (422, not a 500).
MAX_SEQUENCE = 2**31 - 1


async def _hub(request: Request) -> AuctionEvents:
    return request.app.state.auction_events


EVENTS_DESCRIPTION = """
A `text/event-stream` (use `EventSource`); no polling, no sign-in.

- `snapshot` first (and again after the server lost its database notifications for a moment):
  `status`, `starts_at`, `ends_at`, `opening_price`, `increment`, `best_amount`,
  `best_bidder_code`, `last_sequence`, `server_time` (count down from the server's clock).
- `best_bid` (`id:` = the bid's sequence 1, 2, 3 …): `sequence`, `amount`, `bidder_code`,
  `placed_at`, `ends_at`.
- `new_end` (same `id:` as the bid that moved it): `sequence`, `ends_at` — a bid in the last
  minutes moved the end.
- `closed`: `status` (`sold`, `no_sale`, `cancelled`), `final_amount`, `winner_code`, `closed_at`;
  the stream ends, call `EventSource.close()`.

Amounts are decimal strings in 元, times ISO 8601 UTC. Reconnecting with `Last-Event-ID` (the
browser does it) replays the bids after it from the auction's history, so none is missed or
repeated. A comment line (`: heartbeat`) comes when nothing else does. A client that falls too far
behind is disconnected; it reconnects and resumes the same way.
"""


@router.get(
    "/{auction_id}/events",
    response_class=EventStream,
    status_code=200,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "The stream"},
        **problem_responses(404),
    },
    summary="Follow an auction live · 竞价实时推送",
    description=EVENTS_DESCRIPTION,
)
async def auction_events(
    auction_id: uuid.UUID,
    request: Request,
    database: DatabaseDep,
    hub: Annotated[AuctionEvents, Depends(_hub)],
    last_event_id: Annotated[
        int | None,
        Header(alias="Last-Event-ID", ge=0, le=MAX_SEQUENCE, description="The last bid sequence received"),
    ] = None,
) -> EventStream:
    return await live_stream.open_stream(
        database,
        hub,
        auction_id,
        last_event_id=last_event_id,
        heartbeat_seconds=request.app.state.settings.auction_events_heartbeat_seconds,
    )
