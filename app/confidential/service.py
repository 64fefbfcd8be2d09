"""The rules of confidential details: who writes them and who reads them, in which deal (the
approvals and undertakings that open them are `disclosure.py`'s). Services flush, never commit;
every change and every read by someone outside the owning organization is audited."""

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import filetype
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.confidential import errors, policy, repository
from app.confidential.models import ConfidentialDetails, ConfidentialDocument
from app.confidential.policy import Access
from app.contracts.documents import DocumentStore
from app.core.config import Settings
from app.core.errors import AppError, FieldError, NotFound, NotPermitted, PreconditionFailed
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.listings.kinds import KINDS
from app.listings.vocabulary import ListingStatus

OBJECT = "confidential_details"
# What a document may be, by its bytes as much as by its declared type (text has no signature).
DOCUMENT_TYPES = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (.docx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (.xlsx)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint (.pptx)",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "text/plain": "UTF-8 text",
}
_UNDECLARED = {"", "application/octet-stream"}


@dataclass
class Reading:
    """What a reader gets: the details, their documents, and in which capacity (and deal) they read."""

    kind: str
    listing_id: uuid.UUID
    details: ConfidentialDetails
    documents: Sequence[ConfidentialDocument]
    access: Access
    deal: Deal | None


# --- writing --------------------------------------------------------------------------------


def _check_version(details: ConfidentialDetails | None, if_match: int | None) -> None:
    current = details.version if details else 0
    if if_match is not None and if_match != current:
        raise PreconditionFailed(extra={"current_version": current})


async def _writable(session: AsyncSession, kind: str, user: User, listing_id: uuid.UUID) -> Access:
    """Lock the listing if `user` may write its details (its owner's members and administrators)
    and say as whom. Others get a 404 when they cannot see the listing at all, else 403."""
    listing = await repository.listing(session, KINDS[kind].model, listing_id, lock=True)
    if listing is None:
        raise errors.details_not_found()
    access = policy.as_owner_or_admin(kind, user, listing)
    if access is None:
        if listing.status != ListingStatus.published:
            raise errors.details_not_found()
        raise errors.not_owner()
    return access


async def _details_for_change(
    session: AsyncSession, kind: str, listing_id: uuid.UUID, user: User, if_match: int | None
) -> tuple[ConfidentialDetails, int]:
    """The details row to change (created empty at version 0 when missing) and its version before."""
    details = await repository.details(session, kind, listing_id)
    _check_version(details, if_match)
    if details is None:
        details = ConfidentialDetails(id=uuid.uuid4(), text="", version=0)
        setattr(details, repository.LISTING_COLUMN[kind], listing_id)
        session.add(details)
    before = details.version
    details.version = before + 1
    details.updated_by_id = user.id
    details.updated_at = datetime.now(UTC)
    return details, before


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def write_text(
    session: AsyncSession,
    kind: str,
    *,
    user: User,
    listing_id: uuid.UUID,
    text: str,
    if_match: int | None,
    settings: Settings,
) -> Reading:
    """Replace the text. The audit records its digest and length, never the text itself. The same
    text again changes nothing (no new version, so no reader has to undertake again)."""
    access = await _writable(session, kind, user, listing_id)
    if len(text) > settings.confidential_text_max_chars:
        raise errors.invalid(
            "text",
            "too_long",
            f"At most {settings.confidential_text_max_chars} characters.",
            f"不能超过 {settings.confidential_text_max_chars} 个字符。",
        )
    current = await repository.details(session, kind, listing_id)
    if current is not None and current.text == text:
        _check_version(current, if_match)
        return await _reading(session, kind, listing_id, current, access, None)
    details, before = await _details_for_change(session, kind, listing_id, user, if_match)
    old_text = details.text or ""
    details.text = text
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type=OBJECT,
        object_id=details.id,
        action="text_written",
        changes={
            "listing": f"{kind}:{listing_id}",
            "version": [before, details.version],
            "text_sha256": [_digest(old_text), _digest(text)],
            "text_length": [len(old_text), len(text)],
        },
    )
    return await _reading(session, kind, listing_id, details, access, None)


