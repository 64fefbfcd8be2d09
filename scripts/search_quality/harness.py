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

from scripts.bench_search import iso_seconds
from scripts.search_quality.experiments import EXPERIMENTS

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "csl"


def wait_task(http: httpx.Client, uid: int) -> float:
    """Waits for a task; returns its duration as Meilisearch measured it, in seconds."""
    while True:
        task = http.get(f"/tasks/{uid}").json()
        if task["status"] in ("succeeded", "failed", "canceled"):
            if task["status"] != "succeeded":
                raise RuntimeError(task)
            return iso_seconds(task["duration"]) if task.get("duration") else 0.0
        time.sleep(0.02)


def run(
    http: httpx.Client,
    name: str,
    exp: dict,
    docs: list[dict],
    queries: list[list[str]],
    dump: Path | None = None,
) -> dict[str, float]:
    index = f"sq_{name.replace('.', '_')}_{uuid.uuid4().hex[:6]}"
    wait_task(http, http.post("/indexes", json={"uid": index, "primaryKey": "id"}).json()["taskUid"])
    wait_task(http, http.patch(f"/indexes/{index}/settings", json=exp["settings"]).json()["taskUid"])
    t = time.perf_counter()
    body = [exp["doc"]({"id": d["key"], "title": d["title"], "description": d["description"]}) for d in docs]
    prepare = time.perf_counter() - t
    build = wait_task(http, http.post(f"/indexes/{index}/documents", json=body).json()["taskUid"])
    # The cost the relay sees: one document upserted into the built index, as its own task.
    single = []
    for document in body[:: max(1, len(body) // 30)][:30]:
        single.append(
            wait_task(http, http.post(f"/indexes/{index}/documents", json=[document]).json()["taskUid"])
        )
    single.sort()
    mrr, n = collections.Counter(), collections.Counter()
    lat, took, rows = [], [], []
    for key, kind, q in queries:
        extra = exp.get("params", {})
        params = {"q": exp["query"](q), "limit": 10, "attributesToRetrieve": ["id"]}
        params.update(extra() if callable(extra) else extra)
        t = time.perf_counter()
        answer = http.post(f"/indexes/{index}/search", json=params).json()
        lat.append(time.perf_counter() - t)
        took.append(answer.get("processingTimeMs", 0))
        ranked = [h["id"] for h in answer["hits"]]
        rows.append({"key": key, "kind": kind, "q": q, "ranked": ranked})
        n[kind] += 1
        if key in ranked:
            mrr[kind] += 1 / (ranked.index(key) + 1)
    http.delete(f"/indexes/{index}")
    if dump:
        dump.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    lat.sort()
    took.sort()
    out = {k: round(mrr[k] / n[k], 3) for k in n}
    out["build_s"] = round(build, 1)
    out["prepare_ms_per_doc"] = round(1000 * prepare / len(docs), 2)
    out["one_doc_task_ms"] = round(1000 * single[len(single) // 2])
    out["p50_ms"] = round(1000 * lat[len(lat) // 2], 1)
    out["meili_p50_ms"] = took[len(took) // 2]
    out["meili_mean_ms"] = round(sum(took) / len(took), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:7700")
    ap.add_argument("--key", default=os.environ.get("MEILI_MASTER_KEY"))
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--dump", type=Path, help="directory for per-query rankings (NAME.jsonl)")
    a = ap.parse_args()
    docs = [json.loads(line) for line in (a.data / "achievements.jsonl").open(encoding="utf-8")]
    queries = [line.rstrip("\n").split("\t") for line in (a.data / "queries.tsv").open(encoding="utf-8")][1:]
    if a.dump:
        a.dump.mkdir(parents=True, exist_ok=True)
    headers = {"Authorization": f"Bearer {a.key}"} if a.key else {}
    with httpx.Client(base_url=a.url, headers=headers, timeout=120) as http:
        for name, exp in EXPERIMENTS.items():
            if a.only and name not in a.only:
                continue
            dump = a.dump / f"{name}.jsonl" if a.dump else None
            print(f"{name:40s} {run(http, name, exp, docs, queries, dump)}", flush=True)


if __name__ == "__main__":
    main()
