"""Imports every domain's models so that `Base.metadata` (and so Alembic) sees all tables."""

from app.accounts.models import AuthSession, Organization, RefreshToken, User
from app.audit.models import AuditEntry
from app.core.db import Base
from app.listings.models import Achievement, Agency, Demand, Expert
from app.outbox.models import OutboxMessage

__all__ = [
    "Achievement",
    "Agency",
    "AuditEntry",
    "AuthSession",
    "Base",
    "Demand",
    "Expert",
    "Organization",
    "OutboxMessage",
    "RefreshToken",
    "User",
]
