"""A listing's confidential details reach nothing that reads listings: not the search index or the
search API, not the detail or the list of any audience, not the export, not a notification or a
webhook, not the audit of the listing's changes nor any outbox message."""

import io
import json
import zipfile

from sqlalchemy import cast, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import Text

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.matching.models import Notification
from app.outbox.models import OutboxMessage
from tests.confidential.helpers import details_url, write
from tests.search.conftest import document, wait_for

# Latin letters and digits, so that Meilisearch would find it as one word if it were indexed.
MARKER = "Qx7Zmarker4711"
SECRET = f"完整工艺参数 {MARKER}：退火 450 ℃，石墨烯层数 3。"


async def test_the_details_reach_no_index_list_export_notification_webhook_or_audit_of_the_listing(
    app, client, db, engine, owner, signed_in, make_listing, indexed, webhook_receiver
) -> None:
    enterprise = await owner("demands")
    subscribed = await client.post(
        "/api/v1/subscriptions",
        json={"kind": "search", "query": "石墨烯 导热", "webhook_url": webhook_receiver.url},
        headers=enterprise.headers,
    )
    assert subscribed.status_code == 201, subscribed.text
    # A saved search for the marker itself: it would be notified if the marker were searchable.
    snoop = await owner("demands")
    assert (
        await client.post(
            "/api/v1/subscriptions", json={"kind": "search", "query": MARKER}, headers=snoop.headers
        )
    ).status_code == 201

    university = await owner("achievements")
    draft = await make_listing(
        "achievements",
        university,
        publish=False,
        title="石墨烯导热膜的制备",
        description="高导热石墨烯薄膜。",
        field="new_materials",
    )
    listing_id = draft["id"]
    await write(client, university, listing_id, SECRET)
    uploaded = await client.post(
        f"{details_url(listing_id)}/documents",
        files={"file": ("参数.txt", SECRET.encode(), "text/plain")},
        headers=university.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    published = await client.post(f"/api/v1/achievements/{listing_id}/publish", headers=university.headers)
    assert published.status_code == 200, published.text

    indexed_document = await indexed("achievement", listing_id)

    async def delivered() -> bool:
        return any(r["status"] == 200 for r in webhook_receiver.received)

    await wait_for(delivered, timeout=30)

    async def notified() -> bool:
        page = await client.get("/api/v1/notifications", headers=enterprise.headers)
        return page.json()["total"] >= 1

    await wait_for(notified, timeout=30)
    changed = await client.patch(
        f"/api/v1/achievements/{listing_id}",
        json={"description": "高导热石墨烯薄膜，已中试。"},
        headers=university.headers,
    )
    assert changed.status_code == 200, changed.text
    await indexed("achievement", listing_id, version=changed.json()["version"])

    seen: dict[str, str] = {}
    # The index, read back from Meilisearch, and searched for the marker directly and through the API.
    seen["index document"] = json.dumps(indexed_document, ensure_ascii=False)
    seen["index document after the edit"] = json.dumps(
        await document(engine, "achievement", listing_id), ensure_ascii=False
    )
    hits = await engine.call("POST", f"/indexes/{engine.index('achievement')}/search", json={"q": MARKER})
    assert hits["hits"] == []
    for query in (MARKER, "石墨烯 导热"):
        found = await client.get("/api/v1/search", params={"q": query})
        assert found.status_code == 200, found.text
        seen[f"search {query}"] = found.text
    assert json.loads(seen[f"search {MARKER}"])["total"] == 0
    assert listing_id in seen["search 石墨烯 导热"]

    # Detail and list, for every audience.
    admin = await signed_in(role=Role.admin)
    for name, headers in {
        "anonymous": {},
        "verified member": enterprise.headers,
        "owner": university.headers,
        "administrator": admin.headers,
    }.items():
        detail = await client.get(f"/api/v1/achievements/{listing_id}", headers=headers)
        assert detail.status_code == 200, detail.text
        listed = await client.get("/api/v1/achievements", headers=headers)
        assert listing_id in listed.text
        seen[f"detail ({name})"], seen[f"list ({name})"] = detail.text, listed.text

    # The owner's export, both formats (an XLSX is a zip of XML parts: every part is read).
    csv = await client.get(
        "/api/v1/achievements/export", params={"format": "csv"}, headers=university.headers
    )
    assert csv.status_code == 200 and "石墨烯导热膜的制备" in csv.content.decode("utf-8-sig")
    seen["export csv"] = csv.content.decode("utf-8-sig")
    xlsx = await client.get(
        "/api/v1/achievements/export", params={"format": "xlsx"}, headers=university.headers
    )
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as archive:
        seen["export xlsx"] = "".join(archive.read(part).decode("utf-8") for part in archive.namelist())
    assert "石墨烯导热膜的制备" in seen["export xlsx"]

    # Notifications and webhook deliveries.
    seen["webhooks"] = "".join(r["raw"].decode() for r in webhook_receiver.received)
    assert listing_id in seen["webhooks"]
    seen["notifications"] = (await client.get("/api/v1/notifications", headers=enterprise.headers)).text
    seen["notification rows"] = json.dumps(
        [str(row) for row in (await db.execute(select(Notification.__table__))).all()], ensure_ascii=False
    )
    assert (await client.get("/api/v1/notifications", headers=snoop.headers)).json()["total"] == 0

    # The audit of the listing's own changes, and every audit entry and outbox message at all
    listing_audit = (
        await db.execute(
            select(AuditEntry.action, AuditEntry.changes).where(AuditEntry.object_id == listing_id)
        )
    ).all()
    assert {action for action, _ in listing_audit} >= {"created", "published", "updated"}
    seen["listing audit"] = json.dumps([changes for _, changes in listing_audit], ensure_ascii=False)
    # (but for the snooping subscription's own audit, which names its query: the marker)
    every_audit = (
        (
            await db.execute(
                select(cast(AuditEntry.changes, Text)).where(AuditEntry.object_type != "subscription")
            )
        )
        .scalars()
        .all()
    )
    seen["all audit"] = json.dumps(every_audit, ensure_ascii=False)
    outbox = (await db.execute(select(cast(cast(OutboxMessage.payload, JSONB), Text)))).scalars().all()
    assert outbox
    seen["outbox"] = json.dumps(outbox, ensure_ascii=False)

    assert [where for where, text in seen.items() if MARKER in text or "退火 450" in text] == []
    # The details are still there for their owner: what was checked above could have shown them.
    assert MARKER in (await client.get(details_url(listing_id), headers=university.headers)).json()["text"]
