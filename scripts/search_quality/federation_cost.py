"""Federated multi-search against what the API sends (docs/search.md, "Search"): Meilisearch's CPU
per search and the hits, for the same queries.

- plain: the API's request — one non-federated multi-search holding, per kind, the hybrid query
  for hits and the keyword-only limit-0 query for counts; hits merged by `_rankingScore` in Python;
- federated: the kinds' hybrid queries in one federated request (Meilisearch merges them), and the
  count queries in a second request beside it (a federated request merges every query's hits, so
  the counts, which ask for every word without the vector, cannot ride in it).

Meilisearch's CPU from /proc (8 requests in flight, a warm-up pass each, two rounds); then whether
the two give the same first ten hits (before the API's score floor and shared-word filter, which
apply to either alike).

    python scripts/search_quality/federation_cost.py --meili URL --key KEY --pid MEILI_PID \\
        [--kinds achievement,demand,expert,agency] [--queries 300] [--searches 900]
"""

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.matching.schemas import SearchFilters
from app.matching.search import search_queries
from search.engine import Engine

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "csl"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def federated(body: dict[str, Any], limit: int) -> tuple[dict[str, Any], dict[str, Any]]:
    hits = [{k: v for k, v in q.items() if k not in ("limit", "offset")} for q in body["queries"][0::2]]
    return {"federation": {"limit": limit, "offset": 0}, "queries": hits}, {"queries": body["queries"][1::2]}


def merged(answer: dict[str, Any], limit: int) -> list[str]:
    hits = [hit for result in answer["results"][0::2] for hit in result["hits"]]
    return [hit["id"] for hit in sorted(hits, key=lambda hit: -hit["_rankingScore"])[:limit]]


async def run(a: argparse.Namespace) -> None:
    rows = [line.rstrip("\n").split("\t") for line in (DATA / "queries.tsv").open(encoding="utf-8")][1:]
    engine = Engine(a.meili, a.key, prefix=a.prefix)
    kinds = a.kinds.split(",")
    plain = [
        {"queries": search_queries(engine, q, kinds, SearchFilters(), limit=10, offset=0)}
        for _, _, q in rows[: a.queries]
    ]
    split = [federated(body, 10) for body in plain]
    gate = asyncio.Semaphore(8)

    async def one_plain(i: int) -> None:
        async with gate:
            await engine.multi_search(plain[i % len(plain)])

    async def one_federated(i: int) -> None:
        async with gate:
            hits, counts = split[i % len(split)]
            await asyncio.gather(engine.multi_search(hits), engine.multi_search(counts))

    for name, one in [("plain", one_plain), ("federated + counts", one_federated)] * 2:
        await asyncio.gather(*(one(i) for i in range(100)))
        cpu, started = cpu_seconds(a.pid), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(a.searches)))
        rate = a.searches / (time.perf_counter() - started)
        used = 1000 * (cpu_seconds(a.pid) - cpu) / a.searches
        print(f"{name:20s} {rate:6.1f} searches/s   Meilisearch CPU {used:5.2f} ms/search", flush=True)

    same = 0
    for body, (hits, _) in zip(plain, split, strict=True):
        ours = merged(await engine.multi_search(body), 10)
        theirs = [hit["id"] for hit in (await engine.multi_search(hits))["hits"]]
        same += ours == theirs
    print(f"same first ten hits, in the same order: {same} of {len(plain)} queries")
    await engine.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meili", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--pid", type=int, required=True, help="Meilisearch's process id, for its CPU time")
    ap.add_argument("--prefix", default="techex")
    ap.add_argument("--kinds", default="achievement,demand,expert,agency")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--searches", type=int, default=900)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
