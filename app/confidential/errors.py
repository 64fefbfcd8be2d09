"""The problems of confidential details, disclosures and undertakings (codes in
docs/deals.md)."""

from dataclasses import dataclass

from app.confidential import undertaking
from app.core.errors import AppError, Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from app.deals.models import Deal


def details_not_found() -> NotFound:
    return NotFound(
        code="confidential_details_not_found",
        message_en="No confidential details here.",
        message_zh="没有保密信息。",
    )


def deal_not_found() -> NotFound:
    return NotFound(code="deal_not_found", message_en="No such deal.", message_zh="交易项目不存在。")


def not_owner() -> NotPermitted:
    return NotPermitted(
        code="not_listing_owner",
        message_en="Only the owning organization's members may do this.",
        message_zh="只有信息所属机构的成员可以执行此操作。",
    )


def deal_closed(deal: Deal, error: type[AppError] = Conflict) -> AppError:
    return error(
        code="deal_closed",
        message_en="The deal is lost: nothing more is disclosed in it.",
        message_zh="交易项目已终止，不再披露保密信息。",
        extra={"deal_id": str(deal.id), "current_status": deal.stage.value},
    )


def disclosure_not_approved(deal: Deal) -> NotPermitted:
    return NotPermitted(
        code="disclosure_not_approved",
        message_en="The owner has not approved disclosure of the confidential details in this deal.",
        message_zh="权利人尚未同意在本交易项目中披露保密信息。",
        extra={"deal_id": str(deal.id)},
    )


def undertaking_required(deal: Deal, version: int, undertaken: int | None) -> NotPermitted:
    return NotPermitted(
        code="undertaking_required",
        message_en="Record a confidentiality undertaking for the current version of the details first.",
        message_zh="请先就当前版本的保密信息签署保密承诺。",
        extra={
            "deal_id": str(deal.id),
            "current_version": version,
            "undertaken_version": undertaken,
            "undertaking_text_version": undertaking.TEXT_VERSION,
        },
    )


def invalid(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(message_en=en, message_zh=zh, errors=[FieldError(field, code, en, zh)])


@dataclass
class UnsupportedDocument(AppError):
    status = 415
    code: str = "unsupported_document_type"
    message_en: str = "This kind of document is not accepted."
    message_zh: str = "不支持此类文件。"
