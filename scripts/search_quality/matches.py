"""How well matches rank related listings: each CSL paper, as a demand (its title and abstract),
against the other papers as achievements, through the service's own match query and scoring
(app/matching/matches.py). "Related" = the two papers share an author keyword (queries.tsv); a
strict measure — papers can be related without one — so the figures compare designs, they do not
grade them. Run against a `techex run` holding the evaluation's 714 papers and nothing else
(../shared/eval/search_quality.py loads them). docs/search.md, "Matches".

usage: DATABASE_URL=… MEILI_URL=… MEILI_MASTER_KEY=… python scripts/search_quality/matches.py
"""

import asyncio
import json
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select

from app.core.config import get_settings
from app.core.db import Database
from app.core.vocabulary import TechnologyField
from app.listings.models import Achievement
from app.matching import matches as matching
from search.engine import Engine

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "csl"
THRESHOLDS = (0.35, 0.4, 0.45, 0.5)


def before(listing: SimpleNamespace, terms: list[str], hit: dict) -> float:
    """The scoring until 2026-12-01 (for this data: no region, budget, maturity or price): the
    hybrid score, +0.02 per shared term, +0.08 for the same field."""
    text = f"{hit['title']} {hit['description']}".lower()
    shared = sum(1 for term in terms if term.lower() in text)
    return 0.75 * hit["_rankingScore"] + 0.02 * min(shared, 5) + 0.08 * (listing.field.value in hit["field"])


def shipped(listing: SimpleNamespace, terms: list[str], hit: dict) -> float | None:
    explained = matching.explain("demand", listing, terms, hit)
    return None if explained is None else explained[0]


async def candidates() -> list[tuple[SimpleNamespace, list[str], str, set[str], list[dict]]]:
    docs = [json.loads(line) for line in (DATA / "achievements.jsonl").open(encoding="utf-8")]
    keywords = {}
    for line in list((DATA / "queries.tsv").open(encoding="utf-8"))[1:]:
        key, kind, query = line.rstrip("\n").split("\t")
        if kind == "keywords":
            keywords[key] = set(query.split())
    settings = get_settings()
    database = Database.from_url(settings.database_url)
    engine = Engine(
        settings.meili_url,
        settings.meili_master_key.get_secret_value() if settings.meili_master_key else None,
        prefix=settings.meili_index_prefix,
        timeout=60,
    )
    async with database.sessionmaker() as session:
        ids = {
            title: str(i) for title, i in (await session.execute(select(Achievement.title, Achievement.id)))
        }
    asked = []
    for doc in docs:
        related = {
            ids[o["title"]]
            for o in docs
            if o["key"] != doc["key"] and keywords[doc["key"]] & keywords[o["key"]]
        }
        if related:
            listing = SimpleNamespace(
                title=doc["title"],
                description=doc["description"],
                keywords=[],
                field=TechnologyField(doc["field"]),
                region_code=None,
                budget_max=None,
            )
            terms, vector = matching.query_parts(listing)
            query = matching.counterpart_query(engine, "achievement", terms, vector)
            asked.append((listing, terms, ids[doc["title"]], related, query))
    out = []
    for start in range(0, len(asked), 50):
        chunk = asked[start : start + 50]
        answer = await engine.multi_search({"queries": [query for *_, query in chunk]})
        for (listing, terms, own, related, _), result in zip(chunk, answer["results"], strict=True):
            out.append((listing, terms, own, related, [h for h in result["hits"] if h["id"] != own]))
    await engine.aclose()
    await database.dispose()
    return out


def main() -> None:
    rows = asyncio.run(candidates())
    print(f"{len(rows)} papers with at least one related paper")
    for name, score in (("before", before), ("shipped", shipped)):
        reciprocal = found = 0.0
        passing = {t: [0, 0] for t in THRESHOLDS}
        for listing, terms, _, related, hits in rows:
            scored = [(s, h["id"]) for h in hits if (s := score(listing, terms, h)) is not None]
            top = [i for _, i in sorted(scored, key=lambda pair: -pair[0])][:10]
            first = next((n for n, i in enumerate(top) if i in related), None)
            reciprocal += 0 if first is None else 1 / (first + 1)
            found += len(related & set(top)) / len(related)
            for t in THRESHOLDS:
                over = [i for s, i in scored if s >= t]
                passing[t][0] += len(over)
                passing[t][1] += sum(1 for i in over if i in related)
        print(f"{name}: MRR@10 {reciprocal / len(rows):.3f}, recall@10 {found / len(rows):.3f}")
        for t, (over, hit) in passing.items():
            print(
                f"  score >= {t}: {over / len(rows):.2f} per paper, {hit / max(1, over):.3f} of them related"
            )


if __name__ == "__main__":
    main()
