"""Search benchmarks (docs/benchmarks.md): throughput and latency of the API against raw Meilisearch
with wrk, freshness of publish → searchable, and index build / query cost at scale.

  throughput:  python scripts/bench_search.py throughput --api URL --meili URL --key KEY [--pids API MEILI]
  client:      python scripts/bench_search.py client --meili URL --key KEY
  indexing:    python scripts/bench_search.py indexing --docs 714 5712 --samples 30
  freshness:   python scripts/bench_search.py freshness --api URL --user EMAIL --password PW
               [--follows N --follower EMAIL --follower-password PW] [--database-url URL]
               [--catalogue N]
  scale:       python scripts/bench_search.py scale --meili URL --key KEY --sizes 10000 200000

`throughput` sends the same query mix at the same concurrency to GET /api/v1/search?types=achievement
and to Meilisearch's own POST /indexes/<prefix>_achievement/search, with the very request the API
makes (hybrid query with its lexical vector), one after the other in one run. With `--pids` it also
reports each process's CPU time per request (from /proc), steadier than requests/s on a shared machine.
`client` measures the CPU one Meilisearch client spends per multi-search call of the API: the
service's (search/engine.py: aiohttp, orjson, uncompressed) against httpx as used before.
`indexing` starts its own Meilisearch per indexing-memory setting and measures what bounds freshness:
the duration of one-document upsert tasks into an index of N documents, per vector store.
"""

import argparse
import asyncio
import json
import os
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
# Documents per bulk upsert: a 2,048-dimension vector is ~16 KB of JSON, and Meilisearch refuses
# payloads over 100 MB.
BULK = 2000
LUA = ROOT / "scripts" / "bench" / "rotate.lua"


def queries(n: int) -> list[str]:
    rows = [line.rstrip("\n").split("\t") for line in (DATA / "queries.tsv").open(encoding="utf-8")][1:]
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pids: list[int], run):  # type: ignore[no-untyped-def]
    """wrk's summary of `run()` plus, per pid, the CPU ms it spent per request."""
    before = [cpu_seconds(pid) for pid in pids]
    summary = run()
    for name, pid, start in zip(("api_cpu_ms", "meili_cpu_ms"), pids, before, strict=False):
        summary[name] = round((cpu_seconds(pid) - start) * 1000 / summary["requests"], 2)
    return summary


def throughput(a: argparse.Namespace) -> None:
    from app.matching.schemas import SearchFilters
    from app.matching.search import search_queries
    from search.engine import Engine

    engine = Engine(a.meili, a.key, prefix=a.prefix)
    api_lines, raw_lines = [], []
    for q in queries(a.queries):
        api_lines.append(
            "GET /api/v1/search?" + urllib.parse.urlencode({"q": q, "types": "achievement", "limit": 10})
        )
        # The API's own hybrid query for this search (its facet query is the API's extra work).
        body = _plain(search_queries(engine, q, ["achievement"], SearchFilters(), limit=10, offset=0)[0])
        raw_lines.append(
            f"POST /indexes/{engine.index('achievement')}/search "
            + json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        )
    pids = a.pids or []
    raw = measured(
        pids,
        lambda: wrk(
            a.meili, raw_lines, token=a.key, connections=a.connections, threads=a.threads, seconds=a.seconds
        ),
    )
    api = measured(
        pids,
        lambda: wrk(
            a.api, api_lines, token="", connections=a.connections, threads=a.threads, seconds=a.seconds
        ),
    )
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


async def client(a: argparse.Namespace) -> None:
    """CPU per multi-search call (the API's own request: hybrid query + facet query), `--calls`
    calls, 8 at a time, the process's CPU time: httpx with its defaults (gzip, the json module)
    against the service's Engine."""
    import resource

    from app.matching.schemas import SearchFilters
    from app.matching.search import search_queries
    from search.engine import Engine

    engine = Engine(a.meili, a.key, prefix=a.prefix)
    bodies = [
        {"queries": search_queries(engine, q, ["achievement"], SearchFilters(), limit=10, offset=0)}
        for q in queries(a.queries)
    ]
    async with httpx.AsyncClient(
        base_url=a.meili,
        headers={"Authorization": f"Bearer {a.key}"},
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
    ) as http:

        async def with_httpx(body: dict) -> dict:
            return (await http.post("/multi-search", json=body)).json()

        async def with_engine(body: dict) -> dict:
            return await engine.multi_search(body)

        gate = asyncio.Semaphore(8)
        for name, call in (
            ("httpx (gzip, json)", with_httpx),
            ("engine (aiohttp, orjson, identity)", with_engine),
        ):

            async def one(i: int, call=call) -> None:  # type: ignore[no-untyped-def]
                async with gate:
                    assert (await call(bodies[i % len(bodies)]))["results"][0]["hits"] is not None

            for i in range(50):
                await one(i)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu, start = usage.ru_utime + usage.ru_stime, time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(a.calls)))
            usage = resource.getrusage(resource.RUSAGE_SELF)
            print(
                json.dumps(
                    {
                        "client": name,
                        "cpu_ms_per_call": round((usage.ru_utime + usage.ru_stime - cpu) * 1000 / a.calls, 3),
                        "wall_ms_per_call": round((time.perf_counter() - start) * 1000 / a.calls, 3),
                    },
                    ensure_ascii=False,
                )
            )
    await engine.aclose()


