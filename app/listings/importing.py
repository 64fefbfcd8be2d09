"""Bulk import of a university's 科技成果目录, for verified organizations: the file read and every
row checked through `AchievementCreate` (the API's own schema) in a child process (`parsing`),
all-or-nothing unless partial import is asked for, written with multi-row INSERTs
and recorded through `record_changes_bulk` like any other listing change. A row whose title the
organization already holds is skipped and reported, so a catalogue uploaded again (its invalid
rows corrected after a partial import) adds only what is new."""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import Text, any_, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.core.errors import AppError, FieldError, NotPermitted, ValidationFailed
from app.core.types import CONTROL_CHARACTERS, today_in_china
from app.listings import parsing
from app.listings.events import record_changes_bulk
from app.listings.kinds import ACHIEVEMENT
from app.listings.models import Achievement
from app.listings.parsing import RowError
from app.listings.service import may_own
from app.listings.vocabulary import ListingStatus

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000  # rows read, blank ones included
# An XLSX's members unpacked, declared and actual: 5x the upload limit. Excel's XLSX of a catalogue
# unpacks 3-8x (docs/benchmarks.md); a shared-strings bomb unpacks 1000x.
MAX_IMPORT_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_IMPORT_ARCHIVE_MEMBERS = 1_000  # Excel writes about ten
MAX_IMPORT_COLUMNS = 100  # of an XLSX; the catalogue has about twenty
# What the child reading one file may allocate on top of what it starts with, and how long it may
# take; IMPORT_WORKERS files are read at once at most, so imports hold IMPORT_WORKERS x this at worst.
IMPORT_MEMORY_BYTES = 768 * 1024 * 1024
IMPORT_SECONDS = 300.0
IMPORT_WORKERS = 2
# Rows per INSERT: each batch is built and compiled on the event loop; a smaller one keeps it free.
_BATCH = 250
MAX_REPORTED_ERRORS = 1_000


@dataclass
class UnsupportedFile(AppError):
    status: ClassVar[int] = 415
    code: str = "unsupported_file"
    message_en: str = "Upload a .csv, .xlsx or .jsonl file."
    message_zh: str = "请上传 CSV、XLSX 或 JSONL 格式的文件。"


@dataclass
class Duplicate:
    row: int
    title: str
    message: str
    existing_id: str | None  # None: the title repeats an earlier row of the same file


@dataclass
class ImportReport:
    total_rows: int = 0
    valid_rows: int = 0
    created: int = 0
    published: int = 0
    dry_run: bool = False
    partial: bool = False
    errors: list[RowError] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def invalid_rows(self) -> int:
        return self.total_rows - self.valid_rows


class ImportReportOut(BaseModel):
    total_rows: int
    valid_rows: int
    invalid_rows: int
    created: int
    published: int
    dry_run: bool
    partial: bool
    errors: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]  # valid rows not created: the title exists already

    @classmethod
    def of(cls, report: ImportReport) -> "ImportReportOut":
        return cls(
            total_rows=report.total_rows,
            valid_rows=report.valid_rows,
            invalid_rows=report.invalid_rows,
            created=report.created,
            published=report.published,
            dry_run=report.dry_run,
            partial=report.partial,
            errors=[e.__dict__ for e in report.errors[:MAX_REPORTED_ERRORS]],
            duplicates=[d.__dict__ for d in report.duplicates[:MAX_REPORTED_ERRORS]],
        )


def _publishable(values: dict[str, Any], today: Any) -> bool:
    end = values.get("valid_until")
    funded_ok = not values.get("publicly_funded") or values.get("funding_project")
    return (
        bool(values.get("title") and values.get("description") and values.get("field"))
        and (end is None or end >= today)
        and bool(funded_ok)
    )


