"""Imports every domain's models so that `Base.metadata` (and so Alembic) sees all tables."""

from app.accounts.models import AuthSession, LoginThrottle, Organization, RefreshToken, User
from app.audit.models import AuditEntry
from app.confidential.models import ConfidentialDetails, ConfidentialDocument, Disclosure, Undertaking
from app.contracts.models import (
    CalendarDay,
    CalendarYear,
    ContractApplication,
    ContractEvent,
    IdempotencyRecord,
    RegistrationCounter,
)
from app.core.db import Base
from app.deals.models import Deal, DealNote, DealStageEvent, DealTask, Interest, ListingView, Mandate
from app.listings.models import Achievement, Agency, Demand, Expert
from app.matching.models import Notification, Subscription
from app.outbox.models import OutboxMessage
from app.rewards.models import RewardRule
from app.stats.models import ContractDailyTotal, ContractTotal, MarketFunnelDay, MarketFunnelMonth, Target
from app.trading.models import (
    Auction,
    AuctionBidder,
    Bid,
    ListingAnnouncement,
    ListingIntention,
    PricingPublicity,
    PublicityObjection,
    TransactionCertificate,
)

__all__ = [
    "Achievement",
    "Agency",
    "Auction",
    "AuctionBidder",
    "AuditEntry",
    "AuthSession",
    "Base",
    "Bid",
    "CalendarDay",
    "CalendarYear",
    "ConfidentialDetails",
    "ConfidentialDocument",
    "ContractApplication",
    "ContractDailyTotal",
    "ContractEvent",
    "ContractTotal",
    "Deal",
    "DealNote",
    "DealStageEvent",
    "DealTask",
    "Demand",
    "Disclosure",
    "Expert",
    "IdempotencyRecord",
    "Interest",
    "ListingAnnouncement",
    "ListingIntention",
    "ListingView",
    "LoginThrottle",
    "Mandate",
    "MarketFunnelDay",
    "MarketFunnelMonth",
    "Notification",
    "Organization",
    "OutboxMessage",
    "PricingPublicity",
    "PublicityObjection",
    "RefreshToken",
    "RegistrationCounter",
    "RewardRule",
    "Subscription",
    "Target",
    "TransactionCertificate",
    "Undertaking",
    "User",
]
