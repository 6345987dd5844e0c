"""``MeasureService`` and ``MeasureDispatcher`` on in-memory fakes: the state machine of a control
and what follows it (freeze -> active -> renewed -> deducted -> released), a held deduction
rejected or withdrawn and never sent, each court's approval amount, 终本 (renew and release only),
duplicates and refusals audited and never sent, an agency's refusal and a transient failure."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.sdk.errors import RejectedError, TransientError
from enforcement.domain.actors import Actor
from enforcement.domain.authorization import AccessDenied
from enforcement.domain.measures import InvalidMeasure, MeasureConflict
from enforcement.measures.dispatcher import MeasureDispatcher, MeasureDispatcherConfig
from enforcement.measures.service import FollowUpRequest, MeasureClock, MeasureConfig, MeasureRequest, MeasureService
from enforcement.measures.store.measures import FoundAsset, MeasureCase
from tests.unit.measures.fakes import FakeGateway, FakeMeasureStore

JUDGE = Actor("zhangwei", "judge", "张伟", "辽0102", "2101020031")
FAR_JUDGE = Actor("wangfang", "judge", "王芳", "辽0103", "2101030012")
SUPERVISOR = Actor("chenjing", "supervisor", "陈静", "辽0102", "2101020002")
FAR_SUPERVISOR = Actor("liuyang", "supervisor", "刘洋", "辽0103", "2101030003")
ACCOUNT = "中国工商银行:6222001234567890123:CNY"
CAR = "辽A12345:LFV2A21K5D4012345"


def world(*, approval: Decimal = Decimal("100.00"), courts: dict[str, Decimal | None] | None = None,
          ) -> tuple[MeasureService, MeasureDispatcher, FakeMeasureStore, FakeGateway]:
    store = FakeMeasureStore()
    for cid, (court, judge) in {1: ("辽0102", "zhangwei"), 2: ("辽0103", "wangfang")}.items():
        store.cases[cid] = MeasureCase(cid, f"（2026）{court}执{cid}号", court, "open", judge, "", "",
                                       None, (courts or {}).get(court))
        store.assets[(cid, "bank_account", ACCOUNT)] = FoundAsset(
            "bank_account", ACCOUNT, "banks", {"account_number": "6222001234567890123", "available_balance": "5000.00"},
            "person", "210102197805141353", "赵建国")
        store.assets[(cid, "vehicle", CAR)] = FoundAsset(
            "vehicle", CAR, "vehicles", {"vin": "LFV2A21K5D4012345"}, "person", "210102197805141353", "赵建国")
    clock = MeasureClock(lambda: datetime(2026, 6, 1, 1, 0, tzinfo=UTC))
    config = MeasureConfig(deduction_approval_above=approval, funds_account="ZXAK-0001")
    gateway = FakeGateway()
    dispatcher = MeasureDispatcher(store, gateway, MeasureDispatcherConfig(worker_id="w1"), config,  # type: ignore[arg-type]
                                   clock)
    return MeasureService(store, config, clock), dispatcher, store, gateway  # type: ignore[arg-type]


def ruling(n: int, court: str = "辽0102") -> dict[str, Any]:
    return {"ruling_number": f"（2026）{court}执{n}号", "ruled_on": "2026-06-01"}


async def freeze(service: MeasureService, dispatcher: MeasureDispatcher, case_id: int = 1,
                 actor: Actor = JUDGE, amount: str = "1000.00") -> int:
    court = "辽0102" if case_id == 1 else "辽0103"
    m = await service.submit(actor, case_id, MeasureRequest("freeze", "bank_account", ACCOUNT, amount=amount,
                                                            **ruling(1, court)))
    assert (m.status, m.task_status) == ("pending", "queued")
    assert await dispatcher.tick() == 1
    return m.id


async def test_a_control_runs_freeze_renew_deduct_release() -> None:
    service, dispatcher, store, gateway = world()
    fid = await freeze(service, dispatcher)
    control = store.measures[fid]
    assert (control.status, control.effect_amount, str(control.expires_on)) == ("active", Decimal("1000.00"),
                                                                                  "2027-06-01")
    renew = await service.follow_up(JUDGE, fid, FollowUpRequest("renew", **ruling(2)))
    await dispatcher.tick()
    assert store.measures[renew.id].status == "done" and str(store.measures[fid].expires_on) == "2028-06-01"
    deduct = await service.follow_up(JUDGE, fid, FollowUpRequest("deduct", amount="60.00", **ruling(3)))
    await dispatcher.tick()
    assert store.measures[deduct.id].status == "done" and store.recovered[1] == Decimal("60.00")
    assert store.measures[fid].effect_amount == Decimal("940.00")
    release = await service.follow_up(JUDGE, fid, FollowUpRequest("release", **ruling(4)))
    await dispatcher.tick()
    assert store.measures[release.id].status == "done" and store.measures[fid].status == "released"
    assert [r.op for r in gateway.sent] == ["freeze", "renew", "deduct", "release"]
    assert [a.action for a in store.audits] == ["measure_freeze", "measure_renew", "measure_deduct", "measure_release"]
    # Released: nothing follows it any more.
    with pytest.raises(MeasureConflict) as caught:
        await service.follow_up(JUDGE, fid, FollowUpRequest("renew", **ruling(5)))
    assert caught.value.code == "measure_not_active" and store.refusals[-1].reason == "measure_not_active"


@pytest.mark.parametrize("act", ["reject", "withdraw"])
async def test_a_held_deduction_rejected_or_withdrawn_is_never_sent(act: str) -> None:
    service, dispatcher, store, gateway = world(approval=Decimal("50.00"))
    fid = await freeze(service, dispatcher)
    held = await service.follow_up(JUDGE, fid, FollowUpRequest("deduct", amount="50.01", **ruling(2)))
    assert (held.status, held.task_status) == ("awaiting_approval", "held")
    assert await dispatcher.tick() == 0
    if act == "reject":
        with pytest.raises(AccessDenied):
            await service.reject(FAR_SUPERVISOR, held.id, "no")
        with pytest.raises(AccessDenied):
            await service.reject(JUDGE, held.id, "no")
        with pytest.raises(InvalidMeasure):
            await service.reject(SUPERVISOR, held.id, None)
        done = await service.reject(SUPERVISOR, held.id, "与裁定不符")
        assert (done.status, done.cancelled_by, done.cancel_reason) == ("rejected", "chenjing", "与裁定不符")
    else:
        with pytest.raises(AccessDenied):
            await service.withdraw(SUPERVISOR, held.id)
        done = await service.withdraw(JUDGE, held.id)
        assert (done.status, done.cancelled_by, done.cancel_reason) == ("withdrawn", "zhangwei", None)
    assert done.task_status == "cancelled" and store.audits[-1].action == f"measure_{act}"
    assert await dispatcher.tick() == 0 and [r.op for r in gateway.sent] == ["freeze"]
    for again in (service.approve(SUPERVISOR, held.id), service.reject(SUPERVISOR, held.id, "x"),
                  service.withdraw(JUDGE, held.id)):
        with pytest.raises(MeasureConflict):
            await again
    assert [r.reason for r in store.refusals][-3:] == ["not_awaiting_approval"] * 3
    # The control is free for a new follow-up.
    again_held = await service.follow_up(JUDGE, fid, FollowUpRequest("deduct", amount="50.01", **ruling(3)))
    assert again_held.status == "awaiting_approval"


async def test_each_court_has_its_own_approval_amount_the_setting_by_default() -> None:
    service, dispatcher, store, _gateway = world(approval=Decimal("100.00"), courts={"辽0102": Decimal("10.00"),
                                                                                     "辽0103": None})
    near = await freeze(service, dispatcher, 1)
    far = await freeze(service, dispatcher, 2, FAR_JUDGE)
    assert (await service.follow_up(JUDGE, near, FollowUpRequest("deduct", amount="20.00", **ruling(2)))).status \
        == "awaiting_approval"
    assert (await service.follow_up(FAR_JUDGE, far, FollowUpRequest("deduct", amount="20.00", **ruling(2, "辽0103"))
                                    )).status == "pending"
    store.cases[2] = MeasureCase(2, "（2026）辽0103执2号", "辽0103", "open", "wangfang", "", "", None, Decimal("5.00"))
    await dispatcher.tick()
    held = await service.follow_up(FAR_JUDGE, far, FollowUpRequest("deduct", amount="6.00", **ruling(3, "辽0103")))
    assert held.status == "awaiting_approval"
    assert store.audits[-1].details["approval_above"] == "5.00"


async def test_after_zhongben_renew_and_release_only_nothing_sent_for_the_refused() -> None:
    service, dispatcher, store, gateway = world()
    fid = await freeze(service, dispatcher)
    store.cases[1] = MeasureCase(1, "（2026）辽0102执1号", "辽0102", "closed", "zhangwei", "", "", "终结本次执行程序")
    for refused in (service.follow_up(JUDGE, fid, FollowUpRequest("deduct", amount="1.00", **ruling(2))),
                    service.submit(JUDGE, 1, MeasureRequest("seal", "vehicle", CAR, **ruling(3)))):
        with pytest.raises(AccessDenied) as caught:
            await refused
        assert caught.value.code == "resume_case_first"
    assert len(store.measures) == 1
    renew = await service.follow_up(JUDGE, fid, FollowUpRequest("renew", **ruling(4)))
    await dispatcher.tick()
    assert store.measures[renew.id].status == "done" and str(store.measures[fid].expires_on) == "2028-06-01"
    release = await service.follow_up(JUDGE, fid, FollowUpRequest("release", **ruling(5)))
    await dispatcher.tick()
    assert store.measures[release.id].status == "done" and store.measures[fid].status == "released"
    assert [r.op for r in gateway.sent] == ["freeze", "renew", "release"]


async def test_a_deduction_held_when_the_case_closes_cannot_be_approved_only_rejected() -> None:
    service, dispatcher, store, gateway = world(approval=Decimal("10.00"))
    fid = await freeze(service, dispatcher)
    held = await service.follow_up(JUDGE, fid, FollowUpRequest("deduct", amount="20.00", **ruling(2)))
    store.cases[1] = MeasureCase(1, "（2026）辽0102执1号", "辽0102", "closed", "zhangwei", "", "", "终结本次执行程序")
    with pytest.raises(AccessDenied) as caught:
        await service.approve(SUPERVISOR, held.id)
    assert caught.value.code == "resume_case_first"
    assert (await service.reject(SUPERVISOR, held.id, "已终本")).status == "rejected"
    assert await dispatcher.tick() == 0 and [r.op for r in gateway.sent] == ["freeze"]


async def test_a_duplicate_is_refused_audited_and_takes_no_serial() -> None:
    service, dispatcher, store, gateway = world()
    await freeze(service, dispatcher)
    with pytest.raises(MeasureConflict) as caught:
        await service.submit(JUDGE, 1, MeasureRequest("freeze", "bank_account", ACCOUNT, **ruling(9)))
    assert caught.value.code == "duplicate_measure" and store.serial == 1
    assert store.refusals[-1].reason == "duplicate_measure" and store.refusals[-1].case_id == 1
    with pytest.raises(InvalidMeasure) as too_much:
        await service.submit(JUDGE, 1, MeasureRequest("seal", "vehicle", CAR, amount="1", **ruling(8)))
    assert too_much.value.code == "amount_not_for_seal"
    assert len(gateway.sent) == 1


async def test_an_agency_refusal_fails_the_measure_and_a_transient_error_retries_it() -> None:
    service, dispatcher, store, gateway = world()
    gateway.fail_with = TransientError("busy")
    m = await service.submit(JUDGE, 1, MeasureRequest("seal", "vehicle", CAR, **ruling(1)))
    await dispatcher.tick()
    assert (store.measures[m.id].status, store.measures[m.id].task_status) == ("pending", "queued")
    assert "busy" in (store.measures[m.id].last_error or "")
    gateway.fail_with = RejectedError("no such vehicle")
    await dispatcher.tick()
    assert (store.measures[m.id].status, store.measures[m.id].attempts) == ("failed", 2)
    gateway.fail_with = None
    assert await dispatcher.tick() == 0 and gateway.sent == []


async def test_a_bank_that_answers_later_leaves_the_freeze_pending_with_its_ticket_then_active() -> None:
    """The bank accepts the freeze for processing: the measure stays pending, its task waits with the
    bank's ticket (a poll is no new attempt, and sends nothing again); once the bank has answered,
    the next poll makes it active with the amount frozen. A transient failure of a poll waits again."""
    service, dispatcher, store, gateway = world()
    gateway.by_ticket = True
    m = await service.submit(JUDGE, 1, MeasureRequest("freeze", "bank_account", ACCOUNT, amount="1000.00",
                                                      **ruling(1)))
    assert await dispatcher.tick() == 1
    waiting = store.measures[m.id]
    ticket = f"T-{m.idempotency_key}"
    assert (waiting.status, waiting.task_status, waiting.agency_ticket) == ("pending", "waiting", ticket)
    assert service.view(waiting)["agency_ticket"] == waiting.agency_ticket
    for _ in range(3):  # the bank is still processing it
        assert await dispatcher.tick() == 1
    assert (store.measures[m.id].status, store.measures[m.id].task_status) == ("pending", "waiting")
    assert store.measures[m.id].attempts == 1 and gateway.polls == 3 and len(gateway.sent) == 1
    gateway.fail_with = TransientError("busy")
    assert await dispatcher.tick() == 1
    assert (store.measures[m.id].task_status, store.measures[m.id].agency_ticket) == ("waiting", waiting.agency_ticket)
    gateway.fail_with = None
    gateway.processed.add(f"T-{m.idempotency_key}")
    assert await dispatcher.tick() == 1
    done = store.measures[m.id]
    assert (done.status, done.task_status, done.effect_amount) == ("active", "answered", Decimal("1000.00"))
    assert done.reference and len(gateway.sent) == 1
    assert await dispatcher.tick() == 0


async def test_a_ticket_the_bank_does_not_know_fails_the_measure() -> None:
    service, dispatcher, store, gateway = world()
    gateway.by_ticket = True
    m = await service.submit(JUDGE, 1, MeasureRequest("freeze", "bank_account", ACCOUNT, **ruling(1)))
    await dispatcher.tick()
    gateway.tickets.clear()
    await dispatcher.tick()
    assert (store.measures[m.id].status, store.measures[m.id].task_status) == ("failed", "failed")
    assert "TICKET_NOT_FOUND" in (store.measures[m.id].last_error or "")


async def test_a_ticket_still_unanswered_past_the_agencys_own_time_fails_the_measure() -> None:
    import dataclasses

    service, dispatcher, store, gateway = world()
    gateway.by_ticket = True
    m = await service.submit(JUDGE, 1, MeasureRequest("freeze", "bank_account", ACCOUNT, **ruling(1)))
    await dispatcher.tick()
    await dispatcher.tick()  # still processing, within its time: waits again
    assert store.measures[m.id].task_status == "waiting"
    store.measures[m.id] = dataclasses.replace(store.measures[m.id], past_deadline=True)
    await dispatcher.tick()
    failed = store.measures[m.id]
    assert (failed.status, failed.task_status) == ("failed", "failed")
    assert "never answered" in (failed.last_error or "") and len(gateway.sent) == 1
