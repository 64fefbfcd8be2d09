"""Chinese working days: deadlines of 15 / 30 working days from acceptance.

Three sources, in order, per year:
1. the `chinese-calendar` package (official holidays and 调休 make-up days) for the years it knows
   (it raises NotImplementedError for the others);
2. the holiday table administrators maintain for later years (`calendar_years` / `calendar_days`):
   the days listed are exceptions, every other day follows Monday–Friday;
3. otherwise plain Monday–Friday, and the deadline is flagged `provisional`.

This module is pure; the service loads the administrators' table and passes it in.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Deadline:
    due_on: date
    provisional: bool  # some day on the way was judged Monday–Friday without an official calendar


@dataclass(frozen=True)
class WorkingCalendar:
    """`admin_years`: for each year an administrator published, its exceptional days
    (True = working day, e.g. a make-up Saturday; False = holiday)."""

    admin_years: Mapping[int, Mapping[date, bool]] = field(default_factory=dict)

    def is_working_day(self, day: date) -> tuple[bool, bool]:
        """(working?, provisional?) for one day."""
        try:
            return chinese_calendar.is_workday(day), False
        except NotImplementedError:
            pass
        if day.year in self.admin_years:
            exceptions = self.admin_years[day.year]
            if day in exceptions:
                return exceptions[day], False
            return day.weekday() < 5, False
        return day.weekday() < 5, True

    def add_working_days(self, start: date, days: int) -> Deadline:
        """The `days`-th working day after `start` (the start day itself does not count)."""
        if days < 0:
            raise ValueError("days must not be negative")
        provisional = False
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            working, guessed = self.is_working_day(current)
            provisional = provisional or guessed
            if working:
                remaining -= 1
        return Deadline(current, provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current)[0]:
                count += 1
        return count
