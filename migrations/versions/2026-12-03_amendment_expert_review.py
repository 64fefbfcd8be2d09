"""amendment_expert_review: a change to a large amount waits for experts, still counted as registered

A change registration (变更登记) bringing the technology amount to the large-contract threshold or
above goes through expert review before it takes effect: the status `amendment_review`, the change
held in `pending_*_amount`. Meanwhile the registration in force keeps counting, so the partial index
of the statistics and the publicity covers both states.

Revision ID: 3f9d2b6e8a51
Revises: 8c3e1a7d4b20
Create Date: 2026-12-03 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f9d2b6e8a51"
down_revision: str | None = "8c3e1a7d4b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "draft",
    "submitted",
    "accepted",
    "correction_requested",
    "resubmitted",
    "under_review",
    "expert_review",
    "registered",
    "refused",
    "objected",
    "cancelled",
)
AFTER = (*BEFORE[:8], "amendment_review", *BEFORE[8:])
INDEX = "ix_contract_applications_registered"
INCLUDE = [
    "registered_contract_amount",
    "registered_technology_amount",
    "contract_type",
    "technology_field",
    "seller_kind",
    "ip_kind",
]


def _statuses(values: tuple[str, ...]) -> None:
    # The CHECK constraint of the VARCHAR enum, found by what it checks (its name came from the
    # naming convention of the day), replaced under the same name.
    name = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'contract_applications'::regclass "
                "AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%status%expert_review%'"
            )
        )
        .scalar_one()
    )
    op.drop_constraint(op.f(name), "contract_applications", type_="check")
    listed = ", ".join(f"'{value}'" for value in values)
    op.create_check_constraint(op.f(name), "contract_applications", f"status IN ({listed})")


def _index(where: str) -> None:
    op.drop_index(INDEX, table_name="contract_applications")
    op.create_index(
        INDEX,
        "contract_applications",
        ["registered_on", "stats_region_code"],
        unique=False,
        postgresql_where=sa.text(where),
        postgresql_include=INCLUDE,
    )


def upgrade() -> None:
    op.add_column(
        "contract_applications", sa.Column("pending_contract_amount", sa.Numeric(18, 2), nullable=True)
    )
    op.add_column(
        "contract_applications", sa.Column("pending_technology_amount", sa.Numeric(18, 2), nullable=True)
    )
    _statuses(AFTER)
    _index("status IN ('registered', 'amendment_review')")


def downgrade() -> None:
    # A change still under expert review is dropped; the registration in force stays.
    op.execute("UPDATE contract_applications SET status = 'registered' WHERE status = 'amendment_review'")
    _index("status = 'registered'")
    _statuses(BEFORE)
    op.drop_column("contract_applications", "pending_technology_amount")
    op.drop_column("contract_applications", "pending_contract_amount")
