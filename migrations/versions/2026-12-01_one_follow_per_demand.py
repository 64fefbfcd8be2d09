"""one_follow_per_demand: a user follows a demand at most once

Following a demand twice notified twice of every match. Follows made twice before this revision
are merged: each user's earliest follow of a demand stays (with its notifications), the later
ones are deleted — their notifications were copies — and each deletion is audited.

Revision ID: ae4e3dec91c4
Revises: 749b1fdc8707
Create Date: 2026-12-01 01:14:32.592065
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ae4e3dec91c4"
down_revision: str | None = "749b1fdc8707"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        WITH merged AS (
            DELETE FROM subscriptions AS later
            USING subscriptions AS kept
            WHERE later.kind = 'demand' AND kept.kind = 'demand'
              AND later.user_id = kept.user_id AND later.demand_id = kept.demand_id
              AND (kept.created_at, kept.id) < (later.created_at, later.id)
            RETURNING later.id, later.demand_id
        )
        INSERT INTO audit_log (object_type, object_id, action, changes)
        SELECT DISTINCT 'subscription', id::text, 'deleted',
               jsonb_build_object('reason', 'duplicate follow', 'demand_id', demand_id::text)
        FROM merged
        """
    )
    op.create_index(
        "uq_subscriptions_user_demand",
        "subscriptions",
        ["user_id", "demand_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'demand'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_subscriptions_user_demand",
        table_name="subscriptions",
        postgresql_where=sa.text("kind = 'demand'"),
    )
