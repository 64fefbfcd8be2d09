"""Confidential details (技术秘密, full specifications) of achievements and demands, and who may
read them in a deal. Kept in tables of their own, never as columns of the listing rows: the search
indexer, the list and detail serialisers, exports, imports, webhooks and notifications read the
listing rows and so can never pick the details up by accident."""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, Timestamps, UUIDPrimaryKey

# Details, a disclosure and an undertaking each concern exactly one listing: an achievement or a demand.
ONE_LISTING_SQL = "(achievement_id IS NULL) <> (demand_id IS NULL)"


def _listing(kind: str, *, unique: bool = False) -> Mapped[uuid.UUID | None]:
    return mapped_column(ForeignKey(f"{kind}.id", ondelete="CASCADE"), unique=unique, index=not unique)


def _user() -> Mapped[uuid.UUID | None]:
    return mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class _Returning:
    # RETURNING brings back server-set values (created_at) on INSERT, so no lazy load follows.
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}


class ConfidentialDetails(_Returning, UUIDPrimaryKey, Timestamps, Base):
    """The confidential part of one listing: a text and the documents below it. `version` counts
    every change of either (an undertaking names the version it was given for)."""

    __tablename__ = "confidential_details"
    __table_args__ = (CheckConstraint(ONE_LISTING_SQL, name="one_listing"),)

    achievement_id: Mapped[uuid.UUID | None] = _listing("achievements", unique=True)
    demand_id: Mapped[uuid.UUID | None] = _listing("demands", unique=True)
    text: Mapped[str] = mapped_column(Text, server_default="")
    version: Mapped[int] = mapped_column(Integer, server_default=sql("1"))
    updated_by_id: Mapped[uuid.UUID | None] = _user()


class ConfidentialDocument(_Returning, UUIDPrimaryKey, Base):
    """A document of the confidential details; its bytes sit in the document store under its id."""

    __tablename__ = "confidential_documents"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    details_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("confidential_details.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[uuid.UUID | None] = _user()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Disclosure(_Returning, UUIDPrimaryKey, Base):
    """The listing owner's approval to disclose the details to the other side of one deal (its
    counterpart and its broker, each after their own undertaking). Revoked, never deleted."""

    __tablename__ = "deal_disclosures"
    __table_args__ = (
        CheckConstraint(ONE_LISTING_SQL, name="one_listing"),
        # One approval in force per deal and listing.
        Index(
            "uq_deal_disclosures_in_force",
            "deal_id",
            "achievement_id",
            "demand_id",
            unique=True,
            postgresql_where=sql("revoked_at IS NULL"),
            postgresql_nulls_not_distinct=True,
        ),
    )

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[uuid.UUID | None] = _listing("achievements")
    demand_id: Mapped[uuid.UUID | None] = _listing("demands")
    approved_by_id: Mapped[uuid.UUID | None] = _user()
    # The details' version when approved (evidence only: the approval covers later versions too).
    details_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[uuid.UUID | None] = _user()


class Undertaking(_Returning, Base):
    """保密承诺: one user's undertaking, in one deal, to keep one version of a listing's details
    secret, under one version of the undertaking's text. Appended, never changed."""

    __tablename__ = "confidentiality_undertakings"
    __table_args__ = (
        CheckConstraint(ONE_LISTING_SQL, name="one_listing"),
        Index(
            "uq_confidentiality_undertakings_version",
            "deal_id",
            "user_id",
            "achievement_id",
            "demand_id",
            "details_version",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[uuid.UUID | None] = _listing("achievements")
    demand_id: Mapped[uuid.UUID | None] = _listing("demands")
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The user's organization when they undertook (a user may later move).
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    # In which capacity: the deal's counterpart (buyer of an achievement, seller for a demand) or broker.
    capacity: Mapped[str] = mapped_column(String(16))
    details_version: Mapped[int] = mapped_column(Integer)
    text_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
