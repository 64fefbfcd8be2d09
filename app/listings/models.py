"""The four kinds of listing. Columns every kind shares live in `ListingColumns`; the attribute
names are a contract with the search domain (it indexes these rows), so keep them stable."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from app.core.db import Base, Timestamps
from app.core.vocabulary import TechnologyField
from app.listings.vocabulary import ListingStatus

MONEY = Numeric(16, 2)


def _enum(enum_class: type, name: str) -> Enum:
    # VARCHAR + CHECK like the accounts domain: adding a value stays a one-line migration.
    return Enum(
        enum_class, name=name, native_enum=False, create_constraint=True, length=32, validate_strings=True
    )


def _codes() -> Mapped[list[str]]:
    # Multi-valued enumerations as text[]; schemas validate the values, `&&`/`@>` filter them exactly.
    return mapped_column(ARRAY(String(32)), server_default=text("'{}'"))


class ListingColumns(Timestamps):
    """What all four kinds share: identity, lifecycle, ownership and the optimistic-lock version."""

    # RETURNING brings back server-set values (updated_at) on UPDATE too, so no lazy load follows.
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    status: Mapped[ListingStatus] = mapped_column(
        _enum(ListingStatus, "listing_status"), server_default=ListingStatus.draft.value
    )
    # Incremented on every change; clients send it back (If-Match or `version`) to detect lost updates.
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    published_at: Mapped[datetime | None]
    # Why an administrator took the listing down (shown to its owner).
    status_reason: Mapped[str | None] = mapped_column(String(500))
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default=text("'{}'"))
    region_code: Mapped[str | None] = mapped_column(String(6))

    @declared_attr
    def owner_organization_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)

    @declared_attr
    def created_by_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


def _list_indexes(table: str, *extra: Any) -> tuple[Any, ...]:
    # The public list: published rows, newest change first, id as the tie-breaker of a stable order
    # (a b-tree is read backwards for DESC).
    return (
        Index(f"ix_{table}_status_updated_at_id", "status", "updated_at", "id"),
        # Region prefixes are filtered as ranges ('320100'..'320199'), which a plain b-tree serves.
        Index(f"ix_{table}_region_code", "region_code"),
        Index(f"ix_{table}_updated_at", "updated_at"),
        *extra,
    )


class Achievement(ListingColumns, Base):
    """科技成果."""

    __tablename__ = "achievements"
    __table_args__ = (
        *_list_indexes("achievements"),
        Index("ix_achievements_field_status_updated_at_id", "field", "status", "updated_at", "id"),
        Index("ix_achievements_transfer_modes", "transfer_modes", postgresql_using="gin"),
        CheckConstraint("maturity BETWEEN 1 AND 9", name="maturity_range"),
        CheckConstraint("asking_price >= 0", name="asking_price_non_negative"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    field: Mapped[TechnologyField | None] = mapped_column(_enum(TechnologyField, "technology_field"))
    maturity: Mapped[int | None] = mapped_column(SmallInteger)
    # [{kind, number, status}] — the patents, software copyrights, … the achievement rests on.
    ip_rights: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))
    transfer_modes: Mapped[list[str]] = _codes()
    # None means 面议 (price on negotiation).
    asking_price: Mapped[Decimal | None] = mapped_column(MONEY)
    team: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default=text("'{}'"))
    application_scenarios: Mapped[str] = mapped_column(Text, server_default="")
    # Achievements of publicly funded projects must be submitted (汇交); the project they came from.
    publicly_funded: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    funding_project: Mapped[str | None] = mapped_column(String(200))
    # [{name, phone, email}] — never shown to anonymous callers (policy.py).
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))
    valid_until: Mapped[date | None] = mapped_column(Date)


class Demand(ListingColumns, Base):
    """技术需求, owned by an enterprise."""

    __tablename__ = "demands"
    __table_args__ = (
        *_list_indexes("demands"),
        Index("ix_demands_field_status_updated_at_id", "field", "status", "updated_at", "id"),
        Index("ix_demands_cooperation_modes", "cooperation_modes", postgresql_using="gin"),
        CheckConstraint("budget_min >= 0 AND budget_max >= 0", name="budget_non_negative"),
        CheckConstraint("budget_min <= budget_max", name="budget_range"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    field: Mapped[TechnologyField | None] = mapped_column(_enum(TechnologyField, "technology_field"))
    cooperation_modes: Mapped[list[str]] = _codes()
    budget_min: Mapped[Decimal | None] = mapped_column(MONEY)
    budget_max: Mapped[Decimal | None] = mapped_column(MONEY)
    deadline: Mapped[date | None] = mapped_column(Date)
    # Hides the company's name and contacts from everyone outside it (policy.py).
    confidential: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))


class Expert(ListingColumns, Base):
    """专家; maintained by the expert's own account (`user_id`) or an administrator."""

    __tablename__ = "experts"
    __table_args__ = (
        *_list_indexes("experts"),
        Index("ix_experts_fields", "fields", postgresql_using="gin"),
        Index("ix_experts_user_id", "user_id", unique=True, postgresql_where=text("user_id IS NOT NULL")),
    )

    name: Mapped[str] = mapped_column(String(100))
    professional_title: Mapped[str] = mapped_column(String(100), server_default="")
    institution: Mapped[str] = mapped_column(String(200), server_default="")
    fields: Mapped[list[str]] = _codes()
    biography: Mapped[str] = mapped_column(Text, server_default="")
    services: Mapped[list[str]] = _codes()
    # Never public (policy.py).
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Agency(ListingColumns, Base):
    """服务机构, owned by an agency organization."""

    __tablename__ = "agencies"
    __table_args__ = (
        *_list_indexes("agencies"),
        Index("ix_agencies_service_kinds", "service_kinds", postgresql_using="gin"),
        Index("ix_agencies_regions_served", "regions_served", postgresql_using="gin"),
    )

    name: Mapped[str] = mapped_column(String(200))
    # 统一社会信用代码 of the agency itself (it may differ from the owning organization's record).
    credit_code: Mapped[str | None] = mapped_column(String(18))
    description: Mapped[str] = mapped_column(Text, server_default="")
    service_kinds: Mapped[list[str]] = _codes()
    regions_served: Mapped[list[str]] = mapped_column(ARRAY(String(6)), server_default=text("'{}'"))
    qualifications: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default=text("'{}'"))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))


LISTING_MODELS: dict[str, type[ListingColumns]] = {
    "achievement": Achievement,
    "demand": Demand,
    "expert": Expert,
    "agency": Agency,
}
