"""Constrained types defined once and reused by every schema: codes, money, safe text; and the
time zone times are shown in."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, PlainSerializer, StringConstraints, WithJsonSchema
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

from app.core.regions import is_current_region

# Times are stored in UTC; people read them, and dates are counted (working days, registration
# years, file names), in China's time.
CHINA = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    """The date in China: what deadlines, validity dates, working days and registration years are
    counted in (between 00:00 and 08:00 there, UTC is still on the day before)."""
    return datetime.now(CHINA).date()


def in_china_time(value: datetime) -> str:
    """An instant as ISO 8601 with China's offset (the API's and webhooks' form)."""
    return value.astimezone(CHINA).isoformat()


# An instant in a response, written with China's offset (2026-12-01T14:51:54+08:00): the same
# instant as its UTC form, in the time the people reading it keep.
ChinaTime = Annotated[
    datetime,
    PlainSerializer(in_china_time, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _credit_code(value: str) -> str:
    try:
        return uscc.validate(value)
    except StdnumValidationError as exc:
        raise ValueError(f"not a valid unified social credit code (GB 32100): {exc.message}") from exc


def _region_code(value: str) -> str:
    if not is_current_region(value):
        raise ValueError("not a current GB/T 2260 administrative division code")
    return value


# C0 controls and DEL, line breaks included: none belongs in a name, an e-mail or a file name, and
# PostgreSQL refuses NUL in any text parameter.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Control characters (tab and line breaks allowed) have no business in stored text, and PostgreSQL
# refuses NUL; nor have the noncharacters U+FDD0-U+FDEF, U+FFFE and U+FFFF, which Unicode reserves for
# a program's internal use: search marks its highlights with two of them (app/matching/search.py).
# Markup is text like any other: an abstract pasted from a web page holds <br>, a formula p<q. It
# is stored as given, and whatever turns text into markup escapes it first (search highlights do).
_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufdd0-\ufdef\ufffe\uffff]")


def _safe_text(value: str) -> str:
    if _UNSAFE_TEXT.search(value):
        raise ValueError("must not contain control characters or Unicode noncharacters")
    return value


CreditCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=18, max_length=18),
    AfterValidator(_credit_code),
    Field(
        description="统一社会信用代码 (GB 32100, 18 characters with check character)",
        examples=["91320000134758993J"],
    ),
]
RegionCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{6}$"),
    AfterValidator(_region_code),
    Field(description="行政区划代码 (GB/T 2260, six digits)", examples=["320102"]),
]
SafeText = Annotated[str, AfterValidator(_safe_text)]


def safe_text(*, max_length: int, min_length: int = 0) -> Any:
    """SafeText stripped of surrounding whitespace, its length counted after stripping. Constraints
    written around SafeText (`Annotated[SafeText, StringConstraints(...)]`) come after its validator,
    and Pydantic then counts before it strips: "   " passed min_length=1 and was stored as ""."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_safe_text),
    ]


# Amounts in 元 with fen precision; 10^14 元 is far above any real contract and catches unit mistakes.
Money = Annotated[
    Decimal,
    Field(ge=0, lt=Decimal("1e14"), max_digits=16, decimal_places=2, description="金额（元），最多两位小数"),
]
CENT = Decimal("0.01")


def in_yuan(value: Decimal) -> str:
    """An amount as responses write it, with two decimals (800000.00) whatever it was read from: a
    NUMERIC(16,2) column, a request's 800000, or a search document's double 800000.0."""
    return str(value.quantize(CENT))


# An amount in a response.
Yuan = Annotated[
    Decimal,
    PlainSerializer(in_yuan, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["800000.00"]}),
]
