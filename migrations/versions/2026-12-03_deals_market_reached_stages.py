"""deals: what the market statistics read without scanning the history

The funnel and the brokers' figures read `deals.reached_*_at` (when a deal first entered each
funnel stage, kept by `enter_stage`) instead of a million stage events, and an interest's copy of
its deal's broker and registration (kept by the two triggers below, whichever part of the code
links an interest to a deal, changes a mandate or records a registration) instead of joining
100,000 deals; covering indexes let both be read by index-only scans. Existing rows are filled in.

Revision ID: 3c1e7a9d5b20
Revises: 3da53af0942e
Create Date: 2026-12-03 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1e7a9d5b20"
down_revision: str | None = "3da53af0942e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = ("mandated", "agreed", "signed", "registered")
BROKERED = sa.text("on_behalf_broker_id IS NOT NULL OR deal_broker_user_id IS NOT NULL")

COPY_FROM_DEAL = """
CREATE FUNCTION interests_copy_deal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.deal_id IS NULL THEN
        NEW.deal_broker_user_id := NULL;
        NEW.deal_broker_agency_id := NULL;
        NEW.deal_registered_at := NULL;
    ELSE
        SELECT broker_user_id, broker_agency_id, reached_registered_at
          INTO NEW.deal_broker_user_id, NEW.deal_broker_agency_id, NEW.deal_registered_at
          FROM deals WHERE id = NEW.deal_id;
    END IF;
    RETURN NEW;
END $$
"""
COPY_FROM_DEAL_TRIGGER = """
CREATE TRIGGER interests_copy_deal BEFORE INSERT OR UPDATE OF deal_id ON interests
    FOR EACH ROW EXECUTE FUNCTION interests_copy_deal()
"""
COPY_TO_INTERESTS = """
CREATE FUNCTION deals_copy_to_interests() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interests SET deal_broker_user_id = NEW.broker_user_id,
                         deal_broker_agency_id = NEW.broker_agency_id,
                         deal_registered_at = NEW.reached_registered_at
     WHERE deal_id = NEW.id;
    RETURN NULL;
END $$
"""
COPY_TO_INTERESTS_TRIGGER = """
CREATE TRIGGER deals_copy_to_interests
    AFTER UPDATE OF broker_user_id, broker_agency_id, reached_registered_at ON deals
    FOR EACH ROW
    WHEN (OLD.broker_user_id IS DISTINCT FROM NEW.broker_user_id
          OR OLD.broker_agency_id IS DISTINCT FROM NEW.broker_agency_id
          OR OLD.reached_registered_at IS DISTINCT FROM NEW.reached_registered_at)
    EXECUTE FUNCTION deals_copy_to_interests()
"""


def upgrade() -> None:
    for stage in STAGES:
        op.add_column("deals", sa.Column(f"reached_{stage}_at", sa.DateTime(timezone=True), nullable=True))
        op.execute(
            f"UPDATE deals SET reached_{stage}_at = e.first FROM ("  # noqa: S608 — constant stage names
            "SELECT deal_id, min(created_at) AS first FROM deal_stage_events "
            f"WHERE to_stage = '{stage}' GROUP BY deal_id) AS e WHERE e.deal_id = deals.id"
        )
    op.add_column("interests", sa.Column("deal_broker_user_id", sa.Uuid(), nullable=True))
    op.add_column("interests", sa.Column("deal_broker_agency_id", sa.Uuid(), nullable=True))
    op.add_column("interests", sa.Column("deal_registered_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE interests SET deal_broker_user_id = d.broker_user_id, "
        "deal_broker_agency_id = d.broker_agency_id, deal_registered_at = d.reached_registered_at "
        "FROM deals d WHERE d.id = interests.deal_id"
    )
    for statement in (COPY_FROM_DEAL, COPY_FROM_DEAL_TRIGGER, COPY_TO_INTERESTS, COPY_TO_INTERESTS_TRIGGER):
        op.execute(statement)
    op.create_index(
        "ix_deals_created_at",
        "deals",
        ["created_at"],
        unique=False,
        postgresql_include=[
            "seller_organization_id",
            "broker_user_id",
            "broker_agency_id",
            "stage",
            *(f"reached_{stage}_at" for stage in STAGES),
            "registered_technology_amount",
        ],
    )
    op.create_index(
        "ix_interests_created_at",
        "interests",
        ["created_at"],
        unique=False,
        postgresql_include=["owner_organization_id", "status"],
    )
    op.create_index(
        "ix_interests_brokered_created_at",
        "interests",
        ["created_at"],
        unique=False,
        postgresql_include=[
            "owner_organization_id",
            "on_behalf_broker_id",
            "deal_broker_user_id",
            "deal_broker_agency_id",
            "deal_registered_at",
        ],
        postgresql_where=BROKERED,
    )


def downgrade() -> None:
    op.drop_index("ix_interests_brokered_created_at", table_name="interests", postgresql_where=BROKERED)
    op.drop_index("ix_interests_created_at", table_name="interests")
    op.drop_index("ix_deals_created_at", table_name="deals")
    op.execute("DROP TRIGGER deals_copy_to_interests ON deals")
    op.execute("DROP FUNCTION deals_copy_to_interests()")
    op.execute("DROP TRIGGER interests_copy_deal ON interests")
    op.execute("DROP FUNCTION interests_copy_deal()")
    op.drop_column("interests", "deal_registered_at")
    op.drop_column("interests", "deal_broker_agency_id")
    op.drop_column("interests", "deal_broker_user_id")
    for stage in reversed(STAGES):
        op.drop_column("deals", f"reached_{stage}_at")
