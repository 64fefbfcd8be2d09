"""Three more ways past the lexical ceiling on two keywords, offline (docs/search.md, "Two
keywords"), each fused linearly with exact BM25 over the shipped tokens (offline.py's scoring,
which alone scores 0.9972 / 0.9637):

- dense word2vec: IDF-weighted mean of the Wikipedia word2vec vectors (expansion.py says where
  they come from) over a document's jieba words, title twice; the query's keywords each add their
  own unit vector (the keyword's, or the mean of its jieba words'); BM25 / Σ query weights + λ·cos;
- LSA: the documents' BM25·IDF matrix cut to its top k singular vectors, the query projected the
  same way; BM25 / Σ query weights + λ·cos — semantics learnt from the index itself;
- pseudo-relevance feedback (RM3-like): the top k documents' n strongest terms added to the query
  with a total weight β·Σ query weights, then BM25 again.

Needs numpy (not a dependency of the service): run it in the scratch environment of expansion.py.

usage: python scripts/search_quality/beyond_lexical.py --vectors synonyms-3.10.2/synonyms/data/words.vector
"""

import argparse
import collections
import itertools
import sys
from pathlib import Path

import jieba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.search_quality.expansion import load
from scripts.search_quality.offline import IDF, MEDIAN, PRECISE, build, dev_set, idf_word, weights


def mrr_at_10(scored: list[tuple[int, str, np.ndarray]]) -> dict[str, float]:
    """Per query: the target's row, the kind of query, the scores of every document."""
    mrr, n = collections.Counter(), collections.Counter()
    for target, kind, scores in scored:
        top = list(np.argsort(-scores)[:10])
        n[kind] += 1
        if target in top:
            mrr[kind] += 1 / (top.index(target) + 1)
    return {kind: round(mrr[kind] / n[kind], 4) for kind in n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors", type=Path, required=True)
    a = ap.parse_args()
    docs, queries = dev_set()
    row_of_key = {d["key"]: i for i, d in enumerate(docs)}
    index = build(docs, PRECISE)
    query_weights = weights(PRECISE)
    terms = list(index)
    column = {t: i for i, t in enumerate(terms)}

    def bm25(weight: dict[str, float]) -> np.ndarray:
        scores = np.zeros(len(docs))
        for term, w in weight.items():
            for key, value in index.get(term, {}).items():
                scores[row_of_key[key]] += w * value
        return scores

    asked = [(row_of_key[key], kind, query_weights(q), q) for key, kind, q in queries]
    lexical = [(target, kind, bm25(w) / (sum(w.values()) or 1)) for target, kind, w, _ in asked]
    print("BM25 alone", mrr_at_10(lexical), flush=True)

    words, matrix = load(a.vectors)
    row_of_word = {w: i for i, w in enumerate(words)}

    def mean_vector(parts: list[tuple[str, float]]) -> np.ndarray:
        v = np.zeros(matrix.shape[1], np.float32)
        for text, times in parts:
            for w in jieba.cut(text):
                if w in row_of_word:
                    v += times * IDF.get(w, MEDIAN) * matrix[row_of_word[w]]
        return v / (np.linalg.norm(v) or 1)

    dense_docs = np.stack([mean_vector([(d["title"], 2), (d["description"], 1)]) for d in docs])
    dense_queries = [
        sum((mean_vector([(part, 1)]) for part in q.split()), np.zeros(matrix.shape[1], np.float32))
        for *_, q in asked
    ]
    for lam in (0.05, 0.1, 0.2, 0.5, 1.0):
        fused = [
            (target, kind, s + lam * (dense_docs @ (v / (np.linalg.norm(v) or 1))))
            for (target, kind, s), v in zip(lexical, dense_queries, strict=True)
        ]
        print(f"dense word2vec λ {lam}", mrr_at_10(fused), flush=True)

    x = np.zeros((len(docs), len(terms)), np.float32)
    for term, postings in index.items():
        for key, value in postings.items():
            x[row_of_key[key], column[term]] = value * idf_word(term)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    for k, lam in itertools.product((50, 100, 200), (0.05, 0.1, 0.2, 0.4)):
        latent = u[:, :k] * s[:k]
        latent /= np.linalg.norm(latent, axis=1, keepdims=True)
        fused = []
        for (target, kind, scores), (*_, w, _) in zip(lexical, asked, strict=True):
            q = vt[:k, [column[t] for t in w if t in column]] @ np.array([w[t] for t in w if t in column])
            fused.append((target, kind, scores + lam * (latent @ (q / (np.linalg.norm(q) or 1)))))
        print(f"LSA k {k} λ {lam}", mrr_at_10(fused), flush=True)

    by_key = collections.defaultdict(dict)
    for term, postings in index.items():
        for key, value in postings.items():
            by_key[row_of_key[key]][term] = value * idf_word(term)
    for k, n_terms, beta in itertools.product((1, 3, 5), (10, 30), (0.1, 0.3)):
        fed = []
        for (target, kind, scores), (*_, w, _) in zip(lexical, asked, strict=True):
            top = np.argsort(-scores)[:k]
            feedback = collections.Counter()
            for row in top:
                for term, value in by_key[row].items():
                    feedback[term] += value * scores[row] / (scores[top].sum() or 1)
            strongest = feedback.most_common(n_terms)
            total = sum(v for _, v in strongest) or 1
            expanded = collections.Counter(w)
            for term, value in strongest:
                expanded[term] += beta * sum(w.values()) * value / total
            fed.append((target, kind, bm25(expanded)))
        print(f"feedback top {k} terms {n_terms} β {beta}", mrr_at_10(fed), flush=True)


if __name__ == "__main__":
    main()
