"""Reward rules (奖励规则): who a region pays for registered contracts reached through deals, how
much and up to what. The report itself is computed from the registrations, never stored."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, Enum, ForeignKey, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, Timestamps, UUIDPrimaryKey
from app.rewards.vocabulary import Beneficiary


class RewardRule(UUIDPrimaryKey, Timestamps, Base):
    """One scheme, e.g. the Jiangsu draft: agencies get 3 % of the certified technology amount, at
    most 1,000,000.00 元 a year. No two rules for the same beneficiary may overlap in region (one
    code a prefix of the other) and period: the service checks that under a transaction lock."""

    __tablename__ = "reward_rules"
    __table_args__ = (
        CheckConstraint("rate > 0 AND rate <= 1", name="rate_range"),
        CheckConstraint("annual_cap >= 0", name="annual_cap_non_negative"),
        CheckConstraint("minimum_contract_amount >= 0", name="minimum_non_negative"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="period_order"),
        CheckConstraint("region_code ~ '^[0-9]{2}([0-9]{2}([0-9]{2})?)?$'", name="region_prefix"),
    )

    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    name: Mapped[str] = mapped_column(String(200))
    # A GB/T 2260 prefix: "32" Jiangsu, "3201" Nanjing; matched against the registration's region.
    region_code: Mapped[str] = mapped_column(String(6))
    valid_from: Mapped[date] = mapped_column(Date)
    # None: open-ended.
    valid_until: Mapped[date | None] = mapped_column(Date)
    beneficiary: Mapped[Beneficiary] = mapped_column(
        Enum(
            Beneficiary,
            name="reward_beneficiary",
            native_enum=False,
            create_constraint=True,
            length=32,
            validate_strings=True,
        )
    )
    # A fraction of the certified technology amount in force (0.03 = 3 %).
    rate: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    # Per beneficiary and registration year; None: no cap.
    annual_cap: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    # Compared with the certified contract amount (成交额) in force; None: no minimum.
    minimum_contract_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    exclude_related_party: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The policy document the rule comes from.
    source: Mapped[str] = mapped_column(String(300), server_default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
