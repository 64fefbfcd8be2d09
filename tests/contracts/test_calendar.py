"""Working-day deadlines: official holidays, 调休 make-up days, the administrators' table, provisional."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.contracts.calendar import WorkingCalendar

CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 10, 1), False),  # 国庆节
        (date(2026, 10, 7), False),
        (date(2026, 9, 20), True),  # Sunday made a working day (调休)
        (date(2026, 10, 10), True),  # Saturday made a working day (调休)
        (date(2026, 2, 14), True),  # 春节调休 Saturday
        (date(2026, 2, 28), True),  # 春节调休 Saturday
        (date(2026, 2, 17), False),  # 春节 Tuesday
        (date(2026, 11, 23), True),  # an ordinary Monday
        (date(2026, 11, 22), False),  # an ordinary Sunday
    ],
)
def test_official_calendar(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) == (working, False)


def test_national_day_week_is_skipped_and_makeup_saturday_counts() -> None:
    # Accepted Wed 2026-09-30: 10-01…10-07 are holidays, Sat 10-10 is a make-up working day.
    deadline = CAL.add_working_days(date(2026, 9, 30), 3)
    assert deadline.due_on == date(2026, 10, 10) and not deadline.provisional
    # 10-08, 10-09, 10-10 are days 1–3; then Mon–Fri: 10-12…16 (8), 10-19…23 (13), 10-26, 10-27 (15).
    assert CAL.add_working_days(date(2026, 9, 30), 15).due_on == date(2026, 10, 27)


def test_spring_festival_with_two_makeup_saturdays() -> None:
    # From Fri 2026-02-13: Sat 02-14 works, 02-15…02-23 is the holiday, Sat 02-28 works.
    assert CAL.add_working_days(date(2026, 2, 13), 1).due_on == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 13), 2).due_on == date(2026, 2, 24)
    assert CAL.add_working_days(date(2026, 2, 13), 6).due_on == date(2026, 2, 28)
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6


def test_deadline_inside_2026_is_not_provisional() -> None:
    deadline = CAL.add_working_days(date(2026, 11, 23), 15)
    assert deadline == deadline.__class__(date(2026, 12, 14), False)


def test_crossing_into_2027_without_a_table_is_provisional_weekdays() -> None:
    deadline = CAL.add_working_days(date(2026, 12, 21), 15)
    # Mon–Fri only: 12-22…12-31 is 8 days, then 2027-01-01 (a Friday, counted!) … 01-11.
    assert deadline.provisional
    assert deadline.due_on == date(2027, 1, 11)


def test_administrators_table_covers_2027() -> None:
    table = {2027: {date(2027, 1, 1): False, date(2027, 1, 2): False, date(2027, 1, 3): False}}
    deadline = WorkingCalendar(table).add_working_days(date(2026, 12, 21), 15)
    assert not deadline.provisional
    assert deadline.due_on == date(2027, 1, 12)  # New Year's Day no longer counts
    # A published make-up Saturday counts as a working day.
    saturday = WorkingCalendar({2027: {date(2027, 1, 9): True}})
    assert saturday.is_working_day(date(2027, 1, 9)) == (True, False)
    assert saturday.add_working_days(date(2027, 1, 8), 1).due_on == date(2027, 1, 9)


def test_zero_days_is_the_start_and_negative_is_refused() -> None:
    assert CAL.add_working_days(date(2026, 11, 23), 0).due_on == date(2026, 11, 23)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 11, 23), -1)


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2028, 12, 31)), st.integers(0, 40))
def test_deadline_is_a_working_day_exactly_n_working_days_later(start: date, days: int) -> None:
    calendar = WorkingCalendar({2027: {date(2027, 2, 8): False, date(2027, 2, 20): True}})
    deadline = calendar.add_working_days(start, days)
    assert calendar.working_days_between(start, deadline.due_on) == days
    if days:
        assert calendar.is_working_day(deadline.due_on)[0]
    # Provisional exactly when the way crosses a year nobody has data for (2028 here).
    assert deadline.provisional == (deadline.due_on.year >= 2028 and days > 0)
