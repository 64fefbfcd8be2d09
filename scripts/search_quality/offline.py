"""Offline BM25 over the lexical vector's tokens, without Meilisearch: the vector side alone, exact
(a dict per token, no hashing) and feature-hashed exactly as search/lexical.py hashes (optionally
with a salt = an independent hash function). Ranks all 714 documents for every query in seconds,
so token and weighting ideas can be tried before a Meilisearch run (docs/search.md).

usage: python scripts/search_quality/offline.py [--salts 3] [--only NAME ...]
"""

import argparse
import collections
import hashlib
import json
import re
import statistics
import sys
from pathlib import Path

import jieba
import jieba.analyse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from search.normalize import _CJK_RUN, _WORD, BIGRAM_MARK, normalize

jieba.setLogLevel(60)
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "csl"
IDF = jieba.analyse.default_tfidf.idf_freq
MEDIAN = jieba.analyse.default_tfidf.median_idf
UNI, TRI = "\u0004", "\u0005"


def tokenizer(cut="precise", bigrams=True, unigrams=False, trigrams=False):
    def tok(text):
        if cut == "search":
            out = [t.lower() for t in jieba.cut_for_search(text) if _WORD.search(t)]
        elif cut == "precise":
            out = [t.lower() for t in jieba.cut(text) if _WORD.search(t)]
        else:  # no jieba: Latin/digit words only
            out = [t.lower() for t in re.findall(r"[^\W\u3400-\u9fff]+", text)]
        for run in _CJK_RUN.findall(text):
            if bigrams:
                out.extend(run[i : i + 2] + BIGRAM_MARK for i in range(len(run) - 1))
            if unigrams:
                out.extend(c + UNI for c in run)
            if trigrams:
                out.extend(run[i : i + 3] + TRI for i in range(len(run) - 2))
        return out

    return tok


def idf_word(term):
    """A bigram (trigram, character) weighs what the same characters weigh as a word."""
    return IDF.get(term.rstrip(BIGRAM_MARK + UNI + TRI), MEDIAN)


def idf_median_bigram(term):
    """The design before 2026-11-23: every bigram at the median IDF."""
    return MEDIAN if term.endswith(BIGRAM_MARK) else IDF.get(term, MEDIAN)


def build(docs, tok, title=2, k1=1.2, b=0.75, avg=150.0):
    index = collections.defaultdict(dict)
    for d in docs:
        terms = tok(d["title"]) * title + tok(d["description"])
        norm = k1 * (1 - b + b * len(terms) / avg)
        for term, count in collections.Counter(terms).items():
            index[term][d["key"]] = count * (k1 + 1) / (count + norm)
    return index


def weights(tok, alpha=0.5, idf=idf_word, grouped=True, scale=lambda t: 1.0):
    def f(q):
        w = collections.Counter()
        for part in q.split() if grouped else [q]:
            terms = set(tok(part))
            for t in terms:
                w[t] += idf(t) * scale(t) / (len(terms) ** alpha if grouped else 1.0)
        return w

    return f


def _slot(term, dims, salt):
    h = int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8, key=salt).digest(), "little")
    return h % (dims - 1), 1.0 if h >> 63 else -1.0


def hashed(index, query, dims, salt):
    out = collections.defaultdict(lambda: collections.defaultdict(float))
    for term, postings in index.items():
        slot, sign = _slot(term, dims, salt)
        for key, value in postings.items():
            out[slot][key] += sign * value

    def q(text):
        w = collections.defaultdict(float)
        for term, value in query(text).items():
            slot, sign = _slot(term, dims, salt)
            w[slot] += sign * value
        return w

    return out, q


