"""notifications of interests: a kind, details, and no subscription needed

Every step of an expression of interest (issue 20) notifies the other side through the existing
notifications; those were only a subscription's matches, so a notification now has a kind, the
details of its step, and a subscription only when it is a match.

Revision ID: 23b61089f2cc
Revises: 865cff5bd34d
Create Date: 2026-12-03 21:18:43.487115
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "23b61089f2cc"
down_revision: str | None = "865cff5bd34d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "match",
    "interest_received",
    "interest_accepted",
    "interest_declined",
    "interest_withdrawn",
    "interest_unanswered",
)


def upgrade() -> None:
    op.add_column(
        "notifications",
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="notification_kind", native_enum=False, create_constraint=True, length=32),
            server_default="match",
            nullable=False,
        ),
    )
    op.add_column(
        "notifications",
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.alter_column("notifications", "subscription_id", existing_type=sa.UUID(), nullable=True)
    op.create_check_constraint(
        op.f("ck_notifications_match_has_subscription"),
        "notifications",
        "kind <> 'match' OR subscription_id IS NOT NULL",
    )


def downgrade() -> None:
    # Only matches existed before: the notifications of interests cannot be kept.
    op.execute("DELETE FROM notifications WHERE subscription_id IS NULL")
    op.drop_constraint(op.f("ck_notifications_match_has_subscription"), "notifications", type_="check")
    op.alter_column("notifications", "subscription_id", existing_type=sa.UUID(), nullable=False)
    op.drop_column("notifications", "details")
    op.drop_column("notifications", "kind")
