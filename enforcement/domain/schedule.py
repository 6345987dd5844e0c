"""The re-query schedule of a 终本 debtor, and the dishonest-listing removal deadline: pure.

After a 终本 closure the court re-queries each debtor through the network every six months for
five years (settings: ``requery_interval_days``, ``requery_years``). Round k is legally due on
closure + k x interval, for every k whose due date falls within the years after closure. To keep
agencies' limits, rounds are spread: each debtor's rounds start up to ``spread_days`` *before*
their due date (a stable offset per debtor), never after, so the six-month rhythm holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from enforcement.domain.calendar import WorkCalendar
from enforcement.domain.lifecycle import add_months


@dataclass(frozen=True, slots=True)
class Round:
    number: int
    due_on: date
    run_on: date


def stable_offset(key: str, spread_days: int) -> int:
    if spread_days <= 0:
        return 0
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % (spread_days + 1)


def rounds(closed_on: date, *, interval_days: int, years: int, spread_days: int, key: str) -> list[Round]:
    """Every round of a debtor's re-query after a closure on ``closed_on``."""
    if interval_days <= 0:
        return []
    last = add_months(closed_on, 12 * years)
    offset = stable_offset(key, min(spread_days, interval_days // 2))
    out: list[Round] = []
    k = 1
    while (due := closed_on + timedelta(days=k * interval_days)) <= last:
        out.append(Round(k, due, max(due - timedelta(days=offset), closed_on + timedelta(days=1))))
        k += 1
    return out


@dataclass(frozen=True, slots=True)
class PostClosureSearch:
    """One post-closure network search of a 终本 case's debtors: a re-query round, or the judge's
    own full search (every agency answered afresh) of every debtor on one day."""

    done_on: date
    found_property: bool  # any property at all in its answers (not merely new property)
    source: str  # requery | judge


def removal_due(searches: Sequence[PostClosureSearch], *, needed: int, working_days: int,
                calendar: WorkCalendar) -> tuple[date, tuple[PostClosureSearch, ...]] | None:
    """DOMAIN section 4: once at least ``needed`` post-closure searches found nothing (no property
    at all), the dishonest listing must be removed within ``working_days`` working days (official
    calendar, 调休 included). A search that found property starts the count again. Returns the
    due date and the empty searches that make it, or None. The caller checks the listing and
    that no new lead came in."""
    empty: list[PostClosureSearch] = []
    for s in sorted(searches, key=lambda x: x.done_on):
        empty = [] if s.found_property else [*empty, s]
        if len(empty) >= needed:
            return calendar.add_working_days(empty[needed - 1].done_on, working_days), tuple(empty[:needed])
    return None


def add_working_days(start: date, days: int, holidays: frozenset[date] = frozenset()) -> date:
    """``days`` working days (Monday to Friday, not a listed holiday) after ``start``."""
    d = start
    left = days
    while left > 0:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in holidays:
            left -= 1
    return d


__all__ = ["PostClosureSearch", "Round", "add_working_days", "removal_due", "rounds", "stable_offset"]
