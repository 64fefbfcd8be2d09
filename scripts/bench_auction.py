"""Benchmark of online bidding and its live events (issue 21; docs/benchmarks.md, docs/trading.md).

    .venv/bin/python scripts/bench_auction.py [--seconds 60] [--bidders 200] [--auctions 10]
        [--subscribers 200]

1. Starts an embedded PostgreSQL in a temporary directory (or uses DATABASE_URL) and migrates;
   opens `--auctions` running auctions (opening price 100,000.00, increment 100.00, ending 4 minutes
   after the bidding starts, so that every bid falls in the anti-sniping window and moves the end),
   each with `--bidders / --auctions` qualified enterprises whose deposits were received, one member
   each. Passwords are hashed at the tests' low Argon2 cost: sign-in is not measured here.
2. Serves the API with `techex serve` on 127.0.0.1 (one uvicorn process), opens `--subscribers`
   event streams (`GET /auctions/{id}/events`, spread evenly over the auctions; a stream that ends
   reconnects with Last-Event-ID), then every bidder bids as fast as it can for `--seconds`
   through `POST /auctions/{id}/bids`, always the lowest valid amount it knows: the `min_next_bid`
   of its last 422, or one increment above the best bid its auction's streams have shown.
3. Reports accepted bids/s, p50/p95/p99 bid latency (every answer), and the p50/p95 delay from a
   bid's `placed_at` (the server's clock, same host) until its event had reached every subscriber
   of its auction; the ceilings in the same run: a raw NOTIFY → LISTEN round trip on PostgreSQL,
   and GET /healthz.
4. Checks, from the database: each auction's best bid is the highest accepted (201) bid; the
   bids' sequences are 1…n without gap and every 201 is among them, nothing else; every bid in the
   window moved the end to `auction_extension_minutes` after it, and the auction's end is the last
   one; every subscriber saw every bid of its auction exactly once, in order.

Everything it starts binds 127.0.0.1 and is stopped before it exits.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_contracts import PASSWORD, log, percentile, serve  # noqa: E402

OPENING, INCREMENT = Decimal("100000.00"), Decimal("100.00")
WINDOW = timedelta(minutes=5)  # auction_extension_minutes' default, which the served API uses
# The auctions end this long after the bidding starts: inside the window, so every bid extends.
ENDS_AFTER = timedelta(minutes=4)


async def load(dsn: str, auctions: int, bidders: int) -> list[dict[str, object]]:
    """The auctions and their bidders' e-mails."""
    from sqlalchemy import update
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.accounts import service as accounts
    from app.accounts.models import OrganizationKind, Role
    from app.accounts.schemas import OrganizationCreate
    from app.audit.service import SystemActor
    from app.core.db import Database
    from app.deals import service as deals
    from app.deals.vocabulary import DealStage
    from app.listings.models import Achievement
    from app.listings.vocabulary import ListingStatus
    from app.trading.auctions.service import open_auction
    from app.trading.models import AuctionBidder
    from app.trading.vocabulary import DepositStatus

    database = Database(create_async_engine(dsn))
    actor = SystemActor()
    plan = []
    async with database.sessionmaker() as session:

        async def organization(kind: OrganizationKind, name: str):  # type: ignore[no-untyped-def]
            return await accounts.create_organization(
                session,
                actor=actor,
                verified=True,
                data=OrganizationCreate(kind=kind, name=name, region_code="320102"),
            )

        seller = await organization(OrganizationKind.university, "基准大学")
        start = datetime.now(UTC)
        for a in range(auctions):
            achievement = Achievement(
                title=f"基准竞价成果{a}",
                description="基准",
                owner_organization_id=seller.id,
                status=ListingStatus.published,
                transfer_modes=["transfer"],
                field="new_energy",
            )
            session.add(achievement)
            await session.flush()
            deal = await deals.open_deal(
                session,
                actor=actor,
                title=achievement.title,
                seller_organization_id=seller.id,
                buyer_organization_id=None,
                achievement_id=achievement.id,
                stage=DealStage.negotiating,
            )
            emails, organizations = [], []
            for b in range(a, bidders, auctions):
                buyer = await organization(OrganizationKind.enterprise, f"基准竞买企业{b}")
                email = f"bidder{b}@bench.example.cn"
                await accounts.create_user(
                    session, actor=actor, organization=buyer, email=email, password=PASSWORD, role=Role.member
                )
                emails.append(email)
                organizations.append(buyer.id)
            auction = await open_auction(
                session,
                actor=actor,
                deal_id=deal.id,
                seller_organization_id=seller.id,
                achievement_id=achievement.id,
                title=achievement.title,
                transfer_mode="transfer",
                opening_price=OPENING,
                increment=INCREMENT,
                reserve_price=None,
                deposit_amount=Decimal("10000.00"),
                starts_at=start,
                # Fixed again just before the bidding starts (set_ends).
                ends_at=start + timedelta(hours=1),
                bidder_organization_ids=organizations,
            )
            await session.execute(
                update(AuctionBidder)
                .where(AuctionBidder.auction_id == auction.id)
                .values(deposit_status=DepositStatus.received)
            )
            plan.append({"id": str(auction.id), "bidders": emails})
        await session.commit()
    await database.dispose()
    return plan


