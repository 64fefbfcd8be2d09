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


# --- 2026-11-23: the shipped design, built from the service's own modules, and variants of it ---
import sys as _sys

_sys.path.insert(0, str(_Path(__file__).resolve().parents[2]))

from search import lexical as _lex
from search.normalize import normalize as _simp

_SHIP_SETTINGS = {
    "searchableAttributes": ["title", "description"],
    "localizedAttributes": [{"attributePatterns": ["*"], "locales": ["cmn"]}],
    "proximityPrecision": "byWord",
    "typoTolerance": {"enabled": True, "disableOnNumbers": True},
}


def make_ship(
    doc_vector=None,
    query_vector=None,
    dims=None,
    ratio=0.5,
    strategy="all",
    settings=None,
    query_text=None,
    hybrid=True,
):
    """The service's search: documents and queries through search/, one hybrid query each.
    Each hook defaults to the shipped function; variants replace one of them."""
    doc_vector = doc_vector or _lex.document_vector
    query_vector = query_vector or _lex.query_vector
    dims = dims or _lex.DIMENSIONS
    base = {**_SHIP_SETTINGS, **(settings or {})}
    if hybrid:
        base["embedders"] = {"lex": {"source": "userProvided", "dimensions": dims}}

    def doc(d):
        d = {**d, "title": _simp(d["title"]), "description": _simp(d["description"])}
        if hybrid:
            d["_vectors"] = {"lex": doc_vector(d["title"], ["", d["description"], ""])}
        return d

    state = {}

    def query(q):
        n = _simp(q.strip())
        state["vector"] = query_vector(n) if hybrid else None
        return query_text(n) if query_text else n

    def params():
        p = {"locales": ["cmn"], "matchingStrategy": strategy}
        if state.get("vector") is not None:
            p |= {"hybrid": {"embedder": "lex", "semanticRatio": ratio}, "vector": state["vector"]}
        return p

    return {"settings": base, "doc": doc, "query": query, "params": params}


EXPERIMENTS["ship"] = make_ship()
EXPERIMENTS["ship_kw_last"] = make_ship(hybrid=False, strategy="last")
EXPERIMENTS["ship_kw_freq"] = make_ship(hybrid=False, strategy="frequency")


# Variants of the lexical vector: the tokenizer, per-keyword query weights, bigram IDF, dimensions.
from search import normalize as _norm


def _tok_variant(mode):
    """search: the shipped tokens (jieba search mode + CJK bigrams); precise: jieba's default cut
    + bigrams; bigram: CJK bigrams + Latin/digit words only (no jieba at all)."""

    def tok(text):
        if mode == "search":
            out = [t.lower() for t in _jieba.cut_for_search(text) if _WORD.search(t)]
        elif mode == "precise":
            out = [t.lower() for t in _jieba.cut(text) if _WORD.search(t)]
        else:
            out = [t.lower() for t in _re.findall(r"[^\W\u3400-\u9fff]+", text)]
        for run in _norm._CJK_RUN.findall(text):
            out.extend(run[i : i + 2] + _norm.BIGRAM_MARK for i in range(len(run) - 1))
        return out

    return tok


def _hs(term, salt=b""):
    """The 64-bit hash of a token; a salt gives an independent hash function (to measure how much
    of a figure is the luck of one hash's collisions)."""
    return int.from_bytes(_hashlib.blake2b(term.encode(), digest_size=8, key=salt).digest(), "little")


def _lex_doc(tok, dims, scale=20.0, title=2, k1=1.2, b=0.75, avg=150.0, salt=b""):
    def vec(title_text, body):
        terms = tok(title_text) * title
        for text in body:
            terms.extend(tok(text))
        v = [0.0] * dims
        if not terms:
            v[-1] = 1.0
            return v
        norm = k1 * (1 - b + b * len(terms) / avg)
        for term, count in _Counter(terms).items():
            h = _hs(term, salt)
            v[h % (dims - 1)] += (1.0 if h >> 63 else -1.0) * count * (k1 + 1) / (count + norm)
        length = _math.sqrt(sum(x * x for x in v))
        s = max(scale, length)
        v = [round(x / s, 5) for x in v]
        v[-1] = round(_math.sqrt(max(0.0, 1 - (length / s) ** 2)), 5)
        return v

    return vec


def _idf_word(term):
    """jieba's IDF; a bigram gets the IDF of the same two characters as a word (else the median)."""
    if term.endswith(_norm.BIGRAM_MARK):
        term = term[:-1]
    return _IDF.get(term, _MED)


def _lex_query(tok, dims, alpha=0.0, idf=_idf_word, grouped=True, salt=b""):
    """Each whitespace-separated keyword's tokens weighted idf / n_tokens(keyword)**alpha."""

    def vec(q):
        w = _Counter()
        parts = q.split() if grouped else [q]
        for part in parts:
            ts = set(tok(part))
            for t in ts:
                w[t] += idf(t) / (len(ts) ** alpha)
        if not w:
            return None
        v = [0.0] * dims
        for t, x in w.items():
            h = _hs(t, salt)
            v[h % (dims - 1)] += (1.0 if h >> 63 else -1.0) * x
        return [int(x * 100) for x in v]

    return vec


