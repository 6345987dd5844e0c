"""``SearchService`` against an in-memory store: who may submit, one task per covering agency,
reuse, the notice number, system searches inside the caller's transaction, reads audited, and the
dossier annotated on typed values before it is rendered once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from enforcement.domain.actors import Actor
from enforcement.domain.authorization import AccessDenied
from enforcement.domain.dossier import Dossier, DossierAbout, DossierAlert
from enforcement.domain.errors import CaseNotFound
from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.domain.subjects import Subject
from enforcement.kernel import metrics
from enforcement.searches.errors import InvalidPurpose, NoAgencyCovers, SearchNotFound
from enforcement.searches.port import SystemSearch
from enforcement.searches.service import SearchRequest, SearchService, notice_number
from enforcement.searches.store.searches import AssetRow
from tests.unit.searches.fakes import YEAR, FakeCase, FakeSearchStore, manifests

COURT = "辽0102"
PERSON = Subject.parse("person", make_resident_id("110105", date(1979, 4, 12), 31), "王小明")
ORG = Subject.parse("organization", make_credit_code("9", "1", "440300", "MA5G7K2P"), "深圳市某某贸易有限公司")
OTHER = Subject.parse("person", make_resident_id("210102", date(1980, 1, 2), 11), "张三")
JUDGE = Actor("wang", "judge", "王法官", COURT, "2101020001")
AGENCIES = ("vehicles", "banks", "hotels", "exit_entry", "social_insurance")


def case(**kw: object) -> FakeCase:
    base: dict[str, object] = {"id": 1, "case_number": "（2025）辽0102执1号", "court_code": COURT,
                               "judge_login": "wang", "debtors": {(PERSON.kind, PERSON.id_number),
                                                                  (ORG.kind, ORG.id_number)}}
    base.update(kw)
    return FakeCase(**base)  # type: ignore[arg-type]


def service(*cases: FakeCase, agencies: Sequence[str] = AGENCIES,
            audited: bool = True) -> tuple[SearchService, FakeSearchStore]:
    store = FakeSearchStore(cases or (case(),), audited=audited)
    return SearchService(store, manifests(*agencies)), store


async def test_a_judge_s_search_plans_one_task_per_agency_covering_the_subject() -> None:
    searches, store = service()
    done = await searches.submit(JUDGE, SearchRequest(1, PERSON), request_id="r-1")
    assert sorted(t["agency"] for t in done.tasks) == sorted(AGENCIES)
    assert all(t == {"agency": t["agency"], "status": "queued", "reused": False} for t in done.tasks)
    new = store.searches[done.search_id]
    assert (new.requested_by, new.case_number, new.court_code, new.judge_name) == ("wang", "（2025）辽0102执1号",
                                                                                   COURT, "王法官")
    assert new.document_number == notice_number(COURT, YEAR, 1)  # the serial taken with the case
    [entry] = store.entries
    assert (entry.action, entry.target, entry.request_id) == ("search", str(done.search_id), "r-1")
    assert entry.details["agencies"] == sorted(AGENCIES)

    # An organization: only the agencies whose manifest covers organizations.
    org = await searches.submit(JUDGE, SearchRequest(1, ORG))
    assert sorted(t["agency"] for t in org.tasks) == ["banks", "vehicles"]


async def test_fresh_stored_answers_are_reused_unless_the_judge_forces_fresh() -> None:
    searches, store = service()
    store.fresh[PERSON.key] = {"banks", "hotels"}
    reused_before = metrics.TASKS_REUSED.labels(agency="banks")._value.get()
    done = await searches.submit(JUDGE, SearchRequest(1, PERSON))
    assert {t["agency"] for t in done.tasks if t["reused"]} == {"banks", "hotels"}
    assert metrics.TASKS_REUSED.labels(agency="banks")._value.get() == reused_before + 1
    forced = await searches.submit(JUDGE, SearchRequest(1, PERSON, force_fresh=True))
    assert not any(t["reused"] for t in forced.tasks)
    assert store.entries[-1].details["force_fresh"] is True


@pytest.mark.parametrize(("actor", "the_case", "subject", "reason"), [
    (Actor("li", "supervisor", "李庭长", COURT), case(), PERSON, "role_cannot_search"),
    (Actor("lina", "judge", "李娜", COURT, "2101020047"), case(), PERSON, "not_case_judge"),
    (JUDGE, case(status="closed"), PERSON, "case_not_open"),
    (JUDGE, case(), OTHER, "subject_not_debtor"),
])
async def test_a_search_the_rule_refuses_is_denied_stores_nothing_and_takes_no_number(
    actor: Actor, the_case: FakeCase, subject: Subject, reason: str
) -> None:
    searches, store = service(the_case)
    with pytest.raises(AccessDenied) as denied:
        await searches.submit(actor, SearchRequest(1, subject, purpose="下落查找"))
    assert denied.value.code == reason
    # What the refusal was about, for its audit record.
    assert denied.value.audit_context["case_id"] == 1 and denied.value.audit_context["subject_key"] == subject.key
    assert denied.value.audit_context["purpose"] == "下落查找"
    assert store.searches == {} and store.entries == [] and store.serials == {}


async def test_a_missing_case_a_bad_purpose_and_no_agency_are_refused_before_anything_is_stored() -> None:
    searches, store = service()
    with pytest.raises(CaseNotFound) as missing:
        await searches.submit(JUDGE, SearchRequest(99, PERSON))
    assert missing.value.code == "case_not_found" and "99" in missing.value.message_zh
    with pytest.raises(InvalidPurpose):
        await searches.submit(JUDGE, SearchRequest(1, PERSON, purpose="好奇"))
    only_people, people_store = service(agencies=("hotels",))
    with pytest.raises(NoAgencyCovers):
        await only_people.submit(JUDGE, SearchRequest(1, ORG))
    assert store.searches == {} and people_store.searches == {} and people_store.serials == {}


async def test_a_judge_s_own_document_number_takes_no_serial() -> None:
    searches, store = service()
    done = await searches.submit(JUDGE, SearchRequest(1, PERSON, document_number="（2025）辽0102执协查9号"))
    assert store.searches[done.search_id].document_number == "（2025）辽0102执协查9号"
    assert store.serials == {}


async def test_without_an_audit_log_no_record_is_asked_for() -> None:
    searches, store = service(audited=False)
    await searches.submit(JUDGE, SearchRequest(1, PERSON))
    assert store.entries == []


async def test_a_system_search_goes_through_the_caller_s_transaction_asks_afresh_and_skips_the_rule() -> None:
    searches, store = service(case(status="closed", judge_login="gone"))
    store.fresh[OTHER.key] = {"banks"}
    conn = object()  # the caller's transaction, handed through untouched
    done = await searches.submit_system(conn, SystemSearch(1, OTHER, "终本复查", "system:requery", {"round": 1}))
    assert store.connections == [conn, conn, conn]  # the case, the serial, the search
    new = store.searches[done.search_id]
    assert new.force_fresh and new.requested_by == "system:requery"
    assert store.entries[-1].actor_role == "system" and store.entries[-1].details["round"] == 1
    with pytest.raises(CaseNotFound):
        await searches.submit_system(conn, SystemSearch(2, OTHER, "终本复查", "system:requery"))
    with pytest.raises(InvalidPurpose):
        await searches.submit_system(conn, SystemSearch(1, OTHER, "好奇", "system:requery"))


async def test_a_read_is_checked_then_audited_and_a_refused_read_is_not() -> None:
    searches, store = service()
    done = await searches.submit(JUDGE, SearchRequest(1, PERSON))
    with pytest.raises(SearchNotFound):
        await searches.authorize_read(JUDGE, uuid4())
    with pytest.raises(AccessDenied) as denied:
        await searches.authorize_read(Actor("zhao", "supervisor", "赵院长", "辽0103"), done.search_id)
    assert denied.value.code == "other_court"
    assert store.reads == []
    supervisor = Actor("li", "supervisor", "李庭长", COURT)
    search = await searches.authorize_read(supervisor, done.search_id, request_id="r-9", via="events")
    assert search.id == done.search_id
    [read] = store.reads
    assert (read.action, read.actor_login, read.request_id, read.details) == ("dossier_read", "li", "r-9",
                                                                             {"via": "events"})


async def test_the_dossier_is_annotated_as_typed_values_and_rendered_once() -> None:
    searches, store = service()
    done = await searches.submit(JUDGE, SearchRequest(1, PERSON))
    at = datetime(2025, 4, 2, 12, tzinfo=UTC)
    store.records_of[done.search_id] = [
        AssetRow("hotels", "hotel_stay", "stay-1", {"hotel_name": "香格里拉", "star_rating": 5,
                                                    "checked_in_at": "2025-04-02T20:00:00+08:00"},
                 7, at, False, True, at),
        AssetRow("banks", "bank_account", "acct-1", {"balance": "10.00"}, 8, at, False, True, at),
    ]
    seen: list[tuple[DossierAbout, Dossier]] = []

    async def annotate(about: DossierAbout, dossier: Dossier) -> list[DossierAlert]:
        seen.append((about, dossier))
        [stay] = dossier.sections["hotel_stay"]
        return [DossierAlert("consumption_breach", {"zh": "违反", "en": "breach"}, about.case_id,
                             {"answer_id": stay.provenance[0].answer_id})]

    searches.annotators.append(annotate)
    view = await searches.view(JUDGE, done.search_id)
    [(about, dossier)] = seen
    assert isinstance(dossier, Dossier) and dossier.entry_count == 2
    assert (about.search_id, about.case_id, about.subject_key, about.purpose) == (done.search_id, 1, PERSON.key,
                                                                                   "财产调查")
    assert view["alerts"] == [{"kind": "consumption_breach", "message": {"zh": "违反", "en": "breach"},
                               "case_id": 1, "evidence": {"answer_id": 7}}]
    assert view["dossier"] == dossier.to_dict()
    # The subject's first search: nothing is "new" yet.
    assert view["dossier"]["new_count"] == 0 and view["previous_search_at"] is None