async def set_ends(raw: str, ends_at: datetime) -> None:
    connection = await asyncpg.connect(raw)
    await connection.execute("UPDATE auctions SET ends_at = $1, scheduled_ends_at = $1", ends_at)
    await connection.close()


@dataclass
class Watch:
    """What the streams saw: per auction, the best amount; per subscriber, the sequences in order;
    per (auction, sequence), when each subscriber got it."""

    best: dict[str, Decimal] = field(default_factory=dict)
    seen: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    arrivals: dict[tuple[str, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    reconnects: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def subscriber(port: int, auction_id: str, index: int, watch: Watch, ready: asyncio.Event) -> None:
    """One EventSource, on a bare socket (HTTP/1.0: the body is the stream, no chunking) so that
    the client's parsing costs little beside the server it measures."""
    last: int | None = None
    while not watch.stop.is_set():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        resume = f"Last-Event-ID: {last}\r\n" if last is not None else ""
        writer.write(f"GET /api/v1/auctions/{auction_id}/events HTTP/1.0\r\n{resume}\r\n".encode())
        status = await reader.readline()
        assert b" 200 " in status, status
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        event = ""
        try:
            while line := await reader.readline():
                line = line.rstrip(b"\n")
                if line.startswith(b"event: "):
                    event = line[7:].decode()
                    if event == "snapshot":
                        ready.set()
                elif line.startswith(b"data: ") and event == "best_bid":
                    arrived = time.time()
                    data = json.loads(line[6:])
                    sequence = data["sequence"]
                    watch.seen[index].append(sequence)
                    watch.arrivals[(auction_id, sequence)].append(arrived)
                    amount = Decimal(data["amount"])
                    if amount > watch.best.get(auction_id, Decimal(0)):
                        watch.best[auction_id] = amount
                    last = sequence
        finally:
            writer.close()
        if not watch.stop.is_set():
            watch.reconnects += 1


@dataclass
class Bidding:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # (auction, sequence) → (amount, bidder code, placed_at)
    accepted: dict[tuple[str, int], tuple[str, str, str]] = field(default_factory=dict)
    retries: int = 0


async def bidder(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    auction_id: str,
    watch: Watch,
    bidding: Bidding,
    until: float,
) -> None:
    known = OPENING  # the lowest valid bid this bidder knows of
    url = f"/api/v1/auctions/{auction_id}/bids"
    while time.monotonic() < until:
        from_events = watch.best.get(auction_id)
        amount = max(known, from_events + INCREMENT) if from_events is not None else known
        started = time.perf_counter()
        response = await post_bid(http, url, amount, headers, bidding)
        bidding.latencies.append(time.perf_counter() - started)
        bidding.statuses[response.status_code] += 1
        body = response.json()
        if response.status_code == 201:
            bidding.accepted[(auction_id, body["sequence"])] = (
                body["amount"],
                body["bidder_code"],
                body["placed_at"],
            )
            known = Decimal(body["amount"]) + INCREMENT
        elif response.status_code == 422 and "min_next_bid" in body:
            known = Decimal(body["min_next_bid"])
        else:
            raise RuntimeError(f"bid answered {response.status_code}: {response.text[:300]}")


async def post_bid(
    http: httpx.AsyncClient, url: str, amount: Decimal, headers: dict[str, str], bidding: Bidding
) -> httpx.Response:
    """A connection the server closed under the client (keep-alive expiry) is retried with the same
    Idempotency-Key: the retry answers the first bid if it was placed, never bids twice."""
    keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    for _ in range(2):
        try:
            return await http.post(url, json={"amount": str(amount)}, headers=keyed)
        except httpx.TransportError:
            bidding.retries += 1
    return await http.post(url, json={"amount": str(amount)}, headers=keyed)


async def notify_round_trip(raw: str, samples: int) -> list[float]:
    """The floor under any event: NOTIFY on one connection, LISTEN on another, nothing else."""
    listener, sender = await asyncpg.connect(raw), await asyncpg.connect(raw)
    arrived: asyncio.Queue[float] = asyncio.Queue()
    await listener.add_listener("bench_round_trip", lambda *_: arrived.put_nowait(time.perf_counter()))
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        await sender.execute("SELECT pg_notify('bench_round_trip', 'x')")
        latencies.append(await arrived.get() - started)
    await listener.close()
    await sender.close()
    return latencies


async def run(
    port: int, raw: str, plan: list[dict[str, object]], args: argparse.Namespace
) -> dict[str, object]:
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=args.bidders + 10, max_keepalive_connections=args.bidders + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        tokens = {}
        for auction in plan:
            for email in auction["bidders"]:  # type: ignore[attr-defined]
                response = await http.post(
                    "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
                )
                response.raise_for_status()
                tokens[email] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        health = []
        for _ in range(300):
            started = time.perf_counter()
            (await http.get("/healthz")).raise_for_status()
            health.append(time.perf_counter() - started)
        round_trips = await notify_round_trip(raw, 300)

        watch, bidding = Watch(), Bidding()
        ready = [asyncio.Event() for _ in range(args.subscribers)]
        streams = [
            asyncio.create_task(subscriber(port, str(plan[i % len(plan)]["id"]), i, watch, ready[i]))
            for i in range(args.subscribers)
        ]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), 60)
        log(f"{args.subscribers} streams open; bidding for {args.seconds} s")
        await set_ends(raw, datetime.now(UTC) + ENDS_AFTER)
        started = time.monotonic()
        until = started + args.seconds
        await asyncio.gather(
            *(
                bidder(http, tokens[email], str(auction["id"]), watch, bidding, until)
                for auction in plan
                for email in auction["bidders"]  # type: ignore[attr-defined]
            )
        )
        seconds = time.monotonic() - started
        await asyncio.sleep(2)  # the last events in flight
        watch.stop.set()
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return {
        "watch": watch,
        "bidding": bidding,
        "seconds": seconds,
        "health": health,
        "round_trips": round_trips,
    }


