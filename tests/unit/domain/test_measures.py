"""Control measures: terms by law, renewal due dates, rulings, amounts, targets, who may act."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from enforcement.domain import measures as m
from enforcement.domain.actors import Actor
from enforcement.domain.authorization import (
    MEASURE_ACTS,
    AccessDenied,
    CaseAccess,
    check_approve_measure,
    check_measure,
    check_withdraw_measure,
    deduction_needs_approval,
    measure_permissions,
)
from enforcement.domain.errors import StateConflict

TODAY = date(2026, 3, 10)
ACCOUNT = m.TargetAsset("bank_account", "中国工商银行:6222001234567890123:CNY", Decimal("5000.00"))
CAR = m.TargetAsset("vehicle", "辽A12345:LFV2A21K5D4012345")
FOUND = (ACCOUNT, CAR)


def rule(fn: object, *args: object, **kwargs: object) -> str | None:
    try:
        fn(*args, **kwargs)  # type: ignore[operator]
    except (m.InvalidMeasure, StateConflict) as exc:
        return exc.code
    return None


@pytest.mark.parametrize(("category", "start", "end"), [
    ("deposits", date(2025, 3, 1), date(2026, 3, 1)),  # Civil Code 201: the first day is not counted
    ("movables", date(2025, 3, 1), date(2027, 3, 1)),
    ("real_estate", date(2025, 3, 1), date(2028, 3, 1)),
    ("deposits", date(2024, 2, 29), date(2025, 2, 28)),  # Civil Code 203: no 29 Feb, the month's last day
])
def test_legal_maximum_terms(category: m.Category, start: date, end: date) -> None:
    assert m.max_term_end(category, start) == end
    assert m.term_end(category, start) == end


def test_a_shorter_term_is_kept_and_a_longer_refused() -> None:
    assert m.term_end("deposits", date(2025, 3, 1), date(2025, 9, 1)) == date(2025, 9, 1)
    assert rule(m.term_end, "deposits", date(2025, 3, 1), date(2026, 3, 2)) == "term_too_long"
    assert rule(m.term_end, "deposits", date(2025, 3, 1), date(2025, 3, 1)) == "term_before_start"


def test_renewal_due_and_lapse() -> None:
    expires = date(2026, 3, 31)
    assert m.renewal_due_on(expires) == date(2026, 3, 16)
    assert m.expiry_state(expires, date(2026, 3, 15)) == "running"
    assert m.expiry_state(expires, date(2026, 3, 16)) == "due"
    assert m.expiry_state(expires, expires) == "due"
    assert m.expiry_state(expires, date(2026, 4, 1)) == "lapsed"
    assert m.expiry_state(expires, date(2026, 3, 10), notice_days=30) == "due"


def test_renewal_starts_the_day_after_and_never_after_a_lapse() -> None:
    assert m.renewal_term("deposits", date(2026, 3, 31), TODAY) == (date(2026, 3, 31), date(2027, 3, 31))
    assert m.renewal_term("movables", date(2026, 3, 31), TODAY)[1] == date(2028, 3, 31)
    assert rule(m.renewal_term, "deposits", date(2026, 3, 9), TODAY) == "measure_lapsed"


def test_ruling() -> None:
    r = m.Ruling.parse("(2026)辽0102执12号之一", "2026-03-01", today=TODAY)
    assert r == m.Ruling("（2026）辽0102执12号之一", date(2026, 3, 1))
    assert rule(m.Ruling.parse, "辽0102执12号", "2026-03-01", today=TODAY) == "ruling_number_invalid"
    assert rule(m.Ruling.parse, "（2026）辽0102执12号", "2026-03-11", today=TODAY) == "ruling_in_future"
    assert rule(m.Ruling.parse, "（2025）辽0102执12号", "2025-11-01", today=TODAY) == "ruling_expired"
    assert rule(m.Ruling.parse, "（2025）辽0102执12号", "2025-11-01", today=TODAY, valid_days=200) is None
    assert rule(m.Ruling.parse, "（2027）辽0102执12号", "2026-03-01", today=TODAY) == "ruling_year_mismatch"
    assert rule(m.Ruling.parse, "（2026）辽0102执12号", "yesterday", today=TODAY) == "date_invalid"


@pytest.mark.parametrize(("raw", "code"), [
    (0, "amount_not_positive"), ("-1", "amount_not_positive"), ("1.001", "amount_invalid"),
    ("NaN", "amount_not_positive"), ("abc", "amount_invalid"), (True, "amount_invalid"),
    ("1e13", "amount_invalid"), (None, "amount_invalid"),
])
def test_bad_amounts(raw: object, code: str) -> None:
    assert rule(m.parse_amount, raw, required=True) == code


def test_amounts() -> None:
    assert m.parse_amount("12.5", required=True) == Decimal("12.50")
    assert m.parse_amount(None, required=False) is None


def test_target_must_come_from_a_search_of_the_case() -> None:
    assert m.check_target("bank_account", ACCOUNT.natural_key, FOUND) is ACCOUNT
    assert rule(m.check_target, "bank_account", "other:1:CNY", FOUND) == "asset_not_found_by_search"
    assert rule(m.check_target, "vehicle", ACCOUNT.natural_key, FOUND) == "asset_not_found_by_search"
    assert rule(m.check_target, "pension", "x", FOUND) == "asset_kind_invalid"


def test_new_measure_fits_the_asset_and_the_balance() -> None:
    assert m.check_new_measure("freeze", ACCOUNT, Decimal("5000.00")) == Decimal("5000.00")
    assert m.check_new_measure("freeze", ACCOUNT, None) is None  # the whole account
    assert rule(m.check_new_measure, "freeze", ACCOUNT, Decimal("5000.01")) == "amount_exceeds_balance"
    assert rule(m.check_new_measure, "seal", ACCOUNT, None) == "kind_not_for_asset"
    assert rule(m.check_new_measure, "freeze", CAR, None) == "kind_not_for_asset"
    assert rule(m.check_new_measure, "seal", CAR, Decimal("1")) == "amount_not_for_seal"
    assert m.check_new_measure("seal", CAR, None) is None


def test_follow_ups_act_on_an_active_control() -> None:
    assert rule(m.check_follow_up, "renew", "freeze", "active") is None
    assert rule(m.check_follow_up, "release", "seal", "partial") is None
    assert rule(m.check_follow_up, "deduct", "seal", "active") == "not_a_freeze"
    assert rule(m.check_follow_up, "renew", "freeze", "released") == "measure_not_active"
    assert rule(m.check_follow_up, "release", "deduct", "done") == "not_a_control"
    assert rule(m.check_deduction, Decimal("10"), Decimal("9.99")) == "amount_exceeds_frozen"


def test_idempotency_key_and_notice_number() -> None:
    a = m.idempotency_key(7, "freeze", ACCOUNT.natural_key, "（2026）辽0102执12号", None)
    assert a == m.idempotency_key(7, "freeze", ACCOUNT.natural_key, "（2026）辽0102执12号", None)
    assert a != m.idempotency_key(7, "renew", ACCOUNT.natural_key, "（2026）辽0102执12号", 3)
    assert m.assistance_notice_number("辽0102", 2026, 42) == "（2026）辽0102执协00042号"


JUDGE = Actor("zhangwei", "judge", "张伟", "辽0102")
OTHER = Actor("lina", "judge", "李娜", "辽0102")
SUPERVISOR = Actor("chenjing", "supervisor", "陈静", "辽0102")
FAR_SUPERVISOR = Actor("liuyang", "supervisor", "刘洋", "辽0103")
OPEN = CaseAccess(1, "辽0102", "zhangwei", "open")


def denied(fn: object, *args: object) -> str | None:
    try:
        fn(*args)  # type: ignore[operator]
    except AccessDenied as exc:
        return exc.code
    return None


def test_only_the_cases_judge_takes_measures() -> None:
    assert denied(check_measure, JUDGE, OPEN) is None
    assert denied(check_measure, OTHER, OPEN) == "not_case_judge"
    assert denied(check_measure, SUPERVISOR, OPEN) == "role_cannot_control"
    assert denied(check_measure, JUDGE, CaseAccess(1, "辽0102", "zhangwei", "closed")) == "case_not_open"


def _case(status: str, mode: str | None = None) -> CaseAccess:
    return CaseAccess(1, "辽0102", "zhangwei", status, mode)


# Every cell of what a case's state allows the judge holding it (check_measure's table).
_OK = None
NO, RESUME, RELEASE_ONLY = "case_not_open", "resume_case_first", "case_closed_release_only"
CELLS = [  # case: freeze, seal, deduct, renew, release
    (_case("open"), _OK, _OK, _OK, _OK, _OK),
    (_case("suspended"), NO, NO, NO, _OK, _OK),
    (_case("closed", "终结本次执行程序"), RESUME, RESUME, RESUME, _OK, _OK),
    (_case("closed", "和解长期履行"), RESUME, RESUME, RESUME, _OK, _OK),
    (_case("closed", "执行完毕"), NO, NO, NO, RELEASE_ONLY, _OK),
    (_case("closed", "终结执行"), NO, NO, NO, RELEASE_ONLY, _OK),
    (_case("closed", "销案"), NO, NO, NO, RELEASE_ONLY, _OK),
    (_case("closed", None), NO, NO, NO, RELEASE_ONLY, _OK),
]


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: f"{c[0].status}-{c[0].closure_mode}")
def test_what_each_case_state_allows(cell: tuple[object, ...]) -> None:
    """After 终本 the court keeps, renews or releases its controls; a new freeze, seal or a
    deduction waits for the case to be resumed (恢复执行). Other closures: release only."""
    case, *expected = cell
    assert isinstance(case, CaseAccess)
    got = [denied(check_measure, JUDGE, case, kind) for kind in ("freeze", "seal", "deduct", "renew", "release")]
    assert got == expected
    # Whatever the state, only the judge holding the case.
    for kind in ("renew", "release"):
        assert denied(check_measure, OTHER, case, kind) == "not_case_judge"
        assert denied(check_measure, SUPERVISOR, case, kind) == "role_cannot_control"


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: f"{c[0].status}-{c[0].closure_mode}")
def test_the_measure_permissions_a_case_page_offers_are_the_rules_answers(cell: tuple[object, ...]) -> None:
    """``measure_permissions`` (what the workbench offers) names exactly the acts the rules allow."""
    case, *expected = cell
    assert isinstance(case, CaseAccess)
    allowed = {kind for kind, code in zip(("freeze", "seal", "deduct", "renew", "release"), expected, strict=True)
               if code is None}
    assert measure_permissions(JUDGE, case) == allowed | {"withdraw"}
    approving = {"approve"} if case.status == "open" else set()
    assert measure_permissions(SUPERVISOR, case) == approving | {"reject"}
    assert measure_permissions(OTHER, case) == frozenset()
    assert measure_permissions(FAR_SUPERVISOR, case) == frozenset()
    assert set(MEASURE_ACTS) >= measure_permissions(JUDGE, OPEN) | measure_permissions(SUPERVISOR, OPEN)


def test_only_the_cases_judge_withdraws_a_held_deduction_whatever_the_case_state() -> None:
    for case in (OPEN, _case("closed", "执行完毕")):
        assert denied(check_withdraw_measure, JUDGE, case) is None
        assert denied(check_withdraw_measure, OTHER, case) == "not_case_judge"
        assert denied(check_withdraw_measure, SUPERVISOR, case) == "not_case_judge"


def test_approving_a_held_deduction_needs_a_case_that_still_allows_it_rejecting_does_not() -> None:
    zhongben, done = _case("closed", "终结本次执行程序"), _case("closed", "执行完毕")
    assert denied(check_approve_measure, SUPERVISOR, zhongben) == "resume_case_first"
    assert denied(check_approve_measure, SUPERVISOR, done) == "case_not_open"
    assert denied(check_approve_measure, SUPERVISOR, _case("suspended")) == "case_not_open"
    for case in (zhongben, done):
        assert denied(lambda a, c: check_approve_measure(a, c, approving=False), SUPERVISOR, case) is None
        assert denied(lambda a, c: check_approve_measure(a, c, approving=False), FAR_SUPERVISOR, case) == \
            "approval_requires_supervisor"


def test_a_rejection_needs_a_reason() -> None:
    assert rule(m.check_cancel_reason, None, required=True) == "reason_required"
    assert rule(m.check_cancel_reason, "  ", required=True) == "reason_required"
    assert rule(m.check_cancel_reason, 5, required=False) == "reason_required"
    assert rule(m.check_cancel_reason, "x" * 501, required=True) == "reason_too_long"
    assert m.check_cancel_reason(None, required=False) is None
    assert m.check_cancel_reason(" 金额有误 ", required=True) == "金额有误"


def test_large_deductions_need_a_supervisor_of_the_court() -> None:
    assert deduction_needs_approval(Decimal("100000.01"), Decimal("100000"))
    assert not deduction_needs_approval(Decimal("100000"), Decimal("100000"))
    assert denied(check_approve_measure, SUPERVISOR, OPEN) is None
    assert denied(check_approve_measure, FAR_SUPERVISOR, OPEN) == "approval_requires_supervisor"
    assert denied(check_approve_measure, JUDGE, OPEN) == "approval_requires_supervisor"


def test_closure_advice_keeps_on_zhongben_and_releases_on_full_payment() -> None:
    expires = date(2026, 3, 1)
    keep = m.advice_on_closure("终结本次执行程序", expires, date(2025, 12, 1), 15)
    assert keep.action == "keep" and keep.renew_by == expires and "2026-02-14" in keep.message_en
    due = m.advice_on_closure("终结本次执行程序", expires, date(2026, 2, 14), 15)
    assert due.action == "renew" and due.renew_by == expires
    assert m.advice_on_closure("终结本次执行程序", expires, date(2026, 3, 1), 15).action == "renew"
    assert m.advice_on_closure("终结本次执行程序", expires, date(2026, 3, 2), 15).action == "lapsed"
    assert m.advice_on_closure("和解长期履行", expires, date(2025, 12, 1)).action == "keep"
    for mode in ("执行完毕", "终结执行", "不予执行", "驳回申请", "销案"):
        release = m.advice_on_closure(mode, expires, date(2025, 12, 1))
        assert release.action == "release" and release.renew_by is None, mode
    assert m.advice_on_closure("执行完毕", None, date(2025, 12, 1)).to_dict()["action"] == "release"
    assert m.advice_on_closure("终结本次执行程序", None, date(2025, 12, 1)).action == "keep"


def test_securities_are_frozen_whole_for_at_most_three_years() -> None:
    """冻结证券: a freeze of other property rights (最高法《关于人民法院民事执行中查封、扣押、冻结财产的
    规定》, 民诉法解释: 查封不动产、冻结其他财产权的期限不得超过三年), by the securities connector."""
    holding = m.TargetAsset("securities_holding", "SH:A123456789:600519")
    assert m.CONTROL_KIND["securities_holding"] == "freeze" and m.AGENCY_OF["securities_holding"] == "securities"
    category = m.CATEGORY_OF["securities_holding"]
    assert m.max_term_end(category, date(2025, 3, 1)) == date(2028, 3, 1)
    assert rule(m.term_end, category, date(2025, 3, 1), date(2028, 3, 2)) == "term_too_long"
    assert m.renewal_term(category, date(2026, 3, 31), TODAY)[1] == date(2029, 3, 31)
    assert m.check_target("securities_holding", holding.natural_key, (holding,)) is holding
    assert m.check_new_measure("freeze", holding, None) is None
    assert rule(m.check_new_measure, "seal", holding, None) == "kind_not_for_asset"
    assert rule(m.check_new_measure, "freeze", holding, Decimal("100")) == "amount_not_for_asset"
    # renewed and released like any control; deducted from, never (扣划 is of deposits only)
    assert rule(m.check_follow_up, "renew", "freeze", "active", "securities_holding") is None
    assert rule(m.check_follow_up, "deduct", "freeze", "active", "securities_holding") == "not_a_freeze"
    assert rule(m.check_follow_up, "deduct", "freeze", "active", "bank_account") is None


def test_a_control_due_offers_renew_or_release_only_when_permitted() -> None:
    judge = frozenset({"renew", "release", "deduct", "freeze", "seal"})
    assert m.due_control_act("open", None, judge) == "renew"
    assert m.due_control_act("suspended", None, frozenset({"renew", "release"})) == "renew"
    assert m.due_control_act("closed", "终结本次执行程序", frozenset({"renew", "release"})) == "renew"
    assert m.due_control_act("closed", "执行完毕", frozenset({"release"})) == "release"
    assert m.due_control_act("open", None, frozenset({"approve", "reject"})) is None  # a supervisor
    assert m.due_control_act("closed", "执行完毕", frozenset({"renew"})) is None  # never a renewal there
    assert m.control_action("renew", 7, "（2026）辽0102执1号", date(2026, 12, 7)) == {
        "method": "POST", "href": "/api/v1/measures/7:renew",
        "body": {"ruling": {"number": "（2026）辽0102执1号", "ruled_on": "2026-12-07"}}}
    assert m.control_action("release", 7, "n", None)["body"] == {"ruling": {"number": "n"}}
