"""The case registry's service against an in-memory store: what a push and an import report, who
may push and read, and the refusals that are audited."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from enforcement.cases.registry import CaseService
from enforcement.cases.store.registry import CaseFilter
from enforcement.domain.actors import Actor
from enforcement.domain.authorization import AccessDenied
from enforcement.domain.cases import CaseRejected
from enforcement.domain.errors import CaseNotFound
from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.domain.json_input import ImportLine
from tests.unit.cases.fakes import FakeCaseRegistry

COURT = "辽0102"
CASE_SYSTEM = Actor("court-sys", "case_system", "审判管理系统", COURT)
OTHER_SYSTEM = Actor("other-sys", "case_system", "审判管理系统", "辽0103")
JUDGE = Actor("zhangwei", "judge", "张伟", COURT, "2101020031")
OTHER_JUDGE = Actor("lina", "judge", "李娜", COURT, "2101020047")
SUPERVISOR = Actor("chenjing", "supervisor", "陈静", COURT, "2101020002")
DEBTOR_ID = make_resident_id("210102", date(1978, 5, 14), 135)
APPLICANT_CODE = make_credit_code("9", "1", "210102", "MA0Y8R2K")


def body(number: int = 1032, court: str = COURT, **changes: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "case_number": f"（2026）{court}执{number}号",
        "court_code": court,
        "judge": {"login": "zhangwei", "name": "张伟", "officer_id": "2101020031"},
        "applicant": {"kind": "organization", "id_number": APPLICANT_CODE, "name": "沈阳银信小额贷款有限公司"},
        "debtors": [{"kind": "person", "id_number": DEBTOR_ID, "name": "赵建国"}],
        "cause": "借款合同纠纷",
        "amount_to_enforce": "386500.00",
        "filed_on": "2026-04-20",
    }
    b.update(changes)
    return b


def no_schema_problem(body: Any) -> None:
    return None


def line(n: int, value: Any) -> ImportLine:
    return ImportLine(n, json.dumps(value, ensure_ascii=False).encode())


def service(store: FakeCaseRegistry | None = None) -> tuple[CaseService, FakeCaseRegistry]:
    store = store or FakeCaseRegistry()
    return CaseService(store, no_schema_problem), store  # type: ignore[arg-type]


async def test_an_import_accounts_for_every_line() -> None:
    svc, _ = service(FakeCaseRegistry(conflicting={f"（2026）{COURT}执3号"}))
    await svc.push(CASE_SYSTEM, body(2))  # already there: pushed again unchanged
    lines = [
        line(1, body(1)),                                  # created
        line(2, body(2)),                                  # unchanged
        ImportLine(3, refused=("line_too_long", "Too long.", "过长")),
        ImportLine(4, b"{not json"),                       # not JSON
        line(5, body(5, amount_to_enforce="lots")),        # a bad case
        line(6, body(6, court="辽0103")),                  # another court's case
        line(7, body(3)),                                  # created, but kept as a conflict
        line(8, body(8)),                                  # created
    ]
    report = (await svc.import_lines(CASE_SYSTEM, lines, request_id="r-1")).to_dict()
    assert report["lines"] == 8
    assert (report["created"], report["updated"], report["unchanged"]) == (3, 0, 1)
    assert report["accepted"] + report["rejected_count"] == report["lines"]
    assert [(r["line"], r["code"]) for r in report["rejected"]] == [
        (3, "line_too_long"), (4, "malformed_json"), (5, "invalid_amount"), (6, "other_court")]
    assert report["rejected"][2]["case_number"] == f"（2026）{COURT}执5号"
    assert report["rejected"][2]["field"] == "amount_to_enforce"
    assert report["conflicts_count"] == 1
    assert report["conflicts"][0]["line"] == 7 and report["conflicts"][0]["conflict_id"] == 77
    assert report["conflicts"][0]["fields"] == [{"field": "status", "pushed": "open", "recorded": "closed"}]
    assert [c["line"] for c in report["cases"]] == [1, 2, 7, 8]


async def test_rows_the_store_refuses_are_reported_with_their_line() -> None:
    svc, _ = service(FakeCaseRegistry(courts={"辽0103"}))  # the case system's own court is unknown
    report = (await svc.import_lines(CASE_SYSTEM, [line(1, body(1)), line(2, body(2))])).to_dict()
    assert [(r["line"], r["code"], r["field"]) for r in report["rejected"]] == [
        (1, "unknown_court", "court_code"), (2, "unknown_court", "court_code")]
    assert report["accepted"] == 0 and report["rejected_count"] == 2


async def test_other_court_lines_are_refused_and_audited_once() -> None:
    svc, store = service()
    lines = [line(1, body(1)), line(2, body(2, court="辽0103")), line(3, body(3, court="辽0103"))]
    report = (await svc.import_lines(CASE_SYSTEM, lines, request_id="r-9")).to_dict()
    assert store.pushed == [f"（2026）{COURT}执1号"]  # the refused rows never reach the store
    assert len(store.audits) == 1
    entry = store.audits[0]
    assert (entry.action, entry.reason, entry.actor_login, entry.request_id) == (
        "refusal", "other_court", "court-sys", "r-9")
    assert entry.details == {"attempted": "case_push", "lines": [2, 3], "count": 2}
    assert report["rejected_count"] == 2


async def test_an_import_without_refusals_writes_no_audit_record() -> None:
    svc, store = service()
    await svc.import_lines(CASE_SYSTEM, [line(1, body(1))])
    assert store.audits == []


@pytest.mark.parametrize("actor", [JUDGE, SUPERVISOR, Actor("x", "case_system", "无院", None)])
async def test_only_a_courts_case_system_pushes_or_imports(actor: Actor) -> None:
    svc, store = service()
    with pytest.raises(AccessDenied):
        await svc.push(actor, body(1))
    with pytest.raises(AccessDenied):
        await svc.import_lines(actor, [line(1, body(1))])
    assert store.pushed == []


async def test_a_push_of_another_courts_case_is_refused() -> None:
    svc, store = service()
    with pytest.raises(AccessDenied) as refused:
        await svc.push(OTHER_SYSTEM, body(1))
    assert refused.value.code == "other_court"
    assert store.pushed == []


async def test_a_push_reports_its_outcome_and_the_case() -> None:
    svc, _ = service()
    done, view = await svc.push(CASE_SYSTEM, body(1))
    assert done.outcome == "created"
    assert view["case_number"] == f"（2026）{COURT}执1号"
    assert view["debtors"] == [{"kind": "person", "id_number": DEBTOR_ID, "name": "赵建国", "responsible_persons": []}]
    assert view["amount_to_enforce"] == "386500.00"
    again, _ = await svc.push(CASE_SYSTEM, body(1))
    assert (again.outcome, again.case_id) == ("unchanged", done.case_id)


async def test_a_bad_body_is_rejected_before_the_store() -> None:
    store = FakeCaseRegistry()
    svc = CaseService(store, lambda b: ("missing_field", "cause", "cause: required", "缺少 cause"))  # type: ignore[arg-type]
    with pytest.raises(CaseRejected) as rejected:
        await svc.push(CASE_SYSTEM, body(1))
    assert (rejected.value.code, rejected.value.field) == ("missing_field", "cause")
    assert store.pushed == []


async def test_reading_a_case_follows_the_point_to_point_rule() -> None:
    svc, _ = service()
    done, _ = await svc.push(CASE_SYSTEM, body(1))
    assert (await svc.get(JUDGE, done.case_id))["id"] == done.case_id
    assert (await svc.get(SUPERVISOR, done.case_id))["id"] == done.case_id
    with pytest.raises(AccessDenied):
        await svc.get(OTHER_JUDGE, done.case_id)
    with pytest.raises(CaseNotFound):
        await svc.get(JUDGE, 999)


async def test_a_judge_lists_only_their_own_cases_whatever_the_filter() -> None:
    svc, _ = service()
    await svc.push(CASE_SYSTEM, body(1))
    await svc.push(CASE_SYSTEM, body(2, judge={"login": "lina", "name": "李娜", "officer_id": "2101020047"}))
    items, total = await svc.find(JUDGE, CaseFilter(judge_login="lina"))
    assert total == 1 and [c["judge"]["login"] for c in items] == ["zhangwei"]
    items, total = await svc.find(SUPERVISOR, CaseFilter(court_code="辽0103"))  # forced to their own court
    assert total == 2