def document_type(declared: str | None, data: bytes) -> str:
    """The document's type: one of DOCUMENT_TYPES that its bytes are, as declared (or, when the
    client declared nothing useful, as sniffed). Anything else is 415."""
    declared = (declared or "").split(";")[0].strip().lower()
    sniffed = filetype.guess_mime(data)
    if sniffed is None and b"\x00" not in data:
        try:
            data.decode("utf-8")
            sniffed = "text/plain"
        except UnicodeDecodeError:
            pass
    actual = sniffed if declared in _UNDECLARED else declared
    if actual in DOCUMENT_TYPES and sniffed == actual:
        return actual
    raise errors.UnsupportedDocument(
        extra={"declared_type": declared or None, "allowed_types": sorted(DOCUMENT_TYPES)},
        errors=[
            FieldError(
                "file",
                "unsupported_type",
                f"not one of {', '.join(DOCUMENT_TYPES.values())}, or not what it says it is",
                "须为 PDF、Word、Excel、PowerPoint、PNG、JPEG 或 UTF-8 文本，且与声明的类型一致",
            )
        ],
    )


def document_name(name: str | None) -> str:
    # Browsers send a bare name, some clients a path; the name is shown and put in a header.
    cleaned = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not cleaned or len(cleaned) > 255 or any(ord(c) < 32 or c in '"<>' for c in cleaned):
        raise errors.invalid("file", "invalid_name", "The file needs a plain name.", "文件名无效。")
    return cleaned


async def add_document(
    session: AsyncSession,
    kind: str,
    *,
    user: User,
    listing_id: uuid.UUID,
    name: str | None,
    content_type: str | None,
    data: bytes,
    if_match: int | None,
    store: DocumentStore,
    settings: Settings,
) -> tuple[Reading, ConfidentialDocument]:
    access = await _writable(session, kind, user, listing_id)
    if not data:
        raise errors.invalid("file", "empty", "The file is empty.", "文件为空。")
    if len(data) > settings.confidential_document_max_bytes:
        raise errors.invalid(
            "file",
            "too_large",
            f"At most {settings.confidential_document_max_bytes} bytes.",
            f"文件不能超过 {settings.confidential_document_max_bytes} 字节。",
        )
    name = document_name(name)
    content_type = document_type(content_type, data)
    existing = await repository.details(session, kind, listing_id)
    if existing is not None and len(await repository.documents(session, existing.id)) >= (
        settings.confidential_documents_max
    ):
        raise errors.invalid(
            "file",
            "too_many",
            f"A listing keeps at most {settings.confidential_documents_max} documents.",
            f"每条信息最多 {settings.confidential_documents_max} 个保密文件。",
        )
    details, before = await _details_for_change(session, kind, listing_id, user, if_match)
    document_id = uuid.uuid4()
    document = ConfidentialDocument(
        id=document_id,
        details_id=details.id,
        name=name,
        content_type=content_type,
        size=len(data),
        sha256=await store.put(document_id, data),
        uploaded_by_id=user.id,
    )
    session.add(document)
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type=OBJECT,
        object_id=details.id,
        action="document_added",
        changes={
            "listing": f"{kind}:{listing_id}",
            "version": [before, details.version],
            "document": {"id": document.id, "name": name, "size": len(data), "sha256": document.sha256},
        },
    )
    return await _reading(session, kind, listing_id, details, access, None), document


async def delete_document(
    session: AsyncSession,
    kind: str,
    *,
    user: User,
    listing_id: uuid.UUID,
    document_id: uuid.UUID,
    if_match: int | None,
) -> ConfidentialDocument:
    """Remove the document's row; the caller removes its bytes once this is committed."""
    await _writable(session, kind, user, listing_id)
    existing = await repository.details(session, kind, listing_id)
    document = await repository.document(session, existing.id, document_id) if existing else None
    if document is None:
        raise NotFound(code="document_not_found", message_en="No such document.", message_zh="文件不存在。")
    details, before = await _details_for_change(session, kind, listing_id, user, if_match)
    await session.delete(document)
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type=OBJECT,
        object_id=details.id,
        action="document_deleted",
        changes={
            "listing": f"{kind}:{listing_id}",
            "version": [before, details.version],
            "document": {"id": document.id, "name": document.name, "sha256": document.sha256},
        },
    )
    return document


