"""Search across the four kinds: one multi-search request to Meilisearch, each kind's query hybrid
(keyword ranking fused with the lexical BM25 vector, search/lexical.py), the kinds' hits merged here."""

import html
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.core.errors import ServiceUnavailable
from app.matching.schemas import SearchFilters, SearchHit, SearchOrder, SearchResult
from search import lexical
from search.engine import Engine, SearchUnavailable
from search.normalize import keyword_query, normalize
from search.settings import FACETS, KINDS

SEMANTIC_RATIO = 0.5  # docs/search.md: the best of the ratios measured

# A document sharing no term with the query still gets a vector score of about 0.5 (cosine 0),
# and up to ~0.54 where one of its tokens shares the query token's hash slot; such hits are dropped.
MIN_SCORE = 0.51
ACHIEVEMENT_ONLY = ("maturity_min", "transfer_mode", "price_max")
# An explicit order: Meilisearch's sort within each kind, and the same key merging the kinds here.
# Unpriced (面议) achievements come last either way, as Meilisearch puts documents without the field.
SORTS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "newest": ("published_at:desc", lambda hit: -(hit.get("published_at") or 0)),
    "price_asc": (
        "asking_price:asc",
        lambda hit: (hit.get("asking_price") is None, hit.get("asking_price") or 0),
    ),
    "price_desc": (
        "asking_price:desc",
        lambda hit: (hit.get("asking_price") is None, -(hit.get("asking_price") or 0)),
    ),
}
RETRIEVE = ["id", "type", "display_title", "field", "region_code", "maturity", "asking_price", "published_at"]
# Meilisearch marks matched words with these; listing text cannot hold them (app/core/types.SafeText
# refuses Unicode's noncharacters), so the text around them is escaped and they become <em> here.
MARK, END = "\ufdd0", "\ufdd1"


def unavailable(exc: Exception | None = None) -> ServiceUnavailable:
    return ServiceUnavailable(
        code="search_unavailable",
        message_en="Search is temporarily unavailable; try again shortly.",
        message_zh="搜索服务暂不可用，请稍后再试。",
        headers={"Retry-After": "5"},
    )


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(filters: SearchFilters) -> list[str]:
    clauses = []
    if filters.field is not None:
        clauses.append(f"field = {_quote(filters.field.value)}")
    if filters.region is not None:
        clauses.append(f"regions = {_quote(filters.region)}")
    if filters.maturity_min is not None:
        clauses.append(f"maturity >= {filters.maturity_min}")
    if filters.transfer_mode is not None:
        clauses.append(f"transfer_modes = {_quote(filters.transfer_mode.value)}")
    if filters.price_max is not None:
        clauses.append(f"asking_price <= {filters.price_max}")
    return clauses


def kinds_for(types: Sequence[str], filters: SearchFilters, sort: SearchOrder = "relevance") -> list[str]:
    kinds = [kind for kind in KINDS if not types or kind in types]
    if sort.startswith("price_") or any(getattr(filters, name) is not None for name in ACHIEVEMENT_ONLY):
        kinds = [kind for kind in kinds if kind == "achievement"]
    return kinds


def kind_query(
    engine: Engine, kind: str, q: str, vector: list[float] | None, filters: list[str]
) -> dict[str, Any]:
    query: dict[str, Any] = {
        "indexUid": engine.index(kind),
        "q": q,
        "filter": filters,
        "attributesToRetrieve": RETRIEVE,
        "attributesToHighlight": ["title", "description"],
        "attributesToCrop": ["description"],
        "cropLength": 40,
        "highlightPreTag": MARK,
        "highlightPostTag": END,
        "locales": ["cmn"],
    }
    if vector is not None:
        query["hybrid"] = {"embedder": lexical.EMBEDDER, "semanticRatio": SEMANTIC_RATIO}
        query["vector"] = vector
        # With the vector side finding partial matches, the keyword side does best asking for
        # every word (docs/search.md: two keywords 0.952 → 0.956).
        query["matchingStrategy"] = "all"
        query["showMatchesPosition"] = True  # for `shares_a_word`
        query["showRankingScoreDetails"] = True  # for `from_keyword_side`
    return query


