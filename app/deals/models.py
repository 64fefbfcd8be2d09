"""Deals (交易项目): expressions of interest, the deal a broker carries from lead to registered
contract, its stage history, mandate, notes and tasks, and the listing views the market statistics
count. The rules live in the services; these rows are what they keep."""

import uuid
from datetime import date, datetime
from decimal import Decimal

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
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, Timestamps, UUIDPrimaryKey
from app.deals.vocabulary import DealStage, DeclineReason, InterestStatus
from app.trading.vocabulary import PricingRoute

MONEY = Numeric(18, 2)


def _enum(enum_class: type, name: str) -> Enum:
    # VARCHAR + CHECK like the other domains: adding a value stays a one-line migration.
    return Enum(
        enum_class, name=name, native_enum=False, create_constraint=True, length=32, validate_strings=True
    )


def _organization(nullable: bool = False) -> Mapped:  # type: ignore[type-arg]
    return mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=nullable, index=True)


def _user(nullable: bool = True) -> Mapped:  # type: ignore[type-arg]
    return mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=nullable)


# A deal is open until it is registered or lost; on hold is still open (it may resume).
OPEN_SQL = "stage NOT IN ('registered', 'lost')"
# An interest concerns exactly one listing, an achievement or a demand.
ONE_LISTING_SQL = "(achievement_id IS NULL) <> (demand_id IS NULL)"
# The stages the market funnel counts, and the deal's column holding when it first entered each
# (maintained by `service.enter_stage`; equal to the first such DealStageEvent's `created_at`).
REACHED_AT = {
    DealStage.mandated: "reached_mandated_at",
    DealStage.agreed: "reached_agreed_at",
    DealStage.signed: "reached_signed_at",
    DealStage.registered: "reached_registered_at",
}


class Interest(UUIDPrimaryKey, Timestamps, Base):
    """An expression of interest (意向) in a published achievement or demand, and the owner's answer."""

    __tablename__ = "interests"
    __table_args__ = (
        CheckConstraint(ONE_LISTING_SQL, name="one_listing"),
        CheckConstraint("budget_min >= 0 AND budget_max >= 0", name="budget_non_negative"),
        CheckConstraint("budget_min <= budget_max", name="budget_range"),
        # One open interest per organization and listing (a second click must not notify twice).
        Index(
            "uq_interests_open_achievement",
            "achievement_id",
            "organization_id",
            unique=True,
            postgresql_where=text("status = 'open' AND achievement_id IS NOT NULL"),
        ),
        Index(
            "uq_interests_open_demand",
            "demand_id",
            "organization_id",
            unique=True,
            postgresql_where=text("status = 'open' AND demand_id IS NOT NULL"),
        ),
        Index("ix_interests_status_created_at", "status", "created_at"),
        # A period's interests by an index-only scan (the funnel's naive yardstick; the market
        # statistics themselves read the rollups of app/stats/models.py).
        Index(
            "ix_interests_created_at",
            "created_at",
            postgresql_include=["owner_organization_id", "status"],
        ),
    )

    achievement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), index=True
    )
    demand_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("demands.id", ondelete="CASCADE"), index=True
    )
    # The listing's owner when the interest was filed: who answers it.
    owner_organization_id: Mapped[uuid.UUID] = _organization()
    # The interested organization (the client, when a technology manager files on its behalf).
    organization_id: Mapped[uuid.UUID] = _organization()
    submitted_by_id: Mapped[uuid.UUID | None] = _user()
    # The technology manager who filed on the client's behalf; None when the client filed itself.
    on_behalf_broker_id: Mapped[uuid.UUID | None] = _user()

    intended_use: Mapped[str] = mapped_column(Text, server_default="")
    budget_min: Mapped[Decimal | None] = mapped_column(MONEY)
    budget_max: Mapped[Decimal | None] = mapped_column(MONEY)
    timeline: Mapped[str] = mapped_column(String(200), server_default="")
    questions: Mapped[str] = mapped_column(Text, server_default="")

    status: Mapped[InterestStatus] = mapped_column(
        _enum(InterestStatus, "interest_status"), server_default=InterestStatus.open.value
    )
    decline_reason: Mapped[DeclineReason | None] = mapped_column(_enum(DeclineReason, "decline_reason"))
    decline_note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[uuid.UUID | None] = _user()
    # When the interested side was told that the owner has not answered yet (once).
    unanswered_notified_at: Mapped[datetime | None]
    deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    # Copies of the deal's broker and registration for the brokers' statistics, kept by database
    # triggers whoever writes either row (migration 3c1e7a9d5b20; docs/deals.md).
    deal_broker_user_id: Mapped[uuid.UUID | None]
    deal_broker_agency_id: Mapped[uuid.UUID | None]
    deal_registered_at: Mapped[datetime | None]


