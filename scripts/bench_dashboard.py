"""Benchmark of the public dashboard page over 1,000,000 registered contracts (issue 22;
docs/benchmarks.md).

    .venv/bin/python scripts/bench_dashboard.py [--rows 1000000] [--iterations 200]

Loads the contracts exactly as scripts/bench_contracts.py does (COPY into an embedded PostgreSQL,
then the monthly and daily summaries with the SQL of `techex stats-rebuild`, and the targets of
seed-demo), serves with `techex serve` on 127.0.0.1, and times in one run, one client in sequence
with keep-alive: `/healthz` (the floor of any request), the JSON statistics `/api/v1/stats/contracts`
(the ceiling the page is compared with), and `/dashboard` (every target's progress and monthly chart,
three breakdowns with their charts) for two periods. The first `/dashboard` of a period draws its
charts (matplotlib, cached by their numbers afterwards) and is reported on its own.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_contracts import PASSWORD, load, percentile, serve  # noqa: E402


def timed(http: httpx.Client, url: str, headers: dict, iterations: int) -> tuple[float, list[float]]:
    """The first request's seconds, then `iterations` more after 5 warm-ups."""
    started = time.perf_counter()
    first = http.get(url, headers=headers)
    first_seconds = time.perf_counter() - started
    assert first.status_code == 200, (url, first.status_code, first.text[:300])
    for _ in range(5):
        http.get(url, headers=headers)
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        response = http.get(url, headers=headers)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    return first_seconds, samples


def report(base: str, ids: dict, iterations: int) -> None:
    with httpx.Client(base_url=base, timeout=120) as http:
        token = http.post("/api/v1/auth/token", data={"username": ids["admin"], "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        rows = [
            ("GET /healthz (floor)", "/healthz", {}),
            (
                "GET /api/v1/stats/contracts?group_by=city, 2020 (JSON, one grouping)",
                "/api/v1/stats/contracts?group_by=city&from=2020-01-01&to=2020-12-31",
                headers,
            ),
            (
                "GET /api/v1/targets/{id}/progress (JSON, one target)",
                None,
                headers,
            ),
            (
                "GET /dashboard?from=2020-01-01&to=2020-12-31 (whole months)",
                "/dashboard?from=2020-01-01&to=2020-12-31",
                {},
            ),
            (
                "GET /dashboard?from=2019-03-15&to=2020-06-10 (partial months)",
                "/dashboard?from=2019-03-15&to=2020-06-10",
                {},
            ),
            ("GET /dashboard (this year: no contracts in it)", "/dashboard", {}),
        ]
        targets = http.get("/api/v1/targets", headers=headers).json()["items"]
        target = targets[0]
        # The page shows the API's figures: each target's percentage and exact achieved amount.
        page = http.get("/dashboard").text
        progress = [http.get(f"/api/v1/targets/{t['id']}/progress", headers=headers).json() for t in targets]
        equal = all(
            f">{p['percentage']}%<" in page and f"¥{Decimal(p['achieved']):,.2f} 元" in page for p in progress
        )
        print(f"\ntargets shown: {len(targets)}; dashboard figures equal to the API's: {equal}")
        print("\n| request | first ms | p50 ms | p95 ms | p99 ms | bytes |")
        print("| --- | --- | --- | --- | --- | --- |")
        for label, url, auth in rows:
            url = url or f"/api/v1/targets/{target['id']}/progress?as_of=2021-01-31"
            first, samples = timed(http, url, auth, iterations)
            size = len(http.get(url, headers=auth).content)
            print(
                f"| {label} | {first * 1000:.1f} | {percentile(samples, 50):.1f} | "
                f"{percentile(samples, 95):.1f} | {percentile(samples, 99):.1f} | {size:,} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=200)
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
        print(f"load average before timing: {os.getloadavg()}")
        report(f"http://127.0.0.1:{port}", ids, args.iterations)
        print(f"load average after timing: {os.getloadavg()}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if postgres is not None:
            postgres.stop()
        scratch.cleanup()


if __name__ == "__main__":
    main()
