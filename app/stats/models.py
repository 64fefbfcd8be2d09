import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, Timestamps, UUIDPrimaryKey


class Metric(StrEnum):
    contract_amount = "contract_amount"
    technology_amount = "technology_amount"

    @property
    def label(self) -> str:
        return {"contract_amount": "技术合同成交额", "technology_amount": "技术交易额"}[self]


class Target(UUIDPrimaryKey, Timestamps, Base):
    """A planned total for a region and period (目标), e.g. Jiangsu's 1000亿元 for 2018–2020.

    `region_prefixes` is a list of GB/T 2260 code prefixes whose union is the scope: ["32"] is
    Jiangsu, ["3201"] Nanjing, and the 苏南 zone is the five cities ["3201", "3202", "3204", "3205", "3211"].
    """

    __tablename__ = "targets"
    __table_args__ = (CheckConstraint("period_start <= period_end", name="period_ordered"),)

    name: Mapped[str] = mapped_column(String(200), unique=True)
    region_prefixes: Mapped[list[str]] = mapped_column(ARRAY(String(6)))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    metric: Mapped[Metric] = mapped_column(
        Enum(
            Metric,
            name="target_metric",
            native_enum=False,
            create_constraint=True,
            length=32,
            validate_strings=True,
        )
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    source: Mapped[str] = mapped_column(String(200), server_default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ContractTotal(Base):
    """Registered contracts summed per month, seller city (`region_code` = 4-digit prefix) and one
    dimension value.

    `dimension` is one of all/type/field/seller_kind/ip_kind (`value` "" for all): one row set per
    statistic keeps the table small (a full cube over every dimension at once would have about as
    many rows as contracts). Maintained in the transaction of every registration, amendment,
    cancellation and objection, so it always equals the SUM over `contract_applications`.
    """

    __tablename__ = "contract_totals"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    contract_count: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    contract_amount: Mapped[Decimal] = mapped_column(Numeric(22, 2), server_default=text("0"))
    technology_amount: Mapped[Decimal] = mapped_column(Numeric(22, 2), server_default=text("0"))


class ContractDailyTotal(Base):
    """The same sums per registration day, for the partial months at either end of a date range
    (a range from the 15th reads at most two months of days here instead of scanning contracts)."""

    __tablename__ = "contract_daily_totals"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    contract_count: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    contract_amount: Mapped[Decimal] = mapped_column(Numeric(22, 2), server_default=text("0"))
    technology_amount: Mapped[Decimal] = mapped_column(Numeric(22, 2), server_default=text("0"))


class _FunnelCounts:
    """The market funnel's counts of one period and region code (the listing owner's for
    interests, the seller's for deals; "" where the organization has none): interests filed and
    accepted, deals opened and those that have entered each funnel stage. Kept by the triggers of
    migration 8e4b2f6a1c39 in the transaction of every change to an interest, a deal or an
    organization's region, so they always equal the counts over the cohort."""

    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    interests: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    accepted: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    mandated: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    agreed: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    signed: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    registered: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class MarketFunnelMonth(_FunnelCounts, Base):
    """Per Asia/Shanghai month of creation (its first day)."""

    __tablename__ = "market_funnel_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)


class MarketFunnelDay(_FunnelCounts, Base):
    """Per Asia/Shanghai day of creation, for the partial months at either end of a period."""

    __tablename__ = "market_funnel_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)


class BrokerSide(StrEnum):
    agency = "agency"
    manager = "manager"


class Grain(StrEnum):
    all = "all"  # all time: its period is -infinity
    year = "year"
    month = "month"
    day = "day"


class _BrokerBucket:
    """One broker (an agency or a technology manager) in one period bucket — all time, or the
    year, month or day (Asia/Shanghai) its first day names — and one region prefix of the listing
    owner (interests) or seller (deals). All time, years and months are kept at "" (everywhere)
    and at the 2-, 4- and 6-digit prefixes the API accepts, days at the full code only (a report
    reads the days of at most two partial months). Kept by the triggers of migration 5b7d9e1f3a62
    in the transaction of every change to an interest, a deal, an organization's region or a
    user's organization."""

    grain: Mapped[Grain] = mapped_column(String(5), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    side: Mapped[BrokerSide] = mapped_column(String(7), primary_key=True)
    broker_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class MarketBrokerFigures(_BrokerBucket, Base):
    """The brokers' figures (docs/deals.md) of the interests filed and the deals opened in the
    bucket: interests handled and registered, deals brokered by current stage, registered deals and
    their certified technology amount."""

    __tablename__ = "market_broker_figures"
    __table_args__ = (
        CheckConstraint("grain IN ('all', 'year', 'month', 'day')", name="grain"),
        CheckConstraint("side IN ('agency', 'manager')", name="side"),
        # Days are read for every code of a few days; years and months by the primary key.
        Index("ix_market_broker_figures_day", "period", postgresql_where=text("grain = 'day'")),
    )

    interests_handled: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    interests_registered: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_lead: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_mandated: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_diligence: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_negotiating: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_agreed: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_signed: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_registration_submitted: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_registered: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_on_hold: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    deals_lost: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    registered_deals: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    registered_technology_amount: Mapped[Decimal] = mapped_column(Numeric(22, 2), server_default=text("0"))


class MarketBrokerRegistrationDays(_BrokerBucket, Base):
    """How many of the bucket's handled interests took `days` (whole Asia/Shanghai days) from
    filing to their deal's registration: the exact median without reading the interests."""

    __tablename__ = "market_broker_registration_days"
    __table_args__ = (
        CheckConstraint("grain IN ('all', 'year', 'month', 'day')", name="grain"),
        CheckConstraint("side IN ('agency', 'manager')", name="side"),
        # Read for the brokers on a report's page only, one broker at a time.
        PrimaryKeyConstraint("side", "broker_id", "grain", "region_code", "period", "days"),
    )

    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    interests: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
