"""Instructions per request of the listing detail and list, real app against the ceiling
(issue 3; docs/benchmarks.md). Deterministic where wall-clock timings on a shared 2-core machine
move ±20 % between rounds, so it shows what a change to the read path removed.

    apt-get install -y valgrind
    .venv/bin/python scripts/bench_listings_instructions.py [--requests 300]

For each of ceiling/real × detail/list it runs this file under
`valgrind --tool=callgrind --instr-atstart=no`: an embedded PostgreSQL with 500 achievements, the
real app (`create_app`, log level WARNING as in scripts/bench_listings.py, the search relay not
started) and the ceiling app of scripts/bench_listings.py, called in-process over ASGI, 8 at a
time; instrumentation is switched on (`callgrind_control -i on`) after 100 warm-up requests and
off after `--requests` more. Counts are of the Python process's user space only (PostgreSQL and
the kernel are the same for both sides).
"""

import argparse
import asyncio
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = ("ceiling detail", "real detail", "ceiling list", "real list")
LIST_QUERY = b"field=agriculture&region=32&maturity_min=3&limit=20"


async def _call(app, path: str, query: bytes = b"") -> int:  # type: ignore[no-untyped-def]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"bench")],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    status = 0

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _measured(case: str, requests: int) -> None:
    """Inside valgrind: serve `case` and count the instructions of `requests` requests."""
    from app.core import migrate
    from app.core.config import Settings
    from app.core.embedded import EmbeddedPostgres
    from app.main import create_app
    from app.matching import worker
    from scripts import bench_listings

    worker.Background.start = lambda self: None  # type: ignore[method-assign]

    async def _no_stop(self) -> None:  # type: ignore[no-untyped-def]
        return None

    worker.Background.stop = _no_stop  # type: ignore[method-assign]

    def toggle(on: bool) -> None:
        control = [_tool("callgrind_control"), "-i", "on" if on else "off", str(os.getpid())]
        subprocess.run(control, capture_output=True, check=True)

    with tempfile.TemporaryDirectory() as scratch:
        postgres = EmbeddedPostgres(Path(scratch) / "pg", delete_on_stop=True)
        url = postgres.start()
        try:
            migrate.upgrade(url)
            _, ids = asyncio.run(bench_listings.load(url, 500))
            real = create_app(
                Settings(
                    DATABASE_URL=url,
                    # Never called: the search relay and index set-up are not started here.
                    MEILI_URL="http://127.0.0.1:9",
                    secret_key=secrets.token_urlsafe(32),
                    log_level="WARNING",
                )
            )
            os.environ["CEILING_DSN"] = bench_listings._plain(url)
            ceiling = bench_listings.make_ceiling_app()
            app = ceiling if case.startswith("ceiling") else real

            def target(i: int) -> tuple[str, bytes]:
                if case.endswith("detail"):
                    return f"/api/v1/achievements/{ids[i % len(ids)]}", b""
                return "/api/v1/achievements", LIST_QUERY

            async def run(n: int) -> None:
                gate = asyncio.Semaphore(8)

                async def one(i: int) -> None:
                    async with gate:
                        status = await _call(app, *target(i))
                        assert status == 200, f"{case}: HTTP {status}"

                await asyncio.gather(*(one(i) for i in range(n)))

            async def main() -> None:
                async with real.router.lifespan_context(real), ceiling.router.lifespan_context(ceiling):
                    await run(100)
                    toggle(True)
                    await run(requests)
                    toggle(False)

            asyncio.run(main())
        finally:
            postgres.stop()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is missing: apt-get install -y valgrind")
    return path


def _count(case: str, requests: int) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [
                _tool("valgrind"),
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={scratch}/callgrind.out",
                sys.executable,
                __file__,
                "--case",
                case,
                "--requests",
                str(requests),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    collected = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or collected is None:
        raise SystemExit(f"{case} failed:\n{result.stderr[-3000:]}")
    return int(collected.group(1)) // requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        _measured(args.case, args.requests)
        return
    counts = {case: _count(case, args.requests) for case in CASES}
    print("| request | ceiling | real | ceiling / real |\n| --- | ---: | ---: | ---: |")
    for name in ("detail", "list"):
        ceiling, real = counts[f"ceiling {name}"], counts[f"real {name}"]
        print(f"| {name} | {ceiling / 1e6:.2f} M | {real / 1e6:.2f} M | {ceiling / real:.2f} |")


if __name__ == "__main__":
    main()
