"""The outbox relay: SKIP LOCKED across replicas, backoff, Meilisearch down and back, pruning."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.outbox import service as outbox
from app.outbox.models import OutboxMessage
from app.outbox.service import enqueue
from search.relay import Relay, backoff
from tests.search.conftest import wait_for


async def test_two_relays_process_each_row_exactly_once(app, db) -> None:
    for n in range(60):
        enqueue(db, topic="test.count", key=str(n), payload={"n": n})
    await db.commit()
    seen: Counter[int] = Counter()

    async def handle(session, rows):
        for row in rows:
            seen[row.payload["n"]] += 1
        await asyncio.sleep(0.01)  # hold the claimed rows while the other replica runs

    relays = [Relay(app.state.database, {"test.count": handle}, batch_size=7) for _ in range(3)]
    await asyncio.gather(*(relay.drain() for relay in relays))
    assert seen == Counter({n: 1 for n in range(60)})
    rows = (await db.scalars(select(OutboxMessage).where(OutboxMessage.topic == "test.count"))).all()
    assert all(row.processed_at is not None for row in rows)


async def test_failures_back_off_and_keep_the_row(app, db) -> None:
    enqueue(db, topic="test.fail", key="x", payload={})
    await db.commit()

    async def handle(session, rows):
        raise RuntimeError("engine says no")

    relay = Relay(app.state.database, {"test.fail": handle})
    assert await relay.run_once() == 1
    assert await relay.run_once() == 0  # not due again yet
    db.expire_all()
    row = await db.scalar(select(OutboxMessage).where(OutboxMessage.topic == "test.fail"))
    assert row.processed_at is None and row.attempts == 1 and "engine says no" in row.last_error
    assert row.available_at > row.created_at
    assert backoff(1).total_seconds() == 0.5 and backoff(20).total_seconds() == 30


async def test_meilisearch_down_then_back(client, meilisearch, owner, make_listing, indexed) -> None:
    """Writes keep succeeding while Meilisearch is stopped; search answers 503 with Retry-After;
    the index converges once it is back."""
    assert meilisearch is not None, "needs the test-run Meilisearch it can stop"
    who = await owner("achievements")
    before = await make_listing("achievements", who, title="停机前发布的成果")
    await indexed("achievement", before["id"])
    meilisearch.stop()
    try:
        during = [await make_listing("achievements", who, title=f"停机期间发布的成果{n}") for n in range(3)]
        response = await client.get("/api/v1/search", params={"q": "成果"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "search_unavailable"
        # Nothing else breaks: listings are still served from PostgreSQL.
        listed = await client.get("/api/v1/achievements")
        assert listed.status_code == 200 and listed.json()["total"] == 4
        closed = await client.post(f"/api/v1/achievements/{before['id']}/close", headers=who.headers)
        assert closed.status_code == 200
    finally:
        meilisearch.start()
    for listing in during:
        await indexed("achievement", listing["id"], timeout=40)

    async def searchable() -> bool:
        response = await client.get("/api/v1/search", params={"q": "停机期间发布", "types": "achievement"})
        ids = {hit["id"] for hit in response.json()["hits"]} if response.status_code == 200 else set()
        return ids >= {listing["id"] for listing in during} and before["id"] not in ids

    await wait_for(searchable, timeout=40)


async def test_messages_long_processed_are_pruned_in_batches(app, db, monkeypatch) -> None:
    monkeypatch.setattr(outbox, "PRUNE_BATCH", 2)
    now = datetime.now(UTC)

    def message(key: str, processed_days_ago: float | None) -> OutboxMessage:
        return OutboxMessage(
            topic="test.prune",
            key=key,
            created_at=now - timedelta(days=30),
            processed_at=None if processed_days_ago is None else now - timedelta(days=processed_days_ago),
        )

    db.add_all(
        [message(f"old-{n}", 20) for n in range(5)]
        + [message("recent", 1), message("pending", None), message("just-over", 14.01)]
    )
    await db.commit()
    assert await outbox.prune(app.state.database, older_than=timedelta(days=14)) == 6
    left = (await db.scalars(select(OutboxMessage.key).where(OutboxMessage.topic == "test.prune"))).all()
    assert sorted(left) == ["pending", "recent"]  # a message not yet processed is never pruned
