"""Reading and writing catalogue files (CSV, XLSX, JSON Lines) as rows of plain values.

Column headers may be the API's field names or their Chinese names; cells may hold codes or
Chinese labels (农业, 独占许可, 发明专利 …). Exports write what the import reads: Chinese column
names and labels, so an exported file imports back as it was. Nothing here validates: the rows go
through the same `AchievementCreate` schema as the API."""

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
    ListingStatus,
    TransferMode,
)

# The column of each field, as exports write it and the import reads it (with the field's own
# name, and the aliases below, which catalogues also use).
COLUMN_NAMES = {
    "id": "编号",
    "status": "状态",
    "version": "版本",
    "created_at": "创建时间",
    "updated_at": "更新时间",
    "published_at": "发布时间",
    "title": "标题",
    "name": "名称",
    "description": "简介",
    "field": "技术领域",
    "fields": "擅长领域",
    "keywords": "关键词",
    "maturity": "技术成熟度",
    "ip_rights": "知识产权",
    "transfer_modes": "转化方式",
    "asking_price": "意向价格",
    "region_code": "地区代码",
    "team": "完成人",
    "application_scenarios": "应用场景",
    "publicly_funded": "财政资金项目",
    "funding_project": "项目名称",
    "contacts": "联系人列表",
    "valid_until": "有效期至",
    "cooperation_modes": "合作方式",
    "budget_min": "预算下限",
    "budget_max": "预算上限",
    "deadline": "截止日期",
    "confidential": "保密",
    "professional_title": "职称",
    "institution": "工作单位",
    "biography": "个人简介",
    "services": "服务类型",
    "phone": "电话",
    "email": "邮箱",
    "credit_code": "统一社会信用代码",
    "service_kinds": "机构服务类型",
    "regions_served": "服务区域",
    "qualifications": "资质",
}
# An export's bookkeeping columns: the import passes over them (the listing gets its own).
META_FIELDS = ("id", "status", "version", "created_at", "updated_at", "published_at")
HEADER_ALIASES = {
    **{name: field for field, name in COLUMN_NAMES.items()},
    "成果名称": "title",
    "姓名": "name",
    "成果简介": "description",
    "摘要": "description",
    "领域": "field",
    "成熟度": "maturity",
    "意向价格（元）": "asking_price",
    "价格": "asking_price",
    "行政区划代码": "region_code",
    "团队": "team",
    # One contact in three columns, as most catalogues have it.
    "联系人": "contact_name",
    "联系电话": "contact_phone",
    "联系邮箱": "contact_email",
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
MONEY_FIELDS = {"asking_price", "budget_min", "budget_max"}
BOOL_FIELDS = {"publicly_funded", "confidential"}
_LABELLED: dict[str, type[Enum]] = {
    "field": TechnologyField,
    "fields": TechnologyField,
    "transfer_modes": TransferMode,
    "cooperation_modes": CooperationMode,
    "services": ExpertService,
    "service_kinds": AgencyService,
    "status": ListingStatus,
}
_SEPARATORS = re.compile(r"[;；、,，\n]+")
_ITEM_SEPARATORS = re.compile(r"[;；\n]+")  # between IP rights, contacts, and labels that hold a 、
# A spreadsheet takes a cell starting with one of these as a formula (CSV injection, OWASP): an
# export prefixes it with an apostrophe, which makes it text, and the import removes that again.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRUE = {"是", "true", "1", "y", "yes", "t"}
_FALSE = {"否", "false", "0", "n", "no", "f"}
NO_PRICE = ("面议", "议价", "价格面议", "协商", "面谈")
_THOUSANDS = re.compile(r"^\d{1,3}([,，]\d{3})+(\.\d+)?$")
# A Chinese patent or application number: year (or two digits before 2003), type (1 invention,
# 2 utility model, 3 design; 8 and 9 PCT inventions and utility models), serial, check digit.
_PATENT_NUMBER = re.compile(r"^(?:ZL|CN)?\s*(\d{4}|\d{2})([12389])\d{5,7}\.?[\dX]$", re.IGNORECASE)
_PATENT_KINDS = {
    "1": IPKind.invention_patent,
    "8": IPKind.invention_patent,
    "2": IPKind.utility_model,
    "9": IPKind.utility_model,
    "3": IPKind.design_patent,
}


def _label(member: Enum) -> str:
    return str(getattr(member, "label", member.value))


def _member(enum: type[Enum], value: str) -> Enum | None:
    for member in enum:
        if value in (member.value, getattr(member, "label", None)):
            return member
    return None


def _from_label(enum: type[Enum], value: str) -> str:
    member = _member(enum, value)
    return value if member is None else str(member.value)  # an unknown one as is: validation names it


def _labelled_list(enum: type[Enum], text: str) -> list[str]:
    """Labels separated by `;` `；` or newlines, or by `、` `,` `，` where no label holds one
    (生物、医药和医疗器械 does)."""
    items: list[str] = []
    for piece in _ITEM_SEPARATORS.split(text):
        piece = piece.strip()
        if _member(enum, piece) is not None:
            items.append(piece)
        else:
            items.extend(v.strip() for v in _SEPARATORS.split(piece) if v.strip())
    return items


def _prefix(enum: type[Enum], text: str) -> tuple[Enum | None, str]:
    """The member whose label or code `text` starts with (the longest), and the rest."""
    best: tuple[Enum | None, str] = (None, text)
    for member in enum:
        for name in (_label(member), str(member.value)):
            if text.startswith(name) and (best[0] is None or len(name) > len(text) - len(best[1])):
                best = (member, text[len(name) :])
    return best


def _ip_right(text: str) -> dict[str, str]:
    """One IP right: `发明专利 ZL202010111222.3（已授权）`, `发明专利 202010111222.3`, a bare Chinese
    patent number (its type digit gives the kind), or `发明专利:ZL202010111222.3:已授权`; codes or
    labels; the status, when not given, is the schema's default."""
    if re.search(r"[:：]", text):
        parts = [p.strip() for p in re.split(r"[:：]", text)]
        right = {"kind": _from_label(IPKind, parts[0])}
        if len(parts) > 1:
            right["number"] = parts[1]
        if len(parts) > 2:
            right["status"] = _from_label(IPStatus, parts[2])
        return right
    kind, rest = _prefix(IPKind, text)
    rest = rest.strip()
    status = None
    # The status in closing brackets, found without a regular expression: a backtracking one took
    # quadratic time on a cell of many brackets.
    opening = max(rest.rfind(bracket) for bracket in "（([【")
    bracketed = _member(IPStatus, rest[opening + 1 : -1].strip()) if rest[-1:] in "）)]】" else None
    if opening >= 0 and bracketed is not None:
        rest, status = rest[:opening].strip(), bracketed
    else:
        for member in IPStatus:
            for name in (_label(member), str(member.value)):
                if rest.endswith(name) and (rest == name or rest[: -len(name)][-1:].isspace()):
                    rest, status = rest[: -len(name)].strip(), member
    if kind is None:
        number = _PATENT_NUMBER.match(rest.replace(" ", ""))
        if number is None:
            return {"kind": text}  # validation names it
        kind = _PATENT_KINDS[number.group(2)]
    right = {"kind": str(kind.value), "number": rest.strip()}
    if status is not None:
        right["status"] = str(status.value)
    return right


def _contact(text: str) -> dict[str, str]:
    """`王老师，0791-88300000，wang@example.cn`: the name first, then a phone and an e-mail."""
    name, *others = [p.strip() for p in re.split(r"[,，]", text)]
    contact = {"name": name}
    for other in filter(None, others):
        contact["email" if "@" in other else "phone"] = other
    return contact


def _money(text: str) -> Decimal | str | None:
    """`面议` (and the like) is no price; `1,234.50`, `80万`, `80万元`, `¥1234` are amounts."""
    if text in NO_PRICE:
        return None
    amount = re.sub(r"^[¥￥]|元$", "", text).strip()
    scale = 1
    if amount.endswith("万"):
        amount, scale = amount[:-1].strip(), 10_000
    if _THOUSANDS.match(amount):
        amount = re.sub(r"[,，]", "", amount)
    try:
        return Decimal(amount) * scale
    except ArithmeticError:
        return text  # validation names it


def export_value(field: str, value: Any) -> Any:
    """A stored value as the export writes it, which `normalise` reads back: vocabularies as their
    Chinese labels, IP rights and contacts as text, yes/no as 是/否."""
    if value is None:
        return None
    if field in _LABELLED:
        enum = _LABELLED[field]
        if isinstance(value, list):
            return [_label(enum(v)) for v in value]
        return _label(enum(value))
    if field == "ip_rights":
        return "；".join(
            f"{_label(IPKind(r['kind']))} {r.get('number') or ''}".strip()
            + f"（{_label(IPStatus(r.get('status') or IPStatus.granted))}）"
            for r in value
        )
    if field == "contacts":
        return "；".join("，".join(filter(None, (c["name"], c.get("phone"), c.get("email")))) for c in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


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
        if key in META_FIELDS or value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):  # as `cell` exported it
                value = value[1:].strip()
            if key in LIST_FIELDS:
                value = (
                    _labelled_list(_LABELLED[key], value)
                    if key in _LABELLED
                    else [v.strip() for v in _SEPARATORS.split(value) if v.strip()]
                )
            elif key in ("ip_rights", "contacts"):
                if value.startswith("["):
                    try:
                        value = json.loads(value)
                    except (ValueError, RecursionError) as exc:  # a thousand "[" exhaust the parser's stack
                        raise MalformedCell(key) from exc
                else:
                    parse = _ip_right if key == "ip_rights" else _contact
                    value = [parse(v.strip()) for v in _ITEM_SEPARATORS.split(value) if v.strip()]
            elif key in MONEY_FIELDS:
                value = _money(value)
                if value is None:
                    continue
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
    """A value as it goes into an export cell (after `export_value`), always text: lists joined
    with ';', and a leading formula character neutralised."""
    if value is None:
        return ""
    if isinstance(value, list):
        text = ";".join(str(v) for v in value)
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