async def index_views(engine, uid: str, views: list[dict]) -> float:  # type: ignore[no-untyped-def]
    """Indexes achievement views, BULK per task, each batch built while Meilisearch indexes the
    previous one; returns the seconds Python spent building documents."""
    from search import documents

    building, tasks = 0.0, []
    for start in range(0, len(views), BULK):
        t = time.perf_counter()
        batch = [documents.build("achievement", view) for view in views[start : start + BULK]]
        building += time.perf_counter() - t
        tasks.append(await engine.upsert(uid, batch))
    for task in tasks:
        await engine.wait(task, timeout=24 * 3600)  # 200,000 documents take half an hour
    return building


async def _preloaded(a: argparse.Namespace, load: bool) -> None:
    """Puts a.preload synthetic achievements straight into the service's index (load) or takes them
    out again: freshness depends on how many documents the index holds, not on the database. After
    the bulk, one more document on its own: the first vector write after a bulk load creates arroy's
    trees (minutes at 200,000, docs/benchmarks.md), a cost of the load, not of publishing."""
    from search.engine import Engine

    engine = Engine(a.meili, a.key, prefix=a.prefix, timeout=3600)
    uid = engine.index("achievement")
    views = synthetic(a.preload + 1)
    if load:
        await index_views(engine, uid, views[:-1])
        print(
            json.dumps({"first_upsert_after_bulk_ms": await _one_document_upserts(engine, uid, views[-1:])})
        )
    else:
        await engine.wait(await engine.delete(uid, [view["id"] for view in views]), timeout=3600)
    await engine.aclose()


def freshness(a: argparse.Namespace) -> None:
    if a.preload:
        asyncio.run(_preloaded(a, load=True))
    try:
        _freshness(a)
    finally:
        if a.preload:
            asyncio.run(_preloaded(a, load=False))


def _freshness(a: argparse.Namespace) -> None:
    with httpx.Client(base_url=a.api, timeout=30) as http:
        headers = _signed_in(http, a.user, a.password)
        for pause in a.pauses:
            _publishes(a, http, headers, pause, follows=0)
        if a.follows:  # the same again once every publish is checked against that many follows
            asyncio.run(_follows(a))
            for pause in a.pauses:
                _publishes(a, http, headers, pause, follows=a.follows)
        if a.catalogue:
            _catalogue(a, http, headers)


