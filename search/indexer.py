"""The `listing.changed` handler: load each listing's current row; published → upsert its public
document, anything else (or gone) → delete it from the index. Idempotent, so a retried or
duplicated message is harmless. Per-listing advisory locks make two relays touching the same
listing send their Meilisearch tasks in the order they read the rows."""

import uuid
import zlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.listings.models import LISTING_MODELS
from app.listings.policy import public_view
from app.listings.vocabulary import ListingStatus
from app.outbox.models import OutboxMessage
from app.outbox.service import enqueue
from search import documents
from search.engine import Engine

TOPIC = "listing.changed"
PUBLISHED_TOPIC = "matching.listing_published"
# Changes that may put a listing live: a publish, or a catalogue imported with `publish` (its rows
# go live in the import itself; a draft among them is simply not indexed, so not announced).
GOING_LIVE = frozenset({"published", "imported"})
# How long the relay waits for its task while Meilisearch answers (an unreachable Meilisearch fails
# at once). Slow is not down: at 200,000 documents a one-document task takes seconds, and the first
# after a bulk load took 213 s (arroy creating trees, docs/benchmarks.md); giving up at 60 s sent
# the same documents again behind it.
TASK_TIMEOUT = 900.0


async def load_public(
    session: AsyncSession, kind: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The public view of each *published* listing among `ids` (others are absent)."""
    model = LISTING_MODELS[kind]
    rows = await session.execute(
        select(model, Organization.name)
        .join(Organization, Organization.id == model.owner_organization_id)
        .where(model.id.in_(ids), model.status == ListingStatus.published)
    )
    return {listing.id: public_view(kind, listing, owner_name=name) for listing, name in rows.all()}


async def sync_listings(
    session: AsyncSession, engine: Engine, kind: str, ids: Sequence[uuid.UUID]
) -> list[str]:
    """Bring the index in line with the database for these listings; the ids now indexed."""
    for key in sorted(zlib.crc32(f"{kind}:{listing_id}".encode()) for listing_id in ids):
        await session.execute(select(func.pg_advisory_xact_lock(key)))
    published = await load_public(session, kind, ids)
    await engine.ensure_setup()
    index = engine.index(kind)
    # Two tasks: the documents without their vectors first, so that they are searchable by keyword
    # as soon as possible, then whole. Updating the vector store is what grows with the index
    # (10,000 achievements: ~25 ms for a document without its vector, ~280 ms with it;
    # docs/search.md). Sent together, Meilisearch would batch them into one task.
    docs = [documents.build(kind, view) for view in published.values()]
    tasks = []
    if docs:
        tasks.append(await engine.upsert(index, [documents.without_vector(doc) for doc in docs]))
    gone = [str(listing_id) for listing_id in ids if listing_id not in published]
    if gone:
        tasks.append(await engine.delete(index, gone))
    for task in tasks:
        await engine.wait(task, timeout=TASK_TIMEOUT)
    if docs:
        await engine.wait(await engine.upsert(index, docs), timeout=TASK_TIMEOUT)
    return [str(listing_id) for listing_id in published]


def handler(engine: Engine):  # type: ignore[no-untyped-def]
    async def handle(session: AsyncSession, rows: Sequence[OutboxMessage]) -> None:
        by_kind: dict[str, set[uuid.UUID]] = defaultdict(set)
        newly_published: list[dict[str, str]] = []
        for row in rows:
            kind, listing_id = row.payload["kind"], uuid.UUID(row.payload["id"])
            if kind in LISTING_MODELS:
                by_kind[kind].add(listing_id)
                if row.payload.get("action") in GOING_LIVE:
                    newly_published.append({"kind": kind, "id": str(listing_id)})
        indexed: set[str] = set()
        for kind, ids in by_kind.items():
            indexed.update(await sync_listings(session, engine, kind, sorted(ids)))
        # Subscriptions are evaluated once the listing is searchable (app/matching/subscriptions.py).
        for item in newly_published:
            if item["id"] in indexed:
                enqueue(session, topic=PUBLISHED_TOPIC, key=f"{item['kind']}:{item['id']}", payload=item)

    return handle
