"""Public schemas and reads: certificate verification and the publicity list (公示)."""

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import certificate, repository
from app.contracts.models import ContractApplication
from app.contracts.vocabulary import ContractType
from app.core.errors import NotFound
from app.core.pagination import Page, PageParams


class SupersededVersion(BaseModel):
    version: int
    certificate_hash: str


class CertificatePublic(BaseModel):
    """What anyone may check about a registration number (数据交易凭证)."""

    number: str
    status: str = Field(
        description="valid=有效, amended=已变更（以当前金额为准）, cancelled=已注销, "
        "revoked=异议复核后不予登记, suspended=异议复核中, "
        "superseded=所查版本已被新版本取代（以当前版本为准）"
    )
    project_name: str
    seller_name: str
    buyer_name: str
    contract_type: ContractType
    registered_on: date
    office_name: str
    contract_amount: Decimal | None
    technology_amount: Decimal | None
    amendment_count: int
    certificate_version: int = Field(
        description="证明版本：当前登记证明的版本号（自 1 起，每次认定、重新认定或变更加 1）"
    )
    certificate_hash: str = Field(
        description="SHA-256 of the canonical line of the current certificate (see docs)"
    )
    canonical: str = Field(description="the line hashed, rebuildable from a printed certificate")
    superseded: list[SupersededVersion] = Field(description="earlier certificate versions, oldest first")
    superseded_hashes: list[str] = Field(description="the hashes of `superseded`, oldest first")


class PublicityItem(BaseModel):
    registration_number: str
    project_name: str
    contract_type: ContractType
    seller_name: str
    buyer_name: str
    region_code: str
    registered_on: date
    office_name: str
    amended: bool
    contract_amount: Decimal | None = Field(description="null when the exchange publishes without amounts")
    technology_amount: Decimal | None


_NO_CERTIFICATE = NotFound(
    code="certificate_not_found",
    message_en="No certificate has this number.",
    message_zh="没有该编号的登记证明。",
)


_NO_VERSION = NotFound(
    code="certificate_version_not_found",
    message_en="This registration has no certificate of that version.",
    message_zh="该登记没有此版本的登记证明。",
)


async def verify(session: AsyncSession, number: str, version: int | None = None) -> CertificatePublic:
    """The registration behind a number now; `version`, read from a printout, says whether that
    printout is the current certificate (else `superseded`, unless the registration itself is no
    longer in force)."""
    app = await repository.by_number(session, number)
    if app is None or app.registered_on is None:
        raise _NO_CERTIFICATE
    office = await repository.get_organization(session, app.office_id)
    issued = certificate.versions(app, await repository.events(session, app.id))
    if version is not None and not 1 <= version <= len(issued):
        raise _NO_VERSION
    info = issued[-1] if issued else None
    status = certificate.public_status(app)
    if version is not None and version < len(issued) and status in ("valid", "amended"):
        status = "superseded"
    return CertificatePublic(
        number=number,
        status=status,
        project_name=app.project_name,
        seller_name=app.seller_name,
        buyer_name=app.buyer_name,
        contract_type=app.contract_type,
        registered_on=app.registered_on,
        office_name=office.name,
        contract_amount=app.registered_contract_amount,
        technology_amount=app.registered_technology_amount,
        amendment_count=app.amendment_count,
        certificate_version=len(issued),
        certificate_hash=info.digest() if info else "",
        canonical=info.canonical() if info else "",
        superseded=[SupersededVersion(version=p.version, certificate_hash=p.digest()) for p in issued[:-1]],
        superseded_hashes=[p.digest() for p in issued[:-1]],
    )


def _item(app: ContractApplication, office_name: str, show_amounts: bool) -> PublicityItem:
    assert app.registration_number and app.registered_on
    return PublicityItem(
        registration_number=app.registration_number,
        project_name=app.project_name,
        contract_type=app.contract_type,
        seller_name=app.seller_name,
        buyer_name=app.buyer_name,
        region_code=app.stats_region_code,
        registered_on=app.registered_on,
        office_name=office_name,
        amended=app.amendment_count > 0,
        contract_amount=app.registered_contract_amount if show_amounts else None,
        technology_amount=app.registered_technology_amount if show_amounts else None,
    )


async def publicity(
    session: AsyncSession,
    page: PageParams,
    *,
    show_amounts: bool,
    region: str | None,
    since: date | None,
    until: date | None,
    contract_type: ContractType | None = None,
) -> Page[PublicityItem]:
    rows, total = await repository.publicity(
        session, page, region=region, since=since, until=until, contract_type=contract_type
    )
    return Page.of([_item(app, office, show_amounts) for app, office in rows], total, page)