def _signed_in(http: httpx.Client, user: str, password: str) -> dict[str, str]:
    token = http.post("/api/v1/auth/token", data={"username": user, "password": password}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def _follows(a: argparse.Namespace) -> None:
    """a.follows published demands of the --follower (an enterprise), each followed by it: every
    publish is then checked against that many followed demands (app/matching/subscriptions.py)."""
    with httpx.Client(base_url=a.api, timeout=30) as http:
        headers = _signed_in(http, a.follower, a.follower_password)
    texts = synthetic(a.follows, seed=29)
    made = time.perf_counter()
    async with httpx.AsyncClient(base_url=a.api, timeout=60, headers=headers) as http:
        limit = asyncio.Semaphore(8)

        async def one(view: dict) -> None:
            async with limit:
                created = await http.post(
                    "/api/v1/demands",
                    json={
                        "title": view["title"][:100],
                        "description": view["description"],
                        "field": view["field"],
                    },
                )
                created.raise_for_status()
                demand = created.json()["id"]
                (await http.post(f"/api/v1/demands/{demand}/publish")).raise_for_status()
                followed = await http.post(
                    "/api/v1/subscriptions", json={"kind": "demand", "demand_id": demand}
                )
                followed.raise_for_status()

        await asyncio.gather(*(one(view) for view in texts))
    print(json.dumps({"followed_demands": a.follows, "made_in_s": round(time.perf_counter() - made, 1)}))


def _publishes(
    a: argparse.Namespace, http: httpx.Client, headers: dict[str, str], pause: float, *, follows: int
) -> None:
    took, published = [], []
    for _ in range(a.samples):
        time.sleep(pause)
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
        published.append((created["id"], time.time()))
        start = time.perf_counter()
        while True:
            hits = http.get("/api/v1/search", params={"q": marker, "types": "achievement"}).json()["hits"]
            if any(hit["id"] == created["id"] for hit in hits):
                break
            if time.perf_counter() - start > 30:
                raise SystemExit("not searchable after 30 s")
            time.sleep(0.01)
        took.append(time.perf_counter() - start)
    print(
        json.dumps(
            {"samples": len(took), "preloaded": a.preload, "followed_demands": follows, "pause_s": pause}
            | _in_ms(took)
            | (asyncio.run(_subscriptions_checked(a.database_url, published)) if a.database_url else {})
        )
    )


async def _subscriptions_checked(database_url: str, published: list[tuple[str, float]]) -> dict:
    """From the outbox: how long after each publish returned its subscriptions check had finished
    (the `matching.listing_published` row, app/matching/subscriptions.py), waiting for the last."""
    import asyncpg

    from search.relay import plain_dsn

    returned = {f"achievement:{listing_id}": at for listing_id, at in published}
    connection = await asyncpg.connect(plain_dsn(database_url))
    try:
        done = await _processed(connection, "matching.listing_published", list(returned), within=3600)
    finally:
        await connection.close()
    lags = [at.timestamp() - returned[key] for key, at in done.items()]
    span = max(at.timestamp() for at in done.values()) - min(returned.values())
    return _in_ms(lags, prefix="checked_") | {"checked_all_in_s": round(span, 1)}


async def _processed(connection, topic: str, keys: list[str], *, within: float) -> dict:  # type: ignore[no-untyped-def]
    """When the outbox processed each key's `topic` row (one per key here), waiting for the last."""
    deadline = time.monotonic() + within
    while True:
        rows = await connection.fetch(
            "SELECT key, processed_at FROM outbox WHERE topic = $1 AND key = ANY($2::text[])", topic, keys
        )
        done = {row["key"]: row["processed_at"] for row in rows}
        if len(done) == len(keys) and all(done.values()):
            return done
        if time.monotonic() > deadline:
            raise SystemExit(f"{topic} not processed within {within:.0f} s")
        await asyncio.sleep(0.5)


def _catalogue(a: argparse.Namespace, http: httpx.Client, headers: dict[str, str]) -> None:
    """A university's catalogue of a.catalogue achievements imported with `publish`: how long after
    the import returned the last was searchable, and the last checked against the subscriptions."""
    import csv
    import io

    marker = uuid.uuid4().hex[:8]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["title", "description", "field"])
    for view in synthetic(a.catalogue, seed=31):
        writer.writerow([f"{view['title'][:80]} {marker}", view["description"], view["field"]])
    response = http.post(
        "/api/v1/achievements/import",
        headers=headers,
        files={"file": ("catalogue.csv", out.getvalue().encode())},
        data={"publish": "true"},
        timeout=600,
    )
    response.raise_for_status()
    returned = time.time()
    print(
        json.dumps(
            {
                "catalogue": a.catalogue,
                "published": response.json()["published"],
                "followed_demands": a.follows,
            }
            | asyncio.run(_catalogue_done(a.database_url, marker, returned))
        )
    )


async def _catalogue_done(database_url: str, marker: str, returned: float) -> dict:
    """From the outbox: when the catalogue's last listing was indexed (`listing.changed`) and
    checked (`matching.listing_published`), in seconds after the import returned."""
    import asyncpg

    from search.relay import plain_dsn

    connection = await asyncpg.connect(plain_dsn(database_url))
    try:
        ids = await connection.fetch("SELECT id FROM achievements WHERE title LIKE $1", f"% {marker}")
        keys = [f"achievement:{row['id']}" for row in ids]
        last = {
            name: max((await _processed(connection, topic, keys, within=4 * 3600)).values())
            for name, topic in (("searchable", "listing.changed"), ("checked", "matching.listing_published"))
        }
    finally:
        await connection.close()
    return {f"{name}_all_in_s": round(at.timestamp() - returned, 1) for name, at in last.items()}


def _in_ms(seconds: list[float], prefix: str = "") -> dict[str, float]:
    """p50, p95 and max of durations in seconds, as milliseconds."""
    ordered = sorted(seconds)
    return {
        f"{prefix}p50_ms": round(1000 * statistics.median(ordered), 1),
        f"{prefix}p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
        f"{prefix}max_ms": round(1000 * ordered[-1], 1),
    }


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


