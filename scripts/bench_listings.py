"""Benchmark of the listings (issue 3; docs/benchmarks.md).

    .venv/bin/python scripts/bench_listings.py [--rows 100000] [--duration 15] [--connections 32]

1. Starts an embedded PostgreSQL in a temporary directory (or uses DATABASE_URL), migrates and
   COPYs `--rows` published achievements (CSL titles and abstracts, random fields, Jiangsu and
   Jiangxi regions, maturity, prices, transfer modes).
2. Serves the real app (`app.main:create_app`, one uvicorn process, with its Meilisearch and
   outbox relay running as in production) and, beside it, the ceiling:
   a minimal FastAPI app on the same stack (uvicorn + uvloop + httptools, asyncpg pool) answering
   the same URLs with hand-written asyncpg queries: one for the detail, count + page for the
   list (the same two the real list runs). Both on 127.0.0.1.
3. Loads both with `wrk` at the same concurrency, one after the other in this run:
   `GET /api/v1/achievements/{id}` over random ids, and a filtered list page
   `GET /api/v1/achievements?field=agriculture&region=32&maturity_min=3&limit=20`.
   Reports requests/s and p50/p99, and the ratio real/ceiling (goal ≥ 0.7).
   Also the real app's /healthz (no database): the floor its middleware and routing leave.
4. Times `POST /api/v1/achievements/import` of a 10,000-row XLSX catalogue (goal < 30 s).

Needs `wrk` (apt-get install -y wrk). Everything it starts binds 127.0.0.1 and is stopped.
"""

import argparse
import asyncio
import io
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from app.core.vocabulary import TechnologyField  # noqa: E402

PASSWORD = "bench password 1"
FIELDS = [field.value for field in TechnologyField]
MODES = ["transfer", "license_exclusive", "license_sole", "license_ordinary", "equity", "joint_development"]
LIST_QUERY = "field=agriculture&region=32&maturity_min=3&limit=20"
COLUMNS = [
    "id",
    "status",
    "version",
    "owner_organization_id",
    "created_at",
    "updated_at",
    "published_at",
    "title",
    "description",
    "field",
    "maturity",
    "ip_rights",
    "transfer_modes",
    "asking_price",
    "team",
    "application_scenarios",
    "publicly_funded",
    "contacts",
    "keywords",
    "region_code",
]

# ---------------------------------------------------------------- the ceiling app
_READ_SQL = """
SELECT a.id, a.status, a.version, a.owner_organization_id, o.name AS owner_organization_name, a.keywords,
       a.region_code, a.created_at, a.updated_at, a.published_at, a.title, a.description, a.field, a.maturity,
       a.ip_rights, a.transfer_modes, a.asking_price, a.team, a.application_scenarios, a.publicly_funded,
       a.funding_project, a.valid_until
FROM achievements a JOIN organizations o ON o.id = a.owner_organization_id
WHERE a.id = $1 AND a.status = 'published'"""
_LIST_WHERE = """
FROM achievements a JOIN organizations o ON o.id = a.owner_organization_id
WHERE a.status = 'published' AND a.field = $1 AND a.region_code BETWEEN $2 AND $3 AND a.maturity >= $4"""
_LIST_SQL = _READ_SQL.split("FROM")[0] + _LIST_WHERE + " ORDER BY a.updated_at DESC, a.id DESC LIMIT $5"
_COUNT_SQL = "SELECT count(*) FROM achievements a" + _LIST_WHERE.split("owner_organization_id")[1]  # noqa: S608 — constant SQL fragments


def _json(record: asyncpg.Record) -> dict:
    out = {}
    for key, value in record.items():
        if isinstance(value, uuid.UUID | datetime | Decimal) or hasattr(value, "isoformat"):
            value = str(value) if not hasattr(value, "isoformat") else value.isoformat()
        elif key == "ip_rights" and isinstance(value, str):
            value = json.loads(value)
        out[key] = value
    return out


