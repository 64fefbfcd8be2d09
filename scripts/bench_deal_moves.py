"""Benchmark of brokers moving deals' stages concurrently (issue 20; docs/benchmarks.md).

    .venv/bin/python scripts/bench_deal_moves.py [--brokers 16] [--deals 40]

1. Starts an embedded PostgreSQL in a temporary directory (or uses DATABASE_URL) and migrates; creates
   `--brokers` agencies, each with a technology manager, a university seller and an enterprise buyer,
   and opens `--deals` deals per broker at `mandated` through the service (mandate in force), each
   with the price the brokers will agree (800,000.00) already published and its period run out:
   a university signs only then (app/trading/guards.py), and the guard's reads are measured.
2. Serves the API with `techex serve` on 127.0.0.1 and lets every broker, at once, move each of its
   deals mandated → diligence → negotiating → agreed (price, transfer mode) → signed through
   `POST /deals/{id}/stage` with If-Match, chaining the ETag each answer returns. In the same run,
   the ceiling: the same brokers reading their deals (`GET /deals/{id}`) as fast, and /healthz.
3. All brokers then move ONE shared deal at once with the same If-Match: exactly one may win.
4. Checks: no 5xx; every deal reached `signed`; the history holds exactly one event per accepted
   move and the audit log exactly one `stage:*` entry per accepted move (no lost, no doubled update).

Everything it starts binds 127.0.0.1 and is stopped before it exits.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_contracts import PASSWORD, log, percentile, serve  # noqa: E402

PATH = ["diligence", "negotiating", "agreed", "signed"]
PRICE = Decimal("800000.00")


async def load(dsn: str, brokers: int, deals: int) -> dict[str, object]:
    """Per broker: an agency, its technology manager, a seller, a buyer and `deals` mandated deals;
    plus one deal all brokers' requests will race on. Returns e-mails and deal ids."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.accounts import service as accounts
    from app.accounts.models import OrganizationKind, Role
    from app.accounts.schemas import OrganizationCreate
    from app.audit.service import SystemActor
    from app.core.db import Database
    from app.deals import service
    from app.deals.models import Mandate
    from app.deals.vocabulary import DealStage
    from app.trading.models import PricingPublicity
    from app.trading.vocabulary import PricingRoute, PublicityStatus

    database = Database(create_async_engine(dsn))
    plan: dict[str, object] = {"brokers": []}
    actor = SystemActor()

    async def organization(kind: OrganizationKind, name: str):  # type: ignore[no-untyped-def]
        return await accounts.create_organization(
            session,
            actor=actor,
            verified=True,
            data=OrganizationCreate(kind=kind, name=name, region_code="320102"),
        )

    async def mandated(title: str, seller, buyer, agency, manager):  # type: ignore[no-untyped-def]
        deal = await service.open_deal(
            session,
            actor=actor,
            title=title,
            seller_organization_id=seller.id,
            buyer_organization_id=buyer.id,
            broker_user_id=manager.id,
            broker_agency_id=agency.id,
        )
        session.add(
            Mandate(
                deal_id=deal.id,
                engaged_by_organization_id=seller.id,
                technology_manager_id=manager.id,
                agency_organization_id=agency.id,
                commission_rate=Decimal("0.03"),
                starts_on=date(2026, 1, 1),
            )
        )
        await service.enter_stage(session, deal, DealStage.mandated, actor=actor)
        ended = datetime.now(UTC) - timedelta(days=1)
        session.add(
            PricingPublicity(
                deal_id=deal.id,
                seller_organization_id=seller.id,
                achievement_name=title,
                proposed_price=PRICE,
                period_days=15,
                starts_at=ended - timedelta(days=15),
                ends_at=ended,
                status=PublicityStatus.completed,
                completed_at=ended,
            )
        )
        deal.pricing_route = PricingRoute.agreed_publicity
        return deal

    async with database.sessionmaker() as session:
        managers = []
        for n in range(brokers):
            agency = await organization(OrganizationKind.agency, f"基准服务机构{n}")
            seller = await organization(OrganizationKind.university, f"基准大学{n}")
            buyer = await organization(OrganizationKind.enterprise, f"基准企业{n}")
            email = f"broker{n}@bench.example.cn"
            manager = await accounts.create_user(
                session,
                actor=actor,
                organization=agency,
                email=email,
                password=PASSWORD,
                role=Role.tech_manager,
            )
            ids = [
                str((await mandated(f"基准交易{n}-{i}", seller, buyer, agency, manager)).id)
                for i in range(deals)
            ]
            plan["brokers"].append({"email": email, "deals": ids})  # type: ignore[attr-defined]
            managers.append((agency, seller, buyer, manager))
        # The shared deal: every broker a party's member could not be, so the brokers race as
        # administrators would; its broker is broker 0 and the others act through admin accounts.
        agency, seller, buyer, manager = managers[0]
        plan["shared"] = str((await mandated("基准共享交易", seller, buyer, agency, manager)).id)
        government = await organization(OrganizationKind.government, "基准科技厅")
        admins = []
        for n in range(brokers):
            email = f"admin{n}@bench.example.cn"
            await accounts.create_user(
                session, actor=actor, organization=government, email=email, password=PASSWORD, role=Role.admin
            )
            admins.append(email)
        plan["admins"] = admins
        await session.commit()
    await database.dispose()
    return plan


