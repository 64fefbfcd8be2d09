# ruff: noqa: E402, E741, B905, RUF005, RUF007 — an experiment log, kept as run
"""The experiments the harness runs: settings + document and query transforms."""

import opencc

_t2s = opencc.OpenCC("t2s")
_tw2sp = opencc.OpenCC("tw2sp")


def ident(x):
    return x


def doc_t2s(d):
    return {**d, "title": _t2s.convert(d["title"]), "description": _t2s.convert(d["description"])}


BASE = {"searchableAttributes": ["title", "description"]}

EXPERIMENTS = {
    "default": {"settings": {}, "doc": ident, "query": ident},
    "t2s_query": {"settings": {}, "doc": ident, "query": _t2s.convert},
    "t2s_both_title_first": {"settings": BASE, "doc": doc_t2s, "query": _t2s.convert},
    "tw2sp_query": {"settings": BASE, "doc": doc_t2s, "query": _tw2sp.convert},
    "t2s_freq": {
        "settings": BASE,
        "doc": doc_t2s,
        "query": _t2s.convert,
        "params": {"matchingStrategy": "frequency"},
    },
    "t2s_all": {
        "settings": BASE,
        "doc": doc_t2s,
        "query": _t2s.convert,
        "params": {"matchingStrategy": "all"},
    },
}

CMN = {**BASE, "localizedAttributes": [{"attributePatterns": ["*"], "locales": ["cmn"]}]}
EXPERIMENTS.update(
    {
        "cmn_last": {"settings": CMN, "doc": doc_t2s, "query": _t2s.convert, "params": {"locales": ["cmn"]}},
        "cmn_freq": {
            "settings": CMN,
            "doc": doc_t2s,
            "query": _t2s.convert,
            "params": {"locales": ["cmn"], "matchingStrategy": "frequency"},
        },
    }
)

import json as _json
import re as _re
from collections import Counter as _Counter
from pathlib import Path as _Path

import jieba as _jieba

_jieba.setLogLevel(60)
_DOCS = [
    _json.loads(l)
    for l in (_Path(__file__).resolve().parents[3] / "shared/data/csl/achievements.jsonl").open()
]
_WORD = _re.compile(r"\w", _re.UNICODE)


def _toks(text):
    return [t.lower() for t in _jieba.cut_for_search(_t2s.convert(text)) if _WORD.search(t)]


_DF = _Counter()
for _d in _DOCS:
    _DF.update(set(_toks(_d["title"] + " " + _d["description"])))


def q_known(q):
    return " ".join(t for t in _toks(q) if t in _DF)


def q_known_idf(q):
    toks = [t for t in dict.fromkeys(_toks(q)) if t in _DF]
    return " ".join(sorted(toks, key=lambda t: _DF[t]))


EXPERIMENTS.update(
    {
        "known_freq": {
            "settings": BASE,
            "doc": doc_t2s,
            "query": q_known,
            "params": {"matchingStrategy": "frequency"},
        },
        "known_idf_last": {
            "settings": BASE,
            "doc": doc_t2s,
            "query": q_known_idf,
            "params": {"matchingStrategy": "last"},
        },
    }
)

import hashlib as _hashlib
import math as _math

import jieba.analyse as _ja

_IDF = _ja.default_tfidf.idf_freq
_MED = _ja.default_tfidf.median_idf


