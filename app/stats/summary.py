"""Keeping `contract_totals` equal to the SUM over registered contracts.

Called by the contracts service inside the transaction of each registration, amendment,
cancellation and objection, so the summary commits or rolls back with the change itself.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.workflow import IN_FORCE_SQL
from app.stats.models import ContractDailyTotal, ContractTotal

# Totals are kept per city (4-digit prefix): county-level filters are rare and are answered from the
# contracts table, while a county-level key would multiply the summary's size by about eight.
CITY = 4

# statistic name → column of contract_applications it groups by ("all" carries city and month).
DIMENSIONS: dict[str, str] = {
    "type": "contract_type",
    "field": "technology_field",
    "seller_kind": "seller_kind",
    "ip_kind": "ip_kind",
}


@dataclass(frozen=True)
class Contribution:
    """What one registered contract adds to the totals (negate it to take it away)."""

    registered_on: date
    region_code: str
    values: dict[str, str]  # dimension → value, e.g. {"type": "development", ...}
    count: int
    contract_amount: Decimal
    technology_amount: Decimal


async def _upsert(session: AsyncSession, model: type, period: str, on: date, change: Contribution) -> None:
    keys = [("all", ""), *sorted((dimension, change.values[dimension]) for dimension in DIMENSIONS)]
    # Rows in primary-key order: concurrent registrations lock them in the same order (no deadlock).
    rows = [
        {
            "dimension": dimension,
            period: on,
            "region_code": change.region_code[:CITY],
            "value": value,
            "contract_count": change.count,
            "contract_amount": change.contract_amount,
            "technology_amount": change.technology_amount,
        }
        for dimension, value in sorted(keys)
    ]
    statement = insert(model).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["dimension", period, "region_code", "value"],
            set_={
                "contract_count": model.contract_count + statement.excluded.contract_count,
                "contract_amount": model.contract_amount + statement.excluded.contract_amount,
                "technology_amount": model.technology_amount + statement.excluded.technology_amount,
            },
        )
    )


async def apply(session: AsyncSession, change: Contribution) -> None:
    """Add a contribution to both summaries — monthly first, then daily, in every transaction."""
    await _upsert(session, ContractTotal, "month", change.registered_on.replace(day=1), change)
    await _upsert(session, ContractDailyTotal, "day", change.registered_on, change)


def _rebuild_sql(table: str, period: str, bucket: str) -> list[str]:
    # Names come from constants in this module, never from input.
    columns = f"dimension, {period}, region_code, value, contract_count, contract_amount, technology_amount"
    head = f"INSERT INTO {table} ({columns})"
    sums = "count(*), sum(registered_contract_amount), sum(registered_technology_amount)"
    where = f"FROM contract_applications WHERE {IN_FORCE_SQL}"
    return [
        f"TRUNCATE {table}",
        f"{head} SELECT 'all', {bucket}, left(stats_region_code, 4), '', {sums} {where} GROUP BY 2, 3",
        *(
            f"{head} SELECT '{name}', {bucket}, left(stats_region_code, 4), {column}, {sums} {where} "
            "GROUP BY 2, 3, 4"
            for name, column in DIMENSIONS.items()
        ),
    ]


REBUILD_SQL = [
    *_rebuild_sql("contract_totals", "month", "date_trunc('month', registered_on)::date"),
    *_rebuild_sql("contract_daily_totals", "day", "registered_on"),
]


async def rebuild(session: AsyncSession) -> None:
    """Recompute the summaries from the contracts (after a bulk load). Locks them meanwhile."""
    await session.execute(text("LOCK TABLE contract_totals, contract_daily_totals IN ACCESS EXCLUSIVE MODE"))
    for statement in REBUILD_SQL:
        await session.execute(text(statement))
