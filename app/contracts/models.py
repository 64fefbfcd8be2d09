import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.contracts.vocabulary import ContractSubtype, ContractType, IPCategory, PartyKind
from app.contracts.workflow import IN_FORCE_SQL, Status
from app.core.db import Base, Timestamps, UUIDPrimaryKey
from app.core.vocabulary import TechnologyField


def _enum(enum_class: type, name: str) -> Enum:
    # VARCHAR + CHECK like the accounts domain: adding a value stays a one-line migration.
    return Enum(
        enum_class, name=name, native_enum=False, create_constraint=True, length=32, validate_strings=True
    )


def _money(nullable: bool = False) -> Any:
    return mapped_column(Numeric(18, 2), nullable=nullable)


class ContractApplication(UUIDPrimaryKey, Timestamps, Base):
    """One application for 技术合同认定登记, from draft to registered (and amended or cancelled).

    `registered_*_amount` are the amounts in force (the certified ones, superseded by each 变更登记);
    `contract_events` keeps every decision and amendment.
    """

    __tablename__ = "contract_applications"
    __table_args__ = (
        CheckConstraint(
            "registered_technology_amount <= registered_contract_amount", name="certified_le_contract"
        ),
        CheckConstraint(
            "contract_amount >= 0 AND claimed_technology_amount >= 0", name="amounts_not_negative"
        ),
        # The statistics' partial months and the publicity list: registrations in force by date and
        # region; the INCLUDE columns let the partial-month sums run as index-only scans.
        Index(
            "ix_contract_applications_registered",
            "registered_on",
            "stats_region_code",
            postgresql_where=text(IN_FORCE_SQL),
            postgresql_include=[
                "registered_contract_amount",
                "registered_technology_amount",
                "contract_type",
                "technology_field",
                "seller_kind",
                "ip_kind",
            ],
        ),
        Index("ix_contract_applications_office_queue", "office_id", "status", "due_on"),
    )

    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    status: Mapped[Status] = mapped_column(
        _enum(Status, "contract_status"), server_default=Status.draft.value
    )
    applicant_organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    contract_type: Mapped[ContractType] = mapped_column(_enum(ContractType, "contract_type"))
    contract_subtype: Mapped[ContractSubtype] = mapped_column(_enum(ContractSubtype, "contract_subtype"))
    project_name: Mapped[str] = mapped_column(String(200))
    is_import: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_credit_code: Mapped[str | None] = mapped_column(String(18))
    buyer_region_code: Mapped[str | None] = mapped_column(String(6))
    buyer_kind: Mapped[PartyKind] = mapped_column(_enum(PartyKind, "buyer_kind"))
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_credit_code: Mapped[str | None] = mapped_column(String(18))
    seller_region_code: Mapped[str | None] = mapped_column(String(6))
    seller_kind: Mapped[PartyKind] = mapped_column(_enum(PartyKind, "seller_kind"))
    # The applicant party's region (the seller's; the domestic buyer's for an import contract):
    # it routes the application and decides the region in the statistics.
    stats_region_code: Mapped[str] = mapped_column(String(6))

    signed_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)

    contract_amount: Mapped[Decimal] = _money()
    claimed_technology_amount: Mapped[Decimal] = _money()
    deduction_equipment: Mapped[Decimal] = _money()
    deduction_materials: Mapped[Decimal] = _money()
    deduction_construction: Mapped[Decimal] = _money()
    deduction_other: Mapped[Decimal] = _money()

    technology_field: Mapped[TechnologyField] = mapped_column(_enum(TechnologyField, "technology_field"))
    ip_kind: Mapped[IPCategory] = mapped_column(_enum(IPCategory, "ip_kind"))
    socio_economic_objective: Mapped[str] = mapped_column(String(100))
    expected_new_investment: Mapped[Decimal | None] = _money(nullable=True)
    expected_new_output: Mapped[Decimal | None] = _money(nullable=True)

    # Set only by a deal's hand-off (app/deals/handoff); the registration's outcome flows back to it.
    # use_alter: deals.contract_application_id points back here, a cycle of the two tables.
    deal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("deals.id", ondelete="RESTRICT", use_alter=True), index=True
    )
    achievement_id: Mapped[uuid.UUID | None]
    demand_id: Mapped[uuid.UUID | None]
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_name: Mapped[str | None] = mapped_column(String(255))

    disputed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    correction_items: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    expert_opinions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")

    submitted_at: Mapped[datetime | None]
    accepted_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_on_time: Mapped[bool | None] = mapped_column(Boolean)

    registration_number: Mapped[str | None] = mapped_column(String(16), unique=True)
    registered_on: Mapped[date | None] = mapped_column(Date)
    registered_contract_amount: Mapped[Decimal | None] = _money(nullable=True)
    registered_technology_amount: Mapped[Decimal | None] = _money(nullable=True)
    amendment_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # A change to a large amount under expert review (status amendment_review): not yet in force.
    pending_contract_amount: Mapped[Decimal | None] = _money(nullable=True)
    pending_technology_amount: Mapped[Decimal | None] = _money(nullable=True)
    refusal_reason: Mapped[str | None] = mapped_column(Text)


class ContractEvent(Base):
    """The history of an application: every transition, with the amounts a decision set.

    Amendments add rows; nothing here is ever updated, so superseded amounts stay visible."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract_applications.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_capacity: Mapped[str] = mapped_column(String(16))
    contract_amount: Mapped[Decimal | None] = _money(nullable=True)
    technology_amount: Mapped[Decimal | None] = _money(nullable=True)
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class RegistrationCounter(Base):
    """The last sequence number used by one office in one year.

    Incremented with UPDATE … RETURNING inside the registering transaction: the row lock serialises
    concurrent registrations and a rollback returns the number, so numbers are unique and gapless."""

    __tablename__ = "registration_counters"

    office_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), primary_key=True
    )
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class IdempotencyRecord(Base):
    """The first response to a request sent with an `Idempotency-Key`, replayed to retries."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CalendarYear(Base):
    """A year whose working-day exceptions an administrator has published (beyond chinese-calendar)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    note: Mapped[str] = mapped_column(String(200), server_default="")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class CalendarDay(Base):
    """An exceptional day of a published year: a holiday on a weekday or a 调休 working weekend day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(50), server_default="")


# One application per contract (DOMAIN.md: one registration): while one is live or registered, no
# other may carry the same document, or the same parties, project name and signing date. Refused
# and cancelled ones no longer hold the contract. Unique indexes, so that two submissions at the
# same moment cannot both pass (the service answers 409 duplicate_contract naming the other).
HOLDS_THE_CONTRACT = text("status NOT IN ('refused', 'cancelled')")
Index(
    "uq_contract_applications_live_document",
    ContractApplication.document_sha256,
    unique=True,
    postgresql_where=HOLDS_THE_CONTRACT,
)
Index(
    "uq_contract_applications_live_contract",
    func.coalesce(ContractApplication.seller_credit_code, ContractApplication.seller_name),
    func.coalesce(ContractApplication.buyer_credit_code, ContractApplication.buyer_name),
    ContractApplication.project_name,
    ContractApplication.signed_on,
    unique=True,
    postgresql_where=HOLDS_THE_CONTRACT,
)
