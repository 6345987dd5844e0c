"""Working days by the official calendar: pure.

The State Council publishes each year's public holidays and the weekend days worked in exchange
(调休 make-up days). ``WorkCalendar`` holds both, for the years it knows: a day is a working day
when it is a make-up workday, or a Monday to Friday that is not a holiday. It is built by the
kernel (``enforcement.kernel.calendar``) from the ``chinese_calendar`` package and the court's
override file; the domain only applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # weekend days worked in exchange (调休)
    known_years: frozenset[int] = frozenset()

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def knows(self, d: date) -> bool:
        """Whether the calendar has the official holidays of ``d``'s year (else only weekends count)."""
        return d.year in self.known_years

    def add_working_days(self, start: date, days: int) -> date:
        """``days`` working days after ``start`` (the day itself not counted)."""
        d, left = start, days
        while left > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d

    def next_working_day(self, d: date) -> date:
        """``d`` when it is a working day, else the first working day after it."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d


__all__ = ["WorkCalendar"]
