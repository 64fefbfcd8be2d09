"""market: the funnel's counts per month and per day of the cohort and the organization's region

`market_funnel_months` and `market_funnel_days` hold, per Asia/Shanghai month (day) of creation and
per region code of the listing owner (interests) or seller (deals): the interests filed and
accepted, the deals opened and those that have entered each funnel stage. Triggers keep them in
the transaction of every change to an interest, a deal or an organization's region, whichever part
of the code makes it; existing rows are counted in. The funnel then sums whole months and the days
of the partial months at either end instead of scanning the cohort.

Revision ID: 8e4b2f6a1c39
Revises: 3c1e7a9d5b20
Create Date: 2026-12-03 22:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e4b2f6a1c39"
down_revision: str | None = "3c1e7a9d5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (("market_funnel_months", "month"), ("market_funnel_days", "day"))
COUNTS = ("interests", "accepted", "deals", "mandated", "agreed", "signed", "registered")

# Adds one contribution to both tables, months first then days (the same lock order everywhere).
ADD = """
CREATE FUNCTION market_funnel_add(at timestamptz, code text, n integer[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d date := (at AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    INSERT INTO market_funnel_months AS t VALUES (date_trunc('month', d)::date, coalesce(code, ''),
        n[1], n[2], n[3], n[4], n[5], n[6], n[7])
    ON CONFLICT (month, region_code) DO UPDATE SET
        interests = t.interests + n[1], accepted = t.accepted + n[2], deals = t.deals + n[3],
        mandated = t.mandated + n[4], agreed = t.agreed + n[5], signed = t.signed + n[6],
        registered = t.registered + n[7];
    INSERT INTO market_funnel_days AS t VALUES (d, coalesce(code, ''),
        n[1], n[2], n[3], n[4], n[5], n[6], n[7])
    ON CONFLICT (day, region_code) DO UPDATE SET
        interests = t.interests + n[1], accepted = t.accepted + n[2], deals = t.deals + n[3],
        mandated = t.mandated + n[4], agreed = t.agreed + n[5], signed = t.signed + n[6],
        registered = t.registered + n[7];
END $$
"""
INTEREST = "ARRAY[{s}, {s} * (r.status = 'accepted')::int, 0, 0, 0, 0, 0]"
DEAL = (
    "ARRAY[0, 0, {s}, {s} * (r.reached_mandated_at IS NOT NULL)::int,"
    " {s} * (r.reached_agreed_at IS NOT NULL)::int, {s} * (r.reached_signed_at IS NOT NULL)::int,"
    " {s} * (r.reached_registered_at IS NOT NULL)::int]"
)


def _row_trigger(table: str, organization: str, counts: str, columns: str) -> list[str]:
    """Takes the old row's contribution away and adds the new one's."""
    take = counts.format(s="-1").replace("r.", "OLD.")
    add = counts.format(s="1").replace("r.", "NEW.")
    region = "(SELECT region_code FROM organizations WHERE id = {}.{})"
    return [
        f"""
CREATE FUNCTION {table}_market_funnel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM market_funnel_add(OLD.created_at, {region.format("OLD", organization)}, {take});
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM market_funnel_add(NEW.created_at, {region.format("NEW", organization)}, {add});
    END IF;
    RETURN NULL;
END $$
""",
        f"""
CREATE TRIGGER {table}_market_funnel AFTER INSERT OR DELETE OR UPDATE OF {columns} ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_market_funnel()
""",
    ]


ORGANIZATION = f"""
CREATE FUNCTION organizations_market_funnel() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT created_at, status FROM interests WHERE owner_organization_id = NEW.id LOOP
        PERFORM market_funnel_add(r.created_at, OLD.region_code, {INTEREST.format(s="-1")});
        PERFORM market_funnel_add(r.created_at, NEW.region_code, {INTEREST.format(s="1")});
    END LOOP;
    FOR r IN SELECT created_at, reached_mandated_at, reached_agreed_at, reached_signed_at,
                    reached_registered_at FROM deals WHERE seller_organization_id = NEW.id LOOP
        PERFORM market_funnel_add(r.created_at, OLD.region_code, {DEAL.format(s="-1")});
        PERFORM market_funnel_add(r.created_at, NEW.region_code, {DEAL.format(s="1")});
    END LOOP;
    RETURN NULL;
END $$
"""  # noqa: S608 — constant text
ORGANIZATION_TRIGGER = """
CREATE TRIGGER organizations_market_funnel AFTER UPDATE OF region_code ON organizations
    FOR EACH ROW WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code)
    EXECUTE FUNCTION organizations_market_funnel()
"""

REACHED = ", ".join(f"reached_{stage}_at" for stage in ("mandated", "agreed", "signed", "registered"))


def _backfill(table: str, period: str) -> str:
    bucket = "(x.created_at AT TIME ZONE 'Asia/Shanghai')::date"
    if period == "month":
        bucket = f"date_trunc('month', {bucket})::date"
    # Constant names only.
    return f"""
INSERT INTO {table} SELECT bucket, region_code, sum(interests), sum(accepted), sum(deals),
       sum(mandated), sum(agreed), sum(signed), sum(registered)
FROM (
    SELECT {bucket.replace("x.", "i.")} AS bucket, coalesce(o.region_code, '') AS region_code,
           1 AS interests, (i.status = 'accepted')::int AS accepted, 0 AS deals, 0 AS mandated,
           0 AS agreed, 0 AS signed, 0 AS registered
      FROM interests i JOIN organizations o ON o.id = i.owner_organization_id
    UNION ALL
    SELECT {bucket.replace("x.", "d.")}, coalesce(o.region_code, ''), 0, 0, 1,
           (reached_mandated_at IS NOT NULL)::int, (reached_agreed_at IS NOT NULL)::int, (reached_signed_at IS NOT NULL)::int,
           (reached_registered_at IS NOT NULL)::int
      FROM deals d JOIN organizations o ON o.id = d.seller_organization_id
) AS contributions GROUP BY 1, 2
"""  # noqa: S608


def upgrade() -> None:
    for table, period in TABLES:
        op.create_table(
            table,
            sa.Column(period, sa.Date(), nullable=False),
            sa.Column("region_code", sa.String(length=6), nullable=False),
            *(
                sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)
                for name in COUNTS
            ),
            sa.PrimaryKeyConstraint(period, "region_code", name=op.f(f"pk_{table}")),
        )
        op.execute(_backfill(table, period))
    for statement in (
        ADD,
        *_row_trigger(
            "interests", "owner_organization_id", INTEREST, "created_at, owner_organization_id, status"
        ),
        *_row_trigger(
            "deals", "seller_organization_id", DEAL, f"created_at, seller_organization_id, {REACHED}"
        ),
        ORGANIZATION,
        ORGANIZATION_TRIGGER,
    ):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER organizations_market_funnel ON organizations")
    op.execute("DROP FUNCTION organizations_market_funnel()")
    for table in ("deals", "interests"):
        op.execute(f"DROP TRIGGER {table}_market_funnel ON {table}")
        op.execute(f"DROP FUNCTION {table}_market_funnel()")
    op.execute("DROP FUNCTION market_funnel_add(timestamptz, text, integer[])")
    for table, _ in reversed(TABLES):
        op.drop_table(table)
