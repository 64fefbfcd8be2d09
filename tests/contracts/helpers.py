"""Arranging registration offices, applicants and applications through the real API."""

import io
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pypdfium2
import zxingcpp
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, OrganizationKind, Role
from tests.fixtures.accounts import create_organization, create_user, credit_code, sign_in


@dataclass
class Person:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    headers: dict[str, str]


async def office(db: AsyncSession, region_code: str = "320100", point: str = "01") -> Organization:
    organization = await create_organization(
        db, kind=OrganizationKind.registration_office, region_code=region_code
    )
    organization.registration_point = point
    await db.commit()
    return organization


async def person(
    client: httpx.AsyncClient, db: AsyncSession, role: Role, organization: Organization
) -> Person:
    user = await create_user(db, role=role, organization=organization)
    return Person(user.id, organization.id, await sign_in(client, user.email))


@dataclass
class World:
    office: Organization
    officer: Person
    officer2: Person
    other_officer: Person  # of another office
    seller_org: Organization
    applicant: Person
    outsider: Person
    admin: Person


async def world(client: httpx.AsyncClient, db: AsyncSession) -> World:
    nanjing = await office(db, "320100", "01")
    suzhou = await office(db, "320500", "03")
    seller = await create_organization(db, kind=OrganizationKind.university, region_code="320102")
    other = await create_organization(db, kind=OrganizationKind.enterprise, region_code="320102")
    government = await create_organization(db, kind=OrganizationKind.government, region_code="320000")
    return World(
        office=nanjing,
        officer=await person(client, db, Role.registration_officer, nanjing),
        officer2=await person(client, db, Role.registration_officer, nanjing),
        other_officer=await person(client, db, Role.registration_officer, suzhou),
        seller_org=seller,
        applicant=await person(client, db, Role.member, seller),
        outsider=await person(client, db, Role.member, other),
        admin=await person(client, db, Role.admin, government),
    )


def body(seller_org: Organization, **overrides: Any) -> dict[str, Any]:
    """A valid application: 1,000,000.00 元 development contract, 200,000.50 deducted."""
    data: dict[str, Any] = {
        "contract_type": "development",
        "contract_subtype": "commissioned",
        "project_name": "高效钙钛矿电池中试工艺开发",
        "buyer": {
            "name": "苏州光伏科技有限公司",
            "credit_code": credit_code(),
            "region_code": "320505",
            "kind": "enterprise",
        },
        "seller": {
            "name": seller_org.name,
            "credit_code": seller_org.credit_code,
            "region_code": seller_org.region_code,
            "kind": "university",
        },
        "signed_on": "2026-10-08",
        "valid_from": "2026-10-10",
        "valid_until": "2027-10-09",
        "contract_amount": "1000000.00",
        "claimed_technology_amount": "799999.50",
        "deductions": {"equipment": "150000.00", "materials": 50000.5, "construction": 0, "other": "0"},
        "technology_field": "new_energy",
        "ip_kind": "patent",
        "socio_economic_objective": "能源生产、分配和合理利用",
    }
    data.update(overrides)
    return data


async def upload(client: httpx.AsyncClient, who: Person, app_id: str, document: bytes) -> httpx.Response:
    return await client.put(
        f"/api/v1/contracts/{app_id}/document",
        params={"name": "合同.pdf"},
        content=document,
        headers={**who.headers, "Content-Type": "application/pdf"},
    )


async def create(
    client: httpx.AsyncClient, w: World, document: bytes | None = b"", **overrides: Any
) -> dict[str, Any]:
    """A draft with its contract document uploaded (by default a text of its own; None: none)."""
    response = await client.post(
        "/api/v1/contracts", json=body(w.seller_org, **overrides), headers=w.applicant.headers
    )
    assert response.status_code == 201, response.text
    draft = response.json()
    if document is None:
        return draft
    uploaded = await upload(client, w.applicant, draft["id"], document or f"合同文本 {draft['id']}".encode())
    assert uploaded.status_code == 200, uploaded.text
    return uploaded.json()


async def step(
    client: httpx.AsyncClient,
    who: Person,
    app_id: str,
    path: str,
    payload: Any = None,
    expect: int = 200,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/contracts/{app_id}/{path}", json=payload, headers={**who.headers, **(headers or {})}
    )
    assert response.status_code == expect, response.text
    return response.json()


async def under_review(client: httpx.AsyncClient, w: World, **overrides: Any) -> dict[str, Any]:
    app = await create(client, w, **overrides)
    await step(client, w.applicant, app["id"], "submit")
    await step(client, w.officer, app["id"], "accept")
    return await step(client, w.officer, app["id"], "start-review")


async def registered(
    client: httpx.AsyncClient, w: World, amount: str = "700000.00", **overrides: Any
) -> dict[str, Any]:
    app = await under_review(client, w, **overrides)
    if app["status"] == "expert_review":
        await step(
            client,
            w.officer,
            app["id"],
            "expert-opinions",
            {"expert_name": "王教授", "opinion": "技术属实，金额合理"},
        )
    return await step(client, w.officer, app["id"], "register", {"technology_amount": amount})


def qr_url(pdf: bytes) -> str:
    """What the QR code on page 1 of a certificate says, decoded from the rendered page."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=3).to_pil()
    results = zxingcpp.read_barcodes(image)
    assert results, "no QR code found on page 1"
    return results[0].text


def assert_fonts_embedded(pdf: bytes) -> None:
    """Every font page 1 uses carries its glyphs (for a Type0 font, its descendant): on a machine
    without a CJK font a font only named in the file shows empty boxes."""
    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()
    assert fonts
    for font in fonts:
        font = font.get_object()
        if font["/Subtype"] == "/Type0":
            font = font["/DescendantFonts"][0].get_object()
        descriptor = font.get("/FontDescriptor")
        assert descriptor is not None, f"{font['/BaseFont']} has no font descriptor"
        descriptor = descriptor.get_object()
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), (
            f"{font['/BaseFont']} not embedded"
        )
