"""The certificate PDF opens, states the number and amounts, and its QR code resolves to the
public verification, whose hash anyone can recompute."""

import hashlib
import io
from urllib.parse import urlsplit

import httpx
import pypdfium2
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from tests.contracts import helpers
from tests.contracts.helpers import assert_fonts_embedded, qr_url, step


async def test_pdf_and_qr_round_trip(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w, amount="700000.00")
    number = app["registration_number"]
    response = await client.get(f"/api/v1/contracts/{app['id']}/certificate", headers=w.applicant.headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert number in text
    # Amounts with thousands separators and in capital numerals, as a person reads them.
    assert "¥1,000,000.00" in text and "壹佰万元整" in text
    assert "¥700,000.00" in text and "柒拾万元整" in text
    assert "技术合同登记证明" in text

    url = qr_url(response.content)
    # The verification page for people; the JSON beside it at /api/v1/certificates/{number}.
    assert url.endswith(f"/verify/{number}?version=1")
    parts = urlsplit(url)
    page = await client.get(f"{parts.path}?{parts.query}")  # no login
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert number in page.text and "有效" in page.text
    public = await client.get(f"/api/v1/certificates/{number}?{parts.query}")
    assert public.status_code == 200
    body = public.json()
    assert body["status"] == "valid"
    assert body["technology_amount"] == "700000.00"
    assert hashlib.sha256(body["canonical"].encode()).hexdigest() == body["certificate_hash"]
    assert body["certificate_hash"] in text.replace("\n", "")


async def test_amended_then_cancelled_certificate(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w)
    number = app["registration_number"]
    original = (await client.get(f"/api/v1/certificates/{number}")).json()["certificate_hash"]
    await step(
        client,
        w.officer,
        app["id"],
        "amend",
        {"contract_amount": "1200000.00", "technology_amount": "900000.00", "reason": "补充协议增加金额"},
    )
    amended = (await client.get(f"/api/v1/certificates/{number}")).json()
    assert amended["status"] == "amended" and amended["amendment_count"] == 1
    assert amended["contract_amount"] == "1200000.00"
    assert amended["certificate_hash"] != original
    assert amended["superseded_hashes"] == [original]  # a printed old certificate is recognisable
    assert amended["certificate_version"] == 2
    old = (await client.get(f"/api/v1/certificates/{number}?version=1")).json()
    assert old["status"] == "superseded"
    await step(client, w.officer, app["id"], "cancel", {"reason": "合同解除"})
    cancelled = (await client.get(f"/api/v1/certificates/{number}")).json()
    assert cancelled["status"] == "cancelled"
    # No new certificate for what is no longer registered.
    refused = await client.get(f"/api/v1/contracts/{app['id']}/certificate", headers=w.applicant.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "registration_cancelled"
    history = (
        await client.get(f"/api/v1/contracts/{app['id']}/history", headers=w.applicant.headers)
    ).json()["items"]
    amounts = [(h["action"], h["contract_amount"]) for h in history if h["contract_amount"]]
    assert amounts == [("register", "1000000.00"), ("amend", "1200000.00")]


async def test_unknown_number_and_unregistered_certificate(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    assert (await client.get("/api/v1/certificates/26320101999999")).status_code == 404
    assert (await client.get("/api/v1/certificates/abc")).status_code == 422
    app = await helpers.under_review(client, w)
    response = await client.get(f"/api/v1/contracts/{app['id']}/certificate", headers=w.officer.headers)
    assert response.status_code == 409 and response.json()["code"] == "not_registered"


async def test_no_certificate_while_an_objection_is_re_examined(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w)
    url = f"/api/v1/contracts/{app['id']}/certificate"
    assert (await client.get(url, headers=w.applicant.headers)).status_code == 200
    await step(client, w.applicant, app["id"], "object", {"reason": "认定金额过低"})
    response = await client.get(url, headers=w.applicant.headers)
    assert response.status_code == 409 and response.json()["code"] == "registration_suspended"
    public = (await client.get(f"/api/v1/certificates/{app['registration_number']}")).json()
    assert public["status"] == "suspended"
    # Refused on re-examination: the number stands for nothing any more, and says so.
    await step(client, w.officer, app["id"], "reopen", {"comment": "受理异议"})
    await step(client, w.officer, app["id"], "refuse", {"reason": "复核认定不属于技术合同"})
    public = (await client.get(f"/api/v1/certificates/{app['registration_number']}")).json()
    assert public["status"] == "revoked"
    response = await client.get(url, headers=w.applicant.headers)
    assert response.status_code == 409 and response.json()["code"] == "registration_revoked"


async def test_publicity_lists_registered_contracts(client: httpx.AsyncClient, db: AsyncSession, app) -> None:
    w = await helpers.world(client, db)
    registered = await helpers.registered(client, w)
    await helpers.under_review(client, w)
    listing = (await client.get("/api/v1/publicity/contracts")).json()
    assert listing["total"] == 1
    item = listing["items"][0]
    assert item["registration_number"] == registered["registration_number"]
    assert item["technology_amount"] == "700000.00"
    app.state.settings.publicity_shows_amounts = False
    try:
        hidden = (await client.get("/api/v1/publicity/contracts?region=32")).json()["items"][0]
    finally:
        app.state.settings.publicity_shows_amounts = True
    assert hidden["contract_amount"] is None and hidden["technology_amount"] is None
    assert (await client.get("/api/v1/publicity/contracts?region=36")).json()["total"] == 0


async def test_every_font_of_the_certificate_is_embedded(
    client: httpx.AsyncClient, db: AsyncSession, tmp_path
) -> None:
    """On a machine without a CJK font a named-only font shows empty boxes: each font the page
    uses carries its glyphs. Page 1 is rendered too, and kept for a person to look at."""
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w, amount="800000.00")
    pdf = (
        await client.get(f"/api/v1/contracts/{app['id']}/certificate", headers=w.applicant.headers)
    ).content
    assert_fonts_embedded(pdf)
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=2).to_pil()
    image.save(tmp_path / "certificate.png")
    # A blank or box-only page would be almost all white: the text and frame darken a share of it.
    dark = sum(image.convert("L").histogram()[:128])
    assert dark > 0.01 * image.width * image.height


async def test_a_re_registration_issues_a_new_version_and_the_old_printout_verifies_as_superseded(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w, amount="700000.00")
    number = app["registration_number"]
    url = f"/api/v1/contracts/{app['id']}/certificate"
    first_pdf = (await client.get(url, headers=w.applicant.headers)).content
    first_text = PdfReader(io.BytesIO(first_pdf)).pages[0].extract_text().replace("\n", "")
    assert "第 1 版" in first_text
    first = (await client.get(f"/api/v1/certificates/{number}")).json()
    assert first["certificate_version"] == 1 and first["certificate_hash"] in first_text
    # An objection to the certified amount; re-examined and registered again at another amount.
    await step(client, w.applicant, app["id"], "object", {"reason": "认定金额过低"})
    await step(client, w.officer, app["id"], "reopen", {"comment": "受理异议"})
    await step(client, w.officer, app["id"], "register", {"technology_amount": "790000.00"})
    now = (await client.get(f"/api/v1/certificates/{number}")).json()
    assert now["certificate_version"] == 2 and now["amendment_count"] == 0
    assert now["technology_amount"] == "790000.00"
    assert now["certificate_hash"] != first["certificate_hash"]
    assert now["superseded"] == [{"version": 1, "certificate_hash": first["certificate_hash"]}]
    assert now["superseded_hashes"] == [first["certificate_hash"]]
    # The first printout, checked by its QR code (which carries its version), is superseded.
    old_qr = urlsplit(qr_url(first_pdf))
    assert old_qr.path == f"/verify/{number}"
    checked = (await client.get(f"/api/v1/certificates/{number}?{old_qr.query}")).json()
    assert checked["status"] == "superseded" and checked["certificate_version"] == 2
    page = (await client.get(f"{old_qr.path}?{old_qr.query}")).text
    assert "已被新版本取代" in page and "第 1 版证明" in page
    second_pdf = (await client.get(url, headers=w.applicant.headers)).content
    assert qr_url(second_pdf).endswith("?version=2")
    assert (await client.get(f"/api/v1/certificates/{number}?version=2")).json()["status"] == "valid"
    missing = await client.get(f"/api/v1/certificates/{number}?version=3")
    assert missing.status_code == 404 and missing.json()["code"] == "certificate_version_not_found"