def make_lex(
    mode="search",
    dims=2048,
    alpha=0.75,
    idf=_idf_word,
    ratio=0.5,
    strategy="all",
    salt=b"",
    grouped=True,
    **doc_kw,
):
    tok = _tok_variant(mode)
    return make_ship(
        doc_vector=_lex_doc(tok, dims, salt=salt, **doc_kw),
        query_vector=_lex_query(tok, dims, alpha, idf, grouped=grouped, salt=salt),
        dims=dims,
        ratio=ratio,
        strategy=strategy,
    )


def _idf_median_bigram(term):
    return _MED if term.endswith(_norm.BIGRAM_MARK) else _IDF.get(term, _MED)


EXPERIMENTS["lex_ship_check"] = make_lex("search", alpha=0.0, idf=_idf_median_bigram)
EXPERIMENTS["lex_search_a075"] = make_lex("search")
EXPERIMENTS["lex_precise_a075"] = make_lex("precise")
EXPERIMENTS["lex_bigram_a075"] = make_lex("bigram")
EXPERIMENTS["lex_precise_a05"] = make_lex("precise", alpha=0.5)


def _phrases(q):
    """Each whitespace-separated keyword as a Meilisearch phrase (contiguous match)."""
    return " ".join('"' + k.replace('"', "") + '"' for k in q.split())


def make_lex_q(mode="precise", dims=2048, alpha=0.5, ratio=0.5, strategy="all", query_text=None, **doc_kw):
    tok = _tok_variant(mode)
    return make_ship(
        doc_vector=_lex_doc(tok, dims, **doc_kw),
        query_vector=_lex_query(tok, dims, alpha),
        dims=dims,
        ratio=ratio,
        strategy=strategy,
        query_text=query_text,
    )


EXPERIMENTS["phr_all"] = make_lex_q(query_text=_phrases)
EXPERIMENTS["phr_last"] = make_lex_q(query_text=_phrases, strategy="last")
EXPERIMENTS["phr_freq"] = make_lex_q(query_text=_phrases, strategy="frequency")
EXPERIMENTS["pre_a05_last"] = make_lex_q(strategy="last")
EXPERIMENTS["pre_a05_freq"] = make_lex_q(strategy="frequency")
EXPERIMENTS["pre_a05_r03"] = make_lex_q(ratio=0.3)
EXPERIMENTS["pre_a05_r07"] = make_lex_q(ratio=0.7)


# Hash luck: the same designs under independent hash functions (salts).
for _salt in (b"a", b"b", b"c"):
    _s = _salt.decode()
    EXPERIMENTS[f"old_design_salt_{_s}"] = make_lex(
        "search", alpha=0.0, idf=_idf_median_bigram, grouped=False, salt=_salt
    )
    EXPERIMENTS[f"precise_a05_salt_{_s}"] = make_lex("precise", alpha=0.5, salt=_salt)
EXPERIMENTS["precise_a05"] = make_lex("precise", alpha=0.5)
EXPERIMENTS["kw_phrases_freq"] = make_ship(hybrid=False, strategy="frequency", query_text=_phrases)
EXPERIMENTS["precise_a05_1024"] = make_lex("precise", alpha=0.5, dims=1024)
EXPERIMENTS["precise_a05_4096"] = make_lex("precise", alpha=0.5, dims=4096)
EXPERIMENTS["precise_a05_4096_salt_a"] = make_lex("precise", alpha=0.5, dims=4096, salt=b"a")
# An index built before the change (search-mode tokens), asked with the new query vectors: what an
# existing deployment serves until `techex reindex`.
EXPERIMENTS["old_docs_new_queries"] = make_ship(doc_vector=_lex_doc(_tok_variant("search"), 2048))
# The design before 2026-11-23 exactly (search-mode tokens, plain IDF, bigrams at the median IDF).
EXPERIMENTS["old_design"] = make_lex("search", alpha=0.0, idf=_idf_median_bigram, grouped=False)
# Ranking-rule orders for the keyword side of the shipped hybrid query (shipped: search/settings.py).
EXPERIMENTS["rules_proximity_first"] = make_ship(
    settings={"rankingRules": ["words", "proximity", "typo", "attribute", "sort", "exactness"]}
)
EXPERIMENTS["rules_no_typo"] = make_ship(
    settings={"rankingRules": ["words", "proximity", "attribute", "sort", "exactness"]}
)
EXPERIMENTS["rules_exactness_early"] = make_ship(
    settings={"rankingRules": ["words", "exactness", "proximity", "attribute", "typo", "sort"]}
)
EXPERIMENTS["rules_words_proximity"] = make_ship(settings={"rankingRules": ["words", "proximity", "sort"]})
