"""one_live_application_per_contract: a contract is held by one live or registered application

The same document and parties were registered twice, under two numbers. While an application that
is neither refused nor cancelled holds a contract, no other may carry the same document hash, nor
the same parties (credit code, else name), project name and signing date; unique indexes, so two
submissions at once cannot both pass. An existing deployment holding such a pair fails this
upgrade on the index, naming the pair: cancel or refuse one of them first.

Revision ID: 7c3e9a41d2b8
Revises: 3f9d2b6e8a51
Create Date: 2026-12-03 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e9a41d2b8"
down_revision: str | None = "3f9d2b6e8a51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDS_THE_CONTRACT = sa.text("status NOT IN ('refused', 'cancelled')")


def upgrade() -> None:
    op.create_index(
        "uq_contract_applications_live_document",
        "contract_applications",
        ["document_sha256"],
        unique=True,
        postgresql_where=HOLDS_THE_CONTRACT,
    )
    op.create_index(
        "uq_contract_applications_live_contract",
        "contract_applications",
        [
            sa.text("coalesce(seller_credit_code, seller_name)"),
            sa.text("coalesce(buyer_credit_code, buyer_name)"),
            "project_name",
            "signed_on",
        ],
        unique=True,
        postgresql_where=HOLDS_THE_CONTRACT,
    )


def downgrade() -> None:
    op.drop_index("uq_contract_applications_live_contract", table_name="contract_applications")
    op.drop_index("uq_contract_applications_live_document", table_name="contract_applications")
