"""listing_ip_kind_technical_secret: an achievement's 技术秘密 right is `technical_secret`

The listings called 技术秘密 `trade_secret` where the contract form calls it `technical_secret`;
one word per thing now, so the rights already stored are renamed (and back on downgrade).

Revision ID: 6d2a9c4e1f73
Revises: 3c8e5a7d1f42
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d2a9c4e1f73"
down_revision: str | None = "3c8e5a7d1f42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rename(old: str, new: str) -> None:
    statement = sa.text(
        """
        UPDATE achievements SET ip_rights = (
            SELECT jsonb_agg(
                CASE WHEN r->>'kind' = :old THEN jsonb_set(r, '{kind}', to_jsonb(CAST(:new AS text))) ELSE r END
                ORDER BY i
            )
            FROM jsonb_array_elements(ip_rights) WITH ORDINALITY AS e(r, i)
        )
        WHERE ip_rights @> jsonb_build_array(jsonb_build_object('kind', CAST(:old AS text)))
        """
    )
    op.get_bind().execute(statement, {"old": old, "new": new})


def upgrade() -> None:
    _rename("trade_secret", "technical_secret")


def downgrade() -> None:
    _rename("technical_secret", "trade_secret")
