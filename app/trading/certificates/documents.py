"""The printed deal confirmation (成交确认书) and transaction certificate (交易凭证), on the pages of
app/core/pdf.py, and the certificate's check hash.

The certificate prints its snapshot (`content`), never live rows, so what is printed is what is
hashed: SHA-256 of the snapshot as canonical JSON (keys sorted, UTF-8, no whitespace, every value a
string or null — amounts with two decimals, dates YYYY-MM-DD)."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from app.core import pdf

FORMAT = "techex-transaction-certificate-v1"


def canonical(content: Mapping[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(content).encode()).hexdigest()


def verification_url(base_url: str, number: str) -> str:
    """The page a phone opens from the QR code (app/pages): the status in words, not JSON."""
    return f"{base_url.rstrip('/')}/verify/trade/{number}"


def _day(value: str | None, missing: str) -> str:
    return pdf.date_line(date.fromisoformat(value)) if value else missing


def _party(name: str, credit_code: str | None) -> str:
    return f"{name}\n统一社会信用代码：{credit_code or '—'}"


def certificate_rows(content: Mapping[str, Any]) -> list[tuple[str, str]]:
    broker = "—"
    if content["broker_name"]:
        broker = f"{content['broker_name']}（{content['broker_agency'] or '—'}）"
    return [
        ("项目编号", content["number"]),
        ("项目名称", content["project_title"]),
        ("交易标的", f"{content['subject']}\n转化方式：{content['transfer_mode_label']}"),
        ("转让方（卖方）", _party(content["seller_name"], content["seller_credit_code"])),
        ("受让方（买方）", _party(content["buyer_name"], content["buyer_credit_code"])),
        ("技术经理人（服务机构）", broker),
        ("交易方式", content["route_label"]),
        ("挂牌（公示）日期", _day(content["listed_on"], "—（未经挂牌或公示）")),
        ("成交日期", _day(content["agreed_on"], "—")),
        ("合同签订日期", _day(content["signed_on"], "尚未签订")),
        ("成交价", pdf.amount_line(Decimal(content["price"]))),
        ("价款支付方式", content["payment_terms"] or "按合同约定"),
        ("交易所审核意见", content["review_conclusion"]),
    ]


def certificate_pdf(content: Mapping[str, Any], *, content_hash: str, base_url: str) -> bytes:
    url = verification_url(base_url, content["number"])
    return pdf.flowing_pdf(
        title="技术产权交易凭证",
        subtitle=f"凭证编号：{content['number']}",
        rows=certificate_rows(content),
        notes=[f"出具日期：{_day(content['issued_on'], '—')}　　出具机构：{content['exchange']}"],
        issuer=content["exchange"],
        qr=url,
        footnotes=[
            "扫描二维码或访问以下地址核验本凭证：",
            url,
            "校验码 SHA-256：",
            content_hash[:32],
            content_hash[32:],
            "即凭证内容（JSON：键按字母排序，UTF-8，",
            "无空白）的 SHA-256，核验页显示同一校验码。",
        ],
    )


def confirmation_pdf(
    *, title: str, rows: Sequence[tuple[str, str]], exchange: str, made_on: date, deal_id: str
) -> bytes:
    return pdf.flowing_pdf(
        title="成交确认书",
        subtitle=f"交易项目：{title}",
        rows=rows,
        notes=[
            "转让方与受让方应在签约期限内签订技术合同；保证金按上表处理。",
            "本确认书依据交易所系统记录的挂牌或竞价结果生成，不替代技术合同。",
        ],
        issuer=exchange,
        qr=None,
        footnotes=[f"生成日期：{pdf.date_line(made_on)}", f"交易项目编号：{deal_id}"],
    )
