"""Language negotiation for user-facing messages: Chinese by default, English on request."""

import ast
import re
from collections.abc import Mapping
from typing import Any, Literal

Language = Literal["zh", "en"]
DEFAULT_LANGUAGE: Language = "zh"


def negotiate(accept_language: str | None) -> Language:
    """Pick zh or en from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            break
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE


# Chinese wording for the pydantic error types users actually meet; others fall back to pydantic's text.
_VALIDATION_ZH = {
    "missing": "必填字段缺失",
    "extra_forbidden": "不允许的字段",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_max_places": "小数位数过多（最多两位）",
    "decimal_max_digits": "数值过大",
    "bool_type": "应为布尔值",
    "bool_parsing": "应为布尔值",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "value_error": "取值无效",
    "uuid_parsing": "应为有效的 UUID",
    "uuid_type": "应为有效的 UUID",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "timezone_aware": "日期时间须带时区",
    "list_type": "应为列表",
    "too_short": "条目过少",
    "too_long": "条目过多",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "JSON 格式错误",
    "json_type": "应为 JSON",
}


_CHOICE_ERRORS = frozenset({"enum", "literal_error"})
# One value in pydantic's `expected` context, which lists the choices as Python reprs joined by
# ", " and " or " ("'region', 'city' or 'field'"); a string's quotes hide any comma or "or" in it.
_REPR = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|None|True|False""")


def allowed_values(expected: str) -> list[str]:
    """The choices of an enum or literal error, from pydantic's `expected` context."""
    return [str(ast.literal_eval(token)) for token in _REPR.findall(expected)]


def validation_message(
    error_type: str, english: str, language: Language, context: Mapping[str, Any] | None = None
) -> str:
    """A user's message for one pydantic error; a choice among fixed values names them all."""
    if (
        error_type in _CHOICE_ERRORS
        and context
        and (values := allowed_values(str(context.get("expected", ""))))
    ):
        if language == "zh":
            return "取值不在允许范围内，可选值：" + "、".join(values)
        return "Input should be one of: " + ", ".join(values)
    if language == "zh":
        return _VALIDATION_ZH.get(error_type, english)
    return english
