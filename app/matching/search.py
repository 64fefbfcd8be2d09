"""Search across the four kinds: one federated multi-search request to Meilisearch, each kind's
query hybrid (keyword ranking fused with the lexical BM25 vector, search/lexical.py)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from app.core.errors import ServiceUnavailable
from app.matching.schemas import SearchFilters, SearchHit, SearchResult
from search import lexical
from search.engine import Engine, SearchUnavailable
from search.normalize import to_simplified
from search.settings import FACETS, KINDS

SEMANTIC_RATIO = 0.5  # docs/search.md: the best of the ratios measured
# The vector side ranks every document; one sharing no term with the query scores ≈ 0.5 (cosine 0).
# Hits below this are dropped, so totals and facets count documents that match (docs/search.md).
SCORE_THRESHOLD = 0.52
ACHIEVEMENT_ONLY = ("maturity_min", "transfer_mode", "price_max")
RETRIEVE = ["id", "type", "display_title", "field", "region_code", "maturity", "asking_price", "published_at"]


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


def kinds_for(types: Sequence[str], filters: SearchFilters) -> list[str]:
    kinds = [kind for kind in KINDS if not types or kind in types]
    if any(getattr(filters, name) is not None for name in ACHIEVEMENT_ONLY):
        kinds = [kind for kind in kinds if kind == "achievement"]
    return kinds


def kind_query(engine: Engine, kind: str, q: str, vector: list[float] | None, filters: list[str]) -> dict[str, Any]:
    query: dict[str, Any] = {
        "indexUid": engine.index(kind),
        "q": q,
        "filter": filters,
        "attributesToRetrieve": RETRIEVE,
        "attributesToHighlight": ["title", "description"],
        "attributesToCrop": ["description"],
        "cropLength": 40,
        "highlightPreTag": "<em>",
        "highlightPostTag": "</em>",
        "locales": ["cmn"],
    }
    if vector is not None:
        query["hybrid"] = {"embedder": lexical.EMBEDDER, "semanticRatio": SEMANTIC_RATIO}
        query["vector"] = vector
        query["rankingScoreThreshold"] = SCORE_THRESHOLD
    return query


def _hit(engine: Engine, raw: dict[str, Any]) -> SearchHit:
    formatted = raw.get("_formatted") or {}
    published = raw.get("published_at")
    return SearchHit(
        type=raw["type"],
        id=raw["id"],
        title=raw.get("display_title") or "",
        highlight={"title": formatted.get("title", ""), "description": formatted.get("description", "")},
        score=round(raw.get("_federation", {}).get("weightedRankingScore", raw.get("_rankingScore", 0.0)), 4),
        field=raw.get("field") or [],
        region_code=raw.get("region_code"),
        maturity=raw.get("maturity"),
        asking_price=raw.get("asking_price"),
        published_at=datetime.fromtimestamp(published, UTC) if published else None,
    )


async def search(
    engine: Engine, *, q: str, types: Sequence[str], filters: SearchFilters, limit: int, offset: int
) -> SearchResult:
    kinds = kinds_for(types, filters)
    if not kinds:
        return SearchResult(hits=[], facets={}, total=0, limit=limit, offset=offset)
    normalised = to_simplified(q.strip())
    vector = lexical.query_vector(normalised) if normalised else None
    clauses = filter_expression(filters)
    body = {
        "federation": {
            "limit": limit,
            "offset": offset,
            "facetsByIndex": {engine.index(kind): FACETS for kind in kinds},
            "mergeFacets": {"maxValuesPerFacet": 100},
        },
        "queries": [kind_query(engine, kind, normalised, vector, clauses) for kind in kinds],
    }
    try:
        answer = await engine.multi_search(body)
    except SearchUnavailable as exc:
        raise unavailable(exc) from exc
    return SearchResult(
        hits=[_hit(engine, raw) for raw in answer["hits"]],
        facets=answer.get("facetDistribution") or {},
        total=answer.get("estimatedTotalHits", len(answer["hits"])),
        limit=limit,
        offset=offset,
    )
