"""Recording side effects in the transactional outbox, and forgetting them once long done."""

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.outbox.models import OutboxMessage

PRUNE_BATCH = 5000


def enqueue(
    session: AsyncSession, *, topic: str, key: str, payload: dict[str, Any] | None = None
) -> OutboxMessage:
    """Add a message to the current unit of work; it is sent only if that unit of work commits."""
    message = OutboxMessage(topic=topic, key=key, payload=payload or {})
    session.add(message)
    return message


async def prune(database: Database, *, older_than: timedelta) -> int:
    """Delete messages processed more than `older_than` ago — every listing change, check and
    delivery leaves one, so the table would only grow — in batches, each its own transaction, so
    no long lock; replicas pruning at once skip each other's rows. The number deleted."""
    deleted = 0
    while True:
        async with database.sessionmaker() as session:
            old = (
                select(OutboxMessage.id)
                .where(OutboxMessage.processed_at < func.now() - older_than)
                .order_by(OutboxMessage.id)
                .limit(PRUNE_BATCH)
                .with_for_update(skip_locked=True)
            )
            result = await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(old)))
            await session.commit()
        deleted += result.rowcount or 0
        if (result.rowcount or 0) < PRUNE_BATCH:
            return deleted
