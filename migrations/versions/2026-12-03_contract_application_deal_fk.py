"""contract_application_deal_fk: an application's deal_id is a real reference to its deal

`contract_applications.deal_id` was a client-written UUID pointing nowhere. It is now set only by a
deal's hand-off and references deals.id (the deal cannot be deleted while an application names it);
indexed, because the registration's outcome and the rewards find an application by its deal. Values
that name no deal (written by clients before) are cleared first; a downgrade cannot restore them.

Revision ID: b4d8e2f61a37
Revises: a162b4133062
Create Date: 2026-12-03 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b4d8e2f61a37"
down_revision: str | None = "a162b4133062"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE contract_applications SET deal_id = NULL "
        "WHERE deal_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deals WHERE deals.id = deal_id)"
    )
    op.create_index(
        op.f("ix_contract_applications_deal_id"), "contract_applications", ["deal_id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_contract_applications_deal_id_deals"),
        "contract_applications",
        "deals",
        ["deal_id"],
        ["id"],
        ondelete="RESTRICT",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_contract_applications_deal_id_deals"), "contract_applications", type_="foreignkey"
    )
    op.drop_index(op.f("ix_contract_applications_deal_id"), table_name="contract_applications")