async def check(
    raw: str, plan: list[dict[str, object]], outcome: dict[str, object], subscribers: int
) -> dict[str, object]:
    watch: Watch = outcome["watch"]  # type: ignore[assignment]
    bidding: Bidding = outcome["bidding"]  # type: ignore[assignment]
    connection = await asyncpg.connect(raw)
    price_ok = history_ok = extensions_ok = 0
    subscribers_ok = 0
    per_auction: dict[str, int] = {}
    for auction in plan:
        auction_id = uuid.UUID(str(auction["id"]))
        row = await connection.fetchrow(
            "SELECT best_amount, ends_at, scheduled_ends_at, extensions FROM auctions WHERE id = $1",
            auction_id,
        )
        bids = await connection.fetch(
            "SELECT b.sequence, b.amount, ab.code, b.placed_at, b.ends_at_after FROM bids b"
            " JOIN auction_bidders ab ON ab.id = b.bidder_id WHERE b.auction_id = $1 ORDER BY b.sequence",
            auction_id,
        )
        accepted = {seq: v for (a, seq), v in bidding.accepted.items() if a == str(auction_id)}
        per_auction[str(auction_id)] = len(bids)
        highest = max((Decimal(amount) for amount, _, _ in accepted.values()), default=None)
        price_ok += row["best_amount"] == highest
        # Gapless, and exactly the 201s: same sequences, amounts and bidders.
        history_ok += [b["sequence"] for b in bids] == list(range(1, len(bids) + 1)) == sorted(
            accepted
        ) and all((str(b["amount"]), b["code"]) == accepted[b["sequence"]][:2] for b in bids)
        end, extended, honoured = row["scheduled_ends_at"], 0, True
        for b in bids:
            if end - b["placed_at"] < WINDOW:
                end, extended = b["placed_at"] + WINDOW, extended + 1
            honoured &= b["ends_at_after"] == end
        extensions_ok += honoured and row["ends_at"] == end and row["extensions"] == extended
    for index in range(subscribers):
        total = per_auction[str(plan[index % len(plan)]["id"])]
        subscribers_ok += watch.seen[index] == list(range(1, total + 1))
    await connection.close()
    return {
        "price_ok": price_ok,
        "history_ok": history_ok,
        "extensions_ok": extensions_ok,
        "subscribers_ok": subscribers_ok,
    }


