"""The lifecycle service's ``record`` against an in-memory store: an external id recorded twice,
an event that conflicts with the history, who may record, and that a refusal writes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from enforcement.cases.errors import ClosureRefused
from enforcement.cases.lifecycle import EventInput, LifecycleRules, LifecycleService
from enforcement.cases.store.lifecycle import LifecycleCase
from enforcement.domain.actors import Actor
from enforcement.domain.authorization import AccessDenied
from enforcement.domain.checklist import Debtor
from enforcement.domain.errors import CaseNotFound
from enforcement.domain.lifecycle import EventConflict
from tests.unit.cases.fakes import FakeLifecycleStore

COURT = "辽0102"
CASE_SYSTEM = Actor("court-sys", "case_system", "审判管理系统", COURT)
OTHER_SYSTEM = Actor("other-sys", "case_system", "审判管理系统", "辽0103")
JUDGE = Actor("zhangwei", "judge", "张伟", COURT, "2101020031")
OTHER_JUDGE = Actor("lina", "judge", "李娜", COURT, "2101020047")
SUPERVISOR = Actor("chenjing", "supervisor", "陈静", COURT, "2101020002")
FILED = date(2026, 1, 10)
TODAY = date(2026, 6, 1)
CASE = LifecycleCase(1, "（2026）辽0102执1号", COURT, "执", "zhangwei", FILED, False, "open", None, None, None)


def service() -> tuple[LifecycleService, FakeLifecycleStore]:
    store = FakeLifecycleStore()
    store.add_case(CASE, [Debtor(11, "person", "210102197805141353", "赵建国")])
    return LifecycleService(store, LifecycleRules(), {}, today=lambda: TODAY), store  # type: ignore[arg-type]


async def test_an_event_is_recorded_with_its_source() -> None:
    svc, store = service()
    done = await svc.record(CASE_SYSTEM, 1, EventInput("notice_served", date(2026, 1, 20)))
    assert done.created
    assert done.event["type"] == "notice_served" and done.event["source"] == "case_system:court-sys"
    assert [e.event_type for e in store.data.events[1]] == ["notice_served"]
    assert store.commits == 1


async def test_the_same_external_id_with_the_same_content_is_recorded_once() -> None:
    svc, store = service()
    first = await svc.record(CASE_SYSTEM, 1, EventInput("notice_served", date(2026, 1, 20), external_id="e-1"))
    again = await svc.record(CASE_SYSTEM, 1, EventInput("notice_served", date(2026, 1, 20), external_id="e-1"))
    assert (first.created, again.created) == (True, False)
    assert again.event["id"] == first.event["id"]
    assert len(store.data.events[1]) == 1


async def test_an_external_id_reused_with_other_content_is_a_conflict() -> None:
    svc, store = service()
    await svc.record(CASE_SYSTEM, 1, EventInput("notice_served", date(2026, 1, 20), external_id="e-1"))
    with pytest.raises(EventConflict) as conflict:
        await svc.record(CASE_SYSTEM, 1, EventInput("notice_served", date(2026, 1, 21), external_id="e-1"))
    assert conflict.value.code == "external_id_reused"
    assert len(store.data.events[1]) == 1


async def test_an_event_the_history_does_not_allow_is_a_conflict_and_nothing_is_written() -> None:
    svc, store = service()
    with pytest.raises(EventConflict) as conflict:
        await svc.record(CASE_SYSTEM, 1, EventInput("suspension_ended", date(2026, 2, 1)))
    assert conflict.value.code == "not_suspended"
    assert store.data.events[1] == [] and store.rollbacks == 1 and store.commits == 0


async def test_an_event_after_the_closure_is_a_conflict() -> None:
    svc, store = service()
    await svc.record(CASE_SYSTEM, 1, EventInput("closed", date(2026, 3, 1), {"mode": "执行完毕"}))
    assert store.data.cases[1].status == "closed"
    with pytest.raises(EventConflict):
        await svc.record(CASE_SYSTEM, 1, EventInput("notice_served", date(2026, 3, 2)))
    assert [e.event_type for e in store.data.events[1]] == ["closed"]


@pytest.mark.parametrize(("actor", "code"), [(OTHER_JUDGE, "not_case_judge"), (OTHER_SYSTEM, "other_court"),
                                             (Actor("aud", "auditor", "审计", COURT), "role_cannot_record_events")])
async def test_who_may_not_record(actor: Actor, code: str) -> None:
    svc, store = service()
    with pytest.raises(AccessDenied) as refused:
        await svc.record(actor, 1, EventInput("notice_served", date(2026, 1, 20)))
    assert refused.value.code == code
    assert store.data.events[1] == []


@pytest.mark.parametrize("actor", [JUDGE, SUPERVISOR, CASE_SYSTEM])
async def test_who_may_record(actor: Actor) -> None:
    svc, _ = service()
    assert (await svc.record(actor, 1, EventInput("notice_served", date(2026, 1, 20)))).created


async def test_an_unknown_case_is_not_found() -> None:
    svc, _ = service()
    with pytest.raises(CaseNotFound):
        await svc.record(CASE_SYSTEM, 2, EventInput("notice_served", date(2026, 1, 20)))


async def test_closing_as_zhongben_with_conditions_missing_is_refused_and_rolled_back() -> None:
    svc, store = service()
    with pytest.raises(ClosureRefused) as refused:
        await svc.record(JUDGE, 1, EventInput("closed", date(2026, 5, 1), {"mode": "终结本次执行程序"}))
    assert refused.value.code == "closure_conditions_missing"
    assert store.data.events[1] == [] and store.data.cases[1].status == "open"
    assert store.data.audit == []


async def test_a_supervisor_override_is_recorded_audited_and_schedules_the_requery() -> None:
    svc, store = service()
    done = await svc.record(SUPERVISOR, 1, EventInput("closed", date(2026, 5, 1), {"mode": "终结本次执行程序"},
                                                      override_reason="经审委会讨论决定"), request_id="r-1")
    assert done.created and done.override
    assert [(a.action, a.request_id) for a in store.data.audit] == [("closure_override", "r-1")]
    assert store.data.lifecycles[1].zb_qualified is False and store.data.lifecycles[1].zb_override_by == "chenjing"
    assert store.data.rounds[1] and {r.party_id for r in store.data.rounds[1]} == {11}


async def test_the_closure_check_lists_the_controls_to_keep_or_release() -> None:
    from decimal import Decimal

    from enforcement.cases.store.lifecycle import LiveControlRow

    svc, store = service()
    store.data.controls[1] = [
        LiveControlRow(7, "freeze", "bank_account", "banks", "acct-1", "active", Decimal("500.00"),
                       date(2026, 1, 1), date(2026, 6, 10), "（2026）辽0102执协00001号"),
        LiveControlRow(8, "seal", "vehicle", "vehicles", "vin-1", "active", None, date(2026, 1, 1),
                       date(2027, 1, 1), "（2026）辽0102执协00002号"),
    ]
    check = await svc.closure_check(JUDGE, 1)
    measures = check["measures"]
    assert measures["closure_mode"] == "终结本次执行程序" and measures["renewal_notice_days"] == 15
    freeze, seal = measures["items"]
    # 终本: keep; the freeze's renewal is due (expires within 15 days): renew now, before its expiry.
    assert (freeze["measure_id"], freeze["action"], freeze["renew_by"]) == (7, "renew", "2026-06-10")
    assert freeze["expiry_state"] == "due" and freeze["effect_amount"] == "500.00"
    assert (seal["action"], seal["renew_by"], seal["expiry_state"]) == ("keep", "2027-01-01", "running")
    # Full payment (执行完毕): release every one.
    assert [i["on_full_payment"]["action"] for i in measures["items"]] == ["release", "release"]
    assert freeze["message"]["zh"] and freeze["on_full_payment"]["message"]["en"]
    # A case closed as 执行完毕: its controls still in force are to be released.
    import dataclasses

    store.data.cases[1] = dataclasses.replace(CASE, status="closed", closure_mode="执行完毕", closed_on=TODAY)
    closed = (await svc.closure_check(JUDGE, 1))["measures"]
    assert closed["closure_mode"] == "执行完毕"
    assert [i["action"] for i in closed["items"]] == ["release", "release"]
    assert all("on_full_payment" not in i for i in closed["items"])


async def test_the_closure_check_counts_renewals_due_by_the_cases_court() -> None:
    """A freeze expiring in 24 days: kept at the deployment's 15 days' notice, renewed now where
    the case's court gives 30 days' notice (``court.measure_renewal_notice_days``)."""
    from decimal import Decimal

    from enforcement.cases.store.lifecycle import LiveControlRow

    svc, store = service()
    store.data.controls[1] = [LiveControlRow(7, "freeze", "bank_account", "banks", "acct-1", "active",
                                             Decimal("500.00"), date(2026, 1, 1), date(2026, 6, 25),
                                             "（2026）辽0102执协00001号")]
    default = (await svc.closure_check(JUDGE, 1))["measures"]
    assert default["renewal_notice_days"] == 15
    assert [(i["expiry_state"], i["action"]) for i in default["items"]] == [("running", "keep")]
    store.data.notice_days[COURT] = 30
    own = (await svc.closure_check(JUDGE, 1))["measures"]
    assert own["renewal_notice_days"] == 30
    assert [(i["expiry_state"], i["action"]) for i in own["items"]] == [("due", "renew")]
    store.data.notice_days["辽0103"] = 5  # another court's setting changes nothing here
    assert (await svc.closure_check(JUDGE, 1))["measures"]["renewal_notice_days"] == 30
