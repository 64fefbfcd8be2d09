from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class OutboxMessage(Base):
    """A side effect to perform after the change that caused it commits (STYLE.md §5).

    Written in the same transaction as the change; a relay claims pending rows with
    FOR UPDATE SKIP LOCKED, performs the idempotent effect and sets `processed_at`.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's only query: pending rows that are due, oldest first.
        Index("ix_outbox_pending", "available_at", "id", postgresql_where=text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    available_at: Mapped[datetime] = mapped_column(server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