def _vec(tokens, dims, tf="log", k=1.2):
    v = [0.0] * dims
    counts = _Counter(tokens)
    for t, c in counts.items():
        h = int.from_bytes(_hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
        f = (1 + _math.log(c)) if tf == "log" else (c * (k + 1) / (c + k)) if tf == "sat" else 1.0
        w = f * _IDF.get(t, _MED)
        v[h % dims] += w if (h >> 63) & 1 else -w
    n = _math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


def _tok_precise(text):
    return [t.lower() for t in _jieba.cut(_t2s.convert(text)) if _WORD.search(t)]


def make_hybrid(dims, ratio, tok=_toks, strategy="last", tf="log", title=2, qtok=None):
    qtok = qtok or tok
    settings = {**BASE, "embedders": {"lex": {"source": "userProvided", "dimensions": dims}}}

    def doc(d):
        d = doc_t2s(d)
        toks = tok(d["title"]) * title + tok(d["description"])
        return {**d, "_vectors": {"lex": _vec(toks, dims, tf)}}

    state = {}

    def query(q):
        state["vector"] = _vec(qtok(q), dims, "bin")
        return _t2s.convert(q)

    def params():
        return {
            "hybrid": {"embedder": "lex", "semanticRatio": ratio},
            "vector": state["vector"],
            "matchingStrategy": strategy,
        }

    return {"settings": settings, "doc": doc, "query": query, "params": params}


for _dims in (256, 1024):
    for _ratio in (0.5, 0.8, 1.0):
        EXPERIMENTS[f"hybrid_s_{_dims}_{_ratio}"] = make_hybrid(_dims, _ratio)
EXPERIMENTS["hybrid_p_1024_0.5"] = make_hybrid(1024, 0.5, _tok_precise)
EXPERIMENTS["hybrid_p_1024_0.8"] = make_hybrid(1024, 0.8, _tok_precise)

EXPERIMENTS["h_r03"] = make_hybrid(1024, 0.3)
EXPERIMENTS["h_r07"] = make_hybrid(1024, 0.7)
EXPERIMENTS["h_sat"] = make_hybrid(1024, 0.5, tf="sat")
EXPERIMENTS["h_bin"] = make_hybrid(1024, 0.5, tf="bin")
EXPERIMENTS["h_t1"] = make_hybrid(1024, 0.5, title=1)
EXPERIMENTS["h_t4"] = make_hybrid(1024, 0.5, title=4)
EXPERIMENTS["h_2048"] = make_hybrid(2048, 0.5)


def _bm25vec(tokens, dims, k=1.2, b=0.75, avgdl=150.0, K=60.0):
    v = [0.0] * (dims - 1)
    counts = _Counter(tokens)
    norm = k * (1 - b + b * len(tokens) / avgdl)
    for t, c in counts.items():
        h = int.from_bytes(_hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
        w = _IDF.get(t, _MED) * c * (k + 1) / (c + norm)
        v[h % (dims - 1)] += w
    n = _math.sqrt(sum(x * x for x in v))
    scale = max(K, n)
    v = [x / scale for x in v]
    return v + [_math.sqrt(max(0.0, 1 - (n / scale) ** 2))]


def _qvec(tokens, dims):
    v = [0.0] * dims
    for t in set(tokens):
        h = int.from_bytes(_hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
        v[h % (dims - 1)] = 1.0
    return v


def make_bm25(dims, ratio, tok=_toks, title=2, K=60.0, b=0.75, avgdl=150.0, strategy="last"):
    settings = {**BASE, "embedders": {"lex": {"source": "userProvided", "dimensions": dims}}}

    def doc(d):
        d = doc_t2s(d)
        toks = tok(d["title"]) * title + tok(d["description"])
        return {**d, "_vectors": {"lex": _bm25vec(toks, dims, K=K, b=b, avgdl=avgdl)}}

    state = {}

    def query(q):
        state["vector"] = _qvec(tok(q), dims)
        return _t2s.convert(q)

    def params():
        return {
            "hybrid": {"embedder": "lex", "semanticRatio": ratio},
            "vector": state["vector"],
            "matchingStrategy": strategy,
        }

    return {"settings": settings, "doc": doc, "query": query, "params": params}


EXPERIMENTS["b_05"] = make_bm25(2048, 0.5)
EXPERIMENTS["b_08"] = make_bm25(2048, 0.8)
EXPERIMENTS["b_10"] = make_bm25(2048, 1.0)
EXPERIMENTS["b_05_K30"] = make_bm25(2048, 0.5, K=30)
EXPERIMENTS["b_05_K120"] = make_bm25(2048, 0.5, K=120)
EXPERIMENTS["b_10_K150"] = make_bm25(2048, 1.0, K=150)
EXPERIMENTS["b_03_K150"] = make_bm25(2048, 0.3, K=150)
EXPERIMENTS["b_05_K150_t1"] = make_bm25(2048, 0.5, K=150, title=1)
EXPERIMENTS["b_05_K150_p"] = make_bm25(2048, 0.5, K=150, tok=_tok_precise)


def _tfvec(tokens, dims, k=1.2, b=0.75, avgdl=150.0, K=20.0):
    v = [0.0] * (dims - 1)
    counts = _Counter(tokens)
    norm = k * (1 - b + b * len(tokens) / avgdl)
    for t, c in counts.items():
        h = int.from_bytes(_hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
        v[h % (dims - 1)] += c * (k + 1) / (c + norm)
    n = _math.sqrt(sum(x * x for x in v))
    scale = max(K, n)
    return [x / scale for x in v] + [_math.sqrt(max(0.0, 1 - (n / scale) ** 2))]


_N = len(_DOCS)


def _cidf(t):
    df = _DF.get(t, 0)
    return _math.log((_N - df + 0.5) / (df + 0.5) + 1)


def _qvec_idf(tokens, dims):
    v = [0.0] * dims
    for t in set(tokens):
        h = int.from_bytes(_hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
        v[h % (dims - 1)] += _cidf(t)
    return v


def make_cbm25(dims, ratio, tok=_toks, title=2, K=20.0, strategy="last"):
    settings = {**BASE, "embedders": {"lex": {"source": "userProvided", "dimensions": dims}}}

    def doc(d):
        d = doc_t2s(d)
        toks = tok(d["title"]) * title + tok(d["description"])
        return {**d, "_vectors": {"lex": _tfvec(toks, dims, K=K)}}

    state = {}

    def query(q):
        state["vector"] = _qvec_idf(tok(q), dims)
        return _t2s.convert(q)

    def params():
        return {
            "hybrid": {"embedder": "lex", "semanticRatio": ratio},
            "vector": state["vector"],
            "matchingStrategy": strategy,
        }

    return {"settings": settings, "doc": doc, "query": query, "params": params}


EXPERIMENTS["c_10"] = make_cbm25(2048, 1.0)
EXPERIMENTS["c_05"] = make_cbm25(2048, 0.5)
EXPERIMENTS["c_07"] = make_cbm25(2048, 0.7)


def _h(t):
    return int.from_bytes(_hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")


def _stfvec(tokens, dims, k=1.2, b=0.75, avgdl=150.0, K=20.0):
    v = [0.0] * (dims - 1)
    counts = _Counter(tokens)
    norm = k * (1 - b + b * len(tokens) / avgdl)
    for t, c in counts.items():
        h = _h(t)
        w = c * (k + 1) / (c + norm)
        v[h % (dims - 1)] += w if (h >> 63) & 1 else -w
    n = _math.sqrt(sum(x * x for x in v))
    scale = max(K, n)
    return [x / scale for x in v] + [_math.sqrt(max(0.0, 1 - (n / scale) ** 2))]


def _sqvec(tokens, dims, idf):
    v = [0.0] * dims
    for t in set(tokens):
        h = _h(t)
        w = idf(t)
        v[h % (dims - 1)] += w if (h >> 63) & 1 else -w
    return v


def _jidf(t):
    return _IDF.get(t, _MED)


def make_s(dims, ratio, tok=_toks, title=2, idf=_cidf, strategy="last"):
    settings = {**BASE, "embedders": {"lex": {"source": "userProvided", "dimensions": dims}}}

    def doc(d):
        d = doc_t2s(d)
        toks = tok(d["title"]) * title + tok(d["description"])
        return {**d, "_vectors": {"lex": _stfvec(toks, dims)}}

    state = {}

    def query(q):
        state["vector"] = _sqvec(tok(q), dims, idf)
        return _t2s.convert(q)

    def params():
        return {
            "hybrid": {"embedder": "lex", "semanticRatio": ratio},
            "vector": state["vector"],
            "matchingStrategy": strategy,
        }

    return {"settings": settings, "doc": doc, "query": query, "params": params}


EXPERIMENTS["s_10_2k"] = make_s(2048, 1.0)
EXPERIMENTS["s_05_2k"] = make_s(2048, 0.5)
EXPERIMENTS["s_10_4k"] = make_s(4096, 1.0)
EXPERIMENTS["s_05_4k"] = make_s(4096, 0.5)
EXPERIMENTS["s_10_2k_p"] = make_s(2048, 1.0, tok=_tok_precise)
EXPERIMENTS["s_10_2k_j"] = make_s(2048, 1.0, idf=_jidf)

_CJK = _re.compile(r"[\u4e00-\u9fff]+")


def _bigrams(text):
    out = []
    for run in _CJK.findall(_t2s.convert(text)):
        out.extend(run[i : i + 2] + "\u0001" for i in range(len(run) - 1))
    return out


def _toks_bi(text):
    return _toks(text) + _bigrams(text)


def _wordpairs(text):
    out = []
    for part in _t2s.convert(text).split():
        ws = [t.lower() for t in _jieba.cut(part) if _WORD.search(t)]
        out.extend(a + "\u0002" + b for a, b in zip(ws, ws[1:]))
    return out


def _toks_pairs(text):
    return _toks(text) + _wordpairs(text)


for _d in _DOCS:
    _DF.update(set(_bigrams(_d["title"] + " " + _d["description"])))
    _DF.update(set(_wordpairs(_d["title"] + " " + _d["description"])))

EXPERIMENTS["s_10_2k_bi"] = make_s(2048, 1.0, tok=_toks_bi)
EXPERIMENTS["s_05_2k_bi"] = make_s(2048, 0.5, tok=_toks_bi)
EXPERIMENTS["s_10_2k_pairs"] = make_s(2048, 1.0, tok=_toks_pairs)
EXPERIMENTS["s_05_2k_pairs"] = make_s(2048, 0.5, tok=_toks_pairs)
EXPERIMENTS["s_05_2k_bi_j"] = make_s(2048, 0.5, tok=_toks_bi, idf=_jidf)
EXPERIMENTS["s_07_2k_bi_j"] = make_s(2048, 0.7, tok=_toks_bi, idf=_jidf)


def make_s2(ratio=0.5, k=1.2, b=0.75, title=2, strategy="last", dims=2048, tok=_toks_bi, idf=_jidf):
    settings = {**BASE, "embedders": {"lex": {"source": "userProvided", "dimensions": dims}}}

    def doc(d):
        d = doc_t2s(d)
        toks = tok(d["title"]) * title + tok(d["description"])
        return {**d, "_vectors": {"lex": _stfvec(toks, dims, k=k, b=b)}}

    state = {}

    def query(q):
        state["vector"] = _sqvec(tok(q), dims, idf)
        return _t2s.convert(q)

    def params():
        return {
            "hybrid": {"embedder": "lex", "semanticRatio": ratio},
            "vector": state["vector"],
            "matchingStrategy": strategy,
        }

    return {"settings": settings, "doc": doc, "query": query, "params": params}


EXPERIMENTS["k2"] = make_s2(k=2.0)
EXPERIMENTS["k3"] = make_s2(k=3.0)
EXPERIMENTS["k2_t3"] = make_s2(k=2.0, title=3)
EXPERIMENTS["all"] = make_s2(strategy="all")
EXPERIMENTS["b05"] = make_s2(b=0.5)


def make_s3(ratio=0.5, K=20.0, title=2, title_ns=0.0, dims=2048):
    settings = {**BASE, "embedders": {"lex": {"source": "userProvided", "dimensions": dims}}}

    def doc(d):
        d = doc_t2s(d)
        tt = _toks_bi(d["title"])
        toks = tt * title + _toks_bi(d["description"])
        if title_ns:
            toks += ["\x03" + t for t in tt]
        return {**d, "_vectors": {"lex": _stfvec(toks, dims, K=K)}}

    state = {}

    def query(q):
        qt = _toks_bi(q)
        v = _sqvec(qt, dims, _jidf)
        if title_ns:
            w = _sqvec(["\x03" + t for t in qt], dims, lambda t: title_ns * _jidf(t[1:]))
            v = [a + b for a, b in zip(v, w)]
        state["vector"] = v
        return _t2s.convert(q)

    def params():
        return {"hybrid": {"embedder": "lex", "semanticRatio": ratio}, "vector": state["vector"]}

    return {"settings": settings, "doc": doc, "query": query, "params": params}


EXPERIMENTS["K8"] = make_s3(K=8.0)
EXPERIMENTS["K12"] = make_s3(K=12.0)
EXPERIMENTS["tns05"] = make_s3(title_ns=0.5, title=1)
EXPERIMENTS["tns1"] = make_s3(title_ns=1.0, title=1)
EXPERIMENTS["tns05_t2"] = make_s3(title_ns=0.5, title=2)
