"""login_throttles: sign-in attempts counted per e-mail, registered or not, before the password check

The failure count and lockout lived on the user row: an e-mail without an account was never locked
out (so a 429 told that an account exists), and the count was raised only after the password had
been checked, so parallel guesses all got through. Counts in progress are not carried over: they
expire within the lockout period anyway.

Revision ID: 3c8e5a7d1f42
Revises: 7c3e9a41d2b8
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c8e5a7d1f42"
down_revision: str | None = "7c3e9a41d2b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("email_digest", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email_digest", name=op.f("pk_login_throttles")),
    )
    op.create_index(op.f("ix_login_throttles_expires_at"), "login_throttles", ["expires_at"], unique=False)
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_login_count")


def downgrade() -> None:
    op.add_column(
        "users",
        sa.Column("failed_login_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_index(op.f("ix_login_throttles_expires_at"), table_name="login_throttles")
    op.drop_table("login_throttles")
