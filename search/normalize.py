"""Text normalisation shared by what is indexed and what is asked (docs/search.md).

* Width and compatibility forms: Unicode NFKC, so that ＡＩ and ５Ｇ (Chinese input methods type
  letters and digits in full width) find AI and 5G and back — neither Meilisearch nor jieba folds
  them — and CO₂ finds CO2.
* Script: OpenCC `t2s` turns traditional characters into simplified ones on both sides, so that
  電力電子 finds 电力电子 and back. Regional vocabulary (人工智慧 vs 人工智能) is not a script
  difference; the synonym dictionary (search/synonyms.json) covers it.
* Tokens for the lexical vector (search/lexical.py): jieba's words (its default, "precise" cut) of
  the normalised text plus CJK character bigrams, lower-cased, punctuation dropped. Bigrams make a
  keyword match even when jieba cuts the query and the abstract differently. (The search-mode cut,
  which adds the sub-words of long words, measured worse and costs more: docs/search.md.)
* Prefixes: Meilisearch matches a query's last word as a prefix too (search as you type); asked
  with `keyword_query`, only a Chinese last word is.
"""

import re
import unicodedata
from functools import lru_cache

import jieba
import opencc

jieba.setLogLevel(60)

_t2s = opencc.OpenCC("t2s")
_WORD = re.compile(r"\w", re.UNICODE)
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
BIGRAM_MARK = "\u0001"  # keeps the bigram 数据 apart from the word 数据 in the hash space


def normalize(text: str) -> str:
    """What is indexed and what is asked, alike: NFKC, then traditional → simplified script."""
    return _t2s.convert(unicodedata.normalize("NFKC", text)) if text else text


def keyword_query(normalised: str) -> str:
    """Meilisearch's `q` for a query: a Latin last word — an abbreviation or an English term, typed
    whole — is followed by a space, which makes Meilisearch match it whole rather than as a prefix
    (AI listed papers on AIDS). A Chinese last word keeps its prefix: 锂 or 氢 typed alone stands
    for the words it begins (锂离子, 氢能), as jieba cuts them. A prefix of the last word only made
    results depend on the words' order, too (电池 AI, AI 电池)."""
    return normalised + " " if normalised[-1:].isascii() and normalised[-1:].isalnum() else normalised


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Load jieba's dictionary now rather than on the first search (about a second)."""
    jieba.initialize()


def tokens(normalised: str) -> list[str]:
    """Words and CJK bigrams of already simplified text."""
    words = [token.lower() for token in jieba.cut(normalised) if _WORD.search(token)]
    for run in _CJK_RUN.findall(normalised):
        words.extend(run[i : i + 2] + BIGRAM_MARK for i in range(len(run) - 1))
    return words
