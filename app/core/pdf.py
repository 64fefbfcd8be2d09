"""What every printed document of the exchange shares (the registration certificate, the deal
confirmation, the transaction certificate): an embedded CJK font, amounts as a person reads them,
the framed A4 page, the table of facts and a QR code drawn without any unembedded font."""

import io
from collections.abc import Sequence
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

# WenQuanYi Micro Hei (Apache-2.0), shipped as a wheel: reportlab embeds the subset of glyphs a
# document uses, so it reads the same on a machine without any CJK font (a CID font such as
# STSong-Light is only named in the file and left to the reader, which shows empty boxes).
FONT = "WenQuanYiMicroHei"
pdfmetrics.registerFont(
    TTFont(FONT, str(files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"), subfontIndex=0)
)
WIDTH, HEIGHT = A4
MARGIN = 15 * mm
# The table of facts and the text under it start here, inside the frame.
CONTENT_LEFT = MARGIN + 10 * mm
CONTENT_WIDTH = WIDTH - 2 * MARGIN - 20 * mm


def amount_in_words(amount: Decimal) -> str:
    """人民币大写, as on invoices and contracts: 800000.00 → 捌拾万元整."""
    return cn2an.an2cn(f"{amount:.2f}", "rmb")


def amount_line(amount: Decimal) -> str:
    return f"¥{amount:,.2f} 元（人民币{amount_in_words(amount)}）"


def date_line(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


_LABEL = ParagraphStyle("label", fontName=FONT, fontSize=11, leading=15)
_VALUE = ParagraphStyle("value", fontName=FONT, fontSize=11, leading=15, wordWrap="CJK")


def _cell(text: str, style: ParagraphStyle) -> Paragraph:
    """A table cell of user text (project names and parties are typed by users), so it is escaped
    before it becomes Paragraph markup; a newline starts a line."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Paragraph(escaped.replace("\n", "<br/>"), style)


def new_page(title: str) -> tuple[canvas.Canvas, io.BytesIO]:
    """An A4 canvas in the embedded font, with the frame (a heavy outer rule and a thin inner one)
    and `title` centred at the top."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0, initialFontName=FONT)
    pdf.setStrokeColor(colors.HexColor("#8b1a1a"))
    pdf.setLineWidth(2.2)
    pdf.rect(MARGIN, MARGIN, WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN)
    pdf.setLineWidth(0.6)
    inner = MARGIN + 2.5 * mm
    pdf.rect(inner, inner, WIDTH - 2 * inner, HEIGHT - 2 * inner)
    pdf.setFillColor(colors.black)
    pdf.setFont(FONT, 24)
    pdf.drawCentredString(WIDTH / 2, HEIGHT - 38 * mm, title)
    return pdf, buffer


def centred_lines(pdf: canvas.Canvas, lines: Sequence[str], *, top: float) -> None:
    """Lines under the title (the number, the version), 6 mm apart from `top` down."""
    pdf.setFont(FONT, 11)
    for i, line in enumerate(lines):
        pdf.drawCentredString(WIDTH / 2, top - i * 6 * mm, line)


def facts_table(pdf: canvas.Canvas, rows: Sequence[tuple[str, str]], *, top: float) -> float:
    """The label | value table, its top at `top`; returns where it ends (its bottom)."""
    table = Table(
        [[_cell(label, _LABEL), _cell(value, _VALUE)] for label, value in rows],
        colWidths=[42 * mm, CONTENT_WIDTH - 42 * mm],
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
    _, table_height = table.wrapOn(pdf, CONTENT_WIDTH, HEIGHT)
    table.drawOn(pdf, CONTENT_LEFT, top - table_height)
    return top - table_height


def seal_area(pdf: canvas.Canvas, issuer: str, *, y: float) -> None:
    """Where the issuer seals and dates the printout, at the right."""
    seal_x, seal_r = WIDTH - MARGIN - 48 * mm, 21 * mm
    pdf.setStrokeColor(colors.HexColor("#b0b0b0"))
    pdf.setDash(3, 3)
    pdf.circle(seal_x, y, seal_r)
    pdf.setDash()
    pdf.setFont(FONT, 10)
    pdf.drawCentredString(seal_x, y - seal_r - 7 * mm, f"{issuer}（盖章）")
    pdf.drawCentredString(seal_x, y - seal_r - 13 * mm, "年    月    日")


def draw_qr(pdf: canvas.Canvas, text: str, *, x: float, y: float, size: float) -> None:
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


def small_lines(pdf: canvas.Canvas, lines: Sequence[str], *, top: float) -> None:
    """Footnotes in 8 pt at the content's left, 5 mm apart from `top` down."""
    pdf.setFont(FONT, 8)
    for i, line in enumerate(lines):
        pdf.drawString(CONTENT_LEFT, top - i * 5 * mm, line)


def finish(pdf: canvas.Canvas, buffer: io.BytesIO) -> bytes:
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