def make_ceiling_app():  # type: ignore[no-untyped-def]
    """The most this stack can do per request: FastAPI routing, one asyncpg query, JSON out."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    dsn = os.environ["CEILING_DSN"]

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        app.state.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/v1/achievements/{listing_id}")
    async def read(listing_id: uuid.UUID) -> JSONResponse:
        record = await app.state.pool.fetchrow(_READ_SQL, listing_id)
        if record is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return JSONResponse(_json(record))

    @app.get("/api/v1/achievements")
    async def list_(field: str, region: str, maturity_min: int, limit: int = 20) -> JSONResponse:
        bounds = (field, region.ljust(6, "0"), region.ljust(6, "9"), maturity_min)
        async with app.state.pool.acquire() as connection:  # the page and its total, as the real one
            total = await connection.fetchval(_COUNT_SQL, *bounds)
            rows = await connection.fetch(_LIST_SQL, *bounds, limit)
        return JSONResponse({"items": [_json(r) for r in rows], "total": total, "limit": limit, "offset": 0})

    return app


# ---------------------------------------------------------------- data
def _papers() -> list[dict]:
    path = ROOT / "app" / "listings" / "data" / "csl" / "achievements.jsonl"
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def _regions() -> list[str]:
    from app.core.regions import current_regions

    return [c for c in current_regions() if c[:2] in ("32", "36") and not c.endswith("00")]


async def create_member(url: str) -> tuple[str, uuid.UUID]:
    """A verified university with one member (password PASSWORD): its e-mail and organization id."""
    from app.accounts import service
    from app.accounts.models import OrganizationKind, Role
    from app.accounts.schemas import OrganizationCreate
    from app.audit.service import SystemActor
    from app.core.db import Database

    database = Database.from_url(url, pool_size=2)
    email = f"bench-{secrets.token_hex(3)}@techex-bench.cn"
    async with database.sessionmaker() as session, session.begin():
        organization = await service.create_organization(
            session,
            actor=SystemActor(),
            verified=True,
            data=OrganizationCreate(
                kind=OrganizationKind.university, name=f"基准大学{secrets.token_hex(3)}", region_code="320102"
            ),
        )
        await service.create_user(
            session,
            actor=SystemActor(),
            organization=organization,
            email=email,
            password=PASSWORD,
            role=Role.member,
        )
    await database.dispose()
    return email, organization.id


async def load(url: str, rows: int) -> tuple[str, list[str]]:
    """COPY `rows` published achievements; returns the owner's e-mail and a sample of ids."""
    email, organization_id = await create_member(url)

    papers, regions, rng = _papers(), _regions(), random.Random(7)
    now = datetime.now(UTC)
    ids: list[str] = []
    records = []
    for n in range(rows):
        paper = papers[n % len(papers)]
        listing_id = uuid.uuid4()
        ids.append(str(listing_id))
        when = now - timedelta(minutes=n)
        records.append(
            (
                listing_id,
                "published",
                1,
                organization_id,
                when,
                when,
                when,
                f"{paper['title'][:180]}（{n}）",
                paper["description"],
                rng.choice(FIELDS),
                rng.randint(1, 9),
                json.dumps([{"kind": "invention_patent", "number": f"ZL{n:012d}", "status": "granted"}]),
                rng.sample(MODES, k=rng.randint(1, 3)),
                None if rng.random() < 0.3 else Decimal(rng.randrange(1, 900) * 10_000),
                ["张三", "李四"],
                "",
                rng.random() < 0.3,
                json.dumps([{"name": "成果转化办公室", "phone": "025-80000000", "email": None}]),
                ["基准"],
                rng.choice(regions),
            )
        )
    connection = await asyncpg.connect(_plain(url))
    try:
        started = time.perf_counter()
        await connection.copy_records_to_table("achievements", records=records, columns=COLUMNS)
        await connection.execute("ANALYZE achievements")
        print(f"loaded {rows:,} achievements with COPY in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        await connection.close()
    return email, rng.sample(ids, k=min(5000, len(ids)))


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


# ---------------------------------------------------------------- servers and wrk
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(target: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/api/v1/achievements/{uuid.uuid4()}", timeout=1).status_code in (200, 404):
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"{target} did not start")


_WRK_LINE = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$")


def wrk(base: str, path: str, script: Path | None, *, duration: int, connections: int) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, base + path], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}  # type: ignore[union-attr]
    for line in output.splitlines():
        if match := _WRK_LINE.match(line):
            value = float(match.group(2)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(3)]
            result[f"p{match.group(1)}"] = value
    if "Non-2xx" in output:
        raise SystemExit(f"wrk saw errors:\n{output}")
    return result


