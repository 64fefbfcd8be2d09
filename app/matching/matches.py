"""智能撮合: the counterpart listings of a demand (achievements, experts, agencies) or of an
achievement (demands, experts, agencies), ranked and explained.

One multi-search request: per counterpart kind a hybrid query whose keyword part is the
listing's top TF-IDF terms and whose vector part is the listing's whole text (search/lexical.py),
then a small, explained adjustment for same field, same region, price within budget and maturity."""

import re
import uuid
from collections.abc import Sequence
from typing import Any

import jieba.analyse
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.core.errors import NotFound
from app.core.regions import region_name
from app.core.vocabulary import TechnologyField
from app.listings import repository
from app.listings.models import LISTING_MODELS, ListingColumns
from app.matching.schemas import Match, MatchResult
from app.matching.search import only, unavailable
from search import lexical
from search.engine import Engine, SearchUnavailable
from search.normalize import normalize

COUNTERPARTS = {"demand": ("achievement", "expert", "agency"), "achievement": ("demand", "expert", "agency")}
CANDIDATES = 50  # more than shown: the re-scoring reorders them (30 → 50: related found +0.03)
RETRIEVE = [
    "id",
    "type",
    "display_title",
    "title",
    "description",
    "keywords",
    "field",
    "regions",
    "maturity",
    "asking_price",
    "budget_max",
]


async def load_for_matching(
    session: AsyncSession, kind: str, listing_id: uuid.UUID, user: User | None
) -> ListingColumns:
    """The listing, if `user` may read it: its matches are shown to whoever sees the listing itself
    (the same rule, `policy.visible_clause`: published ones to everyone, the others to the owning
    organization and administrators). Anything else is 404, revealing nothing."""
    listing = await repository.get_readable(session, LISTING_MODELS[kind], listing_id, user)
    if listing is None:
        raise NotFound(code="listing_not_found", message_en=f"No such {kind}.", message_zh="信息不存在。")
    return listing


def _text(listing: ListingColumns) -> str:
    keywords = " ".join(listing.keywords or [])  # type: ignore[attr-defined]
    return normalize("\n".join([listing.title, keywords, listing.description or ""]))


def query_parts(listing: ListingColumns) -> tuple[list[str], list[int] | None]:
    """What a listing asks with: its top TF-IDF terms and the lexical vector of its whole text."""
    text = _text(listing)
    return terms_of(text), lexical.query_vector(text, keywords=False)


def counterpart_query(
    engine: Engine,
    other: str,
    terms: list[str],
    vector: list[int] | orjson.Fragment | None,
    *,
    among: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The hybrid query for one counterpart kind; with `among` (listing ids), which of those match."""
    query: dict[str, Any] = {
        "indexUid": engine.index(other),
        "q": " ".join(terms[:5]),
        "limit": CANDIDATES if among is None else len(among),
        "attributesToRetrieve": RETRIEVE,
        "showRankingScore": True,
        "locales": ["cmn"],
    }
    if among is not None:
        query["filter"] = only(among)
    if vector is not None:
        query |= {
            "hybrid": {"embedder": lexical.EMBEDDER, "semanticRatio": 0.8},
            "vector": vector,
            "rankingScoreThreshold": 0.51,  # at least one shared term (app/matching/search.py)
        }
    return query


# A term names something: a figure or a percentage (2000, 8%) is no shared technology.
_WORDLIKE = re.compile(r"[^\W\d_]")


def terms_of(text: str, top: int = 8) -> list[str]:
    return [
        term
        for term in jieba.analyse.extract_tags(text, topK=top)
        if len(term) > 1 and _WORDLIKE.search(term)
    ]


def _province(regions: Sequence[str] | None) -> str | None:
    return regions[0] if regions else None


def explain(
    kind: str, listing: ListingColumns, terms: list[str], hit: dict[str, Any]
) -> tuple[float, list[str]] | None:
    """Score a candidate and say why it matched; None when it shares none of the listing's terms —
    a field, a region or a price alone do not make a match.

    Relevance comes first: the IDF-weighted share of the listing's terms found in the candidate,
    plus the vector side's similarity (Meilisearch's hybrid score of a vector hit is (1 + cosine)/2,
    and the cosine of related texts is small: 0.02–0.2). The business signals are added after, so
    they order candidates of like relevance but cannot lift a stranger above a related listing —
    before, same field + same province + budget + maturity (+0.21) outweighed any difference of
    content, and a reducer demand's first match was a flame retardant (docs/search.md, "Matches")."""
    text = (
        f"{hit.get('title', '')} {' '.join(hit.get('keywords') or [])} {hit.get('description', '')}".lower()
    )
    shared = [term for term in terms if term.lower() in text]
    if not shared:
        return None
    content = sum(lexical.idf(term) for term in shared) / sum(lexical.idf(term) for term in terms)
    similarity = 2 * max(0.0, float(hit.get("_rankingScore", 0.0)) - 0.5)
    score = 0.75 * min(1.0, content + 2 * similarity)
    reasons = ["共同技术词：" + "、".join(shared[:5])]
    field = getattr(listing, "field", None)
    if field is not None and field.value in (hit.get("field") or []):
        reasons.append(f"同属领域：{TechnologyField(field.value).label}")
        score += 0.08
    region = listing.region_code
    if region and _province(hit.get("regions")) == region[:2] + "0000":
        reasons.append(f"同一地区：{region_name(region[:2] + '0000')}")
        score += 0.04
    if kind == "demand" and hit["type"] == "achievement":
        budget = getattr(listing, "budget_max", None)
        price = hit.get("asking_price")
        if budget is not None and price is not None and price <= float(budget):
            reasons.append(f"报价 {price:,.2f} 元在预算 {float(budget):,.2f} 元内")
            score += 0.06
        if (hit.get("maturity") or 0) >= 6:
            reasons.append(f"成熟度 {hit['maturity']} 级，可进入工程化或产业化")
            score += 0.03
    if kind == "achievement" and hit["type"] == "demand":
        price = getattr(listing, "asking_price", None)
        budget = hit.get("budget_max")
        if price is not None and budget is not None and float(price) <= budget:
            reasons.append(f"报价在对方预算 {budget:,.2f} 元内")
            score += 0.06
    return min(1.0, round(score, 4)), reasons


async def matches(
    session: AsyncSession,
    engine: Engine,
    *,
    kind: str,
    listing_id: uuid.UUID,
    user: User | None,
    types: Sequence[str],
    limit: int,
) -> MatchResult:
    listing = await load_for_matching(session, kind, listing_id, user)
    wanted = [other for other in COUNTERPARTS[kind] if not types or other in types]
    terms, vector = query_parts(listing)
    queries = [counterpart_query(engine, other, terms, vector) for other in wanted]
    try:
        answer = await engine.multi_search({"queries": queries}) if queries else {"results": []}
    except SearchUnavailable as exc:
        raise unavailable(exc) from exc
    found: list[Match] = []
    for result in answer["results"]:
        for hit in result["hits"]:
            if hit["id"] == str(listing.id):
                continue
            explained = explain(kind, listing, terms, hit)
            if explained is None:
                continue
            score, reasons = explained
            found.append(
                Match(
                    type=hit["type"],
                    id=hit["id"],
                    title=hit.get("display_title", ""),
                    score=score,
                    explanation=reasons,
                )
            )
    found.sort(key=lambda match: match.score, reverse=True)
    return MatchResult(
        listing={"type": kind, "id": str(listing.id), "title": listing.title},  # type: ignore[attr-defined]
        matches=found[:limit],
    )
