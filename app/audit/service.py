"""Writing the audit log. Called inside the same unit of work as the change it records."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.core.logging import request_id_var


class Actor(Protocol):
    id: uuid.UUID
    organization_id: uuid.UUID


@dataclass(frozen=True)
class SystemActor:
    """Changes made by an operator command or a background job rather than a signed-in user."""

    id: None = None
    organization_id: None = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact, unlike a JSON number
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields whose value changed."""
    return {
        key: [_jsonable(before.get(key)), _jsonable(after.get(key))]
        for key in after
        if before.get(key) != after.get(key)
    }


async def record(
    session: AsyncSession,
    *,
    actor: Actor | SystemActor | None,
    object_type: str,
    object_id: uuid.UUID | str | int,
    action: str,
    changes: Mapping[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_user_id=actor.id if actor else None,
        actor_organization_id=actor.organization_id if actor else None,
        request_id=request_id_var.get(),
        object_type=object_type,
        object_id=str(object_id),
        action=action,
        changes=_jsonable(dict(changes or {})),
    )
    session.add(entry)
    return entry
