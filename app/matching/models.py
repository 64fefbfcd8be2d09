"""Subscriptions (saved searches and followed demands), and the notifications users receive: of a
subscription's matches, and of each step of an expression of interest (app/interests)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, Timestamps

WEBHOOK_URL_MAX = 500


class SubscriptionKind(StrEnum):
    search = "search"  # 保存的搜索
    demand = "demand"  # 关注本企业的需求

    @property
    def label(self) -> str:
        return {"search": "保存的搜索", "demand": "关注需求"}[self.value]


class Subscription(Timestamps, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_active_kind", "active", "kind"),
        # Following a demand twice would notify twice of every match (a double click on 关注).
        Index(
            "uq_subscriptions_user_demand",
            "user_id",
            "demand_id",
            unique=True,
            postgresql_where=text("kind = 'demand'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[SubscriptionKind] = mapped_column(
        Enum(SubscriptionKind, name="subscription_kind", native_enum=False, create_constraint=True, length=16)
    )
    name: Mapped[str] = mapped_column(String(100), server_default="")
    query: Mapped[str] = mapped_column(String(200), server_default="")
    types: Mapped[list[str]] = mapped_column(ARRAY(String(16)), server_default=text("'{}'"))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    demand_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"))
    webhook_url: Mapped[str | None] = mapped_column(String(WEBHOOK_URL_MAX))
    # Signs deliveries (Standard Webhooks); shown to the owner when created or rotated, never listed.
    webhook_secret: Mapped[str | None] = mapped_column(String(64))
    # Since when deliveries have been failing, and the last failure: what the owner's integrator needs
    # to see; cleared by the next delivery that succeeds.
    webhook_failing_since: Mapped[datetime | None]
    webhook_last_error: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class NotificationKind(StrEnum):
    match = "match"  # a new listing a subscription found
    interest_received = "interest_received"  # to the listing's owner
    interest_accepted = "interest_accepted"  # to the interested side
    interest_declined = "interest_declined"  # to the interested side, with the reason
    interest_withdrawn = "interest_withdrawn"  # to the listing's owner
    interest_unanswered = "interest_unanswered"  # to the interested side, once
    # Trading routes (docs/trading.md).
    publicity_objection_filed = "publicity_objection_filed"  # to the seller side
    publicity_objection_decided = "publicity_objection_decided"  # to the objector
    publicity_completed = "publicity_completed"  # to the deal's parties
    listing_intention_filed = "listing_intention_filed"  # to the seller side
    listing_intention_answered = "listing_intention_answered"  # to the buyer: qualified or rejected
    listing_period_ended = "listing_period_ended"  # to the seller and the buyers: what followed
    auction_qualified = "auction_qualified"  # to a bidder: its code, the terms
    auction_closed = "auction_closed"  # to the seller and every bidder
    deposit_forfeited = "deposit_forfeited"  # to the winner who did not sign, and the seller
    transaction_certificate_issued = "transaction_certificate_issued"  # to the deal's parties
    transaction_certificate_revoked = "transaction_certificate_revoked"  # to the deal's parties

    @property
    def label(self) -> str:
        return _NOTIFICATION_KIND_LABELS[self.value]


_NOTIFICATION_KIND_LABELS = {
    "match": "订阅匹配",
    "interest_received": "收到合作意向",
    "interest_accepted": "意向已被接受",
    "interest_declined": "意向已被婉拒",
    "interest_withdrawn": "意向已撤回",
    "interest_unanswered": "意向尚未答复",
    "publicity_objection_filed": "公示收到异议",
    "publicity_objection_decided": "异议已处理",
    "publicity_completed": "公示期满",
    "listing_intention_filed": "收到受让意向",
    "listing_intention_answered": "受让资格确认结果",
    "listing_period_ended": "挂牌期满",
    "auction_qualified": "竞买资格确认",
    "auction_closed": "竞价结束",
    "deposit_forfeited": "保证金没收",
    "transaction_certificate_issued": "交易凭证已出具",
    "transaction_certificate_revoked": "交易凭证已撤销",
}


class Notification(Base):
    """Something a user is told: a subscription's match (`subscription_id` set, one per subscription
    and listing), or a step of an interest in a listing (no subscription; `details` says which)."""

    __tablename__ = "notifications"
    __table_args__ = (
        # One notification per subscription and listing, however often the listing is republished.
        UniqueConstraint("subscription_id", "listing_kind", "listing_id"),
        CheckConstraint("kind <> 'match' OR subscription_id IS NOT NULL", name="match_has_subscription"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(
        Enum(
            NotificationKind, name="notification_kind", native_enum=False, create_constraint=True, length=32
        ),
        server_default=NotificationKind.match.value,
    )
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    listing_kind: Mapped[str] = mapped_column(String(16))
    listing_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    explanation: Mapped[list[str]] = mapped_column(ARRAY(String(200)), server_default=text("'{}'"))
    # An interest's notification: which interest, and what the recipient may know of its step
    # (never contacts nor confidential details: it is also posted to webhooks).
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    read_at: Mapped[datetime | None]
