"""Local search-quality harness: the protocol of shared/eval/search_quality.py, straight against
Meilisearch, so that index settings and normalisation can be compared quickly.

usage: python scripts/search_quality/harness.py --url http://127.0.0.1:7700 --key KEY
       [--data DIR] [--only NAME ...]

Each experiment builds one index (title + description, optionally normalised), asks every query
(optionally normalised) with limit 10 and prints MRR@10 per query kind. The document/query
normalisation used by the service lives in search/normalize.py; experiments here only choose
which parts of it to switch on.
"""

import argparse
import collections
import json
import os
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.search_quality.experiments import EXPERIMENTS

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "csl"


def wait_task(http: httpx.Client, uid: int) -> None:
    while True:
        task = http.get(f"/tasks/{uid}").json()
        if task["status"] in ("succeeded", "failed", "canceled"):
            if task["status"] != "succeeded":
                raise RuntimeError(task)
            return
        time.sleep(0.05)


def run(
    http: httpx.Client, name: str, exp: dict, docs: list[dict], queries: list[list[str]]
) -> dict[str, float]:
    index = f"sq_{name.replace('.', '_')}_{uuid.uuid4().hex[:6]}"
    wait_task(http, http.post("/indexes", json={"uid": index, "primaryKey": "id"}).json()["taskUid"])
    wait_task(http, http.patch(f"/indexes/{index}/settings", json=exp["settings"]).json()["taskUid"])
    body = [exp["doc"]({"id": d["key"], "title": d["title"], "description": d["description"]}) for d in docs]
    t = time.perf_counter()
    wait_task(http, http.post(f"/indexes/{index}/documents", json=body).json()["taskUid"])
    build = time.perf_counter() - t
    mrr, n = collections.Counter(), collections.Counter()
    lat = []
    for key, kind, q in queries:
        extra = exp.get("params", {})
        params = {"q": exp["query"](q), "limit": 10, "attributesToRetrieve": ["id"]}
        params.update(extra() if callable(extra) else extra)
        t = time.perf_counter()
        hits = http.post(f"/indexes/{index}/search", json=params).json()["hits"]
        lat.append(time.perf_counter() - t)
        ranked = [h["id"] for h in hits]
        n[kind] += 1
        if key in ranked:
            mrr[kind] += 1 / (ranked.index(key) + 1)
    http.delete(f"/indexes/{index}")
    lat.sort()
    out = {k: round(mrr[k] / n[k], 3) for k in n}
    out["build_s"] = round(build, 1)
    out["p50_ms"] = round(1000 * lat[len(lat) // 2], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:7700")
    ap.add_argument("--key", default=os.environ.get("MEILI_MASTER_KEY"))
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    docs = [json.loads(line) for line in (a.data / "achievements.jsonl").open(encoding="utf-8")]
    queries = [line.rstrip("\n").split("\t") for line in (a.data / "queries.tsv").open(encoding="utf-8")][1:]
    headers = {"Authorization": f"Bearer {a.key}"} if a.key else {}
    with httpx.Client(base_url=a.url, headers=headers, timeout=120) as http:
        for name, exp in EXPERIMENTS.items():
            if a.only and name not in a.only:
                continue
            print(f"{name:40s} {run(http, name, exp, docs, queries)}", flush=True)


if __name__ == "__main__":
    main()
