"""webhook_delivery_health: since when a subscription's webhook has been failing, and why

Revision ID: e000c9e58f33
Revises: 794dc76cefc3
Create Date: 2026-12-01 03:06:58.194337
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e000c9e58f33"
down_revision: str | None = "794dc76cefc3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "subscriptions", sa.Column("webhook_failing_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("subscriptions", sa.Column("webhook_last_error", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("subscriptions", "webhook_last_error")
    op.drop_column("subscriptions", "webhook_failing_since")
