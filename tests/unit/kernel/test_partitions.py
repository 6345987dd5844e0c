"""Retention's calendar (decision 1901): whole months in UTC, and settings that refuse no retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from enforcement.kernel.partitions import add_months, cutoff, this_month
from enforcement.kernel.settings import Settings


def test_months_add_across_years_both_ways() -> None:
    assert add_months(date(2026, 12, 6), 1) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 31), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 12, 1), -72) == date(2020, 12, 1)


def test_the_month_is_utcs_and_the_cutoff_keeps_whole_months() -> None:
    # 2027-01-01 03:00 in Beijing is still December in UTC
    beijing = datetime(2027, 1, 1, 3, tzinfo=timezone(timedelta(hours=8)))
    assert this_month(beijing) == date(2026, 12, 1)
    # 12 months kept on 2026-12-06: November 2025 (ends 2025-12-01) may go, December 2025 not yet
    assert cutoff(12, datetime(2026, 12, 6, tzinfo=UTC)) == date(2025, 12, 1)


def test_retention_settings_default_and_refuse_less_than_a_month() -> None:
    s = Settings.from_env({})
    assert (s.task_retention_months, s.event_retention_months) == (72, 12)
    assert Settings.from_env({"EVENT_RETENTION_MONTHS": "3"}).event_retention_months == 3
    for name in ("TASK_RETENTION_MONTHS", "EVENT_RETENTION_MONTHS"):
        with pytest.raises(ValueError, match=name):
            Settings.from_env({name: "0"})
