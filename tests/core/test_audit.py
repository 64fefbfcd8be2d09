import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.audit.service import SystemActor


async def test_audit_log_is_append_only(db: AsyncSession) -> None:
    entry = await audit.record(db, actor=SystemActor(), object_type="thing", object_id="1", action="created")
    await db.commit()
    entry_id = entry.id
    with pytest.raises(DBAPIError, match="append-only"):
        await db.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(action="forged"))
    await db.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        await db.execute(delete(AuditEntry).where(AuditEntry.id == entry_id))
    await db.rollback()
    assert (await db.scalar(select(AuditEntry.action).where(AuditEntry.id == entry_id))) == "created"


def test_diff_keeps_money_exact_and_lists_only_changes() -> None:
    from decimal import Decimal

    changes = audit.diff({"price": Decimal("0.10"), "title": "a"}, {"price": Decimal("0.30"), "title": "a"})
    assert changes == {"price": ["0.10", "0.30"]}
