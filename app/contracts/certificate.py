"""The registration certificate (登记证明): its check hash, its PDF and its public verification.

The hash is SHA-256 over a canonical line anyone can rebuild from a printed certificate:

    techex-certificate-v1|{number}|{seller credit code}|{buyer credit code or name}|{contract type}|
    {contract amount}|{technology amount}|{registration date}|{amendment count}

amounts with exactly two decimals, the date as YYYY-MM-DD. An amendment changes the amounts and
the count, so a superseded printout no longer matches the current hash (but one of `superseded`).
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from app.contracts.models import ContractApplication, ContractEvent
from app.contracts.workflow import Status

FONT = "STSong-Light"  # a CID font every PDF reader has; no font file to ship
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass(frozen=True)
class Printed:
    number: str
    seller: str
    buyer: str
    contract_type: str
    contract_amount: Decimal
    technology_amount: Decimal
    registered_on: date
    amendment_count: int

    def canonical(self) -> str:
        return "|".join(
            [
                "techex-certificate-v1",
                self.number,
                self.seller,
                self.buyer,
                self.contract_type,
                f"{self.contract_amount:.2f}",
                f"{self.technology_amount:.2f}",
                self.registered_on.isoformat(),
                str(self.amendment_count),
            ]
        )

    def digest(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


def printed(
    app: ContractApplication, *, contract_amount: Decimal, technology_amount: Decimal, amendments: int
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
        amendment_count=amendments,
    )


def current(app: ContractApplication) -> Printed:
    assert app.registered_contract_amount is not None and app.registered_technology_amount is not None
    return printed(
        app,
        contract_amount=app.registered_contract_amount,
        technology_amount=app.registered_technology_amount,
        amendments=app.amendment_count,
    )


def superseded(app: ContractApplication, events: list[ContractEvent]) -> list[str]:
    """Hashes of the certificates printed before each amendment, oldest first."""
    versions = [e for e in events if e.action in ("register", "amend") and e.contract_amount is not None]
    hashes: list[str] = []
    amendments = 0
    for event in versions:
        assert event.contract_amount is not None and event.technology_amount is not None
        if event.action == "amend":
            amendments += 1
        hashes.append(
            printed(
                app,
                contract_amount=event.contract_amount,
                technology_amount=event.technology_amount,
                amendments=amendments,
            ).digest()
        )
    current_hash = current(app).digest() if app.registered_contract_amount is not None else None
    return [h for h in dict.fromkeys(hashes) if h != current_hash]


def public_status(app: ContractApplication) -> str:
    """What a registration number stands for now: valid, amended, cancelled (注销), revoked
    (refused when an objection was re-examined) or suspended (an objection being re-examined)."""
    if app.status == Status.cancelled:
        return "cancelled"
    if app.status == Status.registered:
        return "amended" if app.amendment_count else "valid"
    if app.status == Status.refused:
        return "revoked"
    return "suspended"


def verification_url(base_url: str, number: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/certificates/{number}"


def render_pdf(app: ContractApplication, *, office_name: str, base_url: str) -> bytes:
    from app.contracts.vocabulary import ContractSubtype, ContractType

    info = current(app)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0)
    pdf.setTitle(f"技术合同登记证明 {info.number}")
    width, height = A4
    pdf.setFont(FONT, 20)
    pdf.drawCentredString(width / 2, height - 30 * mm, "技术合同登记证明")
    lines = [
        ("合同登记编号", info.number),
        ("项目名称", app.project_name),
        ("卖方", f"{app.seller_name}  {app.seller_credit_code or ''}"),
        ("买方", f"{app.buyer_name}  {app.buyer_credit_code or ''}"),
        (
            "合同类型",
            f"{ContractType(app.contract_type).label}（{ContractSubtype(app.contract_subtype).label}）",
        ),
        ("合同成交额", f"{info.contract_amount:.2f} 元"),
        ("技术交易额（认定）", f"{info.technology_amount:.2f} 元"),
        ("登记机构", office_name),
        ("登记日期", info.registered_on.isoformat()),
        ("变更次数", str(info.amendment_count)),
    ]
    y = height - 50 * mm
    for label, value in lines:
        pdf.setFont(FONT, 12)
        pdf.drawString(25 * mm, y, f"{label}：")
        pdf.drawString(70 * mm, y, value)
        y -= 9 * mm
    pdf.setFont(FONT, 8)
    pdf.drawString(25 * mm, y - 4 * mm, f"校验码 SHA-256：{info.digest()}")
    url = verification_url(base_url, info.number)
    widget = QrCodeWidget(url, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    size = 45 * mm
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, width - 25 * mm - size, 30 * mm)
    pdf.setFont(FONT, 8)
    pdf.drawString(25 * mm, 32 * mm, "扫描二维码或访问以下地址核验：")
    pdf.drawString(25 * mm, 27 * mm, url)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