def _xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    papers, rng = _papers(), random.Random(11)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("科技成果目录")
    sheet.append(
        [
            "标题",
            "成果简介",
            "技术领域",
            "关键词",
            "技术成熟度",
            "转化方式",
            "意向价格",
            "地区代码",
            "联系人",
            "联系电话",
        ]
    )
    for n in range(rows):
        paper = papers[n % len(papers)]
        sheet.append(
            [
                f"{paper['title'][:180]}（导入{n}）",
                paper["description"],
                paper["field"],
                "基准;导入",
                rng.randint(1, 9),
                "转让;普通许可",
                rng.randrange(1, 900) * 10_000,
                "320102",
                "王老师",
                "025-80000000",
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--import-rows", type=int, default=10_000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    from app.core import migrate
    from app.core.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="techex-bench-") as scratch:
        postgres = None
        url = os.environ.get("DATABASE_URL")
        if url is None:
            postgres = EmbeddedPostgres(Path(scratch) / "pg", delete_on_stop=True)
            url = postgres.start()
        processes: list[subprocess.Popen] = []
        from search.binary import locate
        from search.server import LocalMeilisearch, free_port

        meili = LocalMeilisearch(locate(None, ROOT / ".cache"), Path(scratch) / "meili", port=free_port())
        meili.start()
        try:
            migrate.upgrade(url)
            email, ids = asyncio.run(load(url, args.rows))
            script = Path(scratch) / "ids.lua"
            ids_file = Path(scratch) / "ids.txt"
            ids_file.write_text("\n".join(ids))
            script.write_text(
                f'local ids = {{}}\nfor line in io.lines("{ids_file}") do ids[#ids + 1] = line end\n'
                "request = function()\n"
                '  return wrk.format("GET", "/api/v1/achievements/" .. ids[math.random(#ids)])\n'
                "end\n"
            )
            real, real_base = serve(
                "app.main:create_app",
                {
                    "DATABASE_URL": url,
                    "MEILI_URL": meili.url,
                    "MEILI_MASTER_KEY": meili.master_key,
                    "TECHEX_SECRET_KEY": secrets.token_urlsafe(32),
                    "TECHEX_LOG_LEVEL": "WARNING",
                    "TECHEX_ENVIRONMENT": "development",
                },
            )
            processes.append(real)
            ceiling, ceiling_base = serve(
                "scripts.bench_listings:make_ceiling_app", {"CEILING_DSN": _plain(url)}
            )
            processes.append(ceiling)
            print(
                f"wrk -t2 -c{args.connections} -d{args.duration}s --latency, real app then ceiling, same run",
                flush=True,
            )
            results = {}
            for name, path, lua in (
                ("GET /achievements/{id}", "/", script),
                ("filtered list page", f"/api/v1/achievements?{LIST_QUERY}", None),
            ):
                results[name] = {
                    side: wrk(
                        base,
                        path if lua is None else "",
                        lua,
                        duration=args.duration,
                        connections=args.connections,
                    )
                    for side, base in (("real", real_base), ("ceiling", ceiling_base))
                }
            # The real app's own floor: its cheapest route, through the same middleware and routing.
            results["GET /healthz (no database)"] = {
                "real": wrk(real_base, "/healthz", None, duration=args.duration, connections=args.connections)
            }
            print("\n| endpoint | side | requests/s | p50 ms | p99 ms |\n| --- | --- | ---: | ---: | ---: |")
            for name, sides in results.items():
                for side, r in sides.items():
                    print(f"| {name} | {side} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} |")
            for name, sides in results.items():
                if "ceiling" in sides:
                    ratio = sides["real"]["rps"] / sides["ceiling"]["rps"]
                    print(f"{name}: real/ceiling throughput = {ratio:.2f}")

            token = httpx.post(
                f"{real_base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            ).json()
            content = _xlsx(args.import_rows)
            started = time.perf_counter()
            response = httpx.post(
                f"{real_base}/api/v1/achievements/import",
                files={"file": ("catalogue.xlsx", content)},
                headers={"Authorization": f"Bearer {token['access_token']}"},
                timeout=300,
            )
            elapsed = time.perf_counter() - started
            report = response.json()
            print(
                f"\nimport of a {args.import_rows:,}-row XLSX ({len(content) / 1e6:.1f} MB): "
                f"HTTP {response.status_code}, {report.get('created')} created in {elapsed:.1f} s"
            )
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)
            meili.stop()
            if postgres:
                postgres.stop()


if __name__ == "__main__":
    main()
