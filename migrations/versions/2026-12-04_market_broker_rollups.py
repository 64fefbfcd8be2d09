"""market: the brokers' figures per year, month and day of the cohort and the organization's region

`market_broker_figures` holds, per period bucket (all time, a year, a month or a day, Asia/Shanghai), per
region prefix of the listing owner (interests) or seller (deals), and per agency or technology
manager: the interests handled and those registered, the deals brokered by current stage, the
registered deals and their certified technology amount. `market_broker_registration_days` holds
how many handled interests took each number of days to their deal's registration, so the median
stays exact. All time, years and months are kept at every prefix the API accepts ("" for
everywhere, the province, the city, the county), days at the full code only: a report then reads
one row per broker (all time) or per broker and year instead of its whole cohort, and the days of
at most two partial months.

Triggers keep both tables in the transaction of every change to an interest, a deal, an
organization's region or a user's organization, whichever part of the code makes it; existing
rows are counted in by the same functions. The interests' partial covering index, which only the
brokers' figures read, goes.

Revision ID: 5b7d9e1f3a62
Revises: 9c4e2b7a51d8
Create Date: 2026-12-04 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7d9e1f3a62"
down_revision: str | None = "9c4e2b7a51d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = (
    "lead",
    "mandated",
    "diligence",
    "negotiating",
    "agreed",
    "signed",
    "registration_submitted",
    "registered",
    "on_hold",
    "lost",
)
# The figures' columns, in the order of the contribution arrays below.
COUNTS = (
    "interests_handled",
    "interests_registered",
    *(f"deals_{stage}" for stage in STAGES),
    "registered_deals",
)
# A report reads one grain and region code over a range of periods (days: every code of a few
# days, by the partial index on the day).
KEY = ("grain", "region_code", "period", "side", "broker_id")
# The histogram is read for the brokers on a report's page only, one broker at a time.
HISTOGRAM_KEY = ("side", "broker_id", "grain", "region_code", "period", "days")
GRAINS = "grain IN ('all', 'year', 'month', 'day')"
SIDES = "side IN ('agency', 'manager')"
DAYS = sa.text("grain = 'day'")
BROKERED = sa.text("on_behalf_broker_id IS NOT NULL OR deal_broker_user_id IS NOT NULL")

# The buckets one row of a day and region code counts in, in the primary key's order so that
# every transaction locks rollup rows in the same order.
BUCKETS = """
CREATE FUNCTION market_brokers_buckets(d date, code text)
RETURNS TABLE (grain text, period date, region_code text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT g.grain, g.period, r.prefix
      FROM (VALUES ('all', '-infinity'::date),
                   ('year', date_trunc('year', d::timestamp)::date),
                   ('month', date_trunc('month', d::timestamp)::date)) AS g(grain, period)
     CROSS JOIN (SELECT ''
                 UNION ALL
                 SELECT DISTINCT left(code, n) FROM unnest(ARRAY[2, 4, 6]) AS n WHERE coalesce(code, '') <> '')
           AS r(prefix)
    UNION ALL
    SELECT 'day', d, coalesce(code, '')
    ORDER BY 1, 3, 2
$$
"""
_NUMBERED = ", ".join(f"n[{i}]" for i in range(1, len(COUNTS) + 2))
_SUMS = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in (*COUNTS, "registered_technology_amount"))
ADD = f"""
CREATE FUNCTION market_brokers_add(
    at timestamptz, code text, broker_side text, broker uuid, n numeric[], registration_days integer
)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d date := (at AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    INSERT INTO market_broker_figures AS t
    SELECT b.grain, b.period, b.region_code, broker_side, broker, {_NUMBERED}
      FROM market_brokers_buckets(d, code) AS b
    ON CONFLICT ({", ".join(KEY)}) DO UPDATE SET {_SUMS};
    IF registration_days IS NOT NULL THEN
        INSERT INTO market_broker_registration_days AS t
        SELECT b.grain, b.period, b.region_code, broker_side, broker, registration_days, n[2]
          FROM market_brokers_buckets(d, code) AS b
        ON CONFLICT ({", ".join(HISTOGRAM_KEY)}) DO UPDATE SET interests = t.interests + excluded.interests;
    END IF;
END $$
"""  # noqa: S608 — constant text
# An interest counts for whoever handled it: the technology manager who filed it on the client's
# behalf and their organization as agency, and its deal's broker and agency (once per key).
INTEREST = f"""
CREATE FUNCTION market_brokers_interest(r interests, code text, on_behalf_agency uuid, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    days integer := (r.deal_registered_at AT TIME ZONE 'Asia/Shanghai')::date
                    - (r.created_at AT TIME ZONE 'Asia/Shanghai')::date;
    n numeric[] := ARRAY[sign, sign * (days IS NOT NULL)::int, {", ".join("0" for _ in STAGES)}, 0, 0];
BEGIN
    IF r.on_behalf_broker_id IS NULL AND r.deal_broker_user_id IS NULL THEN
        RETURN;
    END IF;
    IF r.on_behalf_broker_id IS NOT NULL THEN
        PERFORM market_brokers_add(r.created_at, code, 'manager', r.on_behalf_broker_id, n, days);
    END IF;
    IF r.deal_broker_user_id IS NOT NULL AND r.deal_broker_user_id IS DISTINCT FROM r.on_behalf_broker_id THEN
        PERFORM market_brokers_add(r.created_at, code, 'manager', r.deal_broker_user_id, n, days);
    END IF;
    IF on_behalf_agency IS NOT NULL THEN
        PERFORM market_brokers_add(r.created_at, code, 'agency', on_behalf_agency, n, days);
    END IF;
    IF r.deal_broker_agency_id IS NOT NULL AND r.deal_broker_agency_id IS DISTINCT FROM on_behalf_agency THEN
        PERFORM market_brokers_add(r.created_at, code, 'agency', r.deal_broker_agency_id, n, days);
    END IF;
END $$
"""
_BY_STAGE = ", ".join(f"sign * (r.stage = '{stage}')::int" for stage in STAGES)
# A deal counts for its broker and the broker's agency.
DEAL = f"""
CREATE FUNCTION market_brokers_deal(r deals, code text, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    n numeric[] := ARRAY[0, 0, {_BY_STAGE}, sign * (r.reached_registered_at IS NOT NULL)::int,
        CASE WHEN r.reached_registered_at IS NOT NULL
             THEN sign * coalesce(r.registered_technology_amount, 0) ELSE 0 END];
BEGIN
    IF r.broker_user_id IS NULL THEN
        RETURN;
    END IF;
    PERFORM market_brokers_add(r.created_at, code, 'manager', r.broker_user_id, n, NULL);
    IF r.broker_agency_id IS NOT NULL THEN
        PERFORM market_brokers_add(r.created_at, code, 'agency', r.broker_agency_id, n, NULL);
    END IF;
END $$
"""
REGION = "(SELECT region_code FROM organizations WHERE id = {})"
AGENCY = "(SELECT organization_id FROM users WHERE id = {})"
INTEREST_COLUMNS = (
    "created_at",
    "owner_organization_id",
    "on_behalf_broker_id",
    "deal_broker_user_id",
    "deal_broker_agency_id",
    "deal_registered_at",
)
DEAL_COLUMNS = (
    "created_at",
    "seller_organization_id",
    "stage",
    "broker_user_id",
    "broker_agency_id",
    "reached_registered_at",
    "registered_technology_amount",
)


def _unchanged(columns: tuple[str, ...]) -> str:
    old = ", ".join(f"OLD.{c}" for c in columns)
    new = ", ".join(f"NEW.{c}" for c in columns)
    return f"TG_OP = 'UPDATE' AND ({old}) IS NOT DISTINCT FROM ({new})"


def _row_trigger(table: str, columns: tuple[str, ...], take: str, add: str, extra: str = "") -> list[str]:
    """Takes the old row's contribution away and adds the new one's. `extra` columns fire the
    trigger too (a BEFORE trigger derives the listed ones from them)."""
    return [
        f"""
CREATE FUNCTION {table}_market_brokers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_unchanged(columns)} THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM {take};
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM {add};
    END IF;
    RETURN NULL;
END $$
""",
        f"""
CREATE TRIGGER {table}_market_brokers AFTER INSERT OR DELETE OR UPDATE OF {", ".join(columns)}{extra}
    ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_market_brokers()
""",
    ]


def _interest(row: str, sign: int) -> str:
    return (
        f"market_brokers_interest({row}, {REGION.format(f'{row}.owner_organization_id')}, "
        f"{AGENCY.format(f'{row}.on_behalf_broker_id')}, {sign})"
    )


def _deal(row: str, sign: int) -> str:
    return f"market_brokers_deal({row}, {REGION.format(f'{row}.seller_organization_id')}, {sign})"


ORGANIZATION = f"""
CREATE FUNCTION organizations_market_brokers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    i interests;
    d deals;
BEGIN
    FOR i IN SELECT * FROM interests WHERE owner_organization_id = NEW.id AND ({BROKERED}) LOOP
        PERFORM market_brokers_interest(i, OLD.region_code, {AGENCY.format("i.on_behalf_broker_id")}, -1);
        PERFORM market_brokers_interest(i, NEW.region_code, {AGENCY.format("i.on_behalf_broker_id")}, 1);
    END LOOP;
    FOR d IN SELECT * FROM deals WHERE seller_organization_id = NEW.id AND broker_user_id IS NOT NULL LOOP
        PERFORM market_brokers_deal(d, OLD.region_code, -1);
        PERFORM market_brokers_deal(d, NEW.region_code, 1);
    END LOOP;
    RETURN NULL;
END $$
"""  # noqa: S608 — constant text
ORGANIZATION_TRIGGER = """
CREATE TRIGGER organizations_market_brokers AFTER UPDATE OF region_code ON organizations
    FOR EACH ROW WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code)
    EXECUTE FUNCTION organizations_market_brokers()
"""
# An interest filed on a client's behalf counts for the technology manager's organization.
USER = f"""
CREATE FUNCTION users_market_brokers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    i interests;
BEGIN
    FOR i IN SELECT * FROM interests WHERE on_behalf_broker_id = NEW.id LOOP
        PERFORM market_brokers_interest(i, {REGION.format("i.owner_organization_id")}, OLD.organization_id, -1);
        PERFORM market_brokers_interest(i, {REGION.format("i.owner_organization_id")}, NEW.organization_id, 1);
    END LOOP;
    RETURN NULL;
END $$
"""  # noqa: S608 — constant text
USER_TRIGGER = """
CREATE TRIGGER users_market_brokers AFTER UPDATE OF organization_id ON users
    FOR EACH ROW WHEN (OLD.organization_id IS DISTINCT FROM NEW.organization_id)
    EXECUTE FUNCTION users_market_brokers()
"""
BACKFILL = [
    f"SELECT {_interest('i', 1)} FROM interests AS i WHERE {BROKERED}",  # noqa: S608
    f"SELECT {_deal('d', 1)} FROM deals AS d WHERE d.broker_user_id IS NOT NULL",  # noqa: S608
]


def _key_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("side", sa.String(length=7), nullable=False),
        sa.Column("broker_id", sa.Uuid(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "market_broker_figures",
        *_key_columns(),
        *(sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False) for name in COUNTS),
        sa.Column(
            "registered_technology_amount",
            sa.Numeric(precision=22, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.CheckConstraint(GRAINS, name=op.f("ck_market_broker_figures_grain")),
        sa.CheckConstraint(SIDES, name=op.f("ck_market_broker_figures_side")),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_market_broker_figures")),
    )
    op.create_index(
        "ix_market_broker_figures_day", "market_broker_figures", ["period"], postgresql_where=DAYS
    )
    op.create_table(
        "market_broker_registration_days",
        *_key_columns(),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("interests", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(GRAINS, name=op.f("ck_market_broker_registration_days_grain")),
        sa.CheckConstraint(SIDES, name=op.f("ck_market_broker_registration_days_side")),
        sa.PrimaryKeyConstraint(*HISTOGRAM_KEY, name=op.f("pk_market_broker_registration_days")),
    )
    for statement in (
        BUCKETS,
        ADD,
        INTEREST,
        DEAL,
        *_row_trigger("interests", INTEREST_COLUMNS, _interest("OLD", -1), _interest("NEW", 1), ", deal_id"),
        *_row_trigger("deals", DEAL_COLUMNS, _deal("OLD", -1), _deal("NEW", 1)),
        ORGANIZATION,
        ORGANIZATION_TRIGGER,
        USER,
        USER_TRIGGER,
        *BACKFILL,
    ):
        op.execute(statement)
    op.drop_index("ix_interests_brokered_created_at", table_name="interests", postgresql_where=BROKERED)


def downgrade() -> None:
    op.create_index(
        "ix_interests_brokered_created_at",
        "interests",
        ["created_at"],
        unique=False,
        postgresql_include=[
            "owner_organization_id",
            "on_behalf_broker_id",
            "deal_broker_user_id",
            "deal_broker_agency_id",
            "deal_registered_at",
        ],
        postgresql_where=BROKERED,
    )
    for table in ("users", "organizations", "deals", "interests"):
        op.execute(f"DROP TRIGGER {table}_market_brokers ON {table}")
        op.execute(f"DROP FUNCTION {table}_market_brokers()")
    op.execute("DROP FUNCTION market_brokers_deal(deals, text, integer)")
    op.execute("DROP FUNCTION market_brokers_interest(interests, text, uuid, integer)")
    op.execute("DROP FUNCTION market_brokers_add(timestamptz, text, text, uuid, numeric[], integer)")
    op.execute("DROP FUNCTION market_brokers_buckets(date, text)")
    op.drop_table("market_broker_registration_days")
    op.drop_table("market_broker_figures")