def indexing(a: argparse.Namespace) -> None:
    """One-document upsert tasks (Meilisearch's own `duration`) into an index already holding N
    synthetic achievements, per indexing-memory setting × vector store; each setting runs its own
    Meilisearch (MEILI_MAX_INDEXING_MEMORY must not be set in the environment)."""
    import tempfile as scratch_dirs

    from search.binary import locate
    from search.server import LocalMeilisearch, free_port

    binary = locate(None, ROOT / ".cache")
    for memory in a.memory:
        with scratch_dirs.TemporaryDirectory(prefix="bench-indexing-") as scratch:
            server = LocalMeilisearch(
                binary,
                Path(scratch),
                port=free_port(),
                max_indexing_memory=None if memory == "default" else memory,
            )
            server.start()
            try:
                asyncio.run(_one_document_tasks(a, server, memory))
            finally:
                server.stop()


async def _one_document_tasks(a: argparse.Namespace, server, memory: str) -> None:  # type: ignore[no-untyped-def]
    from app.matching.schemas import SearchFilters
    from app.matching.search import search_queries
    from search import documents
    from search.engine import Engine

    engine = Engine(server.url, server.master_key, prefix="bench", timeout=3600)
    stores = a.stores  # stable: arroy (the service's), experimental: hannoy
    if "experimental" in stores:  # choosing the vector store is an experimental feature of 1.21
        await engine.call("PATCH", "/experimental-features", json={"vectorStoreSetting": True})
    bodies = [  # the API's hybrid query, as a single-index search
        _plain(search_queries(engine, q, ["achievement"], SearchFilters(), limit=10, offset=0)[0])
        for q in queries(a.queries)
    ]
    for size in a.docs:
        views = synthetic(size + a.samples)
        built = [documents.build("achievement", view) for view in views[:size]]
        report: dict[str, dict] = {}
        for store in stores:
            uid = f"bench_{store}_{size}"
            await engine.apply_settings(uid)
            if store != "stable":
                await engine.wait(
                    await engine.call("PATCH", f"/indexes/{uid}/settings", json={"vectorStore": store}),
                    timeout=600,
                )
            start = time.perf_counter()
            tasks = [await engine.upsert(uid, built[i : i + BULK]) for i in range(0, size, BULK)]
            for task in tasks:
                await engine.wait(task, timeout=3600)
            report[store] = {"bulk_s": round(time.perf_counter() - start, 1), "tasks": []}
        for view in views[size:]:
            for store in stores:  # interleaved, so the machine's load falls on both alike
                report[store]["tasks"] += await _one_document_upserts(engine, f"bench_{store}_{size}", [view])
        for store in stores:  # one query at a time: Meilisearch's CPU per query
            path = f"/indexes/bench_{store}_{size}/search"
            for body in bodies[:20]:
                await engine.call("POST", path, json=body)
            cpu = cpu_seconds(server.pid)
            for body in bodies:
                await engine.call("POST", path, json=body)
            report[store]["query_cpu_ms"] = round((cpu_seconds(server.pid) - cpu) * 1000 / len(bodies), 2)
        for store, found in report.items():
            tasks = sorted(found.pop("tasks"))
            found["one_document_task_ms"] = {
                "p50": round(statistics.median(tasks)),
                "p95": round(tasks[max(0, int(len(tasks) * 0.95) - 1)]),
                "max": round(tasks[-1]),
            }
            print(
                json.dumps({"max_indexing_memory": memory, "vector_store": store, "documents": size} | found)
            )
    await engine.aclose()


def _plain(query: dict) -> dict:
    """A multi-search query as a single-index search body."""
    return {name: value for name, value in query.items() if name != "indexUid"}


def iso_seconds(duration: str) -> float:
    """Seconds of an ISO 8601 duration as Meilisearch writes a task's (PT0.123S, PT1M2.5S)."""
    minutes, _, seconds = duration.removeprefix("PT").rpartition("M")
    return 60 * float(minutes or 0) + float(seconds.removesuffix("S"))


async def _query_latencies(engine, uid: str, mix: list[str]) -> dict:  # type: ignore[no-untyped-def]
    """The API's hybrid query without highlighting (ids only), one at a time."""
    from search.lexical import query_vector
    from search.normalize import normalize

    latencies, engine_ms = [], []
    for q in mix:
        qn = normalize(q)
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
    return {
        "query_p50_ms": round(statistics.median(latencies), 1),
        "query_p95_ms": round(latencies[int(0.95 * len(latencies))], 1),
        "meilisearch_processing_p50_ms": statistics.median(engine_ms),
    }


