"""The one place a listing change is recorded: the audit entry and the `listing.changed` outbox
message, in the caller's transaction. The search domain indexes listings from these messages, so
every create, update, publish, close, take-down, expiry, deletion and import must come through here."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.audit.service import Actor, SystemActor, _jsonable, record
from app.core.logging import request_id_var
from app.listings.models import ListingColumns
from app.outbox.models import OutboxMessage
from app.outbox.service import enqueue

TOPIC = "listing.changed"


def _message(kind: str, listing_id: uuid.UUID, action: str) -> dict[str, Any]:
    return {
        "topic": TOPIC,
        "key": f"{kind}:{listing_id}",
        "payload": {"kind": kind, "id": str(listing_id), "action": action},
    }


async def record_change(
    session: AsyncSession,
    *,
    actor: Actor | SystemActor | None,
    kind: str,
    listing: ListingColumns,
    action: str,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Audit one change of `listing` and announce it to the search index, atomically with it."""
    if listing.id is None:  # ids are assigned at construction so the audit can name the row before flush
        listing.id = uuid.uuid4()
    await record(session, actor=actor, object_type=kind, object_id=listing.id, action=action, changes=changes)
    enqueue(session, **_message(kind, listing.id, action))


async def record_changes_bulk(
    session: AsyncSession,
    *,
    actor: Actor | SystemActor | None,
    kind: str,
    action: str,
    changes: Sequence[tuple[uuid.UUID, Mapping[str, Any]]],
) -> None:
    """`record_change` for many rows at once (imports, expiry): two multi-row INSERTs instead of 2n."""
    if not changes:
        return
    request_id = request_id_var.get()
    await session.execute(
        insert(AuditEntry),
        [
            {
                "actor_user_id": actor.id if actor else None,
                "actor_organization_id": actor.organization_id if actor else None,
                "request_id": request_id,
                "object_type": kind,
                "object_id": str(listing_id),
                "action": action,
                "changes": _jsonable(dict(change)),
            }
            for listing_id, change in changes
        ],
    )
    await session.execute(
        insert(OutboxMessage), [_message(kind, listing_id, action) for listing_id, _ in changes]
    )
