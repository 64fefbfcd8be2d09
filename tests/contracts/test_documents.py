"""Contract documents (issue 18, item 11): the hash is computed by the server from the bytes it
receives, and a document is read only through the application it was uploaded to."""

import hashlib

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.contracts.models import ContractApplication
from app.contracts.workflow import Status
from tests.contracts import helpers


async def _outsiders_draft(client: httpx.AsyncClient, db: AsyncSession, w: helpers.World) -> dict:
    own = await db.get(Organization, w.outsider.organization_id)
    assert own is not None
    response = await client.post("/api/v1/contracts", json=helpers.body(own), headers=w.outsider.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_form_cannot_name_another_applications_document(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    secret = b"%PDF the seller's confidential contract"
    victim = await helpers.create(client, w, document=secret)
    sha256 = hashlib.sha256(secret).hexdigest()
    assert victim["document_sha256"] == sha256
    own = await db.get(Organization, w.outsider.organization_id)
    assert own is not None
    draft = await _outsiders_draft(client, db, w)
    pointed = await client.put(
        f"/api/v1/contracts/{draft['id']}",
        json={**helpers.body(own), "document_sha256": sha256, "document_name": "x.pdf"},
        headers=w.outsider.headers,
    )
    assert pointed.status_code == 422, pointed.text
    assert {e["field"] for e in pointed.json()["errors"]} == {"document_sha256", "document_name"}
    served = await client.get(f"/api/v1/contracts/{draft['id']}/document", headers=w.outsider.headers)
    assert served.status_code == 404 and served.json()["code"] == "document_not_stored"


async def test_a_hash_alone_opens_no_document(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """A row pointed at another application's document before the fix serves nothing (refused
    since, or the unique index of live documents would not let it be)."""
    w = await helpers.world(client, db)
    secret = b"%PDF another confidential contract"
    await helpers.create(client, w, document=secret)
    draft = await _outsiders_draft(client, db, w)
    row = await db.get(ContractApplication, draft["id"])
    assert row is not None
    row.document_sha256, row.document_name = hashlib.sha256(secret).hexdigest(), "x.pdf"
    row.status = Status.refused
    await db.commit()
    served = await client.get(f"/api/v1/contracts/{draft['id']}/document", headers=w.outsider.headers)
    assert served.status_code == 404, served.content
