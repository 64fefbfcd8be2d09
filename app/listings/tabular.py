"""Reading and writing catalogue files (CSV, XLSX, JSON Lines) as rows of plain values.

Column headers may be the API's field names or their Chinese names; cells may hold codes or
Chinese labels (农业, 独占许可, 发明专利 …). Nothing here validates: the rows go through the
same `AchievementCreate` schema as the API."""

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from app.core.types import CHINA
from app.core.vocabulary import TechnologyField
from app.listings.vocabulary import (
    AgencyService,
    CooperationMode,
    ExpertService,
    IPKind,
    IPStatus,
    TransferMode,
)

# Chinese column names users put in 科技成果目录 spreadsheets.
HEADER_ALIASES = {
    "标题": "title",
    "成果名称": "title",
    "名称": "name",
    "姓名": "name",
    "简介": "description",
    "成果简介": "description",
    "摘要": "description",
    "技术领域": "field",
    "领域": "field",
    "关键词": "keywords",
    "成熟度": "maturity",
    "技术成熟度": "maturity",
    "知识产权": "ip_rights",
    "转化方式": "transfer_modes",
    "意向价格": "asking_price",
    "价格": "asking_price",
    "地区代码": "region_code",
    "行政区划代码": "region_code",
    "完成人": "team",
    "团队": "team",
    "应用场景": "application_scenarios",
    "财政资金项目": "publicly_funded",
    "项目名称": "funding_project",
    "有效期至": "valid_until",
    "联系人": "contact_name",
    "联系电话": "contact_phone",
    "联系邮箱": "contact_email",
    "联系人列表": "contacts",
}
LIST_FIELDS = {
    "keywords",
    "transfer_modes",
    "team",
    "cooperation_modes",
    "fields",
    "services",
    "service_kinds",
    "regions_served",
    "qualifications",
}
JSON_FIELDS = {"ip_rights", "contacts"}
BOOL_FIELDS = {"publicly_funded", "confidential"}
_LABELLED: dict[str, type[Enum]] = {
    "field": TechnologyField,
    "fields": TechnologyField,
    "transfer_modes": TransferMode,
    "cooperation_modes": CooperationMode,
    "services": ExpertService,
    "service_kinds": AgencyService,
}
_SEPARATORS = re.compile(r"[;；、,，\n]+")
# A spreadsheet takes a cell starting with one of these as a formula (CSV injection, OWASP): an
# export prefixes it with an apostrophe, which makes it text, and the import removes that again.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRUE = {"是", "true", "1", "y", "yes", "t"}
_FALSE = {"否", "false", "0", "n", "no", "f"}


def _from_label(enum: type[Enum], value: str) -> str:
    for member in enum:
        if value in (member.value, getattr(member, "label", None)):
            return str(member.value)
    return value  # left as is: validation names it


def _ip_right(text: str) -> dict[str, str] | str:
    """`发明专利:ZL202010000000.1:已授权` (kind, number, status; codes or labels)."""
    parts = [p.strip() for p in re.split(r"[:：]", text)]
    right = {"kind": _from_label(IPKind, parts[0])}
    if len(parts) > 1:
        right["number"] = parts[1]
    if len(parts) > 2:
        right["status"] = _from_label(IPStatus, parts[2])
    return right


