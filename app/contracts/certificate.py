"""The registration certificate (登记证明): its check hash, its PDF and its public verification.

Every decision that sets the amounts — the registration, each 变更登记, a re-registration after an
objection — issues a new certificate version, numbered from 1 on the certificate, in its QR code
and in verification. The hash is SHA-256 over a canonical line anyone can rebuild from a printout:

    techex-certificate-v2|{number}|{seller credit code}|{buyer credit code or name}|{contract type}|
    {contract amount}|{technology amount}|{registration date}|{certificate version}

amounts with exactly two decimals, the date as YYYY-MM-DD. A superseded printout no longer matches
the current hash (but one of `superseded`), and its version is below the current one.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.lib.units import mm

from app.contracts.models import ContractApplication, ContractEvent
from app.contracts.workflow import IN_FORCE_STATES, Status
from app.core import pdf


@dataclass(frozen=True)
class Printed:
    number: str
    seller: str
    buyer: str
    contract_type: str
    contract_amount: Decimal
    technology_amount: Decimal
    registered_on: date
    version: int

    def canonical(self) -> str:
        return "|".join(
            [
                "techex-certificate-v2",
                self.number,
                self.seller,
                self.buyer,
                self.contract_type,
                f"{self.contract_amount:.2f}",
                f"{self.technology_amount:.2f}",
                self.registered_on.isoformat(),
                str(self.version),
            ]
        )

    def digest(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


def printed(
    app: ContractApplication, *, contract_amount: Decimal, technology_amount: Decimal, version: int
) -> Printed:
    assert app.registration_number and app.registered_on
    return Printed(
        number=app.registration_number,
        seller=app.seller_credit_code or app.seller_name,
        buyer=app.buyer_credit_code or app.buyer_name,
        contract_type=app.contract_type.value,
        contract_amount=contract_amount,
        technology_amount=technology_amount,
        registered_on=app.registered_on,
        version=version,
    )


CERTIFYING_ACTIONS = ("register", "amend")


def versions(app: ContractApplication, events: list[ContractEvent]) -> list[Printed]:
    """Every certificate version issued, oldest first: one per decision that set the amounts."""
    issued: list[Printed] = []
    for event in events:
        if event.action not in CERTIFYING_ACTIONS or event.contract_amount is None:
            continue
        assert event.technology_amount is not None
        issued.append(
            printed(
                app,
                contract_amount=event.contract_amount,
                technology_amount=event.technology_amount,
                version=len(issued) + 1,
            )
        )
    return issued


def public_status(app: ContractApplication) -> str:
    """What a registration number stands for now: valid, amended, cancelled (注销), revoked
    (refused when an objection was re-examined) or suspended (an objection being re-examined)."""
    if app.status == Status.cancelled:
        return "cancelled"
    if app.status in IN_FORCE_STATES:  # a change under expert review is not in force yet
        return "amended" if app.amendment_count else "valid"
    if app.status == Status.refused:
        return "revoked"
    return "suspended"


def verification_url(base_url: str, number: str, version: int | None = None) -> str:
    """The page a phone opens from the QR code (app/pages): the status in words, not JSON."""
    url = f"{base_url.rstrip('/')}/verify/{number}"
    return url if version is None else f"{url}?version={version}"


def render_pdf(app: ContractApplication, info: Printed, *, office_name: str, base_url: str) -> bytes:
    from app.contracts.vocabulary import ContractSubtype, ContractType

    page, buffer = pdf.new_page("技术合同登记证明")
    page.setTitle(f"技术合同登记证明 {info.number}")
    pdf.centred_lines(
        page,
        [
            f"合同登记编号：{info.number}",
            f"证明版本：第 {info.version} 版　　变更次数：{app.amendment_count}",
        ],
        top=pdf.HEIGHT - 47 * mm,
    )
    rows = [
        ("项目名称", app.project_name),
        ("卖方（登记申请方）", f"{app.seller_name}\n统一社会信用代码：{app.seller_credit_code or '—'}"),
        ("买方", f"{app.buyer_name}\n统一社会信用代码：{app.buyer_credit_code or '—'}"),
        (
            "合同类型",
            f"{ContractType(app.contract_type).label}（{ContractSubtype(app.contract_subtype).label}）",
        ),
        ("合同成交额", pdf.amount_line(info.contract_amount)),
        ("技术交易额（认定）", pdf.amount_line(info.technology_amount)),
        ("登记机构", office_name),
        ("登记日期", pdf.date_line(info.registered_on)),
    ]
    pdf.facts_table(page, rows, top=pdf.HEIGHT - 62 * mm)
    pdf.seal_area(page, office_name, y=112 * mm)
    url = verification_url(base_url, info.number, info.version)
    pdf.draw_qr(page, url, x=pdf.CONTENT_LEFT, y=46 * mm, size=38 * mm)
    pdf.small_lines(
        page,
        [
            "扫描二维码或访问以下地址核验本证明：",
            url,
            f"校验码 SHA-256：{info.digest()}",
            "校验码为下列各项以“|”连接后的 SHA-256：techex-certificate-v2、编号、卖方与买方代码、",
            "合同类型、两项金额（两位小数）、登记日期、证明版本。",
        ],
        top=42 * mm,
    )
    return pdf.finish(page, buffer)
