"""The lexical vector's weights (search/lexical.py; measured in docs/search.md). Pure functions."""

import math

import pytest

from search import lexical
from search.normalize import BIGRAM_MARK, tokens


def test_a_bigram_weighs_what_the_word_of_its_two_characters_weighs() -> None:
    assert lexical.idf("分析" + BIGRAM_MARK) == lexical.idf("分析")
    assert lexical.idf("分析") < lexical.idf("色谱")  # jieba's table: a common word weighs less
    assert lexical.idf("疫分" + BIGRAM_MARK) == lexical.idf("no-such-token")  # the median


def test_each_keyword_is_weighed_by_the_square_root_of_its_number_of_tokens() -> None:
    weights = lexical.query_weights("合成孔径雷达 干涉")
    long, short = set(tokens("合成孔径雷达")), set(tokens("干涉"))
    assert long.isdisjoint(short) and len(long) > len(short)
    for keyword in (long, short):
        for term in keyword:
            assert weights[term] == pytest.approx(lexical.idf(term) / math.sqrt(len(keyword)))
    # A whole text (matches) is not keywords: plain IDF per distinct token.
    plain = lexical.query_weights("合成孔径雷达 干涉", keywords=False)
    assert plain == {term: lexical.idf(term) for term in long | short}


def test_vectors() -> None:
    document = lexical.document_vector("合成孔径雷达干涉测量", ["", "星载干涉SAR复图像配准", ""])
    assert len(document) == lexical.DIMENSIONS
    assert math.sqrt(sum(x * x for x in document)) == pytest.approx(1.0, abs=1e-3)
    query = lexical.query_vector("干涉 sar")
    assert query is not None and len(query) == lexical.DIMENSIONS
    assert sum(q * d for q, d in zip(query, document, strict=True)) > 0
    assert lexical.query_vector("，。!") is None
