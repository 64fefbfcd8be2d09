"""Writing confidential details: the owner's members and administrators only, one version per
change with If-Match, limits and document types checked, audited without the secret itself."""

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.deals.vocabulary import DealStage
from app.listings.models import Achievement
from tests.confidential.helpers import approve, details_url, undertake, write
from tests.deals.factory import deal_at, deal_world

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _file(name: str, data: bytes, content_type: str) -> dict:
    return {"file": (name, data, content_type)}


async def test_each_change_is_a_version_checked_by_if_match_and_audited_without_the_secret(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    url = details_url(w.achievement.id)
    assert (await client.get(url, headers=w.seller.headers)).status_code == 404  # nothing written yet

    first = await client.put(
        url, json={"text": "配方A：钛酸钡 62 %"}, headers={**w.seller.headers, "If-Match": '"0"'}
    )
    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    stale = await client.put(url, json={"text": "配方B"}, headers={**w.seller.headers, "If-Match": '"0"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    # The same text again is no change: no version a reader would have to undertake for again.
    same = await client.put(url, json={"text": "配方A：钛酸钡 62 %"}, headers=w.seller.headers)
    assert same.status_code == 200 and same.json()["version"] == 1

    added = await client.post(
        f"{url}/documents", files=_file("完整工艺.pdf", PDF, "application/pdf"), headers=w.seller.headers
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["version"] == 2 and body["documents"][0]["name"] == "完整工艺.pdf"
    assert body["documents"][0]["size"] == len(PDF)
    document_url = added.headers["Location"]
    downloaded = await client.get(document_url, headers=w.seller.headers)
    assert downloaded.content == PDF and downloaded.headers["content-type"] == "application/pdf"

    by_admin = await client.put(url, json={"text": "配方C：钛酸钡 64 %"}, headers=w.admin.headers)
    assert by_admin.status_code == 200 and by_admin.json()["version"] == 3
    assert by_admin.json()["access"] == "admin"

    deleted = await client.delete(document_url, headers={**w.seller.headers, "If-Match": '"3"'})
    assert deleted.status_code == 204
    assert (await client.get(document_url, headers=w.seller.headers)).status_code == 404
    stored = app.state.settings.data_dir / "confidential-documents" / document_url.rsplit("/", 1)[-1]
    assert not stored.exists()
    assert (await client.get(url, headers=w.seller.headers)).json()["version"] == 4

    audited = (
        await db.execute(
            select(AuditEntry.action, AuditEntry.changes)
            .where(AuditEntry.object_type == "confidential_details")
            .order_by(AuditEntry.id)
        )
    ).all()
    assert [action for action, _ in audited] == [
        "text_written",
        "document_added",
        "text_written",
        "document_deleted",
    ]
    assert [changes["version"] for _, changes in audited] == [[0, 1], [1, 2], [2, 3], [3, 4]]
    assert "钛酸钡" not in json.dumps([changes for _, changes in audited], ensure_ascii=False)


async def test_only_the_owner_s_members_and_administrators_write(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    url = details_url(w.achievement.id)
    for who in (w.buyer, w.broker, w.outsider):
        refused = await client.put(url, json={"text": "x"}, headers=who.headers)
        assert refused.status_code == 403 and refused.json()["code"] == "not_listing_owner"
        upload = await client.post(
            f"{url}/documents", files=_file("a.pdf", PDF, "application/pdf"), headers=who.headers
        )
        assert upload.status_code == 403
    draft = Achievement(title="未发布的成果", owner_organization_id=w.seller_org.id)
    db.add(draft)
    await db.commit()
    hidden = await client.put(details_url(draft.id), json={"text": "x"}, headers=w.outsider.headers)
    assert hidden.status_code == 404
    assert (await client.get(url, headers=w.seller.headers)).status_code == 404  # nothing was written


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("spec.pdf", b"just text pretending", "application/pdf"),  # declared PDF, bytes are not
        ("run.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" * 10, "application/octet-stream"),
        ("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
        ("photo.png", PDF, "image/png"),
    ],
)
async def test_a_document_must_be_what_it_says_and_of_an_accepted_type(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, name: str, data: bytes, content_type: str
) -> None:
    w = await deal_world(client, db)
    refused = await client.post(
        f"{details_url(w.achievement.id)}/documents",
        files=_file(name, data, content_type),
        headers=w.seller.headers,
    )
    assert refused.status_code == 415 and refused.json()["code"] == "unsupported_document_type"
    assert refused.json()["errors"][0]["field"] == "file"
    assert (await client.get(details_url(w.achievement.id), headers=w.seller.headers)).status_code == 404


async def test_limits_on_text_documents_and_their_number(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = app.state.settings
    monkeypatch.setattr(settings, "confidential_text_max_chars", 10)
    monkeypatch.setattr(settings, "confidential_document_max_bytes", 2048)
    monkeypatch.setattr(settings, "confidential_documents_max", 2)
    w = await deal_world(client, db)
    url = details_url(w.achievement.id)

    long = await client.put(url, json={"text": "密" * 11}, headers=w.seller.headers)
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "text"
    big = await client.post(
        f"{url}/documents", files=_file("big.txt", b"a" * 2049, "text/plain"), headers=w.seller.headers
    )
    assert big.status_code == 422 and big.json()["errors"][0]["code"] == "too_large"
    for number in range(2):
        ok = await client.post(
            f"{url}/documents",
            files=_file(f"{number}.txt", b"a" * 2048, "text/plain"),
            headers=w.seller.headers,
        )
        assert ok.status_code == 201, ok.text
    third = await client.post(
        f"{url}/documents", files=_file("3.txt", b"b", "text/plain"), headers=w.seller.headers
    )
    assert third.status_code == 422 and third.json()["errors"][0]["code"] == "too_many"
    assert (await client.get(url, headers=w.seller.headers)).json()["version"] == 2

    # Past the route's body limit (set at start-up: 20 MiB and the form) the upload is not even read.
    huge = b"a" * (21 * 1024 * 1024)
    refused = await client.post(
        f"{url}/documents", files=_file("huge.txt", huge, "text/plain"), headers=w.seller.headers
    )
    assert refused.status_code == 413 and refused.json()["code"] == "payload_too_large"


async def test_documents_open_to_a_counterpart_as_the_text_does(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.negotiating)
    added = await client.post(
        f"{details_url(w.achievement.id)}/documents",
        files=_file("附件.pdf", PDF, "application/pdf"),
        headers=w.seller.headers,
    )
    document_url = added.headers["Location"]
    refused = await client.get(document_url, headers=w.buyer.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "disclosure_not_approved"
    assert (await client.get(document_url, headers=w.outsider.headers)).status_code == 404

    await approve(client, w.seller, deal.id, w.achievement.id)
    await undertake(client, w.buyer, deal.id, w.achievement.id, 1)
    downloaded = await client.get(document_url, headers=w.buyer.headers)
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["Cache-Control"] == "no-store"
    assert downloaded.headers["Content-Disposition"].startswith("attachment;")
    read = (
        await db.execute(
            select(AuditEntry.actor_user_id, AuditEntry.changes).where(AuditEntry.action == "document_read")
        )
    ).one()
    assert read.actor_user_id == w.buyer.user_id and read.changes["version"] == 1
    await write(client, w.seller, w.achievement.id, "新增说明")
    again = await client.get(document_url, headers=w.buyer.headers)
    assert again.status_code == 403 and again.json()["code"] == "undertaking_required"


async def test_a_document_may_be_larger_than_the_body_limit_of_json_calls(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    large = PDF + b"%" * (2 * app.state.settings.max_body_bytes)
    added = await client.post(
        f"{details_url(w.achievement.id)}/documents",
        files=_file("全套图纸.pdf", large, "application/pdf"),
        headers=w.seller.headers,
    )
    assert added.status_code == 201, added.text
    assert (await client.get(added.headers["Location"], headers=w.seller.headers)).content == large


async def test_concurrent_writers_lose_no_update_and_one_undertaking_is_kept_per_version(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    url = details_url(w.achievement.id)
    # Twenty first writes at once: one details row, twenty versions, none lost.
    answers = await asyncio.gather(
        *(client.put(url, json={"text": f"第{n}稿"}, headers=w.seller.headers) for n in range(20))
    )
    assert sorted(a.json()["version"] for a in answers) == list(range(1, 21))
    # Twenty edits of version 20: one wins, the others are told it moved.
    answers = await asyncio.gather(
        *(
            client.put(url, json={"text": f"修订{n}"}, headers={**w.seller.headers, "If-Match": '"20"'})
            for n in range(20)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] + [412] * 19
    audited = await db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "text_written")
    )
    assert audited == 21

    deal = await deal_at(db, w, DealStage.negotiating)
    await approve(client, w.seller, deal.id, w.achievement.id)
    answers = await asyncio.gather(
        *(undertake(client, w.buyer, deal.id, w.achievement.id, 21) for _ in range(10))
    )
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    listed = await client.get(f"/api/v1/deals/{deal.id}/undertakings", headers=w.buyer.headers)
    assert listed.json()["total"] == 1
