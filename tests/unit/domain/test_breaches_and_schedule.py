"""Consumption-restriction breaches and the re-query schedule: pure rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from enforcement.cases.requery import RequeryConfig, tick_budget
from enforcement.domain.breaches import RestrictionOrder, Stay, breaches
from enforcement.domain.schedule import add_working_days, rounds, stable_offset

ORDER = RestrictionOrder(case_id=1, event_id=7, party_id=3, issued_on=date(2025, 3, 1))


def stay(checked_in: str, stars: int, name: str = "沈阳香格里拉大酒店") -> Stay:
    found = Stay.from_record(f"{name}:{checked_in}:1808", {
        "hotel_name": name, "star_rating": stars, "address": "沈阳市沈河区青年大街115号",
        "checked_in_at": checked_in, "checked_out_at": None, "room": "1808"})
    assert found is not None
    return found


def test_a_star_rated_stay_after_the_order_date_is_a_breach() -> None:
    stays = [
        stay("2025-03-01T20:00:00+08:00", 5),   # on the order's date: not after it
        stay("2025-03-02T09:00:00+08:00", 5),   # the next day: breach
        stay("2025-03-05T09:00:00+08:00", 0),   # budget chain: no stars, no breach
        stay("2025-02-20T09:00:00+08:00", 4),   # before the order
        stay("2025-03-01T17:30:00+00:00", 3),   # 2025-03-02 01:30 Beijing time: breach
    ]
    found = breaches([ORDER], stays)
    assert [b.stay.check_in_date.isoformat() for b in found] == ["2025-03-02", "2025-03-02"]
    assert {b.stay.star_rating for b in found} == {5, 3}
    assert found[0].evidence()["order"]["issued_on"] == "2025-03-01"
    assert "1808" not in found[0].dedupe_key  # the room number stays out of keys


def test_a_lifted_order_no_longer_binds() -> None:
    lifted = RestrictionOrder(1, 7, 3, date(2025, 3, 1), lifted_on=date(2025, 6, 1))
    found = breaches([lifted], [stay("2025-05-31T12:00:00+08:00", 5), stay("2025-06-01T12:00:00+08:00", 5)])
    assert [b.stay.check_in_date.isoformat() for b in found] == ["2025-05-31"]


def test_rounds_every_interval_for_five_years_spread_before_due() -> None:
    rs = rounds(date(2025, 1, 10), interval_days=182, years=5, spread_days=14, key="person:X")
    # 10 rounds: 182 x 10 = 1820 days <= 5 years (2030-01-10 is 1826 days later)
    assert len(rs) == 10
    assert rs[0].due_on == date(2025, 7, 11)
    assert rs[-1].due_on == date(2030, 1, 4)
    offset = stable_offset("person:X", 14)
    assert all((r.due_on - r.run_on).days == offset for r in rs)
    assert 0 <= offset <= 14
    assert rounds(date(2025, 1, 10), interval_days=182, years=5, spread_days=14, key="person:X") == rs


def test_working_days_skip_weekends_and_holidays() -> None:
    # Thursday 2025-05-29 + 3 working days = Tuesday 2025-06-03
    assert add_working_days(date(2025, 5, 29), 3) == date(2025, 6, 3)
    assert add_working_days(date(2025, 5, 29), 3, frozenset({date(2025, 6, 2)})) == date(2025, 6, 4)


def test_tick_budget_is_a_share_of_the_slowest_agency() -> None:
    from connectors.sdk.registry import Registry

    manifests = {n: spec.manifest for n, spec in Registry.discover().items()}
    slowest = min(m.policy.rate_per_second for m in manifests.values())
    config = RequeryConfig(max_per_tick=100, agency_share=0.2)
    assert tick_budget(config, manifests, 5.0) == max(1, int(slowest * 5.0 * 0.2))
    assert tick_budget(RequeryConfig(max_per_tick=2, agency_share=0.2), manifests, 5.0) == 2


# -- issue 16: removal after searches that found nothing, on the official calendar --------------

def test_the_official_calendar_counts_make_up_workdays_and_holidays() -> None:
    from enforcement.kernel.calendar import official_calendar
    cal = official_calendar()
    # Friday 2025-09-26 + 3 working days: Sunday 09-28 is worked (调休), 10-01..10-08 are off
    assert cal.add_working_days(date(2025, 9, 26), 3) == date(2025, 9, 30)
    assert cal.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert cal.knows(date(2026, 1, 1))


def test_a_court_override_file_adds_a_year_the_package_does_not_know(tmp_path: Any) -> None:
    from enforcement.kernel.calendar import official_calendar
    f = tmp_path / "calendar.toml"
    f.write_text('years = [2099]\nholidays = ["2099-01-01", "2099-01-02"]\nworkdays = ["2099-01-03"]\n')
    cal = official_calendar(f)
    assert cal.knows(date(2099, 6, 1)) and not official_calendar().knows(date(2099, 6, 1))
    # Wed 2098-12-31 + 1: Thu 01-01 and Fri 01-02 off, Sat 01-03 worked
    assert cal.add_working_days(date(2098, 12, 31), 1) == date(2099, 1, 3)


def test_removal_counts_searches_that_found_nothing_at_all_whoever_made_them() -> None:
    from enforcement.domain.calendar import WorkCalendar
    from enforcement.domain.schedule import PostClosureSearch, removal_due
    cal = WorkCalendar()
    judge = PostClosureSearch(date(2025, 3, 3), False, "judge")  # Monday
    found = PostClosureSearch(date(2025, 4, 1), True, "requery")
    requery = PostClosureSearch(date(2025, 5, 5), False, "requery")  # Monday
    assert removal_due([judge], needed=2, working_days=3, calendar=cal) is None
    # a search that found property (even property known before) starts the count again
    assert removal_due([judge, found, requery], needed=2, working_days=3, calendar=cal) is None
    later = PostClosureSearch(date(2025, 5, 9), False, "judge")  # Friday: + 3 working days = Wednesday
    due = removal_due([judge, found, requery, later], needed=2, working_days=3, calendar=cal)
    assert due is not None and due[0] == date(2025, 5, 14)
    assert [s.source for s in due[1]] == ["requery", "judge"]
