"""The official working-day calendar: the ``chinese_calendar`` package (maintained from the State
Council's yearly notices: holidays and 调休 make-up workdays) plus the court's override file for
years the package does not know yet, or corrections.

The override file (setting ``COURT_CALENDAR_FILE``) is JSON or TOML::

    holidays = ["2027-01-01", "2027-02-06"]      # days off (besides weekends)
    workdays = ["2027-02-14"]                    # weekend days worked (调休)
    years = [2027]                               # years the file states completely

and ``COURT_HOLIDAYS`` (ISO dates) adds holidays too. A year neither knows is computed from
weekends alone, and ``WorkCalendar.knows`` says so. decision 1601.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from enforcement.domain.calendar import WorkCalendar


class CalendarFileError(ValueError):
    """The court's calendar override file cannot be read."""


def _dates(values: Any, path: Path, key: str) -> set[date]:
    if values is None:
        return set()
    if not isinstance(values, list):
        raise CalendarFileError(f"{path}: {key} must be a list of ISO dates")
    try:
        return {date.fromisoformat(str(v)) for v in values}
    except ValueError as exc:
        raise CalendarFileError(f"{path}: {key}: {exc}") from exc


def read_override(path: Path) -> tuple[set[date], set[date], set[int]]:
    """(holidays, workdays, years) of an override file (JSON or TOML by its suffix)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise CalendarFileError(f"cannot read the calendar file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise CalendarFileError(f"{path}: expected an object with holidays, workdays, years")
    years = data.get("years") or []
    if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
        raise CalendarFileError(f"{path}: years must be a list of whole numbers")
    return _dates(data.get("holidays"), path, "holidays"), _dates(data.get("workdays"), path, "workdays"), set(years)


def official_calendar(override_file: Path | None = None, extra_holidays: Iterable[str] = ()) -> WorkCalendar:
    """The package's calendar, the override file over it, then the extra holidays."""
    from chinese_calendar.constants import holidays as cc_holidays
    from chinese_calendar.constants import workdays as cc_workdays

    holidays = set(cc_holidays)
    workdays = set(cc_workdays)
    years = {d.year for d in holidays}
    if override_file is not None:
        h, w, y = read_override(override_file)
        holidays = (holidays - w) | h
        workdays = (workdays - h) | w
        years |= y | {d.year for d in h | w}
    holidays |= {date.fromisoformat(d) for d in extra_holidays}
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years))


__all__ = ["CalendarFileError", "official_calendar", "read_override"]
