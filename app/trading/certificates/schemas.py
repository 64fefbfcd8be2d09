"""What the transaction certificate routes read and answer."""

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.types import ChinaTime, Yuan, safe_text
from app.trading.vocabulary import CertificateStatus, RevocationGround

# 项目编号: JY-<year>-<serial, six digits or more>.
NUMBER_PATTERN = r"^JY-\d{4}-\d{6,9}$"
STATUS = CertificateStatus.describe("状态")
GROUND = RevocationGround.describe("撤销事由")
Conclusion = safe_text(min_length=1, max_length=2000)
Reason = safe_text(min_length=1, max_length=1000)


class CertificateIssue(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"review_conclusion": "经审核，本项目交易程序合规，交易双方主体资格适格，准予出具交易凭证。"}
            ]
        },
    )

    review_conclusion: Conclusion = Field(
        description="交易所审核意见 / the exchange's review conclusion, printed on the certificate"
    )


class CertificateRevocation(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"ground": "documents_false", "reason": "买方提交的营业执照经核实系伪造。"}]
        },
    )

    ground: RevocationGround = Field(description=GROUND)
    reason: Reason = Field(description="撤销理由（公开核验时显示）/ the reason, shown by public verification")


class CertificateRead(BaseModel):
    """A transaction certificate as the deal's parties, broker and administrators see it."""

    number: str = Field(description="项目编号 / the certificate's number, JY-<year>-<serial>")
    deal_id: uuid.UUID
    status: CertificateStatus = Field(description=STATUS)
    content: dict[str, Any] = Field(description="the snapshot printed and hashed (docs/trading.md)")
    content_hash: str = Field(description="SHA-256 of the snapshot's canonical JSON")
    review_conclusion: str
    issued_at: ChinaTime
    issued_by_id: uuid.UUID | None
    revoked_at: ChinaTime | None
    revocation_ground: RevocationGround | None
    revocation_reason: str | None
    verification_url: str = Field(description="the public verification page the PDF's QR code opens")


class CertificateVerification(BaseModel):
    """What anyone may check about a transaction certificate's number: no contacts, no codes."""

    number: str
    status: CertificateStatus = Field(description=STATUS)
    status_label: str
    project_title: str
    route_label: str = Field(description="交易方式：协议定价（公示）/ 挂牌交易 / 拍卖（网络竞价）/ 协议成交")
    seller_name: str
    buyer_name: str
    price: Yuan | None = Field(description="成交价；交易所公示时不公开金额则为 null")
    issued_on: date
    content_hash: str = Field(description="SHA-256 printed on the certificate; a printout must match it")
    revoked_on: date | None
    revocation_ground: RevocationGround | None
    revocation_ground_label: str | None
    revocation_reason: str | None
