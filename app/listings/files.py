"""File routes: the catalogue import (`POST /achievements/import`) and exports of one's own
listings (`GET /{kind}/export`). Registered before `/{id}` so their paths are not taken for ids."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.auth import CurrentUser, OptionalUser
from app.accounts.models import User
from app.core.db import SessionDep
from app.core.errors import Unauthenticated, problem_responses
from app.core.types import CHINA
from app.listings import importing, repository, tabular, template
from app.listings.kinds import KindSpec

IMPORT_PATH = "/api/v1/achievements/import"
# The app-wide body limit is for JSON calls; a catalogue file gets its own (BodySizeLimitMiddleware).
BODY_LIMIT_OVERRIDES = {IMPORT_PATH: importing.MAX_IMPORT_BYTES + 64 * 1024}

_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def _importer(user: OptionalUser) -> User:
    """The caller, loaded in a short session of its own rather than the request's: the request's
    session then holds no database connection while the file is read, which takes seconds, so
    imports waiting for a reader cannot drain the pool."""
    if user is None:
        raise Unauthenticated()
    return user


async def export_owned(session: AsyncSession, spec: KindSpec, user: User, fmt: str) -> tuple[bytes, str]:
    """The caller's organization's listings of one kind as a file that `import` reads back."""
    listings = await repository.list_owned(session, spec.model, user)
    fields = [*tabular.META_FIELDS, *spec.create.model_fields]
    headers = [tabular.COLUMN_NAMES.get(name, name) for name in fields]
    rows = [[tabular.export_value(name, getattr(listing, name)) for name in fields] for listing in listings]
    content = (
        tabular.write_csv(headers, rows) if fmt == "csv" else tabular.write_xlsx(headers, rows, spec.path)
    )
    return content, f"{spec.path}-{datetime.now(CHINA):%Y%m%d}.{fmt}"


def add_file_routes(router: APIRouter, spec: KindSpec) -> None:
    @router.get(
        "/export",
        responses={
            **problem_responses(401, 422),
            200: {"content": {m: {} for m in _MEDIA.values()}, "description": "the file"},
        },
        response_class=Response,
        summary=f"Export own {spec.path} · 导出本机构{spec.label_zh}",
        description="All listings of this kind owned by the caller's organization, every status, as CSV "
        "(UTF-8 with BOM, for Excel) or XLSX, in the columns and formats the catalogue import reads, so an "
        "exported catalogue imports back as it was: Chinese column names (标题, 技术领域 …; the first six, "
        "编号 to 发布时间, are bookkeeping the import passes over), vocabularies as their Chinese labels "
        "(先进制造, 独占许可), lists joined with `;`, IP rights as `发明专利 ZL202010111222.3（已授权）` and "
        "contacts as `赵老师，025-12345678，zhao@example.edu.cn`, both separated by `；`, yes/no as 是/否. "
        "Every cell is text, and one that begins with `= + - @`, a tab or a carriage return is written "
        "behind an apostrophe (`'=…`) so that no spreadsheet runs it as a formula; the import removes "
        "that apostrophe again.",
    )
    async def export(
        session: SessionDep,
        user: CurrentUser,
        format: Annotated[Literal["xlsx", "csv"], Query(description="xlsx 或 csv")] = "xlsx",
    ) -> Response:
        content, filename = await export_owned(session, spec, user, format)
        return Response(
            content,
            media_type=_MEDIA[format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    if spec.kind != "achievement":
        return

    @router.get(
        "/import-template",
        responses={200: {"content": {_MEDIA["xlsx"]: {}}, "description": "the template"}},
        response_class=Response,
        summary="Download the catalogue template · 下载科技成果目录模板",
        description="An XLSX to fill in for `POST /achievements/import`: the header row, one example row, "
        "and a second sheet (填写说明) explaining each column and its allowed values. No sign-in needed.",
    )
    async def import_template() -> Response:
        return Response(
            template.write_template(),
            media_type=_MEDIA["xlsx"],
            headers={"Content-Disposition": 'attachment; filename="achievements-import-template.xlsx"'},
        )

    @router.post(
        "/import",
        response_model=importing.ImportReportOut,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": importing.ImportReportOut, "description": "dry run: the report, nothing written"},
            **problem_responses(401, 403, 413, 415, 422),
        },
        summary="Import a catalogue · 导入科技成果目录",
        description=f"""Upload a university's 科技成果目录 as CSV, XLSX or JSON Lines. Members of a
verified organization only (403 `organization_not_verified`, dry runs included).

Limits (422 `import_limit` naming `file`, nothing written): {importing.MAX_IMPORT_BYTES // 1024 // 1024} MB
uploaded (413 past it); {importing.MAX_IMPORT_ROWS} rows read, **blank rows included**; an XLSX
unpacks to at most {importing.MAX_IMPORT_UNPACKED_BYTES // 1024 // 1024} MB, by its declared sizes and by
its actual ones, which must agree, holds at most {importing.MAX_IMPORT_ARCHIVE_MEMBERS} parts and is read
{importing.MAX_IMPORT_COLUMNS} columns wide; reading a file may take
{importing.IMPORT_MEMORY_BYTES // 1024 // 1024} MB of memory and {importing.IMPORT_SECONDS:g} s. A file
that is not what its extension says is 415 `unsupported_file`.

The first row (CSV/XLSX) names the columns, by their Chinese names below or the API's field names
(JSON Lines: one object per line with those keys); cells may hold the Chinese labels or the codes.
`GET /achievements/import-template` is an XLSX with these columns, an example row and a sheet
explaining each one; a file exported by `GET /achievements/export` imports back as it was (its
bookkeeping columns 编号, 状态, 版本, 创建时间, 更新时间, 发布时间 are passed over).

{template.columns_markdown()}

Every row is checked exactly like `POST /achievements`. `dry_run=true` only reports (200).
Otherwise a file with any invalid row changes nothing (422, with the per-row report) unless
`partial=true`, which imports the valid rows and reports the others. `publish=true` publishes
the rows that meet the publishing rule at once. A row whose title
the organization already holds, or that repeats an earlier row's title, is not created again: it
is listed under `duplicates` (with `existing_id`), so a corrected catalogue can be uploaded whole
again.""",
    )
    async def import_catalogue(
        session: SessionDep,
        user: Annotated[User, Depends(_importer)],
        file: Annotated[UploadFile, File(description="the catalogue (.csv, .xlsx, .jsonl)")],
        dry_run: Annotated[bool, Form(description="只校验，不写入")] = False,
        partial: Annotated[bool, Form(description="部分导入：跳过有错误的行")] = False,
        publish: Annotated[bool, Form(description="导入后直接发布符合条件的成果")] = False,
    ) -> JSONResponse:
        fmt = tabular.detect_format(file.filename, file.content_type)
        if fmt is None:
            raise importing.UnsupportedFile()
        content = await file.read(importing.MAX_IMPORT_BYTES + 1)
        report = await importing.import_achievements(
            session,
            user=user,
            content=content,
            fmt=fmt,
            dry_run=dry_run,
            partial=partial,
            publish=publish,
            source=file.filename or "",
        )
        body = importing.ImportReportOut.of(report).model_dump()
        return JSONResponse(body, status_code=200 if dry_run else 201)
