import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.contracts.numbering import NUMBER_LENGTH, NUMBER_PATTERN, registration_number


def test_layout_year_province_city_point_sequence() -> None:
    assert (
        registration_number(year=2026, region_code="320100", registration_point="01", sequence=1)
        == "26320101000001"
    )
    assert registration_number(year=2018, region_code="360102", registration_point="7", sequence=123456) == (
        "18360107123456"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"region_code": "3201", "registration_point": "01", "sequence": 1}, "region_code"),
        ({"region_code": "320100", "registration_point": "123", "sequence": 1}, "registration_point"),
        ({"region_code": "320100", "registration_point": "01", "sequence": 0}, "sequence"),
        ({"region_code": "320100", "registration_point": "01", "sequence": 1_000_000}, "sequence"),
    ],
)
def test_out_of_layout_values_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        registration_number(year=2026, **kwargs)


@given(
    st.integers(2000, 2099),
    st.sampled_from(["320100", "320505", "360000", "110101"]),
    st.integers(0, 99),
    st.integers(1, 999_999),
)
def test_always_fourteen_digits_and_decodable(year: int, region: str, point: int, sequence: int) -> None:
    number = registration_number(
        year=year, region_code=region, registration_point=str(point), sequence=sequence
    )
    assert len(number) == NUMBER_LENGTH and NUMBER_PATTERN.match(number)
    assert (int(number[:2]), number[2:6], int(number[6:8]), int(number[8:])) == (
        year % 100,
        region[:4],
        point,
        sequence,
    )