async def import_achievements(
    session: AsyncSession,
    *,
    user: User,
    content: bytes,
    fmt: str,
    dry_run: bool = False,
    partial: bool = False,
    publish: bool = False,
    source: str = "",
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    """Read and validate every row in a child process, then (unless dry run) insert the valid
    ones in batches. Only members of a verified organization import, dry runs included.

    Without `partial`, one invalid row rejects the whole file (ValidationFailed, nothing written).
    With `publish`, rows that meet the publishing rule go live at once; the others stay drafts.
    Call it with `session` holding no connection yet: reading a file takes seconds."""
    may_own(ACHIEVEMENT, user)
    if not user.organization.verified:
        raise NotPermitted(
            code="organization_not_verified",
            message_en="Only members of a verified organization may import a catalogue.",
            message_zh="机构通过认证后才能导入科技成果目录。",
        )
    # The file name goes into audit JSON: no NUL or controls.
    source = CONTROL_CHARACTERS.sub("", source)[:200]
    if len(content) > MAX_IMPORT_BYTES:
        raise _limit("file", f"文件超过 {MAX_IMPORT_BYTES // (1024 * 1024)} MB 上限", "file too large")
    limits = parsing.Limits(
        rows=MAX_IMPORT_ROWS,
        unpacked_bytes=MAX_IMPORT_UNPACKED_BYTES,
        archive_members=MAX_IMPORT_ARCHIVE_MEMBERS,
        columns=MAX_IMPORT_COLUMNS,
        memory_bytes=IMPORT_MEMORY_BYTES,
        seconds=IMPORT_SECONDS,
    )
    try:
        parsed = await asyncio.to_thread(parsing.run_in_child, content, fmt, limits, IMPORT_WORKERS)
    except parsing.Refused as exc:
        raise _limit("file", exc.message_zh, exc.message_en) from exc
    except parsing.Unreadable as exc:
        raise UnsupportedFile(
            message_zh="无法读取文件：文件已损坏或与扩展名不符", message_en=f"Cannot read the file: {exc}"
        ) from exc
    if not parsed.total_rows:
        raise _limit("file", "文件中没有数据行", "no data rows")
    report = ImportReport(parsed.total_rows, dry_run=dry_run, partial=partial, errors=parsed.errors)
    valid = parsed.valid
    if progress:
        progress("validate", parsed.total_rows, parsed.total_rows)
    today = today_in_china()
    report.valid_rows = len(valid)
    if report.errors and not partial and not dry_run:
        raise ValidationFailed(
            code="import_rejected",
            message_zh=f"{report.invalid_rows} 行有错误，未导入任何数据（可修正后重试，或选择部分导入）。",
            message_en=f"{report.invalid_rows} rows are invalid; nothing was imported.",
            errors=[
                FieldError(f"row {e.row}: {e.field}", "invalid", e.message, e.message)
                for e in report.errors[:100]
            ],
            extra={"report": ImportReportOut.of(report).model_dump()},
        )
    if not dry_run:
        # One import per organization at a time: two uploads of one file must not both find its
        # titles new. Held until the request commits.
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"achievement-import:{user.organization_id}")))
        )
    valid = await _without_duplicates(session, user.organization_id, valid, report)
    if dry_run:
        return report
    now = datetime.now(UTC)
    for start in range(0, len(valid), _BATCH):
        batch = valid[start : start + _BATCH]
        rows, changes = [], []
        for number, values in batch:
            live = publish and _publishable(values, today)
            listing_id = uuid.uuid4()
            rows.append(
                {
                    **values,
                    "id": listing_id,
                    "owner_organization_id": user.organization_id,
                    "created_by_id": user.id,
                    "status": ListingStatus.published if live else ListingStatus.draft,
                    "published_at": now if live else None,
                    "version": 1,
                }
            )
            changes.append(
                (listing_id, {"row": number, "source": source, "status": rows[-1]["status"].value})
            )
            report.published += live
        await session.execute(insert(Achievement), rows)
        await record_changes_bulk(session, actor=user, kind="achievement", action="imported", changes=changes)
        report.created += len(rows)
        if progress:
            progress("insert", report.created, len(valid))
    return report


async def _without_duplicates(
    session: AsyncSession,
    organization_id: uuid.UUID,
    valid: list[tuple[int, dict[str, Any]]],
    report: ImportReport,
) -> list[tuple[int, dict[str, Any]]]:
    """The rows to create: a title the organization already holds, or one an earlier row of the
    file has, is reported in `report.duplicates` instead."""
    titles = {values["title"] for _, values in valid}
    existing = dict(
        (
            await session.execute(
                select(Achievement.title, Achievement.id).where(
                    Achievement.owner_organization_id == organization_id,
                    # One array parameter: IN with 20,000 parameters took the loop long to render.
                    Achievement.title == any_(bindparam("titles", list(titles), type_=ARRAY(Text))),
                )
            )
        ).all()
    )
    first_row: dict[str, int] = {}
    kept = []
    for number, values in valid:
        title = values["title"]
        if title in existing:
            message = f"第 {number} 行：本机构已有同名成果「{title}」，未重复导入"
            report.duplicates.append(Duplicate(number, title, message, str(existing[title])))
        elif title in first_row:
            message = f"第 {number} 行：与第 {first_row[title]} 行标题相同，未重复导入"
            report.duplicates.append(Duplicate(number, title, message, None))
        else:
            first_row[title] = number
            kept.append((number, values))
    return kept


def _limit(field_name: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        code="import_limit", message_zh=zh, message_en=en, errors=[FieldError(field_name, "limit", en, zh)]
    )