async def sign_in(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def race(base: str, plan: dict) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        brokers = [(await sign_in(http, b["email"]), b["deals"]) for b in plan["brokers"]]
        statuses: dict[int, int] = {}
        move_latencies: list[float] = []
        read_latencies: list[float] = []

        async def broker(headers: dict[str, str], deals: list[str]) -> None:
            for deal_id in deals:
                response = await http.get(f"/api/v1/deals/{deal_id}", headers=headers)
                etag = response.headers["ETag"]
                for to in PATH:
                    body: dict[str, str] = {"to": to}
                    if to == "agreed":
                        body |= {"agreed_price": str(PRICE), "transfer_mode": "transfer"}
                    started = time.perf_counter()
                    response = await http.post(
                        f"/api/v1/deals/{deal_id}/stage", json=body, headers={**headers, "If-Match": etag}
                    )
                    move_latencies.append(time.perf_counter() - started)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code != 200:
                        log(f"{deal_id} → {to}: {response.status_code} {response.text[:200]}")
                        break
                    etag = response.headers["ETag"]

        async def reader(headers: dict[str, str], deals: list[str]) -> None:
            for deal_id in deals * len(PATH):
                started = time.perf_counter()
                response = await http.get(f"/api/v1/deals/{deal_id}", headers=headers)
                read_latencies.append(time.perf_counter() - started)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(broker(h, d) for h, d in brokers))
        move_seconds = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.gather(*(reader(h, d) for h, d in brokers))
        read_seconds = time.perf_counter() - started

        admins = [await sign_in(http, email) for email in plan["admins"]]
        etag = (await http.get(f"/api/v1/deals/{plan['shared']}", headers=admins[0])).headers["ETag"]
        shared = await asyncio.gather(
            *(
                http.post(
                    f"/api/v1/deals/{plan['shared']}/stage",
                    json={"to": "diligence"},
                    headers={**headers, "If-Match": etag},
                )
                for headers in admins
            )
        )
        health = []
        for _ in range(200):
            started = time.perf_counter()
            (await http.get("/healthz")).raise_for_status()
            health.append(time.perf_counter() - started)
    return {
        "statuses": statuses,
        "moves": len(move_latencies),
        "move_seconds": move_seconds,
        "move_latencies": move_latencies,
        "reads": len(read_latencies),
        "read_seconds": read_seconds,
        "read_latencies": read_latencies,
        "shared": sorted(r.status_code for r in shared),
        "health": health,
    }


async def check(dsn: str, plan: dict) -> dict[str, object]:
    connection = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        ids = [d for b in plan["brokers"] for d in b["deals"]]
        signed = await connection.fetchval(
            "SELECT count(*) FROM deals WHERE id = ANY($1::uuid[]) AND stage = 'signed'", ids
        )
        # Events and audit entries after `mandated` (which the set-up wrote), per deal.
        events = await connection.fetchval(
            "SELECT count(*) FROM deal_stage_events WHERE deal_id = ANY($1::uuid[])"
            " AND to_stage IN ('diligence', 'negotiating', 'agreed', 'signed')",
            [*ids, plan["shared"]],
        )
        audited = await connection.fetchval(
            "SELECT count(*) FROM audit_log WHERE object_type = 'deal' AND object_id = ANY($1::text[])"
            " AND action IN ('stage:diligence', 'stage:negotiating', 'stage:agreed', 'stage:signed')",
            [*ids, plan["shared"]],
        )
    finally:
        await connection.close()
    return {"deals": len(ids), "signed": signed, "events": events, "audited": audited}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--brokers", type=int, default=16)
    parser.add_argument("--deals", type=int, default=40, help="deals per broker")
    args = parser.parse_args()

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
        plan = asyncio.run(load(dsn, args.brokers, args.deals))
        port = free_port()
        server = serve(dsn, port)
        result = asyncio.run(race(f"http://127.0.0.1:{port}", plan))
        figures = asyncio.run(check(dsn, plan))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if postgres is not None:
            postgres.stop()
        scratch.cleanup()

    accepted = result["statuses"].get(200, 0)
    shared_wins = result["shared"].count(200)
    print(
        f"\n{args.brokers} brokers × {args.deals} deals, {len(PATH)} moves each; "
        f"load {os.getloadavg()[0]:.1f}\n"
    )
    print("| requests | count | per second | p50 ms | p95 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, count, seconds, samples in [
        (
            "stage moves (POST …/stage, If-Match)",
            result["moves"],
            result["move_seconds"],
            result["move_latencies"],
        ),
        (
            "ceiling: reads (GET /deals/{id})",
            result["reads"],
            result["read_seconds"],
            result["read_latencies"],
        ),
    ]:
        print(
            f"| {label} | {count} | {count / seconds:.0f} | {percentile(samples, 50):.1f} | "
            f"{percentile(samples, 95):.1f} | {percentile(samples, 99):.1f} |"
        )
    health = result["health"]
    print(
        f"| floor: /healthz (sequential) | {len(health)} | – | {percentile(health, 50):.1f} | "
        f"{percentile(health, 95):.1f} | {percentile(health, 99):.1f} |"
    )
    print(f"\nstatuses of the moves: {result['statuses']}")
    print(
        f"one deal, {args.brokers} moves with the same If-Match: {result['shared']} → winners {shared_wins}"
    )
    print(
        f"deals signed {figures['signed']}/{figures['deals']}; history events {figures['events']} and audit "
        f"entries {figures['audited']} for {accepted + shared_wins} accepted moves"
    )
    ok = (
        figures["signed"] == figures["deals"]
        and figures["events"] == figures["audited"] == accepted + shared_wins
        and shared_wins == 1
        and not any(code >= 500 for code in result["statuses"])
    )
    print("no lost update, every transition audited once:", ok)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
