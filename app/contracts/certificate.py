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
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.resources import files

import cn2an
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from app.contracts.models import ContractApplication, ContractEvent
from app.contracts.workflow import IN_FORCE_STATES, Status

# WenQuanYi Micro Hei (Apache-2.0), shipped as a wheel: reportlab embeds the subset of glyphs a
# certificate uses, so it reads the same on a machine without any CJK font (a CID font such as
# STSong-Light is only named in the file and left to the reader, which shows empty boxes).
FONT = "WenQuanYiMicroHei"
pdfmetrics.registerFont(
    TTFont(FONT, str(files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"), subfontIndex=0)
)


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


def amount_in_words(amount: Decimal) -> str:
    """人民币大写, as on invoices and contracts: 800000.00 → 捌拾万元整."""
    return cn2an.an2cn(f"{amount:.2f}", "rmb")


def amount_line(amount: Decimal) -> str:
    return f"¥{amount:,.2f} 元（人民币{amount_in_words(amount)}）"


_LABEL = ParagraphStyle("label", fontName=FONT, fontSize=11, leading=15)
_VALUE = ParagraphStyle("value", fontName=FONT, fontSize=11, leading=15, wordWrap="CJK")


def _cell(text: str, style: ParagraphStyle) -> Paragraph:
    """A table cell of user text (project names and parties are typed by applicants), so it is
    escaped before it becomes Paragraph markup; a newline starts a line."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Paragraph(escaped.replace("\n", "<br/>"), style)


def _draw_qr(pdf: canvas.Canvas, text: str, *, x: float, y: float, size: float) -> None:
    """The QR code as filled squares on the canvas (reportlab's widget renderer would add an
    unembedded Helvetica to the page), with the standard four-module quiet zone."""
    qr = QRCode(None, QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    count = qr.getModuleCount()
    module = size / (count + 8)
    pdf.setFillColor(colors.black)
    for row in range(count):
        for column in range(count):
            if qr.isDark(row, column):
                left = x + (column + 4) * module
                pdf.rect(left, y + size - (row + 5) * module, module, module, stroke=0, fill=1)


def render_pdf(app: ContractApplication, info: Printed, *, office_name: str, base_url: str) -> bytes:
    from app.contracts.vocabulary import ContractSubtype, ContractType

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0, initialFontName=FONT)
    pdf.setTitle(f"技术合同登记证明 {info.number}")
    width, height = A4
    margin = 15 * mm

    # The frame: a heavy outer rule and a thin inner one.
    pdf.setStrokeColor(colors.HexColor("#8b1a1a"))
    pdf.setLineWidth(2.2)
    pdf.rect(margin, margin, width - 2 * margin, height - 2 * margin)
    pdf.setLineWidth(0.6)
    pdf.rect(margin + 2.5 * mm, margin + 2.5 * mm, width - 2 * margin - 5 * mm, height - 2 * margin - 5 * mm)

    pdf.setFillColor(colors.black)
    pdf.setFont(FONT, 24)
    pdf.drawCentredString(width / 2, height - 38 * mm, "技术合同登记证明")
    pdf.setFont(FONT, 11)
    pdf.drawCentredString(width / 2, height - 47 * mm, f"合同登记编号：{info.number}")
    pdf.drawCentredString(
        width / 2, height - 53 * mm, f"证明版本：第 {info.version} 版　　变更次数：{app.amendment_count}"
    )

    rows = [
        ("项目名称", app.project_name),
        ("卖方（登记申请方）", f"{app.seller_name}\n统一社会信用代码：{app.seller_credit_code or '—'}"),
        ("买方", f"{app.buyer_name}\n统一社会信用代码：{app.buyer_credit_code or '—'}"),
        (
            "合同类型",
            f"{ContractType(app.contract_type).label}（{ContractSubtype(app.contract_subtype).label}）",
        ),
        ("合同成交额", amount_line(info.contract_amount)),
        ("技术交易额（认定）", amount_line(info.technology_amount)),
        ("登记机构", office_name),
        ("登记日期", f"{info.registered_on.year}年{info.registered_on.month}月{info.registered_on.day}日"),
    ]
    content_width = width - 2 * margin - 20 * mm
    table = Table(
        [[_cell(label, _LABEL), _cell(value, _VALUE)] for label, value in rows],
        colWidths=[42 * mm, content_width - 42 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                # Cells' own font (Helvetica by default) is set on the page even under paragraphs.
                ("FONT", (0, 0), (-1, -1), FONT),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#555555")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3efe6")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    _, table_height = table.wrapOn(pdf, content_width, height)
    table.drawOn(pdf, margin + 10 * mm, height - 62 * mm - table_height)

    # Where the office seals and dates the printout.
    seal_x, seal_y, seal_r = width - margin - 48 * mm, 112 * mm, 21 * mm
    pdf.setStrokeColor(colors.HexColor("#b0b0b0"))
    pdf.setDash(3, 3)
    pdf.circle(seal_x, seal_y, seal_r)
    pdf.setDash()
    pdf.setFont(FONT, 10)
    pdf.drawCentredString(seal_x, seal_y - seal_r - 7 * mm, f"{office_name}（盖章）")
    pdf.drawCentredString(seal_x, seal_y - seal_r - 13 * mm, "年    月    日")

    url = verification_url(base_url, info.number, info.version)
    _draw_qr(pdf, url, x=margin + 10 * mm, y=46 * mm, size=38 * mm)
    pdf.setFont(FONT, 8)
    pdf.drawString(margin + 10 * mm, 42 * mm, "扫描二维码或访问以下地址核验本证明：")
    pdf.drawString(margin + 10 * mm, 37 * mm, url)
    pdf.drawString(margin + 10 * mm, 32 * mm, f"校验码 SHA-256：{info.digest()}")
    pdf.drawString(
        margin + 10 * mm,
        27 * mm,
        "校验码为下列各项以“|”连接后的 SHA-256：techex-certificate-v2、编号、卖方与买方代码、",
    )
    pdf.drawString(margin + 10 * mm, 23 * mm, "合同类型、两项金额（两位小数）、登记日期、证明版本。")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
