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

from app.stats.models import ContractTotal

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


async def apply(session: AsyncSession, change: Contribution) -> None:
    month = change.registered_on.replace(day=1)
    keys = [("all", ""), *sorted((dimension, change.values[dimension]) for dimension in DIMENSIONS)]
    # Rows in primary-key order: concurrent registrations lock them in the same order (no deadlock).
    rows = sorted(
        (
            {
                "dimension": dimension,
                "month": month,
                "region_code": change.region_code[:CITY],
                "value": value,
                "contract_count": change.count,
                "contract_amount": change.contract_amount,
                "technology_amount": change.technology_amount,
            }
            for dimension, value in keys
        ),
        key=lambda row: (row["dimension"], row["month"], row["region_code"], row["value"]),
    )
    statement = insert(ContractTotal).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["dimension", "month", "region_code", "value"],
            set_={
                "contract_count": ContractTotal.contract_count + statement.excluded.contract_count,
                "contract_amount": ContractTotal.contract_amount + statement.excluded.contract_amount,
                "technology_amount": ContractTotal.technology_amount + statement.excluded.technology_amount,
            },
        )
    )


REBUILD_SQL = [
    "TRUNCATE contract_totals",
    """INSERT INTO contract_totals (dimension, month, region_code, value, contract_count, contract_amount,
                                   technology_amount)
       SELECT 'all', date_trunc('month', registered_on)::date, left(stats_region_code, 4), '', count(*),
              sum(registered_contract_amount), sum(registered_technology_amount)
       FROM contract_applications WHERE status = 'registered' GROUP BY 2, 3""",
    *(
        # Names come from the DIMENSIONS constant above, never from input.
        f"""INSERT INTO contract_totals (dimension, month, region_code, value, contract_count,
                                        contract_amount, technology_amount)
            SELECT '{name}', date_trunc('month', registered_on)::date, left(stats_region_code, 4), {column},
                   count(*),
                   sum(registered_contract_amount), sum(registered_technology_amount)
            FROM contract_applications WHERE status = 'registered' GROUP BY 2, 3, 4"""  # noqa: S608
        for name, column in DIMENSIONS.items()
    ),
]


async def rebuild(session: AsyncSession) -> None:
    """Recompute the summary from the contracts (after a bulk load). Locks the table meanwhile."""
    await session.execute(text("LOCK TABLE contract_totals IN ACCESS EXCLUSIVE MODE"))
    for statement in REBUILD_SQL:
        await session.execute(text(statement))
