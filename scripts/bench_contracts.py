"""Benchmark of technology-contract statistics and registration (issue 5; docs/benchmarks.md).

    .venv/bin/python scripts/bench_contracts.py [--rows 1000000] [--iterations 300] [--registrations 800]

1. Starts an embedded PostgreSQL in a temporary directory (or uses DATABASE_URL), migrates, and
   COPYs `--rows` registered contracts (2018–2020, Jiangsu and Jiangxi, 5 % cancelled, 2 % amended),
   then builds the summary table with the same SQL as `techex stats-rebuild`.
2. Serves the API with `techex serve` on 127.0.0.1 (one uvicorn process) and measures, through
   HTTP, p50/p95 of `GET /targets/{id}/progress` and of `GET /stats/contracts?group_by=…`; in the same
   run, the naive `SUM … GROUP BY` over `contract_applications` answering the same question (timed
   as SQL round trips, without HTTP, which flatters the naive side). Every fast answer is checked
   equal to the naive one, to the fen.
3. 8 officers of one office register `--registrations` applications concurrently through the API;
   reports registrations per second and checks the numbers are 1…N without duplicates or gaps.

Everything it starts binds 127.0.0.1 and is stopped before it exits.
"""

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.contracts.vocabulary import IPCategory, PartyKind  # noqa: E402
from app.core.regions import current_regions  # noqa: E402
from app.core.vocabulary import TechnologyField  # noqa: E402

