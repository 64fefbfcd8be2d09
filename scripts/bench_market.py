"""Benchmark of the market statistics (issue 20; docs/benchmarks.md, docs/deals.md).

    .venv/bin/python scripts/bench_market.py [--deals 100000] [--interests 200000] [--iterations 200]

1. Starts an embedded PostgreSQL in a temporary directory (or uses DATABASE_URL), migrates, and
   generates with `generate_series` inside PostgreSQL: 5,100 organizations (sellers in Jiangsu and
   Jiangxi, buyers, 100 agencies), 500 technology managers, 20,000 published achievements,
   `--deals` deals opened 2022-01 … 2026-06 (80 % brokered) with about ten stage events each
   (the path so far, on-hold and resume pairs, some lost), and `--interests` interests (the
   origins of 60 % of the deals, the rest declined, withdrawn or open; a fifth filed by a technology
   manager on a client's behalf). The deals' `reached_*_at` are filled from the stage events by the
   same statement as the migration that added them; the rollups' triggers fire as in production,
   and the tables are vacuumed after the load as autovacuum would.
2. Serves the API with `techex serve` on 127.0.0.1 (one uvicorn process) and measures, through
   HTTP, p50/p95 of `GET /market/funnel` and `GET /market/brokers` (an administrator's report —
   the default page, the largest page and the last one — and an agency's own) for several regions
   and periods, with `/healthz` as the floor; in the same run, the naive answer (the same service
   reading the interests, the deals and `deal_stage_events` instead of the rollups, timed
   in-process, without HTTP, which flatters the naive side). Every API answer is checked equal to
   the naive one, field by field.

Everything it starts binds 127.0.0.1 and is stopped before it exits.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_contracts import log, percentile, serve  # noqa: E402

PASSWORD = "bench password 1"
ADMIN, AGENCY_MEMBER = "admin@bench.example", "agency@bench.example"

# Each statement runs once, in order, on one connection (the temporary tables are its own).
GENERATE_SQL = [
    "SELECT setseed(0.42)",
    # Counties of Jiangsu (three times as likely) and Jiangxi.
    """CREATE TEMP TABLE counties AS
       SELECT row_number() OVER () - 1 AS n, code FROM unnest($1::text[]) AS code""",
    """CREATE TEMP TABLE sellers AS
       SELECT n, gen_random_uuid() AS id,
              (SELECT code FROM counties WHERE counties.n = (s.n * 7919) % (SELECT count(*) FROM counties))
                AS region
       FROM generate_series(0, 1999) AS s(n)""",
    "CREATE TEMP TABLE buyers AS SELECT n, gen_random_uuid() AS id FROM generate_series(0, 2999) AS n",
    "CREATE TEMP TABLE agencies AS SELECT n, gen_random_uuid() AS id FROM generate_series(0, 99) AS n",
    """INSERT INTO organizations (id, kind, name, region_code, verified)
       SELECT id, 'university', '基准卖方' || n, region, true FROM sellers
       UNION ALL SELECT id, 'enterprise', '基准买方' || n, '320583', true FROM buyers
       UNION ALL SELECT id, 'agency', '基准服务机构' || n, '320106', true FROM agencies""",
    """CREATE TEMP TABLE managers AS
       SELECT n, gen_random_uuid() AS id, (SELECT id FROM agencies WHERE agencies.n = m.n % 100) AS agency
       FROM generate_series(0, 499) AS m(n)""",
    """INSERT INTO users (id, email, password_hash, full_name, role, organization_id)
       SELECT id, 'tm' || n || '@bench.example', '!', '经理人' || n, 'tech_manager', agency FROM managers""",
    """CREATE TEMP TABLE listings AS
       SELECT n, gen_random_uuid() AS id, (SELECT id FROM sellers WHERE sellers.n = a.n % 2000) AS owner
       FROM generate_series(0, 19999) AS a(n)""",
    """INSERT INTO achievements (id, status, title, owner_organization_id, published_at)
       SELECT id, 'published', '基准成果' || n, owner, now() FROM listings""",
    # A deal: its listing and buyer (a unique pair: one open deal per listing and buyer), a broker
    # for 80 %, how far it got along the path (0 = lead … 7 = registered), days between stages,
    # on-hold/resume pairs, lost (15 % of the unfinished).
    """CREATE TEMP TABLE plan AS
       SELECT n, gen_random_uuid() AS id,
              n % 20000 AS listing, (n / 20000) * 600 + (n % 600) AS buyer,
              CASE WHEN hashint4(n) % 5 <> 0 THEN abs(hashint4(n + 1)) % 500 END AS manager,
              least(7, floor(-ln(1 - random()) * 2.5))::int AS furthest,
              3 + abs(hashint4(n + 2)) % 18 AS gap_days,
              abs(hashint4(n + 3)) % 8 AS holds,
              random() < 0.15 AS lost,
              timestamptz '2022-01-01 00:00+08' + random() * interval '1642 days' AS opened
       FROM generate_series(0, $1 - 1) AS n""",
    "CREATE TEMP TABLE path AS SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS p(stage, i)",
    """INSERT INTO deals (id, title, stage, stage_changed_at, seller_organization_id,
                          buyer_organization_id, achievement_id, broker_user_id, broker_agency_id,
                          agreed_price, transfer_mode, registered_contract_amount,
                          registered_technology_amount, created_at, updated_at)
       SELECT p.id, '基准交易' || p.n,
              CASE WHEN p.lost AND p.furthest < 7 THEN 'lost'
                   ELSE (SELECT stage FROM path WHERE i = p.furthest + 1) END,
              p.opened, l.owner, b.id, l.id, m.id, m.agency,
              CASE WHEN p.furthest >= 4 THEN 100000 + abs(hashint4(p.n + 4)) % 5000000 END,
              CASE WHEN p.furthest >= 4 THEN 'transfer' END,
              CASE WHEN p.furthest = 7 THEN 100000 + abs(hashint4(p.n + 4)) % 5000000 END,
              CASE WHEN p.furthest = 7 THEN (100000 + abs(hashint4(p.n + 4)) % 5000000) * 0.9 END,
              p.opened, p.opened
       FROM plan p JOIN listings l ON l.n = p.listing JOIN buyers b ON b.n = p.buyer
       LEFT JOIN managers m ON m.n = p.manager""",
    # The history: each stage of the path so far, on-hold and resume pairs (the resume enters the
    # same stage again, a later time than its first), and the loss.
    """INSERT INTO deal_stage_events (deal_id, from_stage, to_stage, reason, created_at)
       SELECT p.id, (SELECT stage FROM path WHERE path.i = s.i - 1),
              (SELECT stage FROM path WHERE path.i = s.i),
              NULL, p.opened + (s.i - 1) * p.gap_days * interval '1 day'
       FROM plan p CROSS JOIN LATERAL generate_series(1, p.furthest + 1) AS s(i)
       UNION ALL
       SELECT p.id, pair.from_stage, pair.to_stage, '暂停',
              p.opened + (h.k % (p.furthest + 1)) * p.gap_days * interval '1 day'
                + h.k * interval '1 hour' + pair.o * interval '10 minutes'
       FROM plan p CROSS JOIN LATERAL generate_series(1, p.holds) AS h(k)
       JOIN path stage ON stage.i = h.k % (p.furthest + 1) + 1
       CROSS JOIN LATERAL (VALUES (stage.stage, 'on_hold', 0), ('on_hold', stage.stage, 1))
         AS pair(from_stage, to_stage, o)
       UNION ALL
       SELECT p.id, (SELECT stage FROM path WHERE i = p.furthest + 1), 'lost', '终止',
              p.opened + (p.furthest + 1) * p.gap_days * interval '1 day'
       FROM plan p WHERE p.lost AND p.furthest < 7""",
    # The migration's backfill of the deals' stage columns.
    *[
        f"""UPDATE deals SET reached_{stage}_at = e.first FROM (
              SELECT deal_id, min(created_at) AS first FROM deal_stage_events
              WHERE to_stage = '{stage}' GROUP BY deal_id) AS e WHERE e.deal_id = deals.id"""  # noqa: S608
        for stage in ("mandated", "agreed", "signed", "registered")
    ],
    # Interests: the origins of 60 % of the deals (accepted, 1–30 days before the deal), then the
    # rest declined, withdrawn or open (open ones on distinct listing and organization pairs).
    """INSERT INTO interests (id, achievement_id, owner_organization_id, organization_id,
                              on_behalf_broker_id, status, decline_reason, deal_id, answered_at,
                              created_at, updated_at)
       SELECT gen_random_uuid(), d.achievement_id, d.seller_organization_id, d.buyer_organization_id,
              CASE WHEN p.n % 5 = 1 THEN d.broker_user_id END, 'accepted', NULL, d.id, d.created_at,
              d.created_at - (1 + p.n % 30) * interval '1 day', d.created_at
       FROM plan p JOIN deals d ON d.id = p.id WHERE p.n % 5 < 3""",
    # Open ones were told long ago that the owner had not answered (or the server's worker would
    # spend the measurement sending 20,000 reminders).
    """INSERT INTO interests (id, achievement_id, owner_organization_id, organization_id,
                              on_behalf_broker_id, status, decline_reason, unanswered_notified_at,
                              created_at, updated_at)
       SELECT gen_random_uuid(), l.id, l.owner, b.id, CASE WHEN s.n % 5 = 1 THEN m.id END,
              CASE WHEN s.n % 10 = 0 THEN 'open' WHEN s.n % 10 < 3 THEN 'withdrawn' ELSE 'declined' END,
              CASE WHEN s.n % 10 >= 3 THEN (ARRAY['too_early', 'benefit_unclear', 'no_route_to_market',
                   'not_a_fit', 'price', 'timing', 'description_unclear', 'other'])[1 + s.n % 8] END,
              CASE WHEN s.n % 10 = 0 THEN s.filed + interval '30 days' END,
              s.filed, now()
       FROM (SELECT n, timestamptz '2022-01-01 00:00+08' + random() * interval '1642 days' AS filed
             FROM generate_series(0, $1 - 1) AS n) AS s
       JOIN listings l ON l.n = s.n % 20000
       JOIN buyers b ON b.n = (s.n / 20000 + 7) % 3000
       JOIN managers m ON m.n = s.n % 500""",
]
PATH = [
    "lead",
    "mandated",
    "diligence",
    "negotiating",
    "agreed",
    "signed",
    "registration_submitted",
    "registered",
]


def counties() -> list[str]:
    from app.core.regions import current_regions

    found = [
        code
        for code in current_regions()
        if code[:2] in ("32", "36") and code[2:4] != "00" and code[4:] != "00"
    ]
    return [code for code in found for _ in range(3 if code.startswith("32") else 1)]


async def load(dsn: str, deals: int, interests: int) -> dict[str, object]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.accounts import service as accounts
    from app.accounts.models import Organization, OrganizationKind, Role
    from app.accounts.schemas import OrganizationCreate
    from app.audit.service import SystemActor
    from app.core.db import Database

    raw = dsn.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(raw)
    started = time.perf_counter()
    # Each statement's $1, if it has one, by the table it creates or fills.
    parameters = {
        "counties": counties(),
        "plan": deals,
        "path": PATH,
        "interests": interests - deals * 3 // 5,
    }
    for statement in GENERATE_SQL:
        if "$1" not in statement:
            await connection.execute(statement)
            continue
        [value] = [
            v
            for name, v in parameters.items()
            if f"TABLE {name} " in statement or f"INTO {name} " in statement
        ]
        await connection.execute(statement, value)
    generate_seconds = time.perf_counter() - started
    agency = await connection.fetchval("SELECT id FROM agencies WHERE n = 0")
    figures = {
        table: await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 — constant names
        for table in ("deals", "deal_stage_events", "interests", "achievements", "users")
    }
    # What autovacuum does after a bulk load: the rollups' upserts leave dead row versions behind.
    for table in (
        "deals",
        "deal_stage_events",
        "interests",
        "organizations",
        "users",
        "market_funnel_months",
        "market_funnel_days",
        "market_broker_figures",
        "market_broker_registration_days",
    ):
        await connection.execute(f"VACUUM ANALYZE {table}")
    await connection.close()
    log(f"generated in {generate_seconds:.1f} s: {figures}")

    database = Database(create_async_engine(dsn))
    async with database.sessionmaker() as session:
        government = await accounts.create_organization(
            session,
            actor=SystemActor(),
            verified=True,
            data=OrganizationCreate(kind=OrganizationKind.government, name="科技厅", region_code="320000"),
        )
        await accounts.create_user(
            session,
            actor=SystemActor(),
            organization=government,
            email=ADMIN,
            password=PASSWORD,
            role=Role.admin,
        )
        own = await session.get(Organization, agency)
        await accounts.create_user(
            session,
            actor=SystemActor(),
            organization=own,
            email=AGENCY_MEMBER,
            password=PASSWORD,
            role=Role.member,
        )
        await session.commit()
    await database.dispose()
    return {"generate_seconds": generate_seconds, **figures}


def timed_get(http: httpx.Client, url: str, headers: dict, iterations: int) -> tuple[list[float], dict]:
    for _ in range(5):
        http.get(url, headers=headers).raise_for_status()
    samples, body = [], {}
    for _ in range(iterations):
        started = time.perf_counter()
        response = http.get(url, headers=headers)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        body = response.json()
    return samples, body


async def naive(dsn: str, route: str, params: dict, email: str, iterations: int) -> tuple[list[float], dict]:
    """The same service answering from the stage history, timed in-process."""
    from datetime import date

    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.accounts.models import User
    from app.core.db import Database
    from app.core.pagination import PageParams
    from app.stats import market

    arguments = {
        "since": date.fromisoformat(params["from"]) if "from" in params else None,
        "until": date.fromisoformat(params["to"]) if "to" in params else None,
        "region": params.get("region"),
        "naive": True,
    }
    # The API's default page unless the case names one.
    page = PageParams(limit=int(params.get("limit", 20)), offset=int(params.get("offset", 0)))
    database = Database(create_async_engine(dsn))
    samples, answer = [], None
    async with database.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == email))
        for _ in range(iterations):
            started = time.perf_counter()
            if route == "funnel":
                answer = await market.funnel(session, **arguments)
            else:
                answer = await market.broker_statistics(session, user=user, page=page, **arguments)
            samples.append(time.perf_counter() - started)
    await database.dispose()
    assert answer is not None
    return samples, answer.model_dump(mode="json", by_alias=True)


CASES = [
    ("funnel", ADMIN, {"region": "32", "from": "2025-01-01", "to": "2025-12-31"}),
    ("funnel", ADMIN, {"region": "3201", "from": "2025-01-01", "to": "2025-12-31"}),
    ("funnel", ADMIN, {"from": "2025-07-01", "to": "2025-09-30"}),
    ("funnel", ADMIN, {}),
    ("brokers", ADMIN, {"region": "32", "from": "2025-01-01", "to": "2025-12-31"}),
    ("brokers", ADMIN, {"from": "2025-07-01", "to": "2025-09-30"}),
    ("brokers", ADMIN, {}),
    # The largest page, and the last one of the 500 technology managers.
    ("brokers", ADMIN, {"limit": "100"}),
    ("brokers", ADMIN, {"limit": "100", "offset": "400"}),
    ("brokers", AGENCY_MEMBER, {"from": "2025-01-01", "to": "2025-12-31"}),
    ("brokers", AGENCY_MEMBER, {}),
]


def report(base: str, dsn: str, args: argparse.Namespace) -> list[str]:
    lines = [
        "| request | API p50 ms | API p95 ms | naive p50 ms | naive p95 ms | equal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with httpx.Client(base_url=base, timeout=120) as http:
        headers = {}
        for email in (ADMIN, AGENCY_MEMBER):
            token = http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD}).json()
            headers[email] = {"Authorization": f"Bearer {token['access_token']}"}
        samples, _ = timed_get(http, "/healthz", {}, args.iterations)
        lines.append(
            f"| floor: GET /healthz | {percentile(samples, 50):.1f} | "
            f"{percentile(samples, 95):.1f} | – | – | – |"
        )
        for route, email, params in CASES:
            query = "&".join(f"{k}={v}" for k, v in params.items())
            samples, body = timed_get(
                http, f"/api/v1/market/{route}?{query}", headers[email], args.iterations
            )
            slow, expected = asyncio.run(naive(dsn, route, params, email, args.naive_iterations))
            who = "admin" if email == ADMIN else "one agency"
            lines.append(
                f"| {route} ({who}) {query or 'all time'} | {percentile(samples, 50):.1f} | "
                f"{percentile(samples, 95):.1f} | {percentile(slow, 50):.1f} | {percentile(slow, 95):.1f} | "
                f"{body == expected} |"
            )
            log(lines[-1])
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--interests", type=int, default=200_000, help="in all, the deals' origins included")
    parser.add_argument("--iterations", type=int, default=200, help="timed requests per API statistic")
    parser.add_argument("--naive-iterations", type=int, default=5, help="timed naive answers per statistic")
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
        figures = asyncio.run(load(dsn, args.deals, args.interests))
        port = free_port()
        server = serve(dsn, port)
        lines = report(f"http://127.0.0.1:{port}", dsn, args)
        print("\n".join(lines))
        print(f"data: {figures}; load average {os.getloadavg()}, {os.cpu_count()} CPUs")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if postgres is not None:
            postgres.stop()
        scratch.cleanup()


if __name__ == "__main__":
    main()
