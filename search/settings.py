"""Index settings as code: one index per kind of listing, the same settings for all four, applied
idempotently at start-up and by `techex search-setup` (docs/search.md explains each choice)."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from search import lexical
from search.normalize import normalize

KINDS = ("achievement", "demand", "expert", "agency")
SYNONYMS_FILE = Path(__file__).with_name("synonyms.json")
STOP_WORDS_FILE = Path(__file__).with_name("stopwords.json")

# Searched in this order: a match in the title outranks one in keywords, then the body.
SEARCHABLE = ["title", "keywords", "description", "details", "organization"]
FILTERABLE = [
    "id",
    "type",
    "field",
    "regions",
    "maturity",
    "transfer_modes",
    "asking_price",
    "cooperation_modes",
    "budget_max",
    "services",
    "service_kinds",
    "published_at",
]
SORTABLE = ["published_at", "asking_price"]  # the orders of GET /api/v1/search (app/matching/search.SORTS)
FACETS = ["type", "field", "region_province", "maturity", "transfer_modes"]
DISPLAYED = ["*"]
# Meilisearch's default order, measured against variants in docs/search.md, except that `sort`
# comes first: a search that asks for an order (newest, price) gets it strictly, not only among
# equally relevant hits; a search that does not ask is ranked exactly as before (the rule is idle).
RANKING_RULES = ["sort", "words", "typo", "proximity", "attribute", "exactness"]


def index_name(prefix: str, kind: str) -> str:
    return f"{prefix}_{kind}"


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[str]]:
    """Each term of a group → the other terms of its group, all normalised like indexed text."""
    groups = json.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))["groups"]
    mapping: dict[str, list[str]] = {}
    for group in groups:
        terms = list(dict.fromkeys(normalize(term).lower() for term in group))
        for term in terms:
            others = [other for other in terms if other != term]
            mapping.setdefault(term, [])
            mapping[term].extend(other for other in others if other not in mapping[term])
    return mapping


@lru_cache(maxsize=1)
def stop_words() -> list[str]:
    words = json.loads(STOP_WORDS_FILE.read_text(encoding="utf-8"))["words"]
    return sorted({normalize(word).lower() for word in words})


def index_settings() -> dict[str, Any]:
    return {
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": sorted(set(FILTERABLE) | {"region_province"}),
        "sortableAttributes": SORTABLE,
        "displayedAttributes": DISPLAYED,
        "rankingRules": RANKING_RULES,
        "synonyms": synonyms(),
        "stopWords": stop_words(),
        # Chinese text is short words: Meilisearch's typo budget (1 typo from 5 characters) would
        # only ever apply to Latin terms, where it stays useful; kept on, numbers exempt.
        "typoTolerance": {"enabled": True, "disableOnNumbers": True},
        # Query language detection misreads short Chinese queries as Japanese; pin Chinese.
        "localizedAttributes": [{"attributePatterns": ["*"], "locales": ["cmn"]}],
        "proximityPrecision": "byWord",
        "faceting": {"maxValuesPerFacet": 100},
        "pagination": {"maxTotalHits": 1000},
        "embedders": {lexical.EMBEDDER: {"source": "userProvided", "dimensions": lexical.DIMENSIONS}},
        # The API never asks for facet values by prefix; keeping that index cost each task ≈15 ms.
        "facetSearch": False,
    }
