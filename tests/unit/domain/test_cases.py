"""Parsing a pushed case: the case number, parties with valid IDs, amounts, dates and closure."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from enforcement.domain.cases import CaseRejected, parse_case, parse_case_number, statutory_deadline
from enforcement.domain.identifiers import make_credit_code, make_resident_id

TODAY = date(2026, 6, 1)
DEBTOR_ID = make_resident_id("210102", date(1978, 5, 14), 135)
APPLICANT_CODE = make_credit_code("9", "1", "210102", "MA0Y8R2K")


def body(**changes: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "case_number": "（2026）辽0102执1032号",
        "court_code": "辽0102",
        "judge": {"login": "zhangwei", "name": "张伟", "officer_id": "2101020031"},
        "applicant": {"kind": "organization", "id_number": APPLICANT_CODE, "name": "沈阳银信小额贷款有限公司"},
        "debtors": [{"kind": "person", "id_number": DEBTOR_ID, "name": "赵建国"}],
        "cause": "借款合同纠纷",
        "amount_to_enforce": "386500.00",
        "filed_on": "2026-04-20",
    }
    b.update(changes)
    return b


def rejected(b: dict[str, Any]) -> CaseRejected:
    with pytest.raises(CaseRejected) as info:
        parse_case(b, today=TODAY)
    return info.value


def test_a_good_case_parses_with_defaults() -> None:
    case = parse_case(body(), today=TODAY)
    assert case.case_type == "执" and case.status == "open" and case.amount_recovered == Decimal("0.00")
    assert case.amount_to_enforce == Decimal("386500.00")
    assert case.debtors[0].key == f"person:{DEBTOR_ID}"
    assert case.judge is not None and case.judge.login == "zhangwei"


def test_ascii_parentheses_and_a_numeric_amount_are_normalized() -> None:
    case = parse_case(body(case_number="(2026)辽0102执恢17号", amount_to_enforce=1200.5), today=TODAY)
    assert case.case_number == "（2026）辽0102执恢17号" and case.case_type == "执恢"
    assert case.amount_to_enforce == Decimal("1200.50")


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"case_number": "2026辽0102执1032"}, "invalid_case_number", "case_number"),
    ({"court_code": "辽0103"}, "court_mismatch", "court_code"),
    ({"case_type": "执保"}, "case_type_mismatch", "case_type"),
    ({"debtors": []}, "invalid_debtors", "debtors"),
    ({"amount_to_enforce": "-1"}, "invalid_amount", "amount_to_enforce"),
    ({"amount_to_enforce": "1.005"}, "invalid_amount", "amount_to_enforce"),
    ({"amount_to_enforce": "NaN"}, "invalid_amount", "amount_to_enforce"),
    ({"filed_on": "2026-02-30"}, "invalid_date", "filed_on"),
    ({"filed_on": "2026-07-01"}, "future_filing_date", "filed_on"),
    ({"status": "closed"}, "closure_incomplete", "closure_mode"),
    ({"status": "closed", "closure_mode": "执行完毕", "closed_on": "2026-01-01"}, "closed_before_filed", "closed_on"),
    ({"closure_mode": "执行完毕"}, "closure_on_open_case", "closure_mode"),
])
def test_each_rule_names_its_field(changes: dict[str, Any], code: str, field: str) -> None:
    exc = rejected(body(**changes))
    assert (exc.code, exc.field) == (code, field)
    assert exc.message_en and exc.message_zh and exc.details["field"] == field


def test_a_bad_id_number_is_refused_with_a_masked_message() -> None:
    bad = DEBTOR_ID[:-1] + ("0" if DEBTOR_ID[-1] != "0" else "1")
    exc = rejected(body(debtors=[{"kind": "person", "id_number": bad, "name": "赵建国"}]))
    assert exc.code == "invalid_resident_id" and exc.field == "debtors/0"
    text = json.dumps([exc.message_en, exc.message_zh, exc.details], ensure_ascii=False)
    assert bad not in text and bad[6:14] not in text and "赵建国" not in text


def test_a_debtor_listed_twice_is_refused() -> None:
    d = {"kind": "person", "id_number": DEBTOR_ID, "name": "赵建国"}
    assert rejected(body(debtors=[d, d])).code == "duplicate_debtor"


def test_a_closed_case_keeps_its_closure() -> None:
    case = parse_case(body(status="closed", closure_mode="终结本次执行程序", closed_on="2026-05-30"), today=TODAY)
    assert (case.status, case.closure_mode, case.closed_on) == ("closed", "终结本次执行程序", date(2026, 5, 30))


def test_case_number_parts() -> None:
    n = parse_case_number("（2025）辽0102执4420号")
    assert (n.year, n.court_code, n.case_type, n.serial) == (2025, "辽0102", "执", 4420)


@pytest.mark.parametrize(("filed", "non_litigation", "deadline"), [
    (date(2026, 1, 15), False, date(2026, 7, 15)),
    (date(2026, 1, 15), True, date(2026, 4, 15)),
    (date(2025, 8, 31), False, date(2026, 2, 28)),
    (date(2025, 11, 30), True, date(2026, 2, 28)),
    (date(2023, 8, 31), False, date(2024, 2, 29)),
])
def test_statutory_deadline(filed: date, non_litigation: bool, deadline: date) -> None:
    assert statutory_deadline(filed, non_litigation) == deadline


def test_the_number_as_written_is_kept_beside_the_canonical_one() -> None:
    case = parse_case(body(case_number="（２０２６）辽０１０２执０１０３２号"), today=TODAY)
    assert case.case_number == "（2026）辽0102执01032号"
    assert case.case_number_as_written == "（２０２６）辽０１０２执０１０３２号"


def test_state_fields_a_push_leaves_out_are_not_claims() -> None:
    assert parse_case(body(), today=TODAY).stated == frozenset()
    stated = parse_case(body(status="open", amount_recovered="0"), today=TODAY).stated
    assert stated == frozenset({"status", "amount_recovered"})
