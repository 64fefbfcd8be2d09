"""Search benchmarks (docs/benchmarks.md): throughput and latency of the API against raw Meilisearch
with wrk, freshness of publish → searchable, and index build / query cost at scale.

  throughput:  python scripts/bench_search.py throughput --api URL --meili URL --key KEY
  freshness:   python scripts/bench_search.py freshness --api URL --user EMAIL --password PW
  scale:       python scripts/bench_search.py scale --meili URL --key KEY --sizes 10000 200000

`throughput` sends the same query mix at the same concurrency to GET /api/v1/search?types=achievement
and to Meilisearch's own POST /indexes/<prefix>_achievement/search, with the very request the API
makes (hybrid query with its lexical vector), one after the other in one run.
"""

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "csl"
LUA = ROOT / "scripts" / "bench" / "rotate.lua"


def queries(n: int, seed: int = 7) -> list[str]:
    rows = [line.rstrip("\n").split("\t") for line in (DATA / "queries.tsv").open(encoding="utf-8")][1:]
    random.Random(seed)
    return [q for _, _, q in rows[:n]]


def wrk(url: str, lines: list[str], *, token: str, connections: int, threads: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    out = subprocess.run(
        [  # noqa: S607 — wrk from PATH (apt-get install wrk)
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            url,
            "--",
            file.name,
            token,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def throughput(a: argparse.Namespace) -> None:
    from app.matching.schemas import SearchFilters
    from app.matching.search import kind_query
    from search.engine import Engine
    from search.lexical import query_vector
    from search.normalize import to_simplified

    engine = Engine(a.meili, a.key, prefix=a.prefix)
    mix = queries(a.queries)
    api_lines, raw_lines = [], []
    for q in mix:
        api_lines.append(
            "GET /api/v1/search?" + urllib.parse.urlencode({"q": q, "types": "achievement", "limit": 10})
        )
        body = kind_query(engine, "achievement", to_simplified(q), query_vector(to_simplified(q)), [])
        body.pop("indexUid")
        body["limit"] = 10
        raw_lines.append(
            f"POST /indexes/{engine.index('achievement')}/search "
            + json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        )
    assert SearchFilters()  # the API path uses no filter here either
    raw = wrk(
        a.meili, raw_lines, token=a.key, connections=a.connections, threads=a.threads, seconds=a.seconds
    )
    api = wrk(a.api, api_lines, token="", connections=a.connections, threads=a.threads, seconds=a.seconds)
    print(
        json.dumps(
            {
                "raw_meilisearch": raw,
                "api": api,
                "throughput_ratio": round(api["rps"] / raw["rps"], 3),
                "p99_ratio": round(api["p99_ms"] / raw["p99_ms"], 3),
            },
            indent=2,
        )
    )


def freshness(a: argparse.Namespace) -> None:
    with httpx.Client(base_url=a.api, timeout=30) as http:
        token = http.post("/api/v1/auth/token", data={"username": a.user, "password": a.password}).json()[
            "access_token"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        took = []
        for _ in range(a.samples):
            marker = "标记" + uuid.uuid4().hex[:10]
            created = http.post(
                "/api/v1/achievements",
                headers=headers,
                json={
                    "title": f"新鲜度测试成果 {marker}",
                    "description": f"用于测量发布到可检索的延迟。{marker}",
                    "field": "new_materials",
                },
            ).json()
            response = http.post(f"/api/v1/achievements/{created['id']}/publish", headers=headers)
            response.raise_for_status()
            start = time.perf_counter()
            while True:
                hits = http.get("/api/v1/search", params={"q": marker, "types": "achievement"}).json()["hits"]
                if any(hit["id"] == created["id"] for hit in hits):
                    break
                if time.perf_counter() - start > 30:
                    raise SystemExit("not searchable after 30 s")
                time.sleep(0.01)
            took.append(time.perf_counter() - start)
        took.sort()
        print(
            json.dumps(
                {
                    "samples": len(took),
                    "p50_ms": round(1000 * statistics.median(took), 1),
                    "p95_ms": round(1000 * took[int(0.95 * (len(took) - 1))], 1),
                    "max_ms": round(1000 * took[-1], 1),
                }
            )
        )


def synthetic(n: int, seed: int = 11) -> list[dict]:
    """n achievement views made of real CSL titles and abstract sentences, recombined."""
    docs = [json.loads(line) for line in (DATA / "achievements.jsonl").open(encoding="utf-8")]
    sentences = [s for d in docs for s in d["description"].replace("。", ".").split(".") if len(s) > 8]
    rng = random.Random(seed)
    fields = [d["field"] for d in docs]
    out = []
    for i in range(n):
        base = docs[i % len(docs)]
        title = (
            base["title"]
            if i < len(docs)
            else base["title"][: rng.randint(6, len(base["title"]))] + rng.choice(sentences)[:12]
        )
        body = "。".join(rng.sample(sentences, 5))
        out.append(
            {
                "id": str(uuid.UUID(int=i + 1)),
                "title": title,
                "description": body,
                "field": rng.choice(fields),
                "keywords": [],
                "region_code": None,
                "published_at": None,
                "updated_at": None,
                "version": 1,
                "maturity": rng.randint(1, 9),
                "transfer_modes": [],
                "asking_price": None,
            }
        )
    return out


async def scale(a: argparse.Namespace) -> None:
    from search import documents
    from search.engine import Engine
    from search.lexical import query_vector
    from search.normalize import to_simplified

    engine = Engine(a.meili, a.key, prefix=f"bench{uuid.uuid4().hex[:6]}", timeout=120)
    mix = queries(200)
    for size in a.sizes:
        uid = f"{engine.prefix}_{size}"
        await engine.apply_settings(uid)
        t0 = time.perf_counter()
        build_docs = 0.0
        tasks = []
        views = synthetic(size)
        for start in range(0, size, 2000):
            t = time.perf_counter()
            batch = [documents.build("achievement", view) for view in views[start : start + 2000]]
            build_docs += time.perf_counter() - t
            tasks.append(await engine.upsert(uid, batch))
        for task in tasks:
            await engine.wait(task, timeout=24 * 3600)
        total = time.perf_counter() - t0
        latencies, engine_ms = [], []
        for q in mix:
            qn = to_simplified(q)
            body = {
                "q": qn,
                "limit": 10,
                "hybrid": {"embedder": "lex", "semanticRatio": 0.5},
                "vector": query_vector(qn),
                "matchingStrategy": "all",
                "attributesToRetrieve": ["id"],
                "locales": ["cmn"],
            }
            t = time.perf_counter()
            answer = await engine.call("POST", f"/indexes/{uid}/search", json=body)
            latencies.append(1000 * (time.perf_counter() - t))
            engine_ms.append(answer["processingTimeMs"])
        latencies.sort()
        print(
            json.dumps(
                {
                    "documents": size,
                    "build_total_s": round(total, 1),
                    "python_documents_s": round(build_docs, 1),
                    "query_p50_ms": round(statistics.median(latencies), 1),
                    "query_p95_ms": round(latencies[int(0.95 * len(latencies))], 1),
                    "meilisearch_processing_p50_ms": statistics.median(engine_ms),
                }
            ),
            flush=True,
        )
        if not a.keep:
            await engine.call("DELETE", f"/indexes/{uid}")
    await engine.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--api", default="http://127.0.0.1:8000")
    t.add_argument("--meili", default="http://127.0.0.1:7700")
    t.add_argument("--key", required=True)
    t.add_argument("--prefix", default="techex")
    t.add_argument("--queries", type=int, default=500)
    t.add_argument("--connections", type=int, default=16)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seconds", type=int, default=20)
    f = sub.add_parser("freshness")
    f.add_argument("--api", default="http://127.0.0.1:8000")
    f.add_argument("--user", required=True)
    f.add_argument("--password", required=True)
    f.add_argument("--samples", type=int, default=50)
    s = sub.add_parser("scale")
    s.add_argument("--meili", default="http://127.0.0.1:7700")
    s.add_argument("--key", required=True)
    s.add_argument("--sizes", type=int, nargs="+", default=[10000, 200000])
    s.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if a.what == "throughput":
        throughput(a)
    elif a.what == "freshness":
        freshness(a)
    else:
        asyncio.run(scale(a))


if __name__ == "__main__":
    main()
