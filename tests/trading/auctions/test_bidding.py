"""Bidding through the API with the server's clock moved by time-machine: the increment rules, who
may bid, the anti-sniping extension, strict serialisation under concurrency and Idempotency-Key."""

import asyncio
import json
from datetime import datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import time_machine
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, Role
from app.audit.models import AuditEntry
from app.core.config import Settings
from app.trading.auctions import closing
from app.trading.auctions.events import CHANNEL
from app.trading.models import Auction, Bid
from tests.contracts.helpers import person
from tests.fixtures.accounts import create_organization
from tests.trading.auctions.helpers import auction_world, bid, open_with_bidders


async def test_a_bid_beats_the_best_by_a_whole_number_of_increments(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    a = await auction_world(client, db)
    auction, start = await open_with_bidders(client, a)
    early = await bid(client, a.alpha, auction["id"], "500000.00")
    assert early.status_code == 409 and early.json()["code"] == "auction_not_running"
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        first = await bid(client, a.alpha, auction["id"], "500000.00")
        assert first.status_code == 201, first.text
        assert first.json()["sequence"] == 1 and first.json()["amount"] == "500000.00"
        assert first.json()["extended"] is False
        off = await bid(client, a.beta, auction["id"], "515000.00")
        assert off.status_code == 422 and off.json()["code"] == "bid_off_increment"
        assert off.json()["min_next_bid"] == "510000.00" and off.json()["errors"][0]["field"] == "amount"
        low = await bid(client, a.beta, auction["id"], "500000.00")
        assert low.status_code == 422 and low.json()["code"] == "bid_too_low"
        assert low.json()["min_next_bid"] == "510000.00"
        second = await bid(client, a.beta, auction["id"], "530000.00")  # three increments: valid
        assert second.status_code == 201 and second.json()["sequence"] == 2
        read = (await client.get(f"/api/v1/auctions/{auction['id']}")).json()
    assert read["status"] == "running" and read["best_amount"] == "530000.00"
    assert read["best_bidder_code"] == second.json()["bidder_code"] != first.json()["bidder_code"]
    assert read["min_next_bid"] == "540000.00" and read["bid_count"] == 2
    assert read["reserve_price"] is None and read["reserve_met"] is None
    # The public sees codes only.
    assert all(b["organization_id"] is None for b in read["bidders"])
    history = (await client.get(f"/api/v1/auctions/{auction['id']}/bids")).json()
    assert [(b["sequence"], b["amount"]) for b in history["items"]] == [(1, "500000.00"), (2, "530000.00")]
    audited = await db.scalar(
        select(func.count()).where(AuditEntry.object_id == auction["id"], AuditEntry.action == "bid")
    )
    assert audited == 2


async def test_the_seller_side_outsiders_and_bidders_without_a_deposit_cannot_bid(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    a = await auction_world(client, db)
    auction, start = await open_with_bidders(client, a)
    late_org = await create_organization(db, kind=OrganizationKind.enterprise)
    late = await person(client, db, Role.member, late_org)
    qualified = await client.post(
        f"/api/v1/auctions/{auction['id']}/bidders",
        json={"organization_id": str(late_org.id)},
        headers=a.w.broker.headers,
    )
    assert qualified.status_code == 201 and qualified.json()["deposit_status"] == "awaiting"
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        seller = await bid(client, a.w.seller, auction["id"], "500000.00")
        outsider = await bid(client, a.w.outsider, auction["id"], "500000.00")
        no_deposit = await bid(client, late, auction["id"], "500000.00")
    assert seller.status_code == 403 and seller.json()["code"] == "seller_cannot_bid"
    assert outsider.status_code == 403 and outsider.json()["code"] == "not_a_bidder"
    assert no_deposit.status_code == 403 and no_deposit.json()["code"] == "not_a_bidder"
    assert await db.scalar(select(func.count()).select_from(Bid)) == 0


async def test_a_last_minute_bid_moves_the_end_and_a_bid_after_it_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, _start = await open_with_bidders(client, a)
    end = datetime.fromisoformat(auction["ends_at"])
    window = timedelta(minutes=settings.auction_extension_minutes)
    with time_machine.travel(end - window - timedelta(seconds=30), tick=False):
        calm = await bid(client, a.alpha, auction["id"], "500000.00")
    assert calm.status_code == 201 and calm.json()["extended"] is False
    last_minute = end - timedelta(seconds=20)
    with time_machine.travel(last_minute, tick=False):
        sniped = await bid(client, a.beta, auction["id"], "510000.00")
    assert sniped.status_code == 201 and sniped.json()["extended"] is True
    assert datetime.fromisoformat(sniped.json()["ends_at"]) == last_minute + window
    with time_machine.travel(end + timedelta(seconds=10), tick=False):  # past the announced end
        answered = await bid(client, a.alpha, auction["id"], "520000.00")
        read = (await client.get(f"/api/v1/auctions/{auction['id']}")).json()
    assert answered.status_code == 201 and answered.json()["extended"] is True  # in the window again
    assert read["extensions"] == 2 and read["scheduled_ends_at"] == auction["ends_at"]
    with time_machine.travel(end + timedelta(seconds=10) + window, tick=False):
        too_late = await bid(client, a.beta, auction["id"], "530000.00")
    assert too_late.status_code == 409 and too_late.json()["code"] == "auction_not_running"


async def test_concurrent_bids_are_applied_one_at_a_time(client: httpx.AsyncClient, db: AsyncSession) -> None:
    a = await auction_world(client, db)
    auction, start = await open_with_bidders(client, a)
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        same = await asyncio.gather(
            *(bid(client, (a.alpha, a.beta)[i % 2], auction["id"], "500000.00") for i in range(16))
        )
        assert sorted(r.status_code for r in same) == [201] + [422] * 15
        amounts = [f"{500000 + 10000 * step}.00" for step in (3, 1, 7, 2, 9, 4, 8, 5, 6, 10, 1, 3)]
        racing = await asyncio.gather(
            *(bid(client, (a.alpha, a.beta)[i % 2], auction["id"], x) for i, x in enumerate(amounts))
        )
    accepted = sorted(
        (r.json()["sequence"], Decimal(r.json()["amount"])) for r in racing if r.status_code == 201
    )
    assert all(r.status_code in (201, 422) for r in racing)
    assert [s for s, _ in accepted] == list(range(2, len(accepted) + 2))  # gapless after the first
    assert [x for _, x in accepted] == sorted(x for _, x in accepted)  # each beat the one before
    await db.commit()
    stored = (await db.execute(select(Auction).where(Auction.id == auction["id"]))).scalar_one()
    assert stored.bid_count == len(accepted) + 1
    assert stored.best_amount == max(x for _, x in accepted) == Decimal("600000.00")
    sequences = list(
        await db.scalars(select(Bid.sequence).where(Bid.auction_id == stored.id).order_by(Bid.sequence))
    )
    assert sequences == list(range(1, stored.bid_count + 1))


async def test_a_retried_bid_answers_the_first_and_never_bids_twice(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, start = await open_with_bidders(client, a)
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        first = await bid(client, a.alpha, auction["id"], "500000.00", key="bid-0001-alpha")
        retries = await asyncio.gather(
            *(bid(client, a.alpha, auction["id"], "500000.00", key="bid-0001-alpha") for _ in range(5))
        )
        other = await bid(client, a.beta, auction["id"], "510000.00")
        late_retry = await bid(client, a.alpha, auction["id"], "500000.00", key="bid-0001-alpha")
        changed = await bid(client, a.alpha, auction["id"], "520000.00", key="bid-0001-alpha")
    assert first.status_code == 201
    assert all(r.status_code == 201 and r.json() == first.json() for r in [*retries, late_retry])
    assert other.status_code == 201 and other.json()["sequence"] == 2
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"
    assert await db.scalar(select(func.count()).select_from(Bid)) == 2
    with time_machine.travel(datetime.fromisoformat(auction["ends_at"]), tick=False):
        await closing.close_due(app.state.database, settings)
        after_close = await bid(client, a.alpha, auction["id"], "500000.00", key="bid-0001-alpha")
        fresh = await bid(client, a.alpha, auction["id"], "520000.00", key="bid-0002-alpha")
    assert after_close.status_code == 201 and after_close.json() == first.json()
    assert fresh.status_code == 409 and fresh.json()["code"] == "auction_not_running"


async def test_a_bid_publishes_its_events_when_it_commits(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await auction_world(client, db)
    auction, _start = await open_with_bidders(client, a)
    received: list[dict] = []
    assert settings.database_url is not None
    listener = await asyncpg.connect(settings.database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await listener.add_listener(CHANNEL, lambda *args: received.append(json.loads(args[3])))
        end = datetime.fromisoformat(auction["ends_at"])
        with time_machine.travel(end - timedelta(seconds=30), tick=False):
            accepted = await bid(client, a.alpha, auction["id"], "500000.00")
            refused = await bid(client, a.beta, auction["id"], "500000.00")
        assert accepted.status_code == 201 and refused.status_code == 422
        for _ in range(50):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.02)
    finally:
        await listener.close()
    mine = [e for e in received if e["auction_id"] == auction["id"]]
    assert [e["type"] for e in mine] == ["best_bid", "new_end"]
    best, new_end = mine[0]["data"], mine[1]["data"]
    assert {k: best[k] for k in ("sequence", "amount", "bidder_code")} == {
        "sequence": 1,
        "amount": "500000.00",
        "bidder_code": accepted.json()["bidder_code"],
    }
    placed = datetime.fromisoformat(best["placed_at"])
    assert placed.utcoffset() == timedelta(0) and placed == end - timedelta(seconds=30)
    assert datetime.fromisoformat(best["ends_at"]) == placed + timedelta(
        minutes=settings.auction_extension_minutes
    )
    assert new_end == {"sequence": 1, "ends_at": best["ends_at"]}
