"""Codes and amounts, validated once for every schema (no database needed)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from stdnum.cn import uscc

from app.core.i18n import negotiate
from app.core.regions import current_regions, region_name
from app.core.types import ChinaTime, CreditCode, Money, RegionCode, SafeText, safe_text

credit = TypeAdapter(CreditCode)
region = TypeAdapter(RegionCode)
money = TypeAdapter(Money)
safe = TypeAdapter(SafeText)


def test_a_real_credit_code_passes_and_is_normalised() -> None:
    body = "91320100MA1MXXXX0"
    code = body + uscc.calc_check_digit(body)
    assert credit.validate_python(f" {code.lower()} ") == code


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9),
)
def test_only_the_right_check_character_passes(head: str, tail: str) -> None:
    body = head + tail  # registration authority, kind and region are digits; the rest from the GB 32100 set
    right = uscc.calc_check_digit(body)
    assert credit.validate_python(body + right) == body + right
    wrong = "0" if right != "0" else "1"
    with pytest.raises(ValidationError):
        credit.validate_python(body + wrong)


def test_region_codes_come_from_the_maintained_table() -> None:
    assert len(current_regions()) > 3000
    assert region.validate_python("320100") == "320100"
    assert region_name("360102") == "江西省 南昌市 东湖区"
    for bad in ("32", "3201", "320103", "999999", "32010a"):
        with pytest.raises(ValidationError):
            region.validate_python(bad)


@pytest.mark.parametrize("amount", ["-1", "0.001", "1e14", "100000000000000"])
def test_absurd_amounts_are_refused(amount: str) -> None:
    with pytest.raises(ValidationError):
        money.validate_python(Decimal(amount))


def test_amounts_stay_decimal() -> None:
    assert money.validate_python("99999999999999.99") == Decimal("99999999999999.99")
    assert isinstance(money.validate_json('"0.10"'), Decimal)


@pytest.mark.parametrize("text", ["bell\x07", "nul\x00", "escape\x1b[1m", "mark\ufdd0", "\uffff"])
def test_control_characters_and_noncharacters_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        safe.validate_python(text)


def test_required_text_of_only_spaces_is_refused_not_stored_empty() -> None:
    """Constraints written around SafeText counted the length before stripping, so "   " passed a
    min_length of 1 and was stored as "" (contract names, organization names, target names …)."""
    required = TypeAdapter(safe_text(max_length=20, min_length=1))
    with pytest.raises(ValidationError):
        required.validate_python("   ")
    assert required.validate_python("  名称 ") == "名称"
    with pytest.raises(ValidationError):
        required.validate_python("名称\x00")
    with pytest.raises(ValidationError):  # not a string: a 422, never a TypeError (500)
        required.validate_python(12)


@pytest.mark.parametrize(
    "text",
    [
        "温度 < 5 ℃ 且压力 > 2 MPa\n第二行",
        "结果如下：<br>1 材料与方法",  # an abstract pasted from a web page
        "当 p<q 时\t收敛",
        "<b>粗体</b> <script>alert(1)</script>",
        "罕用字\ue000",  # private use: rare characters of older encodings
    ],
)
def test_text_is_stored_as_given(text: str) -> None:
    """Any "<" followed by a letter was refused, and with it real abstracts; whatever turns text
    into markup escapes it (search highlights: tests/search/test_search_api.py)."""
    assert safe.validate_python(text) == text


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("fr, en;q=0.5, zh;q=0.8", "zh"),
        ("zh-TW", "zh"),
        ("de", "zh"),
    ],
)
def test_language_negotiation(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_an_instant_is_shown_in_china_time_and_documented_as_a_date_time() -> None:
    shown = TypeAdapter(ChinaTime)
    instant = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert shown.dump_json(instant) == b'"2026-12-02T07:30:00+08:00"'
    assert shown.dump_python(instant) == instant  # Python code keeps the aware value
    assert shown.json_schema(mode="serialization") == {"type": "string", "format": "date-time"}
