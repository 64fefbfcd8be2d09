"""Trading routes: agreed-price publicity and objections, listing announcements and intentions,
auctions with bidders, deposits and bids, transaction certificates, and the deal's pricing route.

Revision ID: e47aa85d5afe
Revises: 8e4b2f6a1c39
Create Date: 2026-12-04 01:42:28.046359
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e47aa85d5afe"
down_revision: str | None = "8e4b2f6a1c39"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listing_announcements",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("achievement_id", sa.Uuid(), nullable=False),
        sa.Column("seller_organization_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("floor_price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("conditions", sa.Text(), server_default="", nullable=False),
        sa.Column("buyer_qualifications", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "deposit_amount", sa.Numeric(precision=18, scale=2), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("period_working_days", sa.Integer(), nullable=False),
        sa.Column("extension_working_days", sa.Integer(), nullable=True),
        sa.Column("max_extensions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("after_period", sa.Text(), server_default="", nullable=False),
        sa.Column("auction_increment", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("period_starts_on", sa.Date(), nullable=False),
        sa.Column("period_ends_on", sa.Date(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extensions_used", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "closed_no_buyer",
                "agreed",
                "to_auction",
                "withdrawn",
                name="listing_announcement_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="running",
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("deposit_amount >= 0", name=op.f("ck_listing_announcements_deposit_non_negative")),
        sa.CheckConstraint(
            "extension_working_days IS NULL OR extension_working_days > 0",
            name=op.f("ck_listing_announcements_extension_positive"),
        ),
        sa.CheckConstraint("floor_price > 0", name=op.f("ck_listing_announcements_floor_price_positive")),
        sa.CheckConstraint("period_working_days > 0", name=op.f("ck_listing_announcements_period_positive")),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
            name=op.f("fk_listing_announcements_achievement_id_achievements"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_listing_announcements_deal_id_deals"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_listing_announcements_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["seller_organization_id"],
            ["organizations.id"],
            name=op.f("fk_listing_announcements_seller_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_announcements")),
    )
    op.create_index(
        op.f("ix_listing_announcements_achievement_id"),
        "listing_announcements",
        ["achievement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_listing_announcements_deal_id"), "listing_announcements", ["deal_id"], unique=False
    )
    op.create_index(
        op.f("ix_listing_announcements_seller_organization_id"),
        "listing_announcements",
        ["seller_organization_id"],
        unique=False,
    )
    op.create_index(
        "ix_listing_announcements_status_ends_at",
        "listing_announcements",
        ["status", "ends_at"],
        unique=False,
    )
    op.create_index(
        "uq_listing_announcements_running_deal",
        "listing_announcements",
        ["deal_id"],
        unique=True,
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "pricing_publicities",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("achievement_id", sa.Uuid(), nullable=True),
        sa.Column("seller_organization_id", sa.Uuid(), nullable=False),
        sa.Column("achievement_name", sa.String(length=200), nullable=False),
        sa.Column("proposed_price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("terms", sa.Text(), server_default="", nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "suspended",
                "completed",
                "objection_upheld",
                "withdrawn",
                name="pricing_publicity_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="running",
            nullable=False,
        ),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remaining_seconds", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("proposed_price > 0", name=op.f("ck_pricing_publicities_proposed_price_positive")),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
            name=op.f("fk_pricing_publicities_achievement_id_achievements"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_pricing_publicities_deal_id_deals"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_pricing_publicities_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["seller_organization_id"],
            ["organizations.id"],
            name=op.f("fk_pricing_publicities_seller_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_publicities")),
    )
    op.create_index(
        op.f("ix_pricing_publicities_achievement_id"), "pricing_publicities", ["achievement_id"], unique=False
    )
    op.create_index(op.f("ix_pricing_publicities_deal_id"), "pricing_publicities", ["deal_id"], unique=False)
    op.create_index(
        op.f("ix_pricing_publicities_seller_organization_id"),
        "pricing_publicities",
        ["seller_organization_id"],
        unique=False,
    )
    op.create_index(
        "ix_pricing_publicities_status_ends_at", "pricing_publicities", ["status", "ends_at"], unique=False
    )
    op.create_index(
        "uq_pricing_publicities_live_deal",
        "pricing_publicities",
        ["deal_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('running', 'suspended')"),
    )
    op.create_table(
        "transaction_certificates",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("review_conclusion", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("issued_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "valid",
                "revoked",
                name="transaction_certificate_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="valid",
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Uuid(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_transaction_certificates_deal_id_deals"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["users.id"],
            name=op.f("fk_transaction_certificates_issued_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["users.id"],
            name=op.f("fk_transaction_certificates_revoked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_certificates")),
        sa.UniqueConstraint("deal_id", name="uq_transaction_certificates_deal"),
        sa.UniqueConstraint("number", name=op.f("uq_transaction_certificates_number")),
    )
    op.create_table(
        "auctions",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("announcement_id", sa.Uuid(), nullable=True),
        sa.Column("achievement_id", sa.Uuid(), nullable=True),
        sa.Column("seller_organization_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opening_price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("increment", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reserve_price", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column(
            "deposit_amount", sa.Numeric(precision=18, scale=2), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "running",
                "sold",
                "no_sale",
                "cancelled",
                name="auction_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="scheduled",
            nullable=False,
        ),
        sa.Column("best_bid_id", sa.BigInteger(), nullable=True),
        sa.Column("best_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("best_bidder_id", sa.Uuid(), nullable=True),
        sa.Column("bid_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("extensions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sign_by", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("deposit_amount >= 0", name=op.f("ck_auctions_deposit_non_negative")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_auctions_period_order")),
        sa.CheckConstraint("increment > 0", name=op.f("ck_auctions_increment_positive")),
        sa.CheckConstraint("opening_price > 0", name=op.f("ck_auctions_opening_price_positive")),
        sa.CheckConstraint(
            "reserve_price IS NULL OR reserve_price > 0", name=op.f("ck_auctions_reserve_positive")
        ),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
            name=op.f("fk_auctions_achievement_id_achievements"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["listing_announcements.id"],
            name=op.f("fk_auctions_announcement_id_listing_announcements"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_auctions_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_auctions_deal_id_deals"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["seller_organization_id"],
            ["organizations.id"],
            name=op.f("fk_auctions_seller_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auctions")),
    )
    op.create_index(op.f("ix_auctions_achievement_id"), "auctions", ["achievement_id"], unique=False)
    op.create_index(op.f("ix_auctions_announcement_id"), "auctions", ["announcement_id"], unique=False)
    op.create_index(op.f("ix_auctions_deal_id"), "auctions", ["deal_id"], unique=False)
    op.create_index(
        "ix_auctions_open_ends_at",
        "auctions",
        ["ends_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('scheduled', 'running')"),
    )
    op.create_index(
        op.f("ix_auctions_seller_organization_id"), "auctions", ["seller_organization_id"], unique=False
    )
    op.create_index(
        "uq_auctions_live_deal",
        "auctions",
        ["deal_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('scheduled', 'running')"),
    )
    op.create_table(
        "listing_intentions",
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_organization_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_by_id", sa.Uuid(), nullable=True),
        sa.Column("offer_price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "filed",
                "qualified",
                "rejected",
                "withdrawn",
                name="listing_intention_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="filed",
            nullable=False,
        ),
        sa.Column("answer_due_on", sa.Date(), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("offer_price > 0", name=op.f("ck_listing_intentions_offer_price_positive")),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["listing_announcements.id"],
            name=op.f("fk_listing_intentions_announcement_id_listing_announcements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["buyer_organization_id"],
            ["organizations.id"],
            name=op.f("fk_listing_intentions_buyer_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_listing_intentions_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_listing_intentions_submitted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_intentions")),
    )
    op.create_index(
        op.f("ix_listing_intentions_announcement_id"), "listing_intentions", ["announcement_id"], unique=False
    )
    op.create_index(
        op.f("ix_listing_intentions_buyer_organization_id"),
        "listing_intentions",
        ["buyer_organization_id"],
        unique=False,
    )
    op.create_index(
        "uq_listing_intentions_live_buyer",
        "listing_intentions",
        ["announcement_id", "buyer_organization_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'withdrawn'"),
    )
    op.create_table(
        "publicity_objections",
        sa.Column("publicity_id", sa.Uuid(), nullable=False),
        sa.Column("objector_user_id", sa.Uuid(), nullable=True),
        sa.Column("objector_organization_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("document_name", sa.String(length=200), nullable=True),
        sa.Column("document_content_type", sa.String(length=100), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "upheld",
                "dismissed",
                name="publicity_objection_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_publicity_objections_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["objector_organization_id"],
            ["organizations.id"],
            name=op.f("fk_publicity_objections_objector_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["objector_user_id"],
            ["users.id"],
            name=op.f("fk_publicity_objections_objector_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["publicity_id"],
            ["pricing_publicities.id"],
            name=op.f("fk_publicity_objections_publicity_id_pricing_publicities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publicity_objections")),
    )
    op.create_index(
        op.f("ix_publicity_objections_objector_organization_id"),
        "publicity_objections",
        ["objector_organization_id"],
        unique=False,
    )
    op.create_index(
        "ix_publicity_objections_publicity_id_created_at",
        "publicity_objections",
        ["publicity_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "auction_bidders",
        sa.Column("auction_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("qualified_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "deposit_status",
            sa.Enum(
                "awaiting",
                "received",
                "applied",
                "released",
                "forfeited",
                name="auction_deposit_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="awaiting",
            nullable=False,
        ),
        sa.Column("deposit_confirmed_by_id", sa.Uuid(), nullable=True),
        sa.Column("deposit_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deposit_settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["auction_id"],
            ["auctions.id"],
            name=op.f("fk_auction_bidders_auction_id_auctions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deposit_confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_auction_bidders_deposit_confirmed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_auction_bidders_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["qualified_by_id"],
            ["users.id"],
            name=op.f("fk_auction_bidders_qualified_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_bidders")),
        sa.UniqueConstraint("auction_id", "code", name="uq_auction_bidders_code"),
        sa.UniqueConstraint("auction_id", "organization_id", name="uq_auction_bidders_organization"),
    )
    op.create_index(op.f("ix_auction_bidders_auction_id"), "auction_bidders", ["auction_id"], unique=False)
    op.create_index(
        op.f("ix_auction_bidders_organization_id"), "auction_bidders", ["organization_id"], unique=False
    )
    op.create_table(
        "bids",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("auction_id", sa.Uuid(), nullable=False),
        sa.Column("bidder_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("placed_by_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at_after", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auctions.id"], name=op.f("fk_bids_auction_id_auctions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["bidder_id"],
            ["auction_bidders.id"],
            name=op.f("fk_bids_bidder_id_auction_bidders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"], ["users.id"], name=op.f("fk_bids_placed_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bids")),
        sa.UniqueConstraint("auction_id", "amount", name="uq_bids_auction_amount"),
        sa.UniqueConstraint("auction_id", "sequence", name="uq_bids_auction_sequence"),
    )
    op.create_index(
        "uq_bids_idempotency",
        "bids",
        ["auction_id", "placed_by_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.add_column(
        "deals",
        sa.Column(
            "pricing_route",
            sa.Enum(
                "agreed_publicity",
                "listing",
                "auction",
                name="deal_pricing_route",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("deals", "pricing_route")
    op.drop_index(
        "uq_bids_idempotency", table_name="bids", postgresql_where=sa.text("idempotency_key IS NOT NULL")
    )
    op.drop_table("bids")
    op.drop_index(op.f("ix_auction_bidders_organization_id"), table_name="auction_bidders")
    op.drop_index(op.f("ix_auction_bidders_auction_id"), table_name="auction_bidders")
    op.drop_table("auction_bidders")
    op.drop_index("ix_publicity_objections_publicity_id_created_at", table_name="publicity_objections")
    op.drop_index(op.f("ix_publicity_objections_objector_organization_id"), table_name="publicity_objections")
    op.drop_table("publicity_objections")
    op.drop_index(
        "uq_listing_intentions_live_buyer",
        table_name="listing_intentions",
        postgresql_where=sa.text("status <> 'withdrawn'"),
    )
    op.drop_index(op.f("ix_listing_intentions_buyer_organization_id"), table_name="listing_intentions")
    op.drop_index(op.f("ix_listing_intentions_announcement_id"), table_name="listing_intentions")
    op.drop_table("listing_intentions")
    op.drop_index(
        "uq_auctions_live_deal",
        table_name="auctions",
        postgresql_where=sa.text("status IN ('scheduled', 'running')"),
    )
    op.drop_index(op.f("ix_auctions_seller_organization_id"), table_name="auctions")
    op.drop_index(
        "ix_auctions_open_ends_at",
        table_name="auctions",
        postgresql_where=sa.text("status IN ('scheduled', 'running')"),
    )
    op.drop_index(op.f("ix_auctions_deal_id"), table_name="auctions")
    op.drop_index(op.f("ix_auctions_announcement_id"), table_name="auctions")
    op.drop_index(op.f("ix_auctions_achievement_id"), table_name="auctions")
    op.drop_table("auctions")
    op.drop_table("transaction_certificates")
    op.drop_index(
        "uq_pricing_publicities_live_deal",
        table_name="pricing_publicities",
        postgresql_where=sa.text("status IN ('running', 'suspended')"),
    )
    op.drop_index("ix_pricing_publicities_status_ends_at", table_name="pricing_publicities")
    op.drop_index(op.f("ix_pricing_publicities_seller_organization_id"), table_name="pricing_publicities")
    op.drop_index(op.f("ix_pricing_publicities_deal_id"), table_name="pricing_publicities")
    op.drop_index(op.f("ix_pricing_publicities_achievement_id"), table_name="pricing_publicities")
    op.drop_table("pricing_publicities")
    op.drop_index(
        "uq_listing_announcements_running_deal",
        table_name="listing_announcements",
        postgresql_where=sa.text("status = 'running'"),
    )
    op.drop_index("ix_listing_announcements_status_ends_at", table_name="listing_announcements")
    op.drop_index(op.f("ix_listing_announcements_seller_organization_id"), table_name="listing_announcements")
    op.drop_index(op.f("ix_listing_announcements_deal_id"), table_name="listing_announcements")
    op.drop_index(op.f("ix_listing_announcements_achievement_id"), table_name="listing_announcements")
    op.drop_table("listing_announcements")
