"""drop_unconsumed_contract_outbox: delete the contract.* outbox messages nobody consumes

Every workflow transition wrote a `contract.<action>` outbox message that no relay handled, so it
stayed pending for good (pruning deletes processed messages only). Transitions no longer write
them; `contract_events` keeps the same history. Downgrading cannot bring the messages back.

Revision ID: 8c3e1a7d4b20
Revises: 5b1f0c2d7e94
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c3e1a7d4b20"
down_revision: str | None = "5b1f0c2d7e94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM outbox WHERE topic LIKE 'contract.%'")


def downgrade() -> None:
    pass
