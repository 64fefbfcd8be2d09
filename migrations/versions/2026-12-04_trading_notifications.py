"""trading notifications, one pending objection per person, certificate numbers, transfer modes

The trading routes tell the parties about objections, intentions, a listing's end, qualification,
an auction's close, a forfeited deposit and a transaction certificate; a person keeps one pending
objection per publicity; certificate numbers come from a per-year counter taken under its lock; a
listing announcement and an auction say what they sell (转让, 许可 …), which the agreed deal takes.
The trading tables are new and empty, so the columns are required at once.

Revision ID: 3f8c1a6d2b90
Revises: e47aa85d5afe
Create Date: 2026-12-04 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f8c1a6d2b90"
down_revision: str | None = "e47aa85d5afe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "match",
    "interest_received",
    "interest_accepted",
    "interest_declined",
    "interest_withdrawn",
    "interest_unanswered",
)
TRADING = (
    "publicity_objection_filed",
    "publicity_objection_decided",
    "publicity_completed",
    "listing_intention_filed",
    "listing_intention_answered",
    "listing_period_ended",
    "auction_qualified",
    "auction_closed",
    "deposit_forfeited",
    "transaction_certificate_issued",
    "transaction_certificate_revoked",
)
CHECK = "ck_notifications_notification_kind"


def _kinds(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade() -> None:
    for table in ("listing_announcements", "auctions"):
        op.add_column(table, sa.Column("transfer_mode", sa.String(length=32), nullable=False))
    op.drop_constraint(op.f(CHECK), "notifications", type_="check")
    op.create_check_constraint(op.f(CHECK), "notifications", _kinds(BEFORE + TRADING))
    op.create_index(
        "uq_publicity_objections_pending_objector",
        "publicity_objections",
        ["publicity_id", "objector_user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "transaction_certificate_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_serial", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_transaction_certificate_counters")),
    )


def downgrade() -> None:
    op.drop_table("transaction_certificate_counters")
    op.drop_index(
        "uq_publicity_objections_pending_objector",
        table_name="publicity_objections",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.execute(f"DELETE FROM notifications WHERE {_kinds(TRADING)}")  # noqa: S608 - constants
    op.drop_constraint(op.f(CHECK), "notifications", type_="check")
    op.create_check_constraint(op.f(CHECK), "notifications", _kinds(BEFORE))
    for table in ("listing_announcements", "auctions"):
        op.drop_column(table, "transfer_mode")
