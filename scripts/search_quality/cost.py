"""Cost of experiments side by side, interleaved so that the load of a shared machine falls on all
of them alike: one index per experiment, then round-robin — each query asked of every index in
turn, each single-document upsert sent to every index in turn.

usage: python scripts/search_quality/cost.py --url http://127.0.0.1:7700 --key KEY NAME [NAME ...]

Per experiment: Meilisearch's processingTimeMs (p50, mean) over all queries, the client-side
latency p50, Meilisearch's own duration of a one-document upsert task into the built index (median
and p90 of --upserts tasks), and the Python time to build one document (vector included).
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.search_quality.experiments import EXPERIMENTS
from scripts.search_quality.harness import DEFAULT_DATA, wait_task


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="+")
    ap.add_argument("--url", default="http://127.0.0.1:7700")
    ap.add_argument("--key", default=os.environ.get("MEILI_MASTER_KEY"))
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--upserts", type=int, default=40)
    a = ap.parse_args()
    docs = [json.loads(line) for line in (a.data / "achievements.jsonl").open(encoding="utf-8")]
    queries = [line.rstrip("\n").split("\t") for line in (a.data / "queries.tsv").open(encoding="utf-8")][1:]
    headers = {"Authorization": f"Bearer {a.key}"} if a.key else {}
    exps = {name: EXPERIMENTS[name] for name in a.names}
    with httpx.Client(base_url=a.url, headers=headers, timeout=120) as http:
        index, body, prepare = {}, {}, {}
        for name, exp in exps.items():
            index[name] = f"cost_{name}_{uuid.uuid4().hex[:6]}"
            wait_task(
                http, http.post("/indexes", json={"uid": index[name], "primaryKey": "id"}).json()["taskUid"]
            )
            wait_task(
                http, http.patch(f"/indexes/{index[name]}/settings", json=exp["settings"]).json()["taskUid"]
            )
            t = time.perf_counter()
            body[name] = [
                exp["doc"]({"id": d["key"], "title": d["title"], "description": d["description"]})
                for d in docs
            ]
            prepare[name] = 1000 * (time.perf_counter() - t) / len(docs)
            wait_task(http, http.post(f"/indexes/{index[name]}/documents", json=body[name]).json()["taskUid"])
        took = {name: [] for name in exps}
        latency = {name: [] for name in exps}
        for _key, _kind, q in queries:
            for name, exp in exps.items():
                params = {"q": exp["query"](q), "limit": 10, "attributesToRetrieve": ["id"]}
                extra = exp.get("params", {})
                params.update(extra() if callable(extra) else extra)
                t = time.perf_counter()
                answer = http.post(f"/indexes/{index[name]}/search", json=params).json()
                latency[name].append(1000 * (time.perf_counter() - t))
                took[name].append(answer["processingTimeMs"])
        upsert = {name: [] for name in exps}
        step = max(1, len(docs) // a.upserts)
        for i in range(0, step * a.upserts, step):
            for name in exps:
                uid = http.post(f"/indexes/{index[name]}/documents", json=[body[name][i]]).json()["taskUid"]
                upsert[name].append(1000 * wait_task(http, uid))
        for name in exps:
            http.delete(f"/indexes/{index[name]}")
            up = sorted(upsert[name])
            took_p50, took_mean = statistics.median(took[name]), statistics.mean(took[name])
            up_p50, up_p90 = statistics.median(up), up[int(0.9 * len(up))]
            print(
                f"{name:28s} processingTimeMs p50 {took_p50:.0f} mean {took_mean:.2f} | "
                f"client p50 {statistics.median(latency[name]):.1f} ms | "
                f"one-document upsert task p50 {up_p50:.0f} ms p90 {up_p90:.0f} ms"
                f" | Python build {prepare[name]:.2f} ms/doc",
                flush=True,
            )


if __name__ == "__main__":
    main()