# --- reading --------------------------------------------------------------------------------


async def _reading(
    session: AsyncSession,
    kind: str,
    listing_id: uuid.UUID,
    details: ConfidentialDetails,
    access: Access,
    deal: Deal | None,
) -> Reading:
    documents = await repository.documents(session, details.id)
    return Reading(kind, listing_id, details, documents, access, deal)


async def _deal_granting(
    session: AsyncSession,
    kind: str,
    listing_id: uuid.UUID,
    user: User,
    details: ConfidentialDetails | None,
    deal_id: uuid.UUID | None,
) -> tuple[Deal, Access]:
    """The deal through which `user` may read, or the reason they may not: of all their deals on the
    listing (or the one named), the refusal nearest to access is the one reported."""
    deals = [
        d
        for d in await repository.reader_deals(session, kind, listing_id, user)
        if deal_id is None or d.id == deal_id
    ]
    if not deals:
        raise errors.details_not_found()
    refusals: list[tuple[int, AppError]] = []
    for deal in deals:
        capacity = policy.reader_capacity(kind, user, deal)
        assert capacity is not None  # reader_deals selected exactly these
        if deal.stage is DealStage.lost:
            refusals.append((0, errors.deal_closed(deal, NotPermitted)))
            continue
        if await repository.disclosure_in_force(session, deal.id, kind, listing_id) is None:
            refusals.append((1, errors.disclosure_not_approved(deal)))
            continue
        if details is None:
            raise errors.details_not_found()
        given = await repository.undertakings_of(session, deal.id, kind, listing_id, user.id)
        if not any(u.details_version == details.version for u in given):
            refusals.append(
                (
                    2,
                    errors.undertaking_required(
                        deal, details.version, given[0].details_version if given else None
                    ),
                )
            )
            continue
        return deal, capacity
    raise max(refusals, key=lambda refusal: refusal[0])[1]


async def _readable(
    session: AsyncSession, kind: str, user: User, listing_id: uuid.UUID, deal_id: uuid.UUID | None
) -> tuple[ConfidentialDetails, Access, Deal | None]:
    listing = await repository.listing(session, KINDS[kind].model, listing_id)
    if listing is None:
        raise errors.details_not_found()
    details = await repository.details(session, kind, listing_id)
    access = policy.as_owner_or_admin(kind, user, listing)
    deal = None
    if access is None:
        deal, access = await _deal_granting(session, kind, listing_id, user, details, deal_id)
    if details is None:
        raise errors.details_not_found()
    return details, access, deal


async def _audit_read(
    session: AsyncSession,
    user: User,
    details: ConfidentialDetails,
    access: Access,
    deal: Deal | None,
    action: str,
    **more: Any,
) -> None:
    # The owner reading its own details is no event; anyone else's read is (who, which version, when).
    if access is Access.owner:
        return
    await audit.record(
        session,
        actor=user,
        object_type=OBJECT,
        object_id=details.id,
        action=action,
        changes={"version": details.version, "access": access, "deal_id": deal.id if deal else None, **more},
    )


async def read(
    session: AsyncSession, kind: str, *, user: User, listing_id: uuid.UUID, deal_id: uuid.UUID | None
) -> Reading:
    details, access, deal = await _readable(session, kind, user, listing_id, deal_id)
    await _audit_read(session, user, details, access, deal, "read")
    return await _reading(session, kind, listing_id, details, access, deal)


async def read_document(
    session: AsyncSession,
    kind: str,
    *,
    user: User,
    listing_id: uuid.UUID,
    document_id: uuid.UUID,
    deal_id: uuid.UUID | None,
    store: DocumentStore,
) -> tuple[ConfidentialDocument, bytes]:
    details, access, deal = await _readable(session, kind, user, listing_id, deal_id)
    document = await repository.document(session, details.id, document_id)
    data = await store.get(document.id, document.sha256) if document else None
    if document is None or data is None:
        raise NotFound(code="document_not_found", message_en="No such document.", message_zh="文件不存在。")
    await _audit_read(session, user, details, access, deal, "document_read", document_id=document.id)
    return document, data