def evaluate(index, query, queries):
    mrr, n = collections.Counter(), collections.Counter()
    for key, kind, q in queries:
        scores = collections.Counter()
        for term, weight in query(q).items():
            for doc, value in index.get(term, {}).items():
                scores[doc] += weight * value
        ranked = [doc for doc, _ in scores.most_common(10)]
        n[kind] += 1
        if key in ranked:
            mrr[kind] += 1 / (ranked.index(key) + 1)
    return {kind: mrr[kind] / n[kind] for kind in n}


PRECISE = tokenizer("precise")
SEARCH = tokenizer("search")
VARIANTS = {
    "old design (search cut, plain IDF, bigrams at median)": (
        SEARCH,
        {},
        weights(SEARCH, idf=idf_median_bigram, grouped=False),
    ),
    "search cut, per-keyword 1/sqrt(n), bigram word IDF": (SEARCH, {}, weights(SEARCH)),
    "shipped: precise cut, per-keyword 1/sqrt(n), bigram word IDF": (PRECISE, {}, weights(PRECISE)),
    "shipped, per-keyword 1/n^0.75": (PRECISE, {}, weights(PRECISE, alpha=0.75)),
    "shipped, per-keyword 1/n": (PRECISE, {}, weights(PRECISE, alpha=1.0)),
    "shipped, no per-keyword weights": (PRECISE, {}, weights(PRECISE, grouped=False)),
    "bigrams + Latin words only (no jieba)": (tokenizer("none"), {}, weights(tokenizer("none"))),
    "shipped + trigrams": (tokenizer(trigrams=True), {}, weights(tokenizer(trigrams=True))),
    "shipped + character unigrams x0.3": (
        tokenizer(unigrams=True),
        {},
        weights(tokenizer(unigrams=True), scale=lambda t: 0.3 if t.endswith(UNI) else 1.0),
    ),
    "shipped, IDF^1.5": (PRECISE, {}, weights(PRECISE, idf=lambda t: idf_word(t) ** 1.5)),
    "shipped, k1 0.5": (PRECISE, {"k1": 0.5}, weights(PRECISE)),
    "shipped, k1 2.0": (PRECISE, {"k1": 2.0}, weights(PRECISE)),
    "shipped, b 0.5": (PRECISE, {"b": 0.5}, weights(PRECISE)),
    "shipped, title once": (PRECISE, {"title": 1}, weights(PRECISE)),
}


def dev_set() -> tuple[list[dict], list[tuple[str, str, str]]]:
    """The CSL abstracts and queries, normalised; traditional-script queries left out (after t2s
    they are the keyword queries)."""
    docs = [json.loads(line) for line in (DATA / "achievements.jsonl").open(encoding="utf-8")]
    docs = [{**d, "title": normalize(d["title"]), "description": normalize(d["description"])} for d in docs]
    queries = [line.rstrip("\n").split("\t") for line in (DATA / "queries.tsv").open(encoding="utf-8")][1:]
    return docs, [(key, kind, normalize(q)) for key, kind, q in queries if kind != "keywords_traditional"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--salts", type=int, default=3, help="hash functions to average (0: exact only)")
    ap.add_argument("--dims", type=int, default=2048)
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    docs, queries = dev_set()
    print(f"{'variant':62s} exact kw / two | hashed {a.dims} (mean of {a.salts} hashes) kw / two")
    for name, (tok, build_kw, query) in VARIANTS.items():
        if a.only and not any(o in name for o in a.only):
            continue
        index = build(docs, tok, **build_kw)
        exact = evaluate(index, query, queries)
        line = f"{name:62s} {exact['keywords']:.4f} / {exact['two_keywords']:.4f}"
        if a.salts:
            runs = [evaluate(*hashed(index, query, a.dims, bytes([65 + i])), queries) for i in range(a.salts)]
            kw = statistics.mean(r["keywords"] for r in runs)
            two = [r["two_keywords"] for r in runs]
            line += f" | {kw:.4f} / {statistics.mean(two):.4f} ({' '.join(f'{x:.4f}' for x in two)})"
        print(line, flush=True)


if __name__ == "__main__":
    main()