async def _one_document_upserts(engine, uid: str, views: list[dict]) -> list[int]:  # type: ignore[no-untyped-def]
    """What one publish costs at this size: Meilisearch's duration of each one-document task."""
    from search import documents

    took = []
    for view in views:
        task = await engine.upsert(uid, [documents.build("achievement", view)])
        # Minutes, not seconds, when arroy creates new trees (the first task after a bulk load).
        task = await engine.wait(task, timeout=3600)
        took.append(round(iso_seconds(task["duration"]) * 1000))
    return took


async def scale(a: argparse.Namespace) -> None:
    from search.engine import Engine

    engine = Engine(a.meili, a.key, prefix=f"bench{uuid.uuid4().hex[:6]}", timeout=120)
    mix = queries(200)
    targets = [(a.index, None)] if a.index else [(f"{engine.prefix}_{size}", size) for size in a.sizes]
    for uid, size in targets:
        found: dict = {}
        if size is None:  # an index built by an earlier run (--keep): measure it again
            size = (await engine.call("GET", f"/indexes/{uid}/stats"))["numberOfDocuments"]
        else:
            await engine.apply_settings(uid)
            t0 = time.perf_counter()
            build_docs = await index_views(engine, uid, synthetic(size))
            found = {
                "build_total_s": round(time.perf_counter() - t0, 1),
                "python_documents_s": round(build_docs, 1),
            }
        found |= await _query_latencies(engine, uid, mix)
        found["one_document_tasks_ms"] = await _one_document_upserts(
            engine, uid, synthetic(size + a.singles)[size:]
        )
        print(json.dumps({"documents": size} | found), flush=True)
        if not a.keep and not a.index:
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
    t.add_argument(
        "--pids", type=int, nargs=2, metavar=("API", "MEILI"), help="processes to count CPU time of"
    )
    c = sub.add_parser("client")
    c.add_argument("--meili", default="http://127.0.0.1:7700")
    c.add_argument("--key", required=True)
    c.add_argument("--prefix", default="techex")
    c.add_argument("--queries", type=int, default=500)
    c.add_argument("--calls", type=int, default=2000)
    i = sub.add_parser("indexing")
    i.add_argument("--docs", type=int, nargs="+", default=[714, 5712])
    i.add_argument("--samples", type=int, default=30)
    i.add_argument("--queries", type=int, default=200)
    i.add_argument(
        "--memory", nargs="+", default=["default", "1GiB"], help="MEILI_MAX_INDEXING_MEMORY values"
    )
    i.add_argument(
        "--stores", nargs="+", choices=["stable", "experimental"], default=["stable", "experimental"]
    )
    f = sub.add_parser("freshness")
    f.add_argument("--api", default="http://127.0.0.1:8000")
    f.add_argument("--user", required=True)
    f.add_argument("--password", required=True)
    f.add_argument("--samples", type=int, default=50)
    f.add_argument("--preload", type=int, default=0, help="synthetic achievements indexed first (with --key)")
    f.add_argument(
        "--follows", type=int, default=0, help="demands published and followed first (with --follower)"
    )
    f.add_argument("--follower", help="an enterprise user who publishes and follows those demands")
    f.add_argument("--follower-password")
    f.add_argument(
        "--catalogue",
        type=int,
        default=0,
        help="then import this many achievements at once with publish (needs --database-url)",
    )
    f.add_argument(
        "--database-url",
        help="the service's database: also report when each publish's subscriptions check ended",
    )
    f.add_argument(
        "--pauses",
        type=float,
        nargs="+",
        default=[0.0],
        help="one series per value: seconds of quiet before each publish (0: back to back, so each "
        "publish meets the previous one's vector task)",
    )
    f.add_argument("--meili", default="http://127.0.0.1:7700")
    f.add_argument("--key")
    f.add_argument("--prefix", default="techex")
    s = sub.add_parser("scale")
    s.add_argument("--meili", default="http://127.0.0.1:7700")
    s.add_argument("--key", required=True)
    s.add_argument("--sizes", type=int, nargs="+", default=[10000, 200000])
    s.add_argument("--keep", action="store_true")
    s.add_argument("--singles", type=int, default=10, help="one-document upserts timed after the build")
    s.add_argument("--index", help="measure this existing index (kept by --keep) instead of building")
    a = ap.parse_args()
    if a.what == "throughput":
        throughput(a)
    elif a.what == "client":
        asyncio.run(client(a))
    elif a.what == "indexing":
        indexing(a)
    elif a.what == "freshness":
        freshness(a)
    else:
        asyncio.run(scale(a))


if __name__ == "__main__":
    main()
