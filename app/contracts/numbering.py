"""The registration number (合同登记编号) layout, in this one function (DOMAIN.md).

14 digits: 2-digit year, 2-digit province, 2-digit city, 2-digit registration point, 6-digit
sequence, each left-padded with zeros. The 16-digit form of some later rules (4-digit year) would
be a change here only: `NUMBER_LENGTH`, `SEQUENCE_MAX` and the f-string below.
"""

import re

NUMBER_LENGTH = 14
SEQUENCE_MAX = 999_999
NUMBER_PATTERN = re.compile(rf"^\d{{{NUMBER_LENGTH}}}$")


def registration_number(*, year: int, region_code: str, registration_point: str, sequence: int) -> str:
    """`year` of registration, the office's GB/T 2260 `region_code`, its 2-digit point, the sequence."""
    if not re.fullmatch(r"\d{6}", region_code):
        raise ValueError("region_code must be six digits")
    if not re.fullmatch(r"\d{1,2}", registration_point):
        raise ValueError("registration_point must be one or two digits")
    if not 1 <= sequence <= SEQUENCE_MAX:
        raise ValueError(f"sequence must be between 1 and {SEQUENCE_MAX}")
    if not 2000 <= year <= 2099:
        raise ValueError("year out of range")
    number = f"{year % 100:02d}{region_code[:2]}{region_code[2:4]}{int(registration_point):02d}{sequence:06d}"
    assert len(number) == NUMBER_LENGTH
    return number
