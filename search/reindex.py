"""`techex reindex` and `techex search-check`: the index rebuilt from PostgreSQL (the source of
truth) and compared with it."""

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.core.db import Database
from app.listings.models import LISTING_MODELS
from app.listings.policy import public_view
from app.listings.vocabulary import ListingStatus
from app.outbox.models import OutboxMessage
from search import documents
from search.engine import Engine
from search.indexer import TOPIC, sync_listings
from search.settings import KINDS

BATCH = 500
Progress = Callable[[str, int], None]


async def count_published(session: AsyncSession, kind: str) -> int:
    model = LISTING_MODELS[kind]
    return (
        await session.scalar(
            select(func.count()).select_from(model).where(model.status == ListingStatus.published)
        )
        or 0
    )


async def published_documents(session: AsyncSession, kind: str) -> AsyncIterator[list[dict[str, Any]]]:
    """The documents of every published listing of `kind`, in batches, by id (keyset pagination)."""
    model = LISTING_MODELS[kind]
    last: uuid.UUID | None = None
    while True:
        query = (
            select(model, Organization.name)
            .join(Organization, Organization.id == model.owner_organization_id)
            .where(model.status == ListingStatus.published)
            .order_by(model.id)
            .limit(BATCH)
        )
        if last is not None:
            query = query.where(model.id > last)
        rows = (await session.execute(query)).all()
        if not rows:
            return
        last = rows[-1][0].id
        yield [documents.build(kind, public_view(kind, listing, owner_name=name)) for listing, name in rows]


async def reindex(database: Database, engine: Engine, *, progress: Progress | None = None) -> dict[str, int]:
    """Build fresh indexes beside the live ones, swap all of them in one atomic task, drop the old
    ones, then replay listing changes that arrived while building. Searches never see a half index."""
    counts: dict[str, int] = {}
    async with database.sessionmaker() as session:
        mark = await session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
        for kind in KINDS:
            live, fresh = engine.index(kind), engine.index(kind) + "__rebuild"
            await engine.apply_settings(live)
            await engine.call("DELETE", f"/indexes/{fresh}")
            await engine.apply_settings(fresh)
            counts[kind] = 0
            async for batch in published_documents(session, kind):
                await engine.wait(await engine.upsert(fresh, batch), timeout=3600)
                counts[kind] += len(batch)
                if progress:
                    progress(kind, len(batch))
        swap = await engine.call(
            "POST",
            "/swap-indexes",
            json=[{"indexes": [engine.index(kind), engine.index(kind) + "__rebuild"]} for kind in KINDS],
        )
        await engine.wait(swap)
        for kind in KINDS:
            await engine.wait(await engine.call("DELETE", f"/indexes/{engine.index(kind)}__rebuild"))
        # Changes committed while we were building went to the old indexes: apply them again.
        changed = await session.execute(
            select(OutboxMessage.payload).where(OutboxMessage.topic == TOPIC, OutboxMessage.id > mark)
        )
        by_kind: dict[str, set[uuid.UUID]] = {}
        for (payload,) in changed.all():
            by_kind.setdefault(payload["kind"], set()).add(uuid.UUID(payload["id"]))
        for kind, ids in by_kind.items():
            await sync_listings(session, engine, kind, sorted(ids))
        await session.commit()
    return counts


@dataclass
class CheckReport:
    missing: dict[str, list[str]] = field(default_factory=dict)  # published, not in the index
    # indexed with an older version of the listing, or with another text format (documents.TEXT_FORMAT)
    stale: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, list[str]] = field(default_factory=dict)  # in the index, not published

    @property
    def clean(self) -> bool:
        return not any(ids for part in (self.missing, self.stale, self.extra) for ids in part.values())


async def indexed_states(engine: Engine, kind: str) -> dict[str, tuple[int | None, str | None]]:
    """Each indexed document's listing version and text format."""
    found: dict[str, tuple[int | None, str | None]] = {}
    offset = 0
    while True:
        page = await engine.call(
            "GET",
            f"/indexes/{engine.index(kind)}/documents",
            params={"fields": "id,version,text_format", "limit": 1000, "offset": offset},
        )
        for doc in page["results"]:
            found[doc["id"]] = (doc.get("version"), doc.get("text_format"))
        offset += len(page["results"])
        if offset >= page["total"] or not page["results"]:
            return found


async def check(database: Database, engine: Engine) -> CheckReport:
    report = CheckReport()
    async with database.sessionmaker() as session:
        for kind in KINDS:
            model = LISTING_MODELS[kind]
            rows = await session.execute(
                select(model.id, model.version).where(model.status == ListingStatus.published)
            )
            expected = {
                str(listing_id): (version, documents.TEXT_FORMAT) for listing_id, version in rows.all()
            }
            await engine.ensure_index(engine.index(kind))
            actual = await indexed_states(engine, kind)
            report.missing[kind] = sorted(set(expected) - set(actual))
            report.stale[kind] = sorted(i for i in set(expected) & set(actual) if actual[i] != expected[i])
            report.extra[kind] = sorted(set(actual) - set(expected))
    return report
