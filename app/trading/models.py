"""The pricing routes of a deal (协议定价公示, 挂牌, 网络竞价), the auctions' bids and deposits, and
the transaction certificate (交易凭证). One schema shared by the routes; the rules live in each
route's service (app/trading/<route>/). Every time here is the server's clock (`app.core.clock`),
never the client's."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, Timestamps, UUIDPrimaryKey
from app.trading.vocabulary import (
    AnnouncementStatus,
    AuctionStatus,
    CertificateStatus,
    DepositStatus,
    IntentionStatus,
    ObjectionStatus,
    PublicityStatus,
    RevocationGround,
)

MONEY = Numeric(18, 2)


def _enum(enum_class: type, name: str) -> Enum:
    # VARCHAR + CHECK like the other domains: adding a value stays a one-line migration.
    return Enum(
        enum_class, name=name, native_enum=False, create_constraint=True, length=32, validate_strings=True
    )


def _deal() -> Mapped:  # type: ignore[type-arg]
    return mapped_column(ForeignKey("deals.id", ondelete="RESTRICT"), index=True)


def _organization(nullable: bool = False) -> Mapped:  # type: ignore[type-arg]
    return mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=nullable, index=True)


def _user(nullable: bool = True) -> Mapped:  # type: ignore[type-arg]
    return mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=nullable)


# --- 协议定价公示 -------------------------------------------------------------------------------


class PricingPublicity(UUIDPrimaryKey, Timestamps, Base):
    """The seller's public notice of an achievement's name and the price agreed in negotiation.

    `ends_at` is when the period runs out; while an objection is pending (suspended) the clock stands
    still: `remaining_seconds` keeps what was left, and a dismissal sets `ends_at` = decision time +
    that remainder (docs/trading.md)."""

    __tablename__ = "pricing_publicities"
    __table_args__ = (
        CheckConstraint("proposed_price > 0", name="proposed_price_positive"),
        # One publicity running or suspended per deal.
        Index(
            "uq_pricing_publicities_live_deal",
            "deal_id",
            unique=True,
            postgresql_where=text("status IN ('running', 'suspended')"),
        ),
        Index("ix_pricing_publicities_status_ends_at", "status", "ends_at"),
    )

    deal_id: Mapped[uuid.UUID] = _deal()
    achievement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="RESTRICT"), index=True
    )
    seller_organization_id: Mapped[uuid.UUID] = _organization()
    # What the public sees, copied when published (a later edit of the listing does not change it).
    achievement_name: Mapped[str] = mapped_column(String(200))
    proposed_price: Mapped[Decimal] = mapped_column(MONEY)
    # Optional plain-language terms shown with the price (payment, licence scope).
    terms: Mapped[str] = mapped_column(Text, server_default="")
    period_days: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[PublicityStatus] = mapped_column(
        _enum(PublicityStatus, "pricing_publicity_status"), server_default=PublicityStatus.running.value
    )
    suspended_at: Mapped[datetime | None]
    remaining_seconds: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None]
    published_by_id: Mapped[uuid.UUID | None] = _user()
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class PublicityObjection(UUIDPrimaryKey, Timestamps, Base):
    """异议: any signed-in user objects during the period; the seller or an administrator decides."""

    __tablename__ = "publicity_objections"
    __table_args__ = (
        Index("ix_publicity_objections_publicity_id_created_at", "publicity_id", "created_at"),
        # One pending objection per person and publicity: a second one adds nothing but delay.
        Index(
            "uq_publicity_objections_pending_objector",
            "publicity_id",
            "objector_user_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
    )

    publicity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pricing_publicities.id", ondelete="CASCADE"))
    objector_user_id: Mapped[uuid.UUID | None] = _user()
    objector_organization_id: Mapped[uuid.UUID | None] = _organization(nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    # An optional supporting document, type-checked like the confidential documents.
    document_name: Mapped[str | None] = mapped_column(String(200))
    document_content_type: Mapped[str | None] = mapped_column(String(100))
    document: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[ObjectionStatus] = mapped_column(
        _enum(ObjectionStatus, "publicity_objection_status"), server_default=ObjectionStatus.pending.value
    )
    decided_by_id: Mapped[uuid.UUID | None] = _user()
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)


# --- 挂牌 -----------------------------------------------------------------------------------------


class ListingAnnouncement(UUIDPrimaryKey, Timestamps, Base):
    """挂牌公告 for an achievement, on a deal whose buyer is not known yet.

    The content fields are frozen while the announcement runs: a change is a new `revision` that
    restarts the period from the day of the change (audited). The period counts Chinese working
    days (app/contracts/calendar.py) from the day after `period_starts_on`; it closes at the end of
    `period_ends_on` in Asia/Shanghai (`ends_at`, UTC)."""

    __tablename__ = "listing_announcements"
    __table_args__ = (
        CheckConstraint("floor_price > 0", name="floor_price_positive"),
        CheckConstraint("deposit_amount >= 0", name="deposit_non_negative"),
        CheckConstraint("period_working_days > 0", name="period_positive"),
        CheckConstraint(
            "extension_working_days IS NULL OR extension_working_days > 0", name="extension_positive"
        ),
        Index(
            "uq_listing_announcements_running_deal",
            "deal_id",
            unique=True,
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_listing_announcements_status_ends_at", "status", "ends_at"),
    )

    deal_id: Mapped[uuid.UUID] = _deal()
    achievement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("achievements.id", ondelete="RESTRICT"), index=True
    )
    seller_organization_id: Mapped[uuid.UUID] = _organization()
    # Content (frozen while running).
    title: Mapped[str] = mapped_column(String(200))
    floor_price: Mapped[Decimal] = mapped_column(MONEY)
    # 转让 / 许可 … (listings' TransferMode): what the buyer gets, and the agreed deal's transfer mode.
    transfer_mode: Mapped[str] = mapped_column(String(32))
    conditions: Mapped[str] = mapped_column(Text, server_default="")
    buyer_qualifications: Mapped[str] = mapped_column(Text, server_default="")
    deposit_amount: Mapped[Decimal] = mapped_column(MONEY, server_default=text("0"))
    period_working_days: Mapped[int] = mapped_column(Integer)
    # The announced extension step; None: no extension, the listing closes without a buyer.
    extension_working_days: Mapped[int | None] = mapped_column(Integer)
    max_extensions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # What follows the period (shown as announced; the outcome rules are the service's).
    after_period: Mapped[str] = mapped_column(Text, server_default="")
    # The auction's terms if two or more buyers qualify.
    auction_increment: Mapped[Decimal | None] = mapped_column(MONEY)
    # Period and state.
    revision: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    period_starts_on: Mapped[date] = mapped_column(Date)
    period_ends_on: Mapped[date] = mapped_column(Date)
    ends_at: Mapped[datetime]
    extensions_used: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    status: Mapped[AnnouncementStatus] = mapped_column(
        _enum(AnnouncementStatus, "listing_announcement_status"),
        server_default=AnnouncementStatus.running.value,
    )
    closed_at: Mapped[datetime | None]
    published_by_id: Mapped[uuid.UUID | None] = _user()
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class ListingIntention(UUIDPrimaryKey, Timestamps, Base):
    """意向受让: a buyer organization offers at least the floor; the seller qualifies or rejects it
    within the set working days (`answer_due_on`)."""

    __tablename__ = "listing_intentions"
    __table_args__ = (
        CheckConstraint("offer_price > 0", name="offer_price_positive"),
        Index(
            "uq_listing_intentions_live_buyer",
            "announcement_id",
            "buyer_organization_id",
            unique=True,
            postgresql_where=text("status <> 'withdrawn'"),
        ),
    )

    announcement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("listing_announcements.id", ondelete="CASCADE"), index=True
    )
    buyer_organization_id: Mapped[uuid.UUID] = _organization()
    submitted_by_id: Mapped[uuid.UUID | None] = _user()
    offer_price: Mapped[Decimal] = mapped_column(MONEY)
    note: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[IntentionStatus] = mapped_column(
        _enum(IntentionStatus, "listing_intention_status"), server_default=IntentionStatus.filed.value
    )
    answer_due_on: Mapped[date] = mapped_column(Date)
    decided_by_id: Mapped[uuid.UUID | None] = _user()
    decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)


# --- 网络竞价 -------------------------------------------------------------------------------------


class Auction(UUIDPrimaryKey, Timestamps, Base):
    """An online auction for a deal's subject. `best_*` and `bid_count` are kept under the row lock
    every bid takes (the bids on one auction are serialised by it); `ends_at` moves with each bid in
    the anti-sniping window, `scheduled_ends_at` keeps the announced end."""

    __tablename__ = "auctions"
    __table_args__ = (
        CheckConstraint("opening_price > 0", name="opening_price_positive"),
        CheckConstraint("increment > 0", name="increment_positive"),
        CheckConstraint("reserve_price IS NULL OR reserve_price > 0", name="reserve_positive"),
        CheckConstraint("deposit_amount >= 0", name="deposit_non_negative"),
        CheckConstraint("ends_at > starts_at", name="period_order"),
        Index(
            "uq_auctions_live_deal",
            "deal_id",
            unique=True,
            postgresql_where=text("status IN ('scheduled', 'running')"),
        ),
        # The worker's next close: the earliest end of an auction not closed yet.
        Index(
            "ix_auctions_open_ends_at", "ends_at", postgresql_where=text("status IN ('scheduled', 'running')")
        ),
    )

    deal_id: Mapped[uuid.UUID] = _deal()
    # Set when the auction follows a listing with two or more qualified buyers.
    announcement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("listing_announcements.id", ondelete="SET NULL"), index=True
    )
    achievement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="RESTRICT"), index=True
    )
    seller_organization_id: Mapped[uuid.UUID] = _organization()
    title: Mapped[str] = mapped_column(String(200))
    # What is sold (listings' TransferMode), carried to the deal when it is sold.
    transfer_mode: Mapped[str] = mapped_column(String(32))
    opening_price: Mapped[Decimal] = mapped_column(MONEY)
    increment: Mapped[Decimal] = mapped_column(MONEY)
    # Secret: never shown to bidders or the public, only to the seller side and administrators.
    reserve_price: Mapped[Decimal | None] = mapped_column(MONEY)
    deposit_amount: Mapped[Decimal] = mapped_column(MONEY, server_default=text("0"))
    starts_at: Mapped[datetime]
    scheduled_ends_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[AuctionStatus] = mapped_column(
        _enum(AuctionStatus, "auction_status"), server_default=AuctionStatus.scheduled.value
    )
    best_bid_id: Mapped[int | None] = mapped_column(BigInteger)
    best_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    # An auction_bidders id (no foreign key: the two tables would reference each other).
    best_bidder_id: Mapped[uuid.UUID | None]
    bid_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    extensions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    closed_at: Mapped[datetime | None]
    # The winner must sign by then or forfeit the deposit (working days after the close).
    sign_by: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[uuid.UUID | None] = _user()
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class AuctionBidder(UUIDPrimaryKey, Timestamps, Base):
    """A qualified bidder (an organization) on one auction, shown by `code` until the close, and its
    deposit — a record, not a payment: an administrator confirms receipt."""

    __tablename__ = "auction_bidders"
    __table_args__ = (
        UniqueConstraint("auction_id", "organization_id", name="uq_auction_bidders_organization"),
        UniqueConstraint("auction_id", "code", name="uq_auction_bidders_code"),
    )

    auction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = _organization()
    # 竞买号: what everyone sees instead of the name until the close.
    code: Mapped[str] = mapped_column(String(16))
    qualified_by_id: Mapped[uuid.UUID | None] = _user()
    deposit_status: Mapped[DepositStatus] = mapped_column(
        _enum(DepositStatus, "auction_deposit_status"), server_default=DepositStatus.awaiting.value
    )
    deposit_confirmed_by_id: Mapped[uuid.UUID | None] = _user()
    deposit_confirmed_at: Mapped[datetime | None]
    deposit_settled_at: Mapped[datetime | None]


class Bid(Base):
    """An accepted bid; appended under the auction's row lock, never updated. `sequence` numbers the
    auction's bids 1, 2, 3 … (the SSE event id), so a missing one is visible."""

    __tablename__ = "bids"
    __table_args__ = (
        UniqueConstraint("auction_id", "sequence", name="uq_bids_auction_sequence"),
        # Never two accepted bids at one price on one auction.
        UniqueConstraint("auction_id", "amount", name="uq_bids_auction_amount"),
        # Idempotency-Key: a retried bid answers the first one's result.
        Index(
            "uq_bids_idempotency",
            "auction_id",
            "placed_by_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    auction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    bidder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auction_bidders.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    placed_by_id: Mapped[uuid.UUID | None] = _user()
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    placed_at: Mapped[datetime]
    # The auction's end after this bid (moved when the bid fell in the anti-sniping window).
    ends_at_after: Mapped[datetime]


# --- 交易凭证 -------------------------------------------------------------------------------------


class TransactionCertificateCounter(Base):
    """The last serial number of a year's transaction certificates (JY-<year>-<serial>), taken
    under this row's lock so numbers are gapless and never issued twice."""

    __tablename__ = "transaction_certificate_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_serial: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class TransactionCertificate(UUIDPrimaryKey, Timestamps, Base):
    """交易凭证: one per agreed deal, never issued twice (a unique deal), revocable with a reason.
    `content` is the snapshot printed and verified; `content_hash` its SHA-256 (docs/trading.md)."""

    __tablename__ = "transaction_certificates"
    __table_args__ = (UniqueConstraint("deal_id", name="uq_transaction_certificates_deal"),)

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deals.id", ondelete="RESTRICT"))
    # 项目编号, e.g. JY-2026-000123: the public verification's key.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    content: Mapped[dict] = mapped_column(JSONB)  # type: ignore[type-arg]
    content_hash: Mapped[str] = mapped_column(String(64))
    review_conclusion: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(server_default=func.now())
    issued_by_id: Mapped[uuid.UUID | None] = _user()
    status: Mapped[CertificateStatus] = mapped_column(
        _enum(CertificateStatus, "transaction_certificate_status"),
        server_default=CertificateStatus.valid.value,
    )
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[uuid.UUID | None] = _user()
    revocation_ground: Mapped[RevocationGround | None] = mapped_column(
        _enum(RevocationGround, "transaction_certificate_revocation_ground")
    )
    revocation_reason: Mapped[str | None] = mapped_column(Text)
