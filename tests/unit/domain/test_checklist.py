"""The 终本 checklist: a complete file is ready; each condition missing in turn is named, with
the requirement and the debtor, and nothing else goes missing with it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from enforcement.domain.checklist import ChecklistRules, Debtor, SearchFact, evaluate
from enforcement.domain.lifecycle import CaseEvent

FILED = date(2025, 1, 10)
AS_OF = date(2025, 6, 1)
D1 = Debtor(11, "person", "210102197805141353", "赵建国")
D2 = Debtor(12, "organization", "91210102MA0T5K3L2X", "沈阳鑫盛商贸有限公司")
RULES = ChecklistRules()


def e(i: int, t: str, on: str, **data: Any) -> CaseEvent:
    return CaseEvent(i, t, date.fromisoformat(on), data)


def s(subject: Debtor, agency: str, category: str, on: str, n: int = 0) -> SearchFact:
    return SearchFact("00000000-0000-0000-0000-00000000000" + str(n % 10), subject.subject_key, agency, category,
                      "财产调查", datetime.fromisoformat(on + "T03:00:00").replace(tzinfo=UTC), n)


def complete_file() -> tuple[list[CaseEvent], list[SearchFact]]:
    events = [
        e(1, "notice_served", "2025-01-15"),
        e(2, "property_report_ordered", "2025-01-15"),
        e(3, "consumption_restriction_issued", "2025-01-20"),
        e(4, "dishonest_listed", "2025-01-20", debtor_id_number=D1.id_number),
        e(5, "dishonest_not_qualified", "2025-01-20", debtor_id_number=D2.id_number),
        e(6, "applicant_leads_checked", "2025-03-01"),
        e(7, "onsite_inquiry", "2025-03-05"),
        # real estate and securities come from the 总对总 network, outside the service
        e(8, "network_search_recorded", "2025-03-10", category="real_estate", found=False),
        e(9, "network_search_recorded", "2025-03-10", category="securities", found=False),
        e(10, "applicant_heard", "2025-05-01"),
        e(11, "closure_approved", "2025-05-20"),
    ]
    searches = [s(d, agency, cat, "2025-02-01") for d in (D1, D2)
                for agency, cat in (("banks", "deposits"), ("vehicles", "vehicles"))]
    return events, searches


def check(events: list[CaseEvent], searches: list[SearchFact], as_of: date = AS_OF, **rules: Any) -> Any:
    return evaluate(filed_on=FILED, as_of=as_of, events=events, debtors=[D1, D2], searches=searches,
                    rules=ChecklistRules(**rules) if rules else RULES)


def test_a_complete_file_is_ready_with_evidence_for_every_requirement() -> None:
    events, searches = complete_file()
    cl = check(events, searches)
    assert cl.ready, cl.missing
    assert [c.number for c in cl.conditions] == [1, 2, 3, 4, 5, 6]
    cond3 = cl.conditions[2]
    deposits = [r for r in cond3.requirements if r.code == "network_search_deposits"]
    assert {r.debtor.party_id for r in deposits if r.debtor} == {11, 12}
    assert deposits[0].evidence[0].source == "search"
    assert deposits[0].evidence[0].detail["agency"] == "banks"
    real_estate = next(r for r in cond3.requirements if r.code == "network_search_real_estate")
    assert real_estate.evidence[0].source == "event"
    assert real_estate.evidence[0].detail["event_id"] == 8
    assert cl.conditions[3].requirements[0].evidence[0].detail["threshold"] == "2025-04-10"


@pytest.mark.parametrize(("drop", "missing"), [
    (1, ["1:notice_served@11", "1:notice_served@12"]),
    (2, ["1:property_report_ordered@11", "1:property_report_ordered@12"]),
    (3, ["2:consumption_restriction@11", "2:consumption_restriction@12"]),
    (4, ["2:dishonest_listing@11"]),
    (5, ["2:dishonest_listing@12"]),
    (8, ["3:network_search_real_estate@11", "3:network_search_real_estate@12"]),
    (9, ["3:network_search_securities@11", "3:network_search_securities@12"]),
    (10, ["6:applicant_heard"]),
    (11, ["6:closure_approved"]),
])
def test_each_event_missing_in_turn_is_named(drop: int, missing: list[str]) -> None:
    events, searches = complete_file()
    cl = check([x for x in events if x.id != drop], searches)
    assert not cl.ready
    assert cl.missing == missing


def test_a_search_missing_for_one_debtor_is_missing_for_that_debtor_only() -> None:
    events, searches = complete_file()
    cl = check(events, [x for x in searches if not (x.subject_key == D2.subject_key and x.category == "vehicles")])
    assert cl.missing == ["3:network_search_vehicles@12"]


def test_an_empty_answer_is_evidence() -> None:
    events, searches = complete_file()
    assert all(x.record_count == 0 for x in searches)
    assert check(events, searches).ready


def test_three_months_must_have_passed_strictly() -> None:
    events, searches = complete_file()
    # filed 2025-01-10 + 3 months = 2025-04-10: closing that day is too early, the next day is fine
    assert check(events, searches, as_of=date(2025, 6, 1)).ready
    early = [x for x in events if x.occurred_on <= date(2025, 4, 10)]
    assert "4:months_since_filing" in check(early, searches, as_of=date(2025, 4, 10)).missing
    assert "4:months_since_filing" not in check(early, searches, as_of=date(2025, 4, 11)).missing


def test_only_facts_up_to_as_of_count() -> None:
    events, searches = complete_file()
    cl = check(events, searches, as_of=date(2025, 5, 10))
    assert cl.missing == ["6:closure_approved"]  # approved on 2025-05-20


def test_a_late_report_needs_a_sanction_after_it() -> None:
    events, searches = complete_file()
    late = [*events, e(20, "property_report_checked", "2025-02-01", outcome="refused", debtor_id_number=D1.id_number)]
    assert check(late, searches).missing == ["1:report_sanctioned@11"]
    sanctioned = [*late, e(21, "sanction_imposed", "2025-02-10", reason="report", debtor_id_number=D1.id_number)]
    assert check(sanctioned, searches).ready


def test_a_missing_debtor_must_be_searched_for_and_obstruction_sanctioned() -> None:
    events, searches = complete_file()
    lost = [*events, e(30, "debtor_missing", "2025-02-01", debtor_id_number=D1.id_number)]
    assert check(lost, searches).missing == ["5:whereabouts_searched@11"]
    found = check(lost, [*searches, s(D1, "hotels", "location", "2025-02-05")])
    assert found.ready
    blocked = [*events, e(31, "obstruction_recorded", "2025-02-01")]
    assert check(blocked, searches).missing == ["5:obstruction_sanctioned@11", "5:obstruction_sanctioned@12"]


def test_a_new_lead_must_be_checked_after_it_came_in() -> None:
    events, searches = complete_file()
    lead = [*events, e(40, "applicant_lead_received", "2025-04-01")]  # after the check of 2025-03-01
    assert check(lead, searches).missing == ["3:applicant_leads_checked"]
    assert check([*lead, e(41, "applicant_leads_checked", "2025-04-03")], searches).ready


def test_required_categories_and_onsite_are_settings() -> None:
    events, searches = complete_file()
    without = [x for x in events if x.id not in (7, 8, 9)]
    assert not check(without, searches).ready
    assert check(without, searches, required_categories=("deposits", "vehicles"), require_onsite=False).ready


def test_a_required_category_no_installed_connector_can_search_is_named() -> None:
    events, searches = complete_file()
    without_plugin = [ev for ev in events if ev.data.get("category") != "real_estate"]
    cl = evaluate(filed_on=FILED, as_of=AS_OF, events=without_plugin, debtors=[D1, D2], searches=searches,
                  rules=RULES, searchable={"deposits", "vehicles", "securities", "location", "income"})
    assert cl.missing == ["3:network_search_real_estate@11", "3:network_search_real_estate@12"]
    real_estate = [r for r in cl.conditions[2].requirements if r.code == "network_search_real_estate"]
    assert {r.note for r in real_estate} == {"no_connector"}
    assert [(u.category, u.zh) for u in cl.unsearchable] == [("real_estate", "不动产：本系统未接入可查询的协查单位")]
    assert cl.to_dict()["unsearchable_categories"] == [{
        "category": "real_estate",
        "message": {"zh": "不动产：本系统未接入可查询的协查单位",
                    "en": "real estate: no agency this system is connected to can search it"}}]
    # a search made outside the service and recorded still meets it; the note stays
    cl = evaluate(filed_on=FILED, as_of=AS_OF, events=events, debtors=[D1, D2], searches=searches, rules=RULES,
                  searchable={"deposits", "vehicles", "securities"})
    assert cl.ready and [u.category for u in cl.unsearchable] == ["real_estate"]


def test_with_every_category_searchable_nothing_is_named() -> None:
    events, searches = complete_file()
    real_estate = [s(d, "real_estate", "real_estate", "2025-02-01") for d in (D1, D2)]
    cl = evaluate(filed_on=FILED, as_of=AS_OF, events=events, debtors=[D1, D2], searches=[*searches, *real_estate],
                  rules=RULES, searchable={"deposits", "vehicles", "real_estate", "securities"})
    assert cl.unsearchable == () and cl.to_dict()["unsearchable_categories"] == []
    req = next(r for r in cl.conditions[2].requirements if r.code == "network_search_real_estate")
    assert req.note is None and req.evidence[0].detail["agency"] == "real_estate"


# -- issue 16: the law, exactly -----------------------------------------------------------------

def _req(cl: Any, code: str) -> Any:
    return next(r for c in cl.conditions for r in c.requirements if r.code == code)


def test_onsite_inquiry_is_not_required_by_law_when_the_network_answered() -> None:
    # SPC 2016 rules art. 3(3): on-site only where the network cannot answer
    events, searches = complete_file()
    cl = check([x for x in events if x.id != 7], searches)
    assert cl.ready, cl.missing
    onsite = _req(cl, "onsite_inquiry")
    assert onsite.met and onsite.basis == "law" and onsite.note == "not_applicable"


def test_a_courts_stricter_onsite_setting_is_kept_and_shown() -> None:
    events, searches = complete_file()
    cl = check([x for x in events if x.id != 7], searches, require_onsite=True)
    assert cl.missing == ["3:onsite_inquiry"]
    assert _req(cl, "onsite_inquiry").basis == "court"
    assert _req(cl, "onsite_inquiry").to_dict()["basis"] == "court"
    assert check(events, searches, require_onsite=True).ready


def test_onsite_inquiry_is_required_by_law_where_the_network_cannot_answer() -> None:
    events, searches = complete_file()
    without = [x for x in events if x.id != 7]
    lead = [*without, e(50, "applicant_lead_received", "2025-02-01", category="equipment"),
            e(51, "applicant_leads_checked", "2025-02-03")]
    cl = check(lead, searches)
    assert cl.missing == ["3:onsite_inquiry"]
    assert _req(cl, "onsite_inquiry").basis == "law"
    assert check([*lead, e(52, "onsite_inquiry", "2025-02-10")], searches).ready
    unavailable = [*without, e(53, "network_search_recorded", "2025-03-10", category="securities",
                               unavailable=True)]
    assert check(unavailable, searches).missing == ["3:onsite_inquiry"]


def test_leads_checked_is_met_when_the_applicant_gave_no_leads() -> None:
    events, searches = complete_file()
    cl = check([x for x in events if x.id != 6], searches)
    assert cl.ready, cl.missing
    leads = _req(cl, "applicant_leads_checked")
    assert leads.met and leads.note == "no_leads_given"
    assert leads.evidence[0].detail["reason_zh"] == "申请执行人未提供财产线索"


def test_leads_provided_makes_the_check_required() -> None:
    events, searches = complete_file()
    given = [*(x for x in events if x.id != 6), e(60, "leads_provided", "2025-01-12")]
    assert check(given, searches).missing == ["3:applicant_leads_checked"]
    assert check([*given, e(61, "applicant_leads_checked", "2025-02-01")], searches).ready
