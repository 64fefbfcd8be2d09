"""Recording side effects in the transactional outbox."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.models import OutboxMessage


def enqueue(
    session: AsyncSession, *, topic: str, key: str, payload: dict[str, Any] | None = None
) -> OutboxMessage:
    """Add a message to the current unit of work; it is sent only if that unit of work commits."""
    message = OutboxMessage(topic=topic, key=key, payload=payload or {})
    session.add(message)
    return message