def only(ids: Sequence[str]) -> str:
    """The filter restricting a search to these listings (ids are UUIDs: nothing to escape)."""
    return "id IN [" + ", ".join(f'"{listing_id}"' for listing_id in ids) + "]"


def from_keyword_side(hit: dict[str, Any]) -> bool:
    """Whether a hybrid hit came from its keyword side, which asks for every word: it then holds
    them all. A hit of the vector side may hold them all too (its vector score beat its keyword
    score, or the keyword side listed enough others) or only some."""
    return "vectorSort" not in (hit.get("_rankingScoreDetails") or {})


def shares_a_word(hit: dict[str, Any]) -> bool:
    """Whether a hybrid hit contains a word of the query as Meilisearch reads it (synonyms, typos
    and prefixes included): the vector side also brings documents whose only tie to the query is
    a hash collision of its 2,048 slots (search/lexical.py), and these fill a search with nothing
    in it — "PLC" listed eight unrelated papers where no listing mentions it. A lone ASCII letter or
    digit is no word: Meilisearch splits 5G into 5 and g where it ends a query, and "基站 5G"
    listed papers containing "5%". A query without words (browsing) asks for no positions, and its
    hits all pass."""
    positions = hit.get("_matchesPosition")
    if positions is None:
        return True
    return any(match["length"] > 1 for matches in positions.values() for match in matches)  # bytes


def _highlighted(text: str) -> str:
    """The text html-escaped, then Meilisearch's marks as <em>: nothing a user typed becomes markup
    (an abstract may hold <br> or p<q, stored as given). Meilisearch marks each matched segment —
    无人机, cut 无人 + 机, came back as two marks — so adjacent marks are joined into one."""
    escaped = html.escape(text).replace(END + MARK, "")
    return escaped.replace(MARK, "<em>").replace(END, "</em>")


def _hit(raw: dict[str, Any], every_word: bool) -> SearchHit:
    formatted = raw.get("_formatted") or {}
    published = raw.get("published_at")
    price = raw.get("asking_price")
    return SearchHit(
        type=raw["type"],
        id=raw["id"],
        title=raw.get("display_title") or "",
        highlight={
            "title": _highlighted(formatted.get("title", "")),
            "description": _highlighted(formatted.get("description", "")),
        },
        score=round(raw.get("_rankingScore", 0.0), 4),
        matches_all_words=every_word,
        field=raw.get("field") or [],
        region_code=raw.get("region_code"),
        maturity=raw.get("maturity"),
        # A double in the document (Meilisearch filters numbers so): its shortest form, then 2 places.
        asking_price=Decimal(repr(price)) if price is not None else None,
        published_at=datetime.fromtimestamp(published, UTC) if published else None,
    )


def every_word_query(engine: Engine, kind: str, keywords: str, filters: list[str]) -> dict[str, Any]:
    """The keyword query for the listings of a kind holding every word of the query, whatever
    their order: what `total` and the facets count, and what `matches_all_words` says of a hit."""
    return {
        "indexUid": engine.index(kind),
        "q": keywords,
        "filter": filters,
        "matchingStrategy": "all",
        "locales": ["cmn"],
    }


def search_queries(
    engine: Engine,
    q: str,
    kinds: Sequence[str],
    filters: SearchFilters,
    *,
    limit: int,
    offset: int,
    sort: SearchOrder = "relevance",
) -> list[dict[str, Any]]:
    """The multi-search queries of one search: per kind a hybrid query for the hits and a
    keyword-only limit-0 query for the counts. The vector side scores every document, so a hybrid
    search would count them all; totals and facets count the listings containing every word — the
    set a saved search notifies of, whatever the words' order (Meilisearch's default "last"
    strategy counted the listings containing the first word: 锂电池 回收 1, 回收 锂电池 19). The
    ranked hits go on past them with listings sharing some of the words. Hits of the kinds are
    merged by ranking score in `search`, giving federation's order (the same first ten hits for
    all 300 queries measured) for less: federation needs a second request for the counts and cost
    Meilisearch 1.2× the CPU for four kinds, 1.6× for one (docs/search.md).

    An explicit order ranks by its key alone, so it lists the documents containing every word,
    counted alike; the vector side's near misses would be sorted in among them."""
    normalised = normalize(q.strip())
    ordered = sort != "relevance"
    vector = lexical.query_vector(normalised) if normalised and not ordered else None
    clauses = filter_expression(filters)
    keywords = keyword_query(normalised)
    queries: list[dict[str, Any]] = []
    for kind in kinds:
        query = kind_query(engine, kind, keywords, vector, clauses)
        query |= {"limit": offset + limit, "showRankingScore": True}
        count = every_word_query(engine, kind, keywords, clauses) | {"limit": 0, "facets": FACETS}
        if ordered:
            query |= {"sort": [SORTS[sort][0]], "matchingStrategy": "all"}
        queries += [query, count]
    return queries


