"""The lexical vector: BM25 scoring computed by Meilisearch's vector store (docs/search.md).

Meilisearch ranks keyword matches by rules (matched words, proximity, attribute, exactness) and
has no term weighting: a query keyword missing from the abstract, or a common word matching
everywhere, pushes the right paper down. We add a userProvided embedder whose vectors make the
cosine similarity equal to a BM25 score:

* document: for each token, the BM25 term-frequency part tf·(k1+1)/(tf+k1·(1−b+b·len/avglen)),
  feature-hashed with a sign into DIMENSIONS−1 slots, divided by a constant SCALE, and a last
  slot that brings the vector to unit length (so cosine = dot product, no length renormalisation);
* query: for each distinct token its IDF (jieba's general-purpose IDF table; static, so no corpus
  statistics to keep in step; a CJK bigram gets the IDF of the same two characters as a word),
  hashed the same way, last slot 0. A search query is the keywords a user typed: each
  whitespace-separated keyword's tokens are divided by √(its number of tokens), so that a long
  keyword (合成孔径雷达: a word and five bigrams) does not outweigh a short one (干涉) by its length
  alone.

cosine(q, d) = Σ w(t)·tfpart(t, d) / (|q|·SCALE) — BM25 up to a per-query constant, plus hash
noise. One hybrid search then fuses it with Meilisearch's own ranking: still one request.
"""

import hashlib
import math
from collections import Counter
from collections.abc import Iterable

import jieba.analyse

from search.normalize import BIGRAM_MARK, tokens

DIMENSIONS = 2048
EMBEDDER = "lex"
K1 = 1.2
B = 0.75
AVERAGE_LENGTH = 150.0  # tokens in a typical title + abstract
SCALE = 20.0  # above the norm of the tf-part of nearly every document; larger ones are scaled down
TITLE_WEIGHT = 2

_IDF = jieba.analyse.default_tfidf.idf_freq
_MEDIAN_IDF = jieba.analyse.default_tfidf.median_idf


def _slot(token: str) -> tuple[int, float]:
    h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
    return h % (DIMENSIONS - 1), 1.0 if h >> 63 else -1.0


def document_vector(title: str, body: Iterable[str]) -> list[float]:
    """The vector of normalised title and body texts."""
    terms = tokens(title) * TITLE_WEIGHT
    for text in body:
        terms.extend(tokens(text))
    vector = [0.0] * DIMENSIONS
    if not terms:
        vector[-1] = 1.0
        return vector
    norm_length = K1 * (1 - B + B * len(terms) / AVERAGE_LENGTH)
    for term, count in Counter(terms).items():
        slot, sign = _slot(term)
        vector[slot] += sign * count * (K1 + 1) / (count + norm_length)
    length = math.sqrt(sum(x * x for x in vector))
    scale = max(SCALE, length)
    vector = [round(x / scale, 5) for x in vector]
    vector[-1] = round(math.sqrt(max(0.0, 1 - (length / scale) ** 2)), 5)
    return vector


def idf(term: str) -> float:
    """jieba's IDF of a token; a bigram (search/normalize.py) is looked up as the word of its two
    characters, so 分析 as a bigram weighs what the word 分析 weighs; unknown tokens get the median."""
    return _IDF.get(term.removesuffix(BIGRAM_MARK), _MEDIAN_IDF)


def query_weights(normalised_query: str, *, keywords: bool = True) -> dict[str, float]:
    """Token → weight. keywords=True (a typed search): each whitespace-separated keyword's tokens
    weigh idf / √(number of tokens of that keyword), a token shared by two keywords adds up.
    keywords=False (a listing's whole text, app/matching/matches.py): plain IDF per distinct token."""
    weights: dict[str, float] = {}
    for part in normalised_query.split() if keywords else [normalised_query]:
        terms = set(tokens(part))
        for term in terms:
            weights[term] = weights.get(term, 0.0) + idf(term) / (math.sqrt(len(terms)) if keywords else 1.0)
    return weights


def query_vector(normalised_query: str, *, keywords: bool = True) -> list[int] | None:
    """The query's vector, or None when it has no searchable token (then keyword search alone).
    Cosine ignores the query's scale, so weight·100 as integers: a third of the JSON of floats."""
    weights = query_weights(normalised_query, keywords=keywords)
    if not weights:
        return None
    slots: dict[int, float] = {}
    for term, weight in weights.items():
        slot, sign = _slot(term)
        slots[slot] = slots.get(slot, 0.0) + sign * weight
    vector = [0] * DIMENSIONS
    for slot, weight in slots.items():
        vector[slot] = int(weight * 100)
    return vector
