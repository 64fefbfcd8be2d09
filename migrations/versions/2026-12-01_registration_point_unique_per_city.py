"""registration_point_unique_per_city: one registration point number per city

A contract number is year, province, city, point and a sequence kept per office: two offices of
one city with the same point were handed the same numbers, and the second one's registration
failed on the number's uniqueness, for good. An existing deployment holding such a pair fails this
upgrade on the index, naming the pair: renumber one office's point first.

Revision ID: 5b1f0c2d7e94
Revises: e000c9e58f33
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1f0c2d7e94"
down_revision: str | None = "e000c9e58f33"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "uq_organizations_city_registration_point",
        "organizations",
        [sa.text("left(region_code, 4)"), "registration_point"],
        unique=True,
        postgresql_where=sa.text("registration_point IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_organizations_city_registration_point", table_name="organizations")