async def holding_every_word(
    engine: Engine, q: str, filters: SearchFilters, candidates: dict[str, list[str]]
) -> set[str]:
    """Which of these listings (ids by kind) hold every word: the counting query, restricted to
    them. Asked only when the hits alone cannot tell (`search`)."""
    keywords = keyword_query(normalize(q.strip()))
    clauses = filter_expression(filters)
    queries = [
        every_word_query(engine, kind, keywords, [*clauses, only(ids)])
        | {"limit": len(ids), "attributesToRetrieve": ["id"]}
        for kind, ids in candidates.items()
    ]
    answer = await engine.multi_search({"queries": queries})
    return {hit["id"] for result in answer["results"] for hit in result["hits"]}


async def search(
    engine: Engine,
    *,
    q: str,
    types: Sequence[str],
    filters: SearchFilters,
    limit: int,
    offset: int,
    sort: SearchOrder | None = None,
) -> SearchResult:
    """Without `sort`: by relevance when there is a query, newest first when browsing.

    Each hit says whether it holds every word of the query (`matches_all_words`); `total` counts
    the listings that do, so a client can show "N results" above the hits that do and list the
    others as related. A hit of the keyword side holds every word (it asks for all). One of the
    vector side holds only some when the keyword side already brought as many listings as hold
    every word; otherwise a second, small request asks Meilisearch which of those hits hold them
    all, by the same query that counts. A hit holding every word is listed whatever its score."""
    sort = sort or ("relevance" if q.strip() else "newest")
    kinds = kinds_for(types, filters, sort)
    if not kinds:
        return SearchResult(hits=[], facets={}, total=0, limit=limit, offset=offset)
    queries = search_queries(engine, q, kinds, filters, limit=limit, offset=offset, sort=sort)
    try:
        answer = await engine.multi_search({"queries": queries})
        results = answer["results"]
        found: list[dict[str, Any]] = []
        every_word: dict[str, bool] = {}
        unsure: dict[str, list[str]] = {}
        for kind, result, counted in zip(kinds, results[0::2], results[1::2], strict=True):
            keyword_side = {hit["id"] for hit in result["hits"] if from_keyword_side(hit)}
            complete = len(keyword_side) >= counted.get("estimatedTotalHits", 0)
            for hit in result["hits"]:
                found.append(hit)
                if hit["id"] in keyword_side or complete:
                    every_word[hit["id"]] = hit["id"] in keyword_side
                else:
                    unsure.setdefault(kind, []).append(hit["id"])
        if unsure:
            holding = await holding_every_word(engine, q, filters, unsure)
            every_word |= {listing: listing in holding for ids in unsure.values() for listing in ids}
    except SearchUnavailable as exc:
        raise unavailable(exc) from exc
    if sort == "relevance":
        found = [
            hit
            for hit in found
            if every_word[hit["id"]] or (hit.get("_rankingScore", 0.0) >= MIN_SCORE and shares_a_word(hit))
        ]
        found.sort(key=lambda hit: hit.get("_rankingScore", 0.0), reverse=True)
    else:
        found.sort(key=SORTS[sort][1])
    hits = found[offset : offset + limit]
    facets: dict[str, dict[str, int]] = {}
    total = 0
    for result in results[1::2]:
        total += result.get("estimatedTotalHits", 0)
        for name, values in (result.get("facetDistribution") or {}).items():
            merged = facets.setdefault(name, {})
            for value, count in values.items():
                merged[value] = merged.get(value, 0) + count
    return SearchResult(
        hits=[_hit(raw, every_word[raw["id"]]) for raw in hits],
        facets=facets,
        total=total,
        limit=limit,
        offset=offset,
    )
