"""The pure access rules, each refusal with its reason code."""

from __future__ import annotations

import pytest

from enforcement.domain.actors import Actor
from enforcement.domain.authorization import (
    AccessDenied,
    CaseAccess,
    check_api_gate,
    check_list_cases,
    check_push_case,
    check_read,
    check_read_audit,
    check_search,
)

ZHANG = Actor("zhangwei", "judge", "张伟", "辽0102")
LINA = Actor("lina", "judge", "李娜", "辽0102")
WANG = Actor("wangfang", "judge", "王芳", "辽0103")
CHEN = Actor("chenjing", "supervisor", "陈静", "辽0102")
LIU = Actor("liuyang", "supervisor", "刘洋", "辽0103")
OPS = Actor("ops", "ops", "运维")
BANK = Actor("bank-gateway", "agency", "银行", agency="banks")
CMS = Actor("cms-0102", "case_system", "审判系统", "辽0102")
CMS3 = Actor("cms-0103", "case_system", "审判系统", "辽0103")
OPEN = CaseAccess(1, "辽0102", "zhangwei", "open")
CLOSED = CaseAccess(2, "辽0102", "zhangwei", "closed")


def code(fn: object, *args: object, **kwargs: object) -> str | None:
    try:
        fn(*args, **kwargs)  # type: ignore[operator]
    except AccessDenied as exc:
        return exc.code
    return None


@pytest.mark.parametrize(("actor", "case", "debtor", "expected"), [
    (ZHANG, OPEN, True, None),
    (ZHANG, OPEN, False, "subject_not_debtor"),
    (ZHANG, CLOSED, True, "case_not_open"),
    (LINA, OPEN, True, "not_case_judge"),
    (WANG, OPEN, True, "not_case_judge"),
    (CHEN, OPEN, True, "role_cannot_search"),
    (OPS, OPEN, True, "role_cannot_search"),
    (CMS, OPEN, True, "role_cannot_search"),
])
def test_search(actor: Actor, case: CaseAccess, debtor: bool, expected: str | None) -> None:
    assert code(check_search, actor, case, subject_is_debtor=debtor) == expected


@pytest.mark.parametrize(("actor", "expected"), [
    (ZHANG, None), (LINA, "not_case_judge"), (WANG, "not_case_judge"), (CHEN, None), (LIU, "other_court"),
    (OPS, "role_cannot_read"), (BANK, "role_cannot_read"), (CMS, "role_cannot_read"),
])
def test_read(actor: Actor, expected: str | None) -> None:
    assert code(check_read, actor, OPEN) == expected
    assert code(check_read, actor, CLOSED) == expected  # the judge still reads a closed case's results


def test_push_list_audit_and_gate() -> None:
    assert code(check_push_case, CMS, "辽0102") is None
    assert code(check_push_case, CMS3, "辽0102") == "other_court"
    assert code(check_push_case, CHEN, "辽0102") == "role_cannot_push_cases"
    assert [code(check_list_cases, a) for a in (ZHANG, CHEN, OPS, CMS)] == [None, None, "role_cannot_read",
                                                                          "role_cannot_read"]
    assert check_read_audit(CHEN) == "辽0102"
    assert code(check_read_audit, ZHANG) == "role_cannot_read_audit"
    assert check_read_audit(OPS) is None  # ops: the records of no court (issue 14)
    assert code(check_api_gate, OPS, "/api/v1/audit") is None
    assert code(check_api_gate, OPS, "/api/v1/searches") == "role_not_allowed"
    assert code(check_api_gate, OPS, "/api/v1/agencies") is None  # the agencies' health
    assert code(check_api_gate, BANK, "/api/v1/cases") == "role_not_allowed"
    assert code(check_api_gate, CMS, "/api/v1/cases:import") is None
    assert code(check_api_gate, CMS, "/api/v1/cases/3") is None
    assert code(check_api_gate, CMS, "/api/v1/casesX") == "role_not_allowed"
    assert code(check_api_gate, CMS, "/api/v1/searches") == "role_not_allowed"
    assert code(check_api_gate, ZHANG, "/api/v1/anything") is None


def test_a_refusal_carries_its_audit_context_but_not_in_its_details() -> None:
    exc = AccessDenied("not_case_judge", "en", "zh").about(case_id=1, subject_key="person:x", purpose=None)
    assert exc.audit_context == {"case_id": 1, "subject_key": "person:x"}
    assert "subject_key" not in exc.details