PASSWORD = "bench password 1"
TYPES = {
    "development": "commissioned",
    "transfer": "patent_right",
    "licensing": "ordinary",
    "consulting": "general",
    "service": "training",
}
FIELDS = [field.value for field in TechnologyField]
KINDS = [kind.value for kind in PartyKind]
IPS = [kind.value for kind in IPCategory]
COLUMNS = [
    "id",
    "status",
    "applicant_organization_id",
    "office_id",
    "contract_type",
    "contract_subtype",
    "project_name",
    "is_import",
    "buyer_name",
    "buyer_kind",
    "seller_name",
    "seller_kind",
    "seller_region_code",
    "stats_region_code",
    "signed_on",
    "valid_from",
    "valid_until",
    "contract_amount",
    "claimed_technology_amount",
    "deduction_equipment",
    "deduction_materials",
    "deduction_construction",
    "deduction_other",
    "technology_field",
    "ip_kind",
    "socio_economic_objective",
    "registration_number",
    "registered_on",
    "registered_contract_amount",
    "registered_technology_amount",
    "amendment_count",
    "accepted_on",
    "due_on",
    "decided_on",
    "decided_on_time",
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def cities(province: str) -> dict[str, list[str]]:
    regions = current_regions()
    found: dict[str, list[str]] = {}
    for code in regions:
        if code.startswith(province) and code[4:] != "00" and code[2:4] != "00":
            found.setdefault(code[:4], []).append(code)
    return {city: codes for city, codes in found.items() if city + "00" in regions}


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def rows(count: int, offices: dict[str, uuid.UUID], applicant: uuid.UUID, seed: int = 7):
    """Registered contracts in batches of tuples in COLUMNS order."""
    rng = random.Random(seed)
    jiangsu, jiangxi = cities("32"), cities("36")
    city_codes = [c for c in jiangsu for _ in range(6)] + list(jiangxi)  # Jiangsu-heavy, as in reality
    counties = {**jiangsu, **jiangxi}
    sequences: dict[tuple[str, int], int] = {}
    start = date(2018, 1, 1)
    batch = []
    for index in range(count):
        city = rng.choice(city_codes)
        county = rng.choice(counties[city])
        on = start + timedelta(days=rng.randrange(1096))
        key = (city, on.year)
        sequences[key] = sequences.get(key, 0) + 1
        number = f"{on.year % 100:02d}{city}01{sequences[key]:06d}"
        contract = int(10 ** rng.uniform(5, 9.3))  # cents: 1,000元 … 20,000,000元
        technology = rng.randrange(contract // 2, contract + 1)
        status = "cancelled" if rng.random() < 0.05 else "registered"
        amended = rng.random() < 0.02
        registered_contract = contract + (rng.randrange(-contract // 10, contract // 10) if amended else 0)
        registered_technology = min(technology, registered_contract)
        ctype = rng.choice(list(TYPES))
        batch.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                status,
                applicant,
                offices[city],
                ctype,
                TYPES[ctype],
                f"基准测试合同{index}",  # one application per contract (a unique index)
                False,
                "买方",
                "enterprise",
                "卖方",
                rng.choice(KINDS),
                county,
                county,
                on - timedelta(days=20),
                on,
                on + timedelta(days=365),
                _money(contract),
                _money(technology),
                _money(contract - technology),
                Decimal("0.00"),
                Decimal("0.00"),
                Decimal("0.00"),
                rng.choice(FIELDS),
                rng.choice(IPS),
                "基准",
                number,
                on,
                _money(registered_contract),
                _money(registered_technology),
                1 if amended else 0,
                on - timedelta(days=10),
                on + timedelta(days=10),
                on,
                True,
            )
        )
        if len(batch) == 100_000:
            yield batch, sequences
            batch = []
    if batch:
        yield batch, sequences


async def load(dsn: str, count: int) -> dict[str, object]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.accounts import service as accounts
    from app.accounts.models import OrganizationKind, Role
    from app.accounts.schemas import OrganizationCreate
    from app.audit.service import SystemActor
    from app.core.db import Database
    from app.stats.demo import seed_targets

    database = Database(create_async_engine(dsn))
    offices: dict[str, uuid.UUID] = {}
    async with database.sessionmaker() as session:
        for city in sorted({**cities("32"), **cities("36")}):
            office = await accounts.create_organization(
                session,
                actor=SystemActor(),
                verified=True,
                data=OrganizationCreate(
                    kind=OrganizationKind.registration_office,
                    name=f"登记机构{city}",
                    region_code=city + "00",
                    registration_point="01",
                ),
            )
            offices[city] = office.id
        bench_office = await accounts.create_organization(
            session,
            actor=SystemActor(),
            verified=True,
            data=OrganizationCreate(
                kind=OrganizationKind.registration_office,
                name="并发测试登记点",
                region_code="320100",
                registration_point="09",
            ),
        )
        seller = await accounts.create_organization(
            session,
            actor=SystemActor(),
            verified=True,
            data=OrganizationCreate(kind=OrganizationKind.university, name="基准大学", region_code="320102"),
        )
        government = await accounts.create_organization(
            session,
            actor=SystemActor(),
            verified=True,
            data=OrganizationCreate(kind=OrganizationKind.government, name="科技厅", region_code="320000"),
        )
        admin = await accounts.create_user(
            session,
            actor=SystemActor(),
            organization=government,
            email="admin@bench.example",
            password=PASSWORD,
            role=Role.admin,
        )
        officers = [
            await accounts.create_user(
                session,
                actor=SystemActor(),
                organization=bench_office,
                email=f"officer{i}@bench.example",
                password=PASSWORD,
                role=Role.registration_officer,
            )
            for i in range(8)
        ]
        await seed_targets(session)
        await session.commit()
        ids = {
            "bench_office": bench_office.id,
            "seller": seller.id,
            "admin": admin.email,
            "officers": [o.email for o in officers],
        }
    await database.dispose()

    raw = dsn.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(raw)
    started = time.perf_counter()
    sequences: dict = {}
    for batch, sequences in rows(count, offices, ids["seller"]):  # type: ignore[arg-type]  # noqa: B007 — the last one is kept
        await connection.copy_records_to_table("contract_applications", records=batch, columns=COLUMNS)
    copy_seconds = time.perf_counter() - started
    await connection.executemany(
        "INSERT INTO registration_counters (office_id, year, last_sequence) VALUES ($1, $2, $3)",
        [(offices[city], year, last) for (city, year), last in sequences.items()],
    )
    from app.stats.summary import REBUILD_SQL

    started = time.perf_counter()
    for statement in REBUILD_SQL:
        await connection.execute(statement)
    summary_seconds = time.perf_counter() - started
    await connection.execute("VACUUM ANALYZE contract_applications")
    await connection.execute("VACUUM ANALYZE contract_totals")
    summary_rows = await connection.fetchval("SELECT count(*) FROM contract_totals")
    await connection.close()
    log(
        f"COPY {count:,} contracts: {copy_seconds:.1f} s; "
        f"summary build: {summary_seconds:.1f} s ({summary_rows:,} rows)"
    )
    return {
        **ids,
        "copy_seconds": copy_seconds,
        "summary_seconds": summary_seconds,
        "summary_rows": summary_rows,
    }


def percentile(samples: list[float], q: int) -> float:
    return (
        statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000
        if len(samples) > 1
        else samples[0] * 1000
    )


def timed_get(http: httpx.Client, url: str, headers: dict, iterations: int) -> tuple[list[float], dict]:
    for _ in range(10):
        http.get(url, headers=headers).raise_for_status()
    samples = []
    body: dict = {}
    for _ in range(iterations):
        started = time.perf_counter()
        response = http.get(url, headers=headers)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        body = response.json()
    return samples, body


async def naive(dsn: str, group_by: str, since: date, until: date, prefixes: list[str], iterations: int):
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.core.db import Database
    from app.stats.queries import GroupBy, totals

    database = Database(create_async_engine(dsn))
    samples = []
    result = []
    async with database.sessionmaker() as session:
        await totals(session, GroupBy(group_by), since=since, until=until, prefixes=prefixes, naive=True)
        for _ in range(iterations):
            started = time.perf_counter()
            result = await totals(
                session, GroupBy(group_by), since=since, until=until, prefixes=prefixes, naive=True
            )
            samples.append(time.perf_counter() - started)
    await database.dispose()
    return samples, result


async def register_concurrently(base: str, dsn: str, ids: dict, count: int) -> dict[str, object]:
    """8 officers of one office register `count` applications at once through the API."""
    raw = dsn.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(raw)
    today = date.today()
    records = [
        (
            uuid.uuid4(),
            "under_review",
            ids["seller"],
            ids["bench_office"],
            "development",
            "commissioned",
            f"并发登记{index}",
            False,
            "买方",
            "enterprise",
            "基准大学",
            "university",
            "320102",
            "320102",
            today,
            today,
            today + timedelta(days=365),
            Decimal("100000.00"),
            Decimal("90000.00"),
            Decimal("10000.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            "new_energy",
            "patent",
            "基准",
            None,
            None,
            None,
            None,
            0,
            today,
            today + timedelta(days=21),
            None,
            None,
        )
        for index in range(count)
    ]
    await connection.copy_records_to_table("contract_applications", records=records, columns=COLUMNS)
    application_ids = [str(r[0]) for r in records]

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        tokens = []
        for email in ids["officers"]:
            response = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
            response.raise_for_status()
            tokens.append({"Authorization": f"Bearer {response.json()['access_token']}"})
        failures = []

        async def officer(index: int) -> list[str]:
            numbers = []
            for app_id in application_ids[index::8]:
                response = await http.post(
                    f"/api/v1/contracts/{app_id}/register",
                    headers=tokens[index],
                    json={"technology_amount": "90000.00"},
                )
                if response.status_code != 200:
                    failures.append(response.text)
                    continue
                numbers.append(response.json()["registration_number"])
            return numbers

        started = time.perf_counter()
        results = await asyncio.gather(*(officer(i) for i in range(8)))
        seconds = time.perf_counter() - started
    numbers = [n for batch in results for n in batch]
    sequences = sorted(int(n[-6:]) for n in numbers)
    counter = await connection.fetchval(
        "SELECT last_sequence FROM registration_counters WHERE office_id = $1", ids["bench_office"]
    )
    await connection.close()
    return {
        "registrations": len(numbers),
        "seconds": seconds,
        "per_second": len(numbers) / seconds,
        "failures": len(failures),
        "duplicates": len(numbers) - len(set(numbers)),
        "gapless": sequences == list(range(1, count + 1)) and counter == count,
    }


def serve(dsn: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "MEILI_URL": "http://127.0.0.1:9",  # not used by these routes
        "TECHEX_SECRET_KEY": secrets.token_urlsafe(32),
        "TECHEX_HOST": "127.0.0.1",
        "PORT": str(port),
        "TECHEX_LOG_LEVEL": "WARNING",
        "TECHEX_ENVIRONMENT": "development",
    }
    process = subprocess.Popen([str(ROOT / ".venv/bin/techex"), "serve"], env=env, cwd=ROOT)
    for _ in range(120):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError("the API did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=300, help="timed requests per API statistic")
    parser.add_argument("--naive-iterations", type=int, default=15, help="timed naive queries per statistic")
    parser.add_argument("--registrations", type=int, default=800)
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
        ids = asyncio.run(load(dsn, args.rows))
        port = free_port()
        server = serve(dsn, port)
        base = f"http://127.0.0.1:{port}"
        report(base, dsn, ids, args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if postgres is not None:
            postgres.stop()
        scratch.cleanup()


def report(base: str, dsn: str, ids: dict, args: argparse.Namespace) -> None:
    with httpx.Client(base_url=base, timeout=60) as http:
        token = http.post("/api/v1/auth/token", data={"username": ids["admin"], "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        targets = http.get("/api/v1/targets", headers=headers).json()["items"]
        print("\n| query | API p50 ms | API p95 ms | naive SQL p50 ms | naive SQL p95 ms | equal |")
        print("| --- | --- | --- | --- | --- | --- |")
        # The floor every authenticated request pays: token check and the user's session lookup.
        samples, _ = timed_get(http, "/api/v1/users/me", headers, args.iterations)
        print(
            f"| baseline: GET /users/me | {percentile(samples, 50):.1f} | "
            f"{percentile(samples, 95):.1f} | – | – | – |"
        )
        for target in targets:
            samples, body = timed_get(
                http, f"/api/v1/targets/{target['id']}/progress?as_of=2021-01-31", headers, args.iterations
            )
            start, end = date.fromisoformat(target["period_start"]), date.fromisoformat(target["period_end"])
            slow, result = asyncio.run(
                naive(dsn, "total", start, end, target["region_prefixes"], args.naive_iterations)
            )
            equal = (
                str(getattr(result[0], target["metric"]) if result else Decimal("0.00")) == body["achieved"]
            )
            print(
                f"| progress: {target['name']} | {percentile(samples, 50):.1f} | "
                f"{percentile(samples, 95):.1f} | "
                f"{percentile(slow, 50):.1f} | {percentile(slow, 95):.1f} | {equal} |"
            )
        for label, since, until in [
            ("whole months", "2018-01-01", "2020-12-31"),
            ("partial months", "2018-03-15", "2020-06-10"),
        ]:
            for group_by in ["type", "field", "city", "seller_kind", "ip_kind", "month"]:
                url = f"/api/v1/stats/contracts?group_by={group_by}&from={since}&to={until}&region=32"
                samples, body = timed_get(http, url, headers, args.iterations)
                slow, result = asyncio.run(
                    naive(
                        dsn,
                        group_by,
                        date.fromisoformat(since),
                        date.fromisoformat(until),
                        ["32"],
                        args.naive_iterations,
                    )
                )
                equal = [
                    (g["key"], g["count"], g["contract_amount"], g["technology_amount"])
                    for g in body["groups"]
                ] == [(g.key, g.count, str(g.contract_amount), str(g.technology_amount)) for g in result]
                print(
                    f"| group_by={group_by} ({label}) | {percentile(samples, 50):.1f} | "
                    f"{percentile(samples, 95):.1f} | {percentile(slow, 50):.1f} | "
                    f"{percentile(slow, 95):.1f} | {equal} |"
                )
    outcome = asyncio.run(register_concurrently(base, dsn, ids, args.registrations))
    print(
        f"\nregistrations: {outcome['registrations']} by 8 concurrent officers "
        f"in {outcome['seconds']:.1f} s = "
        f"{outcome['per_second']:.1f}/s; failures {outcome['failures']}, duplicates {outcome['duplicates']}, "
        f"gapless {outcome['gapless']}"
    )
    print(
        f"load: COPY {args.rows:,} rows {ids['copy_seconds']:.1f} s, summary {ids['summary_seconds']:.1f} s "
        f"({ids['summary_rows']:,} summary rows)"
    )


if __name__ == "__main__":
    main()