def delays(watch: Watch, bidding: Bidding, per_auction: dict[str, int]) -> list[float]:
    """Seconds from each accepted bid's placed_at to its arrival at the last of its auction's subscribers."""
    result = []
    for (auction_id, sequence), (_, _, placed_at) in bidding.accepted.items():
        arrivals = watch.arrivals.get((auction_id, sequence), [])
        if len(arrivals) == per_auction[auction_id]:
            result.append(max(arrivals) - datetime.fromisoformat(placed_at).timestamp())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--bidders", type=int, default=200)
    parser.add_argument("--auctions", type=int, default=10)
    parser.add_argument("--subscribers", type=int, default=200)
    args = parser.parse_args()
    # Sign-in is not what is measured: the tests' Argon2 cost, here and in the served process.
    os.environ.update(
        {
            "TECHEX_PASSWORD_HASH_TIME_COST": "1",
            "TECHEX_PASSWORD_HASH_MEMORY_KIB": "8192",
            "TECHEX_PASSWORD_HASH_PARALLELISM": "1",
        }
    )

    from app.core import migrate
    from app.core.embedded import EmbeddedPostgres
    from search.server import free_port

    scratch = tempfile.TemporaryDirectory(prefix="techex-bench-")
    postgres = None
    dsn = os.environ.get("DATABASE_URL")
    if dsn is None:
        postgres = EmbeddedPostgres(Path(scratch.name) / "pg", delete_on_stop=True)
        dsn = postgres.start()
    server = None
    try:
        migrate.upgrade(dsn)
        dsn = dsn if "+asyncpg" in dsn else dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
        raw = dsn.replace("postgresql+asyncpg://", "postgresql://", 1)
        plan = asyncio.run(load(dsn, args.auctions, args.bidders))
        log(f"{args.auctions} auctions, {args.bidders} bidders loaded")
        port = free_port()
        server = serve(dsn, port)
        outcome = asyncio.run(run(port, raw, plan, args))
        checks = asyncio.run(check(raw, plan, outcome, args.subscribers))
        report(outcome, checks, plan, args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if postgres is not None:
            postgres.stop()
        scratch.cleanup()


def report(
    outcome: dict[str, object],
    checks: dict[str, object],
    plan: list[dict[str, object]],
    args: argparse.Namespace,
) -> None:
    bidding: Bidding = outcome["bidding"]  # type: ignore[assignment]
    watch: Watch = outcome["watch"]  # type: ignore[assignment]
    seconds: float = outcome["seconds"]  # type: ignore[assignment]
    accepted = len(bidding.accepted)
    per_auction = defaultdict(int)
    for index in range(args.subscribers):
        per_auction[str(plan[index % len(plan)]["id"])] += 1
    delay = delays(watch, bidding, per_auction)
    print(
        f"\n{args.bidders} bidders on {args.auctions} auctions for {seconds:.1f} s, "
        f"{args.subscribers} subscribers"
    )
    print(f"answers: {dict(sorted(bidding.statuses.items()))}")
    print(
        f"accepted bids: {accepted} = {accepted / seconds:.1f}/s; "
        f"all answers {len(bidding.latencies) / seconds:.1f}/s"
    )
    print(
        "bid latency ms (every answer): "
        + ", ".join(f"p{q} {percentile(bidding.latencies, q):.1f}" for q in (50, 95, 99))
    )
    if delay:
        print(
            f"bid → event at every subscriber, ms ({len(delay)} of {accepted} bids): "
            + ", ".join(f"p{q} {percentile(delay, q):.1f}" for q in (50, 95, 99))
            + f", max {max(delay) * 1000:.1f}"
        )
    print(
        f"stream reconnects: {watch.reconnects}; bids retried after a dropped connection: {bidding.retries}"
    )
    print(
        "ceilings: NOTIFY→LISTEN round trip ms "
        + ", ".join(f"p{q} {percentile(outcome['round_trips'], q):.2f}" for q in (50, 95))  # type: ignore[arg-type]
        + "; GET /healthz ms "
        + ", ".join(f"p{q} {percentile(outcome['health'], q):.2f}" for q in (50, 95))  # type: ignore[arg-type]
    )
    n = args.auctions
    print(
        f"checks: final price = highest 201 {checks['price_ok']}/{n}; history gapless = the 201s "
        f"{checks['history_ok']}/{n}; extensions honoured {checks['extensions_ok']}/{n}; "
        f"subscribers saw every bid once, in order {checks['subscribers_ok']}/{args.subscribers}"
    )


if __name__ == "__main__":
    main()
