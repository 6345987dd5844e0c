"""Issue 16: an organization debtor's responsible persons (parsed, checked, binding the order),
the notice to the applicant (its text, its event), and condition 6 reading both."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from enforcement.domain.breaches import RestrictionOrder, Stay, breaches
from enforcement.domain.cases import CaseRejected, parse_case
from enforcement.domain.checklist import COURT_TZ, ChecklistRules, Debtor, evaluate
from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.domain.lifecycle import CaseEvent, InvalidEvent, validate_event
from enforcement.domain.notices import NoticeAnswer, NoticeFacts, applicant_notice

ORG = make_credit_code("9", "1", "210102", "MA0Y8R2K")
LEGAL_REP = make_resident_id("210102", date(1970, 3, 2), 111)
PERSON = make_resident_id("210102", date(1978, 5, 14), 135)


def case_body(debtor: dict[str, Any]) -> dict[str, Any]:
    return {"case_number": "（2026）辽0102执5号", "court_code": "辽0102", "amount_to_enforce": "10.00",
            "filed_on": "2026-01-05", "applicant": {"kind": "person", "id_number": PERSON, "name": "甲"},
            "debtors": [debtor]}


def org(**extra: Any) -> dict[str, Any]:
    return {"kind": "organization", "id_number": ORG, "name": "沈阳某贸易有限公司", **extra}


def test_an_organization_debtor_carries_its_responsible_persons() -> None:
    case = parse_case(case_body(org(responsible_persons=[
        {"name": "王法", "id_number": LEGAL_REP, "role": "法定代表人"},
        {"name": "王法", "id_number": LEGAL_REP, "role": "主要负责人"},
    ])), today=date(2026, 6, 1))
    assert [(r.debtor_id_number, r.person.id_number, r.role) for r in case.responsible] == [
        (ORG, LEGAL_REP, "法定代表人"), (ORG, LEGAL_REP, "主要负责人")]


@pytest.mark.parametrize(("debtor", "code"), [
    ({"kind": "person", "id_number": PERSON, "name": "赵", "responsible_persons": []}, "responsible_on_person"),
    (org(responsible_persons=[{"name": "王法", "id_number": LEGAL_REP[:-1] + ("0" if LEGAL_REP[-1] != "0" else "1"),
                               "role": "法定代表人"}]), "invalid_resident_id"),
    (org(responsible_persons=[{"name": "王法", "id_number": LEGAL_REP, "role": "董事"}]), "invalid_responsible_role"),
    (org(responsible_persons=[{"name": "王法", "id_number": LEGAL_REP, "role": "法定代表人"}] * 2),
     "duplicate_responsible_person"),
])
def test_bad_responsible_persons_are_refused_naming_the_rule(debtor: dict[str, Any], code: str) -> None:
    with pytest.raises(CaseRejected) as err:
        parse_case(case_body(debtor), today=date(2026, 6, 1))
    assert err.value.code == code
    assert LEGAL_REP not in err.value.message_en and LEGAL_REP not in err.value.message_zh


def stay(day: date, stars: int = 4) -> Stay:
    return Stay("k", "沈阳某大酒店", stars, "沈阳", datetime(day.year, day.month, day.day, 20, tzinfo=COURT_TZ), None)


def test_a_legal_representatives_star_stay_after_the_order_breaches_the_organizations_order() -> None:
    order = RestrictionOrder(1, 9, 3, date(2026, 3, 1), bound_role="法定代表人", bound_name="王法",
                             debtor_name="沈阳某贸易有限公司")
    assert breaches([order], [stay(date(2026, 3, 1)), stay(date(2026, 3, 5), stars=0)]) == []
    [b] = breaches([order], [stay(date(2026, 3, 2))])
    assert b.message()["zh"].startswith("被执行人沈阳某贸易有限公司的法定代表人王法于2026-03-02入住4星级酒店")
    assert b.evidence()["bound_person"] == {"role": "法定代表人", "name": "王法", "debtor_name": "沈阳某贸易有限公司"}


def facts(occasion: str, answers: tuple[NoticeAnswer, ...]) -> NoticeFacts:
    return NoticeFacts("（2026）辽0102执5号", "沈阳市和平区人民法院", "甲", ("赵建国",), occasion, date(2026, 9, 1),
                       answers, round=2 if occasion == "requery" else None)


def test_the_notice_names_the_case_the_searches_and_nothing_found() -> None:
    text = applicant_notice(facts("requery", (
        NoticeAnswer("赵建国", "银行存款", "deposits", date(2026, 8, 30), 0),
        NoticeAnswer("赵建国", "旅馆业住宿登记信息", "location", date(2026, 8, 29), 0))))
    assert text.startswith("申请执行人甲：")
    assert "（2026）辽0102执5号" in text and "第二次网络查控复查" in text
    assert "2026-08-30，银行存款（存款），被执行人赵建国：查无财产。" in text
    assert "被执行人赵建国：已查询。" in text  # whereabouts: searched, content not told
    assert "未发现被执行人有可供执行的财产（查无财产）" in text
    assert "可以随时向本院提供财产线索" in text and "申请恢复执行" in text
    assert text.endswith("沈阳市和平区人民法院\n2026年9月1日")


def test_the_notice_tells_what_was_found() -> None:
    text = applicant_notice(facts("zhongben", (NoticeAnswer("赵建国", "车辆", "vehicles", date(2026, 8, 30), 2),)))
    assert "被执行人赵建国：发现2项。" in text and "共发现财产2项" in text and "查无财产" not in text
    assert "终结本次执行程序前" in text


def ev(t: str, day: date, **data: Any) -> CaseEvent:
    return validate_event(CaseEvent(0, t, day, data), filed_on=date(2026, 1, 1), today=date(2026, 12, 1))


@pytest.mark.parametrize(("t", "data", "field"), [
    ("applicant_notified", {"channel": "微信", "content": "x", "occasion": "zhongben"}, "channel"),
    ("applicant_notified", {"channel": "短信", "occasion": "zhongben"}, "content"),
    ("applicant_notified", {"channel": "短信", "content": "x", "occasion": "requery"}, "round"),
    ("zhongben_ruling_served", {"channel": "书面"}, "document_number"),
])
def test_notice_and_ruling_events_need_their_data(t: str, data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEvent) as err:
        ev(t, date(2026, 6, 1), **data)
    assert err.value.details.get("field") == field or field in err.value.message_en


def condition_6(*events: CaseEvent) -> tuple[bool, bool, int]:
    cl = evaluate(filed_on=date(2026, 1, 1), as_of=date(2026, 12, 1), events=events,
                  debtors=[Debtor(1, "person", PERSON, "赵建国")], searches=[], rules=ChecklistRules())
    c6 = cl.conditions[5]
    heard, approved = c6.requirements
    return heard.met, approved.met, len(heard.evidence)


def test_condition_6_reads_the_notice_and_the_served_ruling() -> None:
    told = ev("applicant_notified", date(2026, 6, 1), channel="短信", content="告知书", occasion="zhongben")
    told_and_heard = ev("applicant_notified", date(2026, 6, 2), channel="当面", content="告知书", occasion="zhongben",
                        heard=True, opinion="无新线索")
    served = ev("zhongben_ruling_served", date(2026, 6, 9), channel="电子送达",
                document_number="（2026）辽0102执5号之一")
    assert condition_6() == (False, False, 0)
    assert condition_6(told) == (False, False, 1)  # told is not heard; the notice is shown
    assert condition_6(told, told_and_heard, served) == (True, True, 2)
