"""The pure access rules, each refusal with its reason code."""

from __future__ import annotations

from typing import Any

import pytest

from enforcement.domain import authorization as authz
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
from enforcement.domain.errors import CaseNotFound, NotFoundError

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
ZHONGBEN_CLOSED = CaseAccess(3, "辽0102", "zhangwei", "closed", "终结本次执行程序")
PERFORMED = CaseAccess(4, "辽0102", "zhangwei", "closed", "执行完毕")
TERMINATED = CaseAccess(5, "辽0102", "zhangwei", "closed", "终结执行")
SUSPENDED = CaseAccess(6, "辽0102", "zhangwei", "suspended")


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
    # 终本 closes the case for now: the judge holding it keeps searching its debtor (DOMAIN.md §4)
    (ZHANG, ZHONGBEN_CLOSED, True, None),
    (ZHANG, ZHONGBEN_CLOSED, False, "subject_not_debtor"),
    (LINA, ZHONGBEN_CLOSED, True, "not_case_judge"),
    (CHEN, ZHONGBEN_CLOSED, True, "role_cannot_search"),
    # any other closure ends the enforcement, and a suspended case is not searched
    (ZHANG, PERFORMED, True, "case_not_open"),
    (ZHANG, TERMINATED, True, "case_not_open"),
    (ZHANG, SUSPENDED, True, "case_not_open"),
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


# --- one place for who may do what: scopes, permissions, the features' rules ---

_JUDGE = Actor("zhangwei", "judge", "张伟", "辽0102")
_SUPERVISOR = Actor("chenjing", "supervisor", "陈静", "辽0102")
_SYSTEM = Actor("cms-0102", "case_system", "审判流程管理系统", "辽0102")
_OPS = Actor("ops", "ops", "运维")
_AGENCY = Actor("bank-gateway", "agency", "银行", agency="banks")
_CASE = authz.CaseAccess(1, "辽0102", "zhangwei", "open")


def _code(call: Any) -> str | None:
    try:
        call()
    except authz.AccessDenied as exc:
        return exc.code
    return None


def test_scope_of_a_judge_is_their_cases_a_supervisor_their_court_others_none() -> None:
    assert authz.scope_of(_JUDGE) == authz.Scope("辽0102", "zhangwei")
    assert authz.scope_of(_SUPERVISOR) == authz.Scope("辽0102", None) and authz.scope_of(_SUPERVISOR).court_wide
    for actor in (_SYSTEM, _OPS, _AGENCY, Actor("x", "supervisor", "无院", None)):
        assert _code(lambda a=actor: authz.scope_of(a)) == "role_cannot_read"
    assert _code(lambda: authz.check_list_alerts(_OPS)) == "role_cannot_read_alerts"


def test_indicator_scope_binds_what_is_asked_to_what_the_actor_may_see() -> None:
    assert authz.indicator_scope(_SUPERVISOR, court_code=None, judge_login="lina") == authz.Scope("辽0102", "lina")
    assert _code(lambda: authz.indicator_scope(_SUPERVISOR, court_code="辽0103", judge_login=None)) == "other_court"
    assert authz.indicator_scope(_JUDGE, court_code=None, judge_login=None) == authz.Scope("辽0102", "zhangwei")
    assert _code(lambda: authz.indicator_scope(_JUDGE, court_code=None, judge_login="lina")) == "not_own_figures"
    assert _code(lambda: authz.indicator_scope(_OPS, court_code=None, judge_login=None)) == \
        "role_cannot_read_indicators"


def test_the_features_rules_each_say_who_and_why_not() -> None:
    other = authz.CaseAccess(2, "辽0103", "wangfang", "open")
    assert _code(lambda: authz.check_record_event(_JUDGE, _CASE)) is None
    assert _code(lambda: authz.check_record_event(_SYSTEM, other)) == "other_court"
    assert _code(lambda: authz.check_record_event(_JUDGE, other)) == "not_case_judge"
    assert _code(lambda: authz.check_record_event(_OPS, _CASE)) == "role_cannot_record_events"
    assert _code(lambda: authz.check_override_closure(_SUPERVISOR, _CASE)) is None
    assert _code(lambda: authz.check_override_closure(_SUPERVISOR, other)) == "override_requires_supervisor"
    assert _code(lambda: authz.check_override_closure(_JUDGE, _CASE)) == "override_requires_supervisor"
    assert _code(lambda: authz.check_import_events(_SUPERVISOR)) == "role_cannot_import_events"
    assert _code(lambda: authz.check_import_events(_SYSTEM)) is None
    assert _code(lambda: authz.check_search_batch(_SUPERVISOR)) == "role_cannot_search"
    assert _code(lambda: authz.check_read_batch(_JUDGE, requested_by="zhangwei", court_code=None)) is None
    assert _code(lambda: authz.check_read_batch(_SUPERVISOR, requested_by="lina", court_code="辽0102")) is None
    assert _code(lambda: authz.check_read_batch(_SUPERVISOR, requested_by="lina", court_code=None)) == \
        "not_batch_owner"
    assert _code(lambda: authz.check_may_push_cases(_SYSTEM)) is None
    assert _code(lambda: authz.check_may_push_cases(_SUPERVISOR)) == "role_cannot_push_cases"
    assert _code(lambda: authz.check_read_metrics(_OPS)) is None
    assert _code(lambda: authz.check_read_metrics(_SUPERVISOR)) == "role_not_allowed"
    assert _code(lambda: authz.check_read_agencies(_AGENCY)) == "role_cannot_read"


def test_permissions_are_the_rules_answers() -> None:
    assert authz.permissions_of(_JUDGE) == {"control_own_cases", "list_cases", "read_agencies", "read_alerts",
                                            "read_indicators", "read_measures", "search_own_cases"}
    assert authz.permissions_of(_SUPERVISOR) == {
        "approve_deductions", "list_cases", "list_court_cases", "override_closure", "read_agencies", "read_alerts",
        "read_audit", "read_court_indicators", "read_indicators", "read_measures", "read_push_conflicts",
        "reject_deductions"}
    assert authz.permissions_of(_SYSTEM) == {"push_cases", "read_push_conflicts"}
    assert authz.permissions_of(_OPS) == {"read_agencies", "read_audit", "read_metrics"}
    assert authz.permissions_of(_AGENCY) == frozenset()


def test_measure_list_scope() -> None:
    assert authz.measure_list_scope(_JUDGE) == authz.Scope(_JUDGE.court_code, _JUDGE.login)
    assert authz.measure_list_scope(_SUPERVISOR) == authz.Scope(_SUPERVISOR.court_code, None)
    for other in (_SYSTEM, _OPS, _AGENCY):
        assert _code(lambda o=other: authz.measure_list_scope(o)) == "role_cannot_read_measures"


def test_case_permissions() -> None:
    assert authz.case_permissions(_JUDGE, _CASE) == {"read", "search", "record_events"}
    assert authz.case_permissions(_JUDGE, authz.CaseAccess(1, "辽0102", "zhangwei", "closed")) == \
        {"read", "record_events"}
    assert authz.case_permissions(_SUPERVISOR, _CASE) == {"read", "record_events", "override_closure"}
    assert authz.case_permissions(Actor("lina", "judge", "李娜", "辽0102"), _CASE) == frozenset()


def test_case_not_found_is_defined_once_in_the_domain_catalogue() -> None:
    exc = CaseNotFound()
    assert isinstance(exc, NotFoundError)
    assert (exc.code, exc.message_en, exc.message_zh) == ("case_not_found", "No such case.", "案件不存在")
