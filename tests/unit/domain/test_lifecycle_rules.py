"""The lifecycle rules: event validation, history checks, and the statutory deadline computed by
hand for each case below."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from enforcement.domain.lifecycle import (
    CaseEvent,
    EventConflict,
    InvalidEvent,
    NotCounted,
    add_months,
    replay,
    statutory_deadline,
    validate_event,
)

FILED = date(2025, 1, 15)
TODAY = date(2026, 6, 1)


def ev(i: int, t: str, on: date, **data: object) -> CaseEvent:
    return CaseEvent(i, t, on, data)


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)
    assert add_months(date(2025, 1, 15), 6) == date(2025, 7, 15)
    assert add_months(date(2025, 3, 10), -36) == date(2022, 3, 10)


def test_plain_case_six_months_from_filing() -> None:
    lc = replay([], filed_on=FILED, non_litigation=False)
    # 2025-01-15 + 6 months = 2025-07-15
    assert lc.deadline == date(2025, 7, 15)
    assert lc.status == "open"
    assert lc.suspended_days == 0


def test_non_litigation_case_three_months() -> None:
    lc = replay([], filed_on=FILED, non_litigation=True)
    assert lc.deadline == date(2025, 4, 15)
    assert lc.base_months == 3


def test_suspension_within_the_period_moves_the_deadline_by_its_days() -> None:
    events = [ev(1, "suspension_started", date(2025, 3, 1), reason="auction"),
              ev(2, "suspension_ended", date(2025, 3, 31))]
    lc = replay(events, filed_on=FILED, non_litigation=False)
    # suspended 1 March .. 31 March = 30 days (end-exclusive): 2025-07-15 + 30 = 2025-08-14
    assert lc.suspended_days == 30
    assert lc.deadline == date(2025, 8, 14)


def test_suspension_after_the_deadline_does_not_revive_the_period() -> None:
    events = [ev(1, "suspension_started", date(2025, 8, 1)), ev(2, "suspension_ended", date(2025, 9, 1))]
    lc = replay(events, filed_on=FILED, non_litigation=False)
    assert lc.deadline == date(2025, 7, 15)
    assert lc.suspended_days == 0


def test_chained_suspensions_count_while_they_start_within_the_moving_period() -> None:
    # base 2025-07-15; first suspension 2025-07-10 .. 2025-07-30 (20 d) -> 2025-08-04;
    # second starts 2025-08-01 (before 08-04) .. 2025-08-11 (10 d) -> 2025-08-14.
    events = [ev(1, "suspension_started", date(2025, 7, 10)), ev(2, "suspension_ended", date(2025, 7, 30)),
              ev(3, "suspension_started", date(2025, 8, 1)), ev(4, "suspension_ended", date(2025, 8, 11))]
    lc = replay(events, filed_on=FILED, non_litigation=False)
    assert lc.suspended_days == 30
    assert lc.deadline == date(2025, 8, 14)


def test_open_suspension_within_the_period_stops_the_clock() -> None:
    lc = replay([ev(1, "suspension_started", date(2025, 5, 1))], filed_on=FILED, non_litigation=False)
    assert lc.deadline is None
    assert lc.status == "suspended"
    assert lc.suspended_since == date(2025, 5, 1)


def test_extension_months_and_days_then_suspension() -> None:
    # base 2025-01-15 + (6 + 1) months = 2025-08-15, + 10 days = 2025-08-25; suspension
    # 2025-08-20 .. 2025-08-30 (10 d) starts within -> 2025-09-04
    events = [ev(1, "extension_approved", date(2025, 7, 1), months=1, days=10),
              ev(2, "suspension_started", date(2025, 8, 20)), ev(3, "suspension_ended", date(2025, 8, 30))]
    lc = replay(events, filed_on=FILED, non_litigation=False)
    assert (lc.extension_months, lc.extension_days, lc.suspended_days) == (1, 10, 10)
    assert lc.deadline == date(2025, 9, 4)


def test_statutory_deadline_function_matches_replay() -> None:
    d = statutory_deadline(FILED, 6, [], [NotCounted(date(2025, 3, 1), date(2025, 3, 31))])
    assert (d.deadline, d.suspended_days) == (date(2025, 8, 14), 30)


def test_closure_while_suspended_ends_the_suspension() -> None:
    events = [ev(1, "suspension_started", date(2025, 5, 1)), ev(2, "closed", date(2025, 5, 11), mode="终结执行")]
    lc = replay(events, filed_on=FILED, non_litigation=False)
    assert lc.status == "closed"
    assert lc.suspended_days == 10
    assert lc.deadline == date(2025, 7, 25)


def test_history_conflicts_are_refused() -> None:
    with pytest.raises(EventConflict) as e1:
        replay([ev(1, "suspension_ended", date(2025, 2, 1))], filed_on=FILED, non_litigation=False)
    assert e1.value.code == "not_suspended"
    with pytest.raises(EventConflict) as e2:
        replay([ev(1, "closed", date(2025, 5, 1), mode="执行完毕"), ev(2, "closed", date(2025, 6, 1), mode="执行完毕")],
               filed_on=FILED, non_litigation=False)
    assert e2.value.code == "case_closed"
    with pytest.raises(EventConflict) as e3:
        replay([ev(1, "closed", date(2025, 5, 1), mode="执行完毕"), ev(2, "resumed", date(2025, 6, 1))],
               filed_on=FILED, non_litigation=False)
    assert e3.value.code == "not_resumable"
    with pytest.raises(EventConflict) as e4:
        replay([ev(1, "petition_closed", date(2025, 5, 1), petition_id="X1")], filed_on=FILED, non_litigation=False)
    assert e4.value.code == "petition_not_open"


def test_events_after_closure_that_may_follow_it_are_accepted() -> None:
    events = [ev(1, "closed", date(2025, 5, 1), mode="终结本次执行程序"),
              ev(2, "petition_received", date(2025, 6, 1), petition_id="P1"),
              ev(3, "amount_recovered", date(2025, 6, 2), amount="100.50"),
              ev(4, "resumed", date(2025, 7, 1))]
    lc = replay(events, filed_on=FILED, non_litigation=False)
    assert lc.resumed_on == date(2025, 7, 1)
    assert lc.amount_recovered == Decimal("100.50")
    assert lc.open_petitions == ("P1",)


def test_validation_normalizes_and_refuses() -> None:
    closed = validate_event(ev(0, "closed", date(2025, 5, 1), mode="终本"), filed_on=FILED, today=TODAY)
    assert closed.data["mode"] == "终结本次执行程序"
    amount = validate_event(ev(0, "amount_recovered", date(2025, 5, 1), amount=12), filed_on=FILED, today=TODAY)
    assert amount.data["amount"] == "12.00"
    for bad, code in [
        (ev(0, "nonsense", date(2025, 5, 1)), "unknown_event_type"),
        (ev(0, "notice_served", date(2027, 1, 1)), "event_in_future"),
        (ev(0, "notice_served", date(2024, 1, 1)), "event_before_filing"),
        (ev(0, "closed", date(2025, 5, 1), mode="随便"), "invalid_closure_mode"),
        (ev(0, "extension_approved", date(2025, 5, 1)), "invalid_event_data"),
        (ev(0, "amount_recovered", date(2025, 5, 1), amount="1.234"), "invalid_event_data"),
        (ev(0, "petition_received", date(2025, 5, 1)), "invalid_event_data"),
        (ev(0, "network_search_recorded", date(2025, 5, 1)), "invalid_event_data"),
        (ev(0, "filed", date(2025, 1, 16)), "filed_date_mismatch"),
    ]:
        with pytest.raises(InvalidEvent) as exc:
            validate_event(bad, filed_on=FILED, today=TODAY)
        assert exc.value.code == code, bad


# -- issue 16 -----------------------------------------------------------------------------------

def test_an_extension_approved_after_the_deadline_does_not_count_and_is_flagged() -> None:
    # base 2025-07-15; approved on 2025-07-20, after the period ran out: late, not counted
    late = replay([ev(1, "extension_approved", date(2025, 7, 20), months=3)], filed_on=FILED, non_litigation=False)
    assert late.deadline == date(2025, 7, 15)
    assert late.extension_months == 0
    assert [x["approved_on"] for x in late.to_dict()["late_extensions"]] == ["2025-07-20"]
    # approved on the last day of the period: counts (2025-01-15 + 9 months)
    ok = replay([ev(1, "extension_approved", date(2025, 7, 15), months=3)], filed_on=FILED, non_litigation=False)
    assert ok.deadline == date(2025, 10, 15)
    assert ok.late_extensions == ()


def test_an_extension_counts_when_approved_within_a_period_moved_by_a_suspension() -> None:
    # suspended 2025-03-01 .. 2025-03-31 (30 d): deadline 2025-08-14; extension approved 2025-08-10 counts
    events = [ev(1, "suspension_started", date(2025, 3, 1), reason="appraisal"),
              ev(2, "suspension_ended", date(2025, 3, 31)),
              ev(3, "extension_approved", date(2025, 8, 10), days=20)]
    lc = replay(events, filed_on=FILED, non_litigation=False)
    assert lc.deadline == date(2025, 9, 3)


@pytest.mark.parametrize("reason", ["deferral", "referral", "coordination"])
def test_deferral_referral_and_coordination_are_time_not_counted(reason: str) -> None:
    events = [ev(1, "suspension_started", date(2025, 3, 1), reason=reason),
              ev(2, "suspension_ended", date(2025, 3, 11), reason=reason)]
    validated = [validate_event(x, filed_on=FILED, today=TODAY) for x in events]
    lc = replay(validated, filed_on=FILED, non_litigation=False)
    assert lc.suspended_days == 10
    assert lc.deadline == date(2025, 7, 25)
    assert lc.to_dict()["time_not_counted"][0]["reason"] == reason


def test_a_suspension_ends_with_its_own_reason() -> None:
    with pytest.raises(InvalidEvent):
        validate_event(ev(0, "suspension_started", date(2025, 3, 1), reason="holiday"), filed_on=FILED, today=TODAY)
    events = [ev(1, "suspension_started", date(2025, 3, 1), reason="deferral"),
              ev(2, "suspension_ended", date(2025, 3, 11), reason="coordination")]
    with pytest.raises(EventConflict) as err:
        replay(events, filed_on=FILED, non_litigation=False)
    assert err.value.code == "suspension_reason_mismatch"


def test_a_court_may_move_a_deadline_off_a_holiday() -> None:
    from enforcement.kernel.calendar import official_calendar
    filed = date(2025, 4, 1)  # + 6 months = 2025-10-01, National Day
    assert replay([], filed_on=filed, non_litigation=False).deadline == date(2025, 10, 1)
    moved = replay([], filed_on=filed, non_litigation=False, roll=official_calendar().next_working_day)
    assert moved.deadline == date(2025, 10, 9)
