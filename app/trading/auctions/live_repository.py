"""The reads behind a live stream: an auction's state and the bids a subscriber missed. Plain
asyncpg on the read pool (app.core.db.Database.driver_connection): a stream holds no session, and a
thousand subscribers connecting after a restart cost two short queries each. Bidders by code only."""

import uuid

import asyncpg

SNAPSHOT = """
SELECT a.status, a.starts_at, a.scheduled_ends_at, a.ends_at, a.opening_price, a.increment,
       a.best_amount, a.closed_at, b.code AS best_bidder_code,
       (SELECT coalesce(max(s.sequence), 0) FROM bids s WHERE s.auction_id = a.id) AS last_sequence
FROM auctions a LEFT JOIN auction_bidders b ON b.id = a.best_bidder_id
WHERE a.id = $1
"""

# The bids after `after` up to `upto`, each with the end before it (the previous bid's, or the
# announced end for the first), so that a replay shows which bids moved the end.
BIDS_AFTER = """
SELECT sequence, amount, bidder_code, placed_at, ends_at, previous_ends_at FROM (
    SELECT b.sequence, b.amount, ab.code AS bidder_code, b.placed_at, b.ends_at_after AS ends_at,
           lag(b.ends_at_after) OVER (ORDER BY b.sequence) AS previous_ends_at
    FROM bids b JOIN auction_bidders ab ON ab.id = b.bidder_id
    WHERE b.auction_id = $1 AND b.sequence >= $2 AND b.sequence <= $3
) AS window_ WHERE sequence > $2 ORDER BY sequence
"""


async def snapshot(connection: asyncpg.Connection, auction_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(SNAPSHOT, auction_id)


async def bids_after(
    connection: asyncpg.Connection, auction_id: uuid.UUID, *, after: int, upto: int
) -> list[asyncpg.Record]:
    if upto <= after:
        return []
    return await connection.fetch(BIDS_AFTER, auction_id, after, upto)