class Deal(UUIDPrimaryKey, Timestamps, Base):
    """交易项目: one trade between a seller and a buyer, carried by a broker through its stages.

    `broker_*` copy the mandate in force (the statistics and the visibility rule read them without a
    join); `registration_*` copy the registration's outcome once it flows back."""

    __tablename__ = "deals"
    __table_args__ = (
        CheckConstraint("agreed_price >= 0", name="agreed_price_non_negative"),
        # One open deal per listing and counterpart: a second one answers 409 naming the first.
        Index(
            "uq_deals_open_achievement_buyer",
            "achievement_id",
            "buyer_organization_id",
            unique=True,
            postgresql_where=text(f"{OPEN_SQL} AND achievement_id IS NOT NULL"),
        ),
        Index(
            "uq_deals_open_demand_seller",
            "demand_id",
            "seller_organization_id",
            unique=True,
            postgresql_where=text(f"{OPEN_SQL} AND demand_id IS NOT NULL"),
        ),
        Index("ix_deals_stage", "stage"),
        # The market statistics read the deals opened in a period from this alone (index-only).
        Index(
            "ix_deals_created_at",
            "created_at",
            postgresql_include=[
                "seller_organization_id",
                "broker_user_id",
                "broker_agency_id",
                "stage",
                *REACHED_AT.values(),
                "registered_technology_amount",
            ],
        ),
    )

    # Incremented on every change; clients send it back (If-Match) to detect lost updates.
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[DealStage] = mapped_column(
        _enum(DealStage, "deal_stage"), server_default=DealStage.lead.value
    )
    stage_changed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The stage a deal on hold resumes to.
    held_from_stage: Mapped[DealStage | None] = mapped_column(_enum(DealStage, "deal_held_from_stage"))
    # Why the deal was put on hold or lost (shown to the parties).
    stage_reason: Mapped[str | None] = mapped_column(String(500))

    # Either may be unknown while the deal is a broker's lead.
    seller_organization_id: Mapped[uuid.UUID | None] = _organization(nullable=True)
    buyer_organization_id: Mapped[uuid.UUID | None] = _organization(nullable=True)
    achievement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="RESTRICT"), index=True
    )
    demand_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("demands.id", ondelete="RESTRICT"), index=True
    )

    broker_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    broker_agency_id: Mapped[uuid.UUID | None] = _organization(nullable=True)

    # A TransferMode of the listings' vocabulary: what the contract will be (转让, 许可, 合作开发 …).
    transfer_mode: Mapped[str | None] = mapped_column(String(32))
    agreed_price: Mapped[Decimal | None] = mapped_column(MONEY)
    # The route that set the price (app/trading); a university or institute seller must use one.
    pricing_route: Mapped[PricingRoute | None] = mapped_column(_enum(PricingRoute, "deal_pricing_route"))
    payment_terms: Mapped[str] = mapped_column(Text, server_default="")
    # Parties under common control or kin: such deals earn no reward (DOMAIN.md: rewards).
    related_party: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    contract_application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contract_applications.id", ondelete="SET NULL"), unique=True
    )
    registration_number: Mapped[str | None] = mapped_column(String(16))
    registered_on: Mapped[date | None] = mapped_column(Date)
    registered_contract_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    registered_technology_amount: Mapped[Decimal | None] = mapped_column(MONEY)

    created_by_id: Mapped[uuid.UUID | None] = _user()

    # When the deal first entered each stage of the funnel (REACHED_AT): the statistics read these
    # instead of a million stage events (docs/deals.md).
    reached_mandated_at: Mapped[datetime | None]
    reached_agreed_at: Mapped[datetime | None]
    reached_signed_at: Mapped[datetime | None]
    reached_registered_at: Mapped[datetime | None]


class DealStageEvent(Base):
    """Every stage a deal entered, by whom and why; appended, never updated."""

    __tablename__ = "deal_stage_events"
    __table_args__ = (Index("ix_deal_stage_events_deal_id_id", "deal_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    # None for the event that opened the deal.
    from_stage: Mapped[DealStage | None] = mapped_column(_enum(DealStage, "deal_event_from_stage"))
    to_stage: Mapped[DealStage] = mapped_column(_enum(DealStage, "deal_event_to_stage"))
    # None when the system moved it (the registration's outcome, a pricing route's result).
    actor_user_id: Mapped[uuid.UUID | None] = _user()
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Mandate(UUIDPrimaryKey, Base):
    """委托: who engaged the broker for a deal, on what commission, for how long."""

    __tablename__ = "mandates"
    __table_args__ = (
        CheckConstraint("(commission_rate IS NULL) <> (commission_fixed IS NULL)", name="one_commission"),
        CheckConstraint("commission_rate >= 0 AND commission_rate <= 1", name="commission_rate_range"),
        CheckConstraint("commission_fixed >= 0", name="commission_fixed_non_negative"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period_order"),
        # One mandate in force per deal: the deal has one broker.
        Index("uq_mandates_deal_in_force", "deal_id", unique=True, postgresql_where=text("ended_at IS NULL")),
    )

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    # The party that engaged the broker (the deal's seller or buyer).
    engaged_by_organization_id: Mapped[uuid.UUID] = _organization()
    technology_manager_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    agency_organization_id: Mapped[uuid.UUID] = _organization()
    # A fraction of the agreed price (0.03 = 3 %), or a fixed amount: exactly one of the two.
    commission_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 6))
    commission_fixed: Mapped[Decimal | None] = mapped_column(MONEY)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[uuid.UUID | None] = _user()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set when a later mandate replaced this one or it was withdrawn.
    ended_at: Mapped[datetime | None]


class DealNote(UUIDPrimaryKey, Base):
    __tablename__ = "deal_notes"
    __table_args__ = (Index("ix_deal_notes_deal_id_created_at", "deal_id", "created_at"),)

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = _user()
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DealTask(UUIDPrimaryKey, Timestamps, Base):
    """A next step with a due date; the broker's overdue list reads the open ones."""

    __tablename__ = "deal_tasks"
    __table_args__ = (
        Index(
            "ix_deal_tasks_open_assignee_due",
            "assignee_id",
            "due_on",
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    assignee_id: Mapped[uuid.UUID | None] = _user()
    done_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID | None] = _user()


class ListingView(Base):
    """A signed-in organization looked at a listing's detail on a day (Asia/Shanghai): counted once
    per organization and day, so that a reload or a crawler does not inflate the figure."""

    __tablename__ = "listing_views"

    listing_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
