"""Search quality when the index grows, per vector store: the 714 CSL abstracts among N synthetic
achievements recombined from the same abstracts' sentences (hard distractors), every query of
shared/data/csl asked as the API's hybrid query, MRR@10. Starts its own Meilisearch (1 GiB of
indexing memory, as `techex run`), so it measures what an approximate vector store loses at scale.

usage: python scripts/search_quality/at_scale.py [--extra 10000]
"""

import argparse
import asyncio
import collections
import json
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.matching.schemas import SearchFilters  # noqa: E402
from app.matching.search import MIN_SCORE, search_queries  # noqa: E402
from scripts.bench_search import DATA, synthetic  # noqa: E402
from search import documents  # noqa: E402
from search.binary import locate  # noqa: E402
from search.engine import Engine, SearchUnavailable  # noqa: E402
from search.server import LocalMeilisearch, free_port  # noqa: E402


async def measure(engine: Engine, extra: int) -> None:
    real = [json.loads(line) for line in (DATA / "achievements.jsonl").open(encoding="utf-8")]
    distractors = synthetic(len(real) + extra)[len(real) :]
    key_of: dict[str, str] = {}
    docs = []
    for i, paper in enumerate(real):
        view = {**distractors[0], "id": str(uuid.UUID(int=10**9 + i)), "title": paper["title"]}
        view["description"] = paper["description"]
        key_of[view["id"]] = paper["key"]
        docs.append(documents.build("achievement", view))
    docs += [documents.build("achievement", view) for view in distractors]
    queries = [line.rstrip("\n").split("\t") for line in (DATA / "queries.tsv").open(encoding="utf-8")][1:]
    await engine.call("PATCH", "/experimental-features", json={"vectorStoreSetting": True})
    uid = engine.index("achievement")
    for store in ("stable", "experimental"):
        if (await engine.send("GET", f"/indexes/{uid}"))[0] == 200:
            await engine.wait(await engine.call("DELETE", f"/indexes/{uid}"))
        await engine.apply_settings(uid)
        await engine.wait(await engine.call("PATCH", f"/indexes/{uid}/settings", json={"vectorStore": store}))
        for start in range(0, len(docs), 2000):
            await engine.wait(await engine.upsert(uid, docs[start : start + 2000]), timeout=3600)
        mrr, asked, failed = collections.Counter(), collections.Counter(), 0
        for key, kind, q in queries:
            body = search_queries(engine, q, ["achievement"], SearchFilters(), limit=10, offset=0)[:1]
            asked[kind] += 1
            try:
                hits = (await engine.multi_search({"queries": body}))["results"][0]["hits"]
            except SearchUnavailable:
                failed += 1
                continue
            ranked = [key_of.get(hit["id"]) for hit in hits if hit.get("_rankingScore", 0.0) >= MIN_SCORE]
            if key in ranked:
                mrr[kind] += 1 / (ranked.index(key) + 1)
        figures = {kind: round(mrr[kind] / asked[kind], 4) for kind in asked}
        print(
            json.dumps({"vector_store": store, "documents": len(docs), "mrr@10": figures, "failed": failed})
        )
    await engine.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", type=int, default=10000, help="synthetic distractors besides the 714 papers")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="quality-at-scale-") as scratch:
        server = LocalMeilisearch(locate(None, ROOT / ".cache"), Path(scratch), port=free_port())
        server.start()
        engine = Engine(server.url, server.master_key, prefix="scale", timeout=3600)
        try:
            asyncio.run(measure(engine, a.extra))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