class MalformedCell(ValueError):
    """A JSON cell (知识产权, 联系人) that does not parse; names the field."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """A row of cells → the API's input shape. Empty cells are left out (the schema's default)."""
    row: dict[str, Any] = {}
    contact: dict[str, str] = {}
    for header, value in raw.items():
        key = HEADER_ALIASES.get(str(header).strip(), str(header).strip())
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):  # as `cell` exported it
                value = value[1:].strip()
            if key in LIST_FIELDS:
                value = [v.strip() for v in _SEPARATORS.split(value) if v.strip()]
            elif key in JSON_FIELDS:
                try:
                    value = (
                        json.loads(value)
                        if value.startswith("[")
                        else [_ip_right(v) for v in value.split(";")]
                    )
                except (ValueError, RecursionError) as exc:  # a thousand "[" exhaust the parser's stack
                    raise MalformedCell(key) from exc
            elif key in BOOL_FIELDS:
                value = True if value.lower() in _TRUE else False if value.lower() in _FALSE else value
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, float):  # spreadsheet numbers: keep the digits as written, never binary float
            value = Decimal(repr(value))
        if key in _LABELLED:
            enum = _LABELLED[key]
            value = (
                [_from_label(enum, v) if isinstance(v, str) else v for v in value]
                if isinstance(value, list)
                else _from_label(enum, value)
                if isinstance(value, str)
                else value
            )
        if key.startswith("contact_"):
            contact[key.removeprefix("contact_")] = str(value)
            continue
        row[key] = value
    if contact:
        row.setdefault("contacts", []).append(contact)
    return row


def read_rows(
    content: bytes, fmt: str, *, max_columns: int | None = None
) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(row number as the user sees it, cells) for each row read after the headers; cells are None
    for a blank row. An XLSX is read `max_columns` wide at most."""
    if fmt == "jsonl":
        # Line by line, not splitlines(): 20 MB of newlines made a list of 20 million strings.
        for number, line in enumerate(io.StringIO(content.decode("utf-8-sig"), newline=None), start=1):
            if not line.strip():
                yield number, None
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                value = None
            yield number, value if isinstance(value, dict) else {"__invalid__": line[:80]}
    elif fmt == "csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:  # Excel on Chinese Windows saves CSV as GB18030
            text = content.decode("gb18030")
        # The line a row starts on, as an editor shows it: blank lines (which DictReader skips
        # silently) and cells quoted across lines count.
        reader = csv.reader(io.StringIO(text))
        headers = next(reader, [])
        line = reader.line_num
        for values in reader:
            number, line = line + 1, reader.line_num
            blank = not any(v.strip() for v in values)
            yield number, None if blank else dict(zip(headers, values, strict=False))
    else:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            rows = workbook.worksheets[0].iter_rows(values_only=True, max_col=max_columns)
            headers = [str(h).strip() if h is not None else "" for h in next(rows, ())]
            for number, values in enumerate(rows, start=2):
                blank = all(v in (None, "") for v in values)
                yield number, None if blank else {h: v for h, v in zip(headers, values, strict=False) if h}
        finally:
            workbook.close()


def detect_format(filename: str | None, content_type: str | None) -> str | None:
    name = (filename or "").lower()
    for suffix, fmt in ((".csv", "csv"), (".xlsx", "xlsx"), (".jsonl", "jsonl"), (".ndjson", "jsonl")):
        if name.endswith(suffix):
            return fmt
    return {
        "text/csv": "csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
        "application/jsonl": "jsonl",
        "application/x-ndjson": "jsonl",
    }.get((content_type or "").split(";")[0].strip())


def cell(value: Any) -> str:
    """A value as it goes into an export cell, always text: lists joined with ';', structures as
    JSON, and a leading formula character neutralised."""
    if value is None:
        return ""
    if isinstance(value, list):
        text = (
            json.dumps(value, ensure_ascii=False)
            if value and isinstance(value[0], dict)
            else ";".join(str(v) for v in value)
        )
    elif isinstance(value, Enum):
        text = str(value.value)
    elif isinstance(value, datetime):  # stored in UTC, read by people in China: their time, with offset
        text = value.astimezone(CHINA).isoformat(timespec="seconds")
    else:
        text = str(value)  # Decimal (exact digits), date, UUID, numbers, booleans
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell(h) for h in headers])
    writer.writerows([[cell(v) for v in row] for row in rows])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8 Chinese correctly


def write_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)

    def text_cell(value: Any) -> WriteOnlyCell:
        # openpyxl makes any string starting with "=" a formula; a cell typed as a string never is.
        written = WriteOnlyCell(sheet, value=cell(value))
        written.data_type = "s"
        return written

    sheet.append([text_cell(h) for h in headers])
    for row in rows:
        sheet.append([text_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
