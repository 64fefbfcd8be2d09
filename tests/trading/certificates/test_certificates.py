"""The transaction certificate (交易凭证): issued once per agreed deal, numbered gaplessly, printed
with a QR code of its public verification, revocable with a ground and a reason."""

import asyncio
import hashlib
import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import time_machine
from pypdf import PdfReader
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.deals.vocabulary import DealStage
from app.matching.models import Notification, NotificationKind
from app.trading.certificates.documents import canonical
from app.trading.models import (
    AuctionBidder,
    PricingPublicity,
    TransactionCertificate,
    TransactionCertificateCounter,
)
from app.trading.vocabulary import DepositStatus, PublicityStatus
from tests.contracts.helpers import assert_fonts_embedded, qr_url
from tests.deals.factory import deal_at, deal_world, etag, published_achievement
from tests.trading.certificates.factory import (
    CONCLUSION,
    agreed_by_listing,
    enterprise_world,
    issue,
    publicised,
    signed_in,
    sold_by_auction,
)


async def test_an_auctioned_deal_is_certified_once_and_the_pdf_verifies(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await sold_by_auction(db, w)
    with time_machine.travel(datetime(2026, 12, 4, 2, 0, tzinfo=UTC), tick=False):
        response = await issue(client, await signed_in(client, db, w.admin), deal.id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["number"] == "JY-2026-000001"
    assert response.headers["Location"] == "/api/v1/transaction-certificates/JY-2026-000001"
    content = body["content"]
    assert content["route_label"] == "拍卖（网络竞价）" and content["price"] == "860000.00"
    assert content["seller_name"] == w.seller_org.name and content["buyer_name"] == w.buyer_org.name
    assert content["listed_on"] == "2026-11-13"  # the day the auction was announced
    assert content["issued_on"] == "2026-12-04" and content["review_conclusion"] == CONCLUSION
    assert body["content_hash"] == hashlib.sha256(canonical(content).encode()).hexdigest()

    again = await issue(client, w.admin, deal.id, review_conclusion="再出一份")
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_transaction_certificate"
    assert again.json()["duplicate_of"]["number"] == "JY-2026-000001"

    pdf = await client.get("/api/v1/transaction-certificates/JY-2026-000001.pdf", headers=w.buyer.headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    assert "JY-2026-000001" in text and "¥860,000.00" in text and "捌拾陆万元整" in text
    assert body["content_hash"][:32] in text and body["content_hash"][32:] in text
    assert_fonts_embedded(pdf.content)
    url = qr_url(pdf.content)
    assert url == body["verification_url"] and urlsplit(url).path == "/verify/trade/JY-2026-000001"
    page = await client.get(urlsplit(url).path)  # no login
    assert page.status_code == 200 and "有效" in page.text and body["content_hash"] in page.text

    # Issued and notified once, to the parties' members and the broker.
    rows = (await db.execute(select(func.count()).select_from(TransactionCertificate))).scalar_one()
    assert rows == 1
    notified = (
        await db.execute(
            select(Notification.user_id).where(
                Notification.kind == NotificationKind.transaction_certificate_issued
            )
        )
    ).scalars()
    assert set(notified) == {w.seller.user_id, w.buyer.user_id, w.broker.user_id}
    audited = await db.execute(
        select(AuditEntry.action).where(AuditEntry.object_type == "transaction_certificate")
    )
    assert list(audited.scalars()) == ["issued"]


async def test_concurrent_requests_issue_exactly_one(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await agreed_by_listing(db, w)
    responses = await asyncio.gather(*(issue(client, w.admin, deal.id) for _ in range(8)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, [r.text for r in responses]
    refused = {r.json()["code"] for r in responses if r.status_code == 409}
    assert refused == {"duplicate_transaction_certificate"}
    counter = (await db.execute(select(TransactionCertificateCounter.last_serial))).scalar_one()
    assert counter == 1  # the refused requests took no number


async def test_numbers_are_gapless_per_year_under_concurrency(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Eight deals certified at once take 1–8; a refused request takes none; a new year starts at 1."""
    w = await enterprise_world(client, db)
    # One deal per achievement of the same seller and buyer.
    worlds = [replace(w, achievement=await published_achievement(db, w.seller_org)) for _ in range(10)]
    deals = [await deal_at(db, world, DealStage.signed) for world in worlds[:9]]
    not_agreed = await deal_at(db, worlds[9], DealStage.negotiating)
    with time_machine.travel(datetime(2026, 12, 31, 15, 0, tzinfo=UTC), tick=False):  # 23:00 in Beijing
        admin = await signed_in(client, db, w.admin)
        refused = await issue(client, admin, not_agreed.id)
        responses = await asyncio.gather(*(issue(client, admin, deal.id) for deal in deals[:8]))
    assert refused.status_code == 409 and refused.json()["code"] == "deal_not_agreed"
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == [f"JY-2026-{n:06d}" for n in range(1, 9)]
    assert all(re.fullmatch(r"JY-\d{4}-\d{6}", n) for n in numbers)
    with time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), tick=False):  # 2027-01-01 00:30
        admin = await signed_in(client, db, admin)
        next_year = await issue(client, admin, deals[8].id)
    assert next_year.json()["number"] == "JY-2027-000001"


async def test_a_company_sellers_deal_without_a_route_is_certified_as_agreed_by_contract(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await enterprise_world(client, db)
    deal = await deal_at(db, w, DealStage.signed)
    body = (await issue(client, w.admin, deal.id)).json()
    assert body["content"]["route"] is None and body["content"]["route_label"] == "协议成交"
    assert body["content"]["listed_on"] is None and body["content"]["signed_on"] is not None
    assert body["content"]["broker_agency"] == w.agency.name
    # The certificate is what was reviewed: a later edit of the deal does not change it or its hash.
    renamed = await client.patch(
        f"/api/v1/deals/{deal.id}",
        json={"title": "改名后的项目", "payment_terms": "另行约定"},
        headers={**w.broker.headers, "If-Match": await etag(client, w.broker, deal.id)},
    )
    assert renamed.status_code == 200, renamed.text
    read = (
        await client.get(f"/api/v1/transaction-certificates/{body['number']}", headers=w.buyer.headers)
    ).json()
    assert read["content"] == body["content"] and read["content"]["project_title"] == w.achievement.title
    assert hashlib.sha256(canonical(read["content"]).encode()).hexdigest() == read["content_hash"]
    assert read["content_hash"] == body["content_hash"]


async def test_a_route_must_have_a_result_standing_at_the_price(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    # A university agreed without any route (whatever the factory publishes): art. 18 requires one.
    deal = await deal_at(db, w, DealStage.agreed)
    await db.execute(delete(PricingPublicity).where(PricingPublicity.deal_id == deal.id))
    deal.pricing_route = None
    await db.commit()
    refused = await issue(client, w.admin, deal.id)
    assert refused.status_code == 409 and refused.json()["code"] == "pricing_route_required"
    # A publicity still running is no result; once completed at the agreed price it is.
    publicity = await publicised(db, deal, PublicityStatus.running)
    refused = await issue(client, w.admin, deal.id)
    assert refused.status_code == 409 and refused.json()["code"] == "route_result_not_standing"
    publicity.status = PublicityStatus.completed
    await db.commit()
    issued = await issue(client, w.admin, deal.id)
    assert issued.status_code == 201 and issued.json()["content"]["listed_on"] == "2026-11-01"


async def test_a_forfeited_deposit_leaves_no_result_to_certify(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await sold_by_auction(db, w)
    winner = (await db.execute(select(AuctionBidder).where(AuctionBidder.code == "4821"))).scalar_one()
    winner.deposit_status = DepositStatus.forfeited
    await db.commit()
    refused = await issue(client, w.admin, deal.id)
    assert refused.status_code == 409 and refused.json()["code"] == "route_result_not_standing"


async def test_only_administrators_issue_and_revoke_and_strangers_see_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await enterprise_world(client, db)
    deal = await deal_at(db, w, DealStage.agreed)
    for who in (w.seller, w.broker):
        refused = await issue(client, who, deal.id)
        assert refused.status_code == 403 and refused.json()["code"] == "role_required"
    assert (await issue(client, w.admin, deal.id, review_conclusion="  ")).status_code == 422
    assert (await issue(client, w.admin, deal.id, extra="x")).status_code == 422
    number = (await issue(client, w.admin, deal.id)).json()["number"]
    for who in (w.seller, w.buyer, w.broker, w.admin):
        assert (
            await client.get(f"/api/v1/transaction-certificates/{number}", headers=who.headers)
        ).status_code == 200
    for path in (
        f"/api/v1/transaction-certificates/{number}",
        f"/api/v1/transaction-certificates/{number}.pdf",
    ):
        hidden = await client.get(path, headers=w.outsider.headers)
        assert hidden.status_code == 404 and hidden.json()["code"] == "transaction_certificate_not_found"
    missing = await client.get("/api/v1/transaction-certificates/JY-2026-999999", headers=w.admin.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "transaction_certificate_not_found"
    revoke = f"/api/v1/transaction-certificates/{number}/revocation"
    body = {"ground": "documents_false", "reason": "买方营业执照系伪造"}
    assert (await client.post(revoke, json=body, headers=w.seller.headers)).status_code == 403
    assert (
        await client.post(revoke, json={"ground": "documents_false"}, headers=w.admin.headers)
    ).status_code == 422
    assert (
        await client.post(revoke, json={**body, "ground": "dislike"}, headers=w.admin.headers)
    ).status_code == 422


async def test_revocation_shows_in_verification_and_stops_the_pdf(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await enterprise_world(client, db)
    deal = await deal_at(db, w, DealStage.signed)
    issued = (await issue(client, w.admin, deal.id)).json()
    number = issued["number"]
    verification = f"/api/v1/transaction-certificates/{number}/verification"
    valid = (await client.get(verification)).json()  # anonymous
    assert valid["status"] == "valid" and valid["content_hash"] == issued["content_hash"]
    assert valid["price"] == "800000.00" and valid["seller_name"] == w.seller_org.name
    # Minimal public facts: no credit codes, contacts, broker or review text.
    assert set(valid) == {
        "number", "status", "status_label", "project_title", "route_label", "seller_name", "buyer_name",
        "price", "issued_on", "content_hash", "revoked_on", "revocation_ground", "revocation_ground_label",
        "revocation_reason",
    }  # fmt: skip
    assert w.seller_org.credit_code not in str(valid)

    with time_machine.travel(datetime(2026, 12, 10, 1, 0, tzinfo=UTC), tick=False):
        revoked = await client.post(
            f"/api/v1/transaction-certificates/{number}/revocation",
            json={"ground": "party_unqualified", "reason": "受让方不具备挂牌公告要求的资质。"},
            headers=(await signed_in(client, db, w.admin)).headers,
        )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = await client.post(
        f"/api/v1/transaction-certificates/{number}/revocation",
        json={"ground": "party_unqualified", "reason": "再次撤销"},
        headers=w.admin.headers,
    )
    assert again.status_code == 409 and again.json()["code"] == "transaction_certificate_revoked"
    checked = (await client.get(verification)).json()
    assert checked["status"] == "revoked" and checked["revoked_on"] == "2026-12-10"
    assert checked["revocation_ground"] == "party_unqualified"
    assert checked["revocation_reason"] == "受让方不具备挂牌公告要求的资质。"
    assert checked["content_hash"] == issued["content_hash"]
    page = await client.get(f"/verify/trade/{number}")
    assert page.status_code == 200 and "已撤销" in page.text and "交易当事人不具备资格" in page.text
    pdf = await client.get(f"/api/v1/transaction-certificates/{number}.pdf", headers=w.seller.headers)
    assert pdf.status_code == 409 and pdf.json()["code"] == "transaction_certificate_revoked"
    notified = (
        await db.execute(
            select(Notification.user_id).where(
                Notification.kind == NotificationKind.transaction_certificate_revoked
            )
        )
    ).scalars()
    assert set(notified) == {w.seller.user_id, w.buyer.user_id, w.broker.user_id}


async def test_unknown_numbers_leak_nothing(client: httpx.AsyncClient, db: AsyncSession, app) -> None:  # type: ignore[no-untyped-def]
    w = await enterprise_world(client, db)
    number = (await issue(client, w.admin, (await deal_at(db, w, DealStage.agreed)).id)).json()["number"]
    missing = await client.get("/api/v1/transaction-certificates/JY-2026-000002/verification")
    assert missing.status_code == 404 and missing.json()["code"] == "transaction_certificate_not_found"
    assert (await client.get("/api/v1/transaction-certificates/x'/verification")).status_code == 422
    for path in ("/verify/trade/JY-2026-000002", "/verify/trade/nonsense"):
        page = await client.get(path)
        assert page.status_code == 404 and "没有该编号的交易凭证" in page.text
    app.state.settings.publicity_shows_amounts = False
    try:
        hidden = (await client.get(f"/api/v1/transaction-certificates/{number}/verification")).json()
        page = (await client.get(f"/verify/trade/{number}")).text
    finally:
        app.state.settings.publicity_shows_amounts = True
    assert hidden["price"] is None and "800,000.00" not in page and "不公开金额" in page
