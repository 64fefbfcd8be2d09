"""transaction certificates: the ground of a revocation

A transaction certificate is revoked on one of three grounds (a party was unqualified, the
procedure was broken, documents were false); verification names it beside the free-text reason.

Revision ID: 9c4e2b7a51d8
Revises: 3f8c1a6d2b90
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c4e2b7a51d8"
down_revision: str | None = "3f8c1a6d2b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "transaction_certificates",
        sa.Column(
            "revocation_ground",
            sa.Enum(
                "party_unqualified",
                "procedure_broken",
                "documents_false",
                name="transaction_certificate_revocation_ground",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("transaction_certificates", "revocation_ground")
