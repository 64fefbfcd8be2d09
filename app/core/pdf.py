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
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

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


def frame(pdf: canvas.Canvas) -> None:
    """The page's frame: a heavy outer rule and a thin inner one."""
    pdf.saveState()
    pdf.setStrokeColor(colors.HexColor("#8b1a1a"))
    pdf.setLineWidth(2.2)
    pdf.rect(MARGIN, MARGIN, WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN)
    pdf.setLineWidth(0.6)
    inner = MARGIN + 2.5 * mm
    pdf.rect(inner, inner, WIDTH - 2 * inner, HEIGHT - 2 * inner)
    pdf.restoreState()


def new_page(title: str) -> tuple[canvas.Canvas, io.BytesIO]:
    """A one-page A4 canvas in the embedded font, framed, with `title` centred at the top."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0, initialFontName=FONT)
    frame(pdf)
    pdf.setFillColor(colors.black)
    pdf.setFont(FONT, 24)
    pdf.drawCentredString(WIDTH / 2, HEIGHT - 38 * mm, title)
    return pdf, buffer


def centred_lines(pdf: canvas.Canvas, lines: Sequence[str], *, top: float) -> None:
    """Lines under the title (the number, the version), 6 mm apart from `top` down."""
    pdf.setFont(FONT, 11)
    for i, line in enumerate(lines):
        pdf.drawCentredString(WIDTH / 2, top - i * 6 * mm, line)


def _table(rows: Sequence[tuple[str, str]]) -> Table:
    # splitInRow: a long value (payment terms) continues on the next page instead of overflowing.
    table = Table(
        [[_cell(label, _LABEL), _cell(value, _VALUE)] for label, value in rows],
        colWidths=[42 * mm, CONTENT_WIDTH - 42 * mm],
        splitInRow=1,
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
    return table


def facts_table(pdf: canvas.Canvas, rows: Sequence[tuple[str, str]], *, top: float) -> float:
    """The label | value table on a one-page canvas, its top at `top`; returns its bottom."""
    table = _table(rows)
    _, table_height = table.wrapOn(pdf, CONTENT_WIDTH, HEIGHT)
    table.drawOn(pdf, CONTENT_LEFT, top - table_height)
    return top - table_height


def seal_area(
    pdf: canvas.Canvas, issuer: str, *, y: float, x: float = WIDTH - MARGIN - 48 * mm, radius: float = 21 * mm
) -> None:
    """Where the issuer seals and dates the printout: a dashed circle centred at (x, y)."""
    pdf.setStrokeColor(colors.HexColor("#b0b0b0"))
    pdf.setDash(3, 3)
    pdf.circle(x, y, radius)
    pdf.setDash()
    pdf.setFont(FONT, 10)
    pdf.drawCentredString(x, y - radius - 7 * mm, f"{issuer}（盖章）")
    pdf.drawCentredString(x, y - radius - 13 * mm, "年    月    日")


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


def small_lines(pdf: canvas.Canvas, lines: Sequence[str], *, top: float, left: float = CONTENT_LEFT) -> None:
    """Footnotes in 8 pt, 5 mm apart from `top` down."""
    pdf.setFont(FONT, 8)
    for i, line in enumerate(lines):
        pdf.drawString(left, top - i * 5 * mm, line)


class _Closing(Flowable):
    """The end of a flowing document, kept on one page: the QR code (if any) with the footnotes
    beside it, and the issuer's seal area at the right."""

    HEIGHT = 58 * mm

    def __init__(self, qr: str | None, lines: Sequence[str], issuer: str) -> None:
        super().__init__()
        self.qr, self.lines, self.issuer = qr, lines, issuer

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return CONTENT_WIDTH, self.HEIGHT

    def draw(self) -> None:
        pdf = self.canv
        pdf.saveState()
        pdf.translate(-CONTENT_LEFT, 0)  # the flowable's origin is the content's left edge
        left = CONTENT_LEFT
        if self.qr is not None:
            draw_qr(pdf, self.qr, x=CONTENT_LEFT, y=self.HEIGHT - 36 * mm, size=34 * mm)
            left += 36 * mm
        small_lines(pdf, self.lines, top=self.HEIGHT - 6 * mm, left=left)
        seal_area(pdf, self.issuer, x=WIDTH - MARGIN - 30 * mm, y=self.HEIGHT - 17 * mm, radius=15 * mm)
        pdf.restoreState()


def _framed(pdf: canvas.Canvas, _document: object) -> None:
    frame(pdf)


def flowing_pdf(
    *,
    title: str,
    subtitle: str,
    rows: Sequence[tuple[str, str]],
    notes: Sequence[str],
    issuer: str,
    qr: str | None,
    footnotes: Sequence[str],
) -> bytes:
    """A framed A4 document that continues on as many pages as its facts need (user text of any
    length): title, subtitle, the facts table, notes, then the QR code of `qr` (if any) with the
    footnotes and the issuer's seal area."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        pageCompression=0,
        initialFontName=FONT,
        title=f"{title} {subtitle}",
        # The frame pads its content by 6 pt: the table starts at CONTENT_LEFT, CONTENT_WIDTH wide.
        leftMargin=CONTENT_LEFT - 6,
        rightMargin=CONTENT_LEFT - 6,
        topMargin=MARGIN + 12 * mm,
        bottomMargin=MARGIN + 8 * mm,
    )
    heading = ParagraphStyle("title", fontName=FONT, fontSize=24, leading=30, alignment=TA_CENTER)
    centred = ParagraphStyle("subtitle", fontName=FONT, fontSize=11, leading=15, alignment=TA_CENTER)
    note = ParagraphStyle("note", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
    story: list[Flowable] = [
        _cell(title, heading),
        Spacer(0, 4 * mm),
        _cell(subtitle, centred),
        Spacer(0, 6 * mm),
        _table(rows),
        Spacer(0, 4 * mm),
        *[_cell(line, note) for line in notes],
        Spacer(0, 6 * mm),
        _Closing(qr, footnotes, issuer),
    ]
    document.build(story, onFirstPage=_framed, onLaterPages=_framed)
    return buffer.getvalue()


def finish(pdf: canvas.Canvas, buffer: io.BytesIO) -> bytes:
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
