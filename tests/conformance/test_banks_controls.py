"""The bank gateway's control operations (冻结, 续冻, 解冻, 扣划) against its stateful simulator:
a frozen balance cannot be withdrawn nor frozen twice beyond the balance, a released freeze lets
the ones behind it (轮候) rise, a re-sent operation is answered with the first result. The bank
answers a control by ticket, after ``control_delay_seconds``: nothing is applied before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from connectors.banks import CONNECTOR, BanksConnector
from connectors.banks.simdata import accounts_for
from connectors.sdk import (
    ConnectorConfig,
    ControlRequest,
    ControlResult,
    Pending,
    SimulatorConfig,
    Subject,
    make_resident_id,
)


def _person_with_open_unfrozen_account() -> tuple[Subject, dict[str, Any]]:
    for seq in range(3000):
        rid = make_resident_id("110105", date(1978, 5, 6), seq)
        for account in accounts_for("person", rid):
            if account["AccountStatus"] == "N" and Decimal(account["Balance"]) >= Decimal("1000"):
                return Subject.parse("person", rid, "张伟"), account
    raise AssertionError("no such subject")


PERSON, ACCOUNT = _person_with_open_unfrozen_account()
BALANCE = Decimal(ACCOUNT["Balance"])
NUMBER = ACCOUNT["AccountNo"]


def control(op: str, key: str, **kw: Any) -> ControlRequest:
    fields: dict[str, Any] = {
        "op": op, "request_no": f"KZ-{key}", "idempotency_key": key,
        "case_number": "（2026）京0105执1234号", "court_code": "京0105", "judge_name": "李明",
        "judge_officer_id": "J110105023", "ruling_number": "（2026）京0105执1234号",
        "document_number": "（2026）京0105执协00001号", "subject": PERSON, "target": NUMBER,
        "until": date(2027, 3, 1),
    }
    fields.update(kw)
    return ControlRequest(**fields)


async def done(conn: BanksConnector, request: ControlRequest) -> ControlResult:
    """Send the control and poll its ticket until the bank has answered."""
    outcome = await conn.control(request)
    for _ in range(200):
        if isinstance(outcome, ControlResult):
            return outcome
        assert isinstance(outcome, Pending)
        await asyncio.sleep(min(outcome.poll_after_seconds, 0.05))
        outcome = await conn.control_status(outcome.ticket)
    raise AssertionError(f"still pending: {outcome}")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def sim() -> AsyncIterator[TestServer]:
    server = TestServer(CONNECTOR.simulator(SimulatorConfig()))  # type: ignore[misc]
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
def conn(sim: TestServer, session: aiohttp.ClientSession) -> BanksConnector:
    return BanksConnector(ConnectorConfig(str(sim.make_url("")), secret="sim-key", timeout_seconds=5), session)


async def held(sim: TestServer, session: aiohttp.ClientSession) -> dict[str, Any]:
    async with session.get(sim.make_url(f"/_sim/accounts/{NUMBER}")) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()  # type: ignore[no-any-return]


async def withdraw(sim: TestServer, session: aiohttp.ClientSession, amount: Decimal) -> int:
    async with session.post(sim.make_url(f"/_sim/accounts/{NUMBER}/withdraw"), json={"Amount": str(amount)}) as resp:
        return resp.status


async def stats(sim: TestServer, session: aiohttp.ClientSession) -> dict[str, Any]:
    async with session.get(sim.make_url("/_sim/stats")) as resp:
        return await resp.json()  # type: ignore[no-any-return]


def test_manifest_declares_controls_apart_from_queries() -> None:
    controls = CONNECTOR.manifest.controls
    assert controls is not None and controls.operations == {"freeze", "renew", "release", "deduct"}
    assert controls.asset_kinds == {"bank_account"}
    assert controls.answers == "async"


async def test_a_control_is_pending_until_the_bank_has_processed_it(
    conn: BanksConnector, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    part = (BALANCE / 2).quantize(Decimal("0.01"))
    async with session.post(sim.make_url("/_sim/config"), json={"control_delay_seconds": 1.0}) as resp:
        assert resp.status == 200
    first = await conn.control(control("freeze", "slow", amount=part))
    assert isinstance(first, Pending) and first.ticket and first.poll_after_seconds > 0
    again = await conn.control(control("freeze", "slow", amount=part))
    assert isinstance(again, Pending) and again.ticket == first.ticket  # one key, one ticket
    assert isinstance(await conn.control_status(first.ticket), Pending)
    async with session.get(sim.make_url(f"/_sim/accounts/{NUMBER}")) as resp:
        assert resp.status == 404  # the bank has applied nothing yet
    assert (await stats(sim, session))["effective_controls"] == 0
    await asyncio.sleep(1.05)
    answer = await conn.control_status(first.ticket)
    assert isinstance(answer, ControlResult) and answer.status == "accepted" and answer.amount == part
    assert await conn.control_status(first.ticket) == answer  # polling again answers the same
    assert await conn.control(control("freeze", "slow", amount=part)) == answer  # so does the key re-sent
    assert Decimal((await held(sim, session))["Frozen"]) == part
    assert (await stats(sim, session))["effective_controls"] == 1


async def test_freeze_holds_the_money_and_is_applied_once(
    conn: BanksConnector, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    part = (BALANCE / 2).quantize(Decimal("0.01"))
    first = await done(conn, control("freeze", "f1", amount=part))
    assert first.status == "accepted" and first.amount == part and first.queue_position == 1 and first.reference
    again = await done(conn, control("freeze", "f1", amount=part))
    assert again == first  # the first answer, not a second freeze
    view = await held(sim, session)
    assert Decimal(view["Frozen"]) == part and Decimal(view["AvailableBalance"]) == BALANCE - part
    assert (await stats(sim, session))["effective_controls"] == 1
    # The frozen half cannot be withdrawn; the rest can.
    assert await withdraw(sim, session, BALANCE - part + Decimal("0.01")) == 409
    assert await withdraw(sim, session, Decimal("1.00")) == 200


async def test_never_frozen_twice_beyond_the_balance_and_the_queue_rises(
    conn: BanksConnector, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    whole = await done(conn, control("freeze", "whole", amount=None))
    assert whole.status == "accepted" and whole.amount == BALANCE
    later = await done(conn, control("freeze", "later", amount=Decimal("100.00"), court_code="京0106"))
    assert later.status == "accepted" and later.amount == Decimal("0.00") and later.queue_position == 2  # 轮候
    view = await held(sim, session)
    assert Decimal(view["Frozen"]) == BALANCE
    released = await done(conn, control("release", "rel", reference=whole.reference))
    assert released.status == "accepted"
    view = await held(sim, session)
    risen = next(f for f in view["Freezes"] if f["ControlNo"] == later.reference)
    assert Decimal(risen["Amount"]) == Decimal("100.00")  # the queued freeze rose
    again = await done(conn, control("release", "rel2", reference=whole.reference))
    assert again.status == "refused" and again.code == "CONTROL_NOT_ACTIVE"


async def test_partial_freeze_renew_and_deduct(
    conn: BanksConnector, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    asked = BALANCE + Decimal("500.00")
    freeze = await done(conn, control("freeze", "p", amount=asked))
    assert freeze.status == "partial" and freeze.amount == BALANCE
    renewed = await done(conn, control("renew", "r", reference=freeze.reference, until=date(2028, 3, 1)))
    assert renewed.status == "accepted" and renewed.until == date(2028, 3, 1)
    taken = await done(conn, control("deduct", "d", reference=freeze.reference, amount=Decimal("300.00"),
                                       funds_account="110060149018000000001"))
    assert taken.status == "accepted" and taken.amount == Decimal("300.00") and taken.transfer_reference
    view = await held(sim, session)
    assert Decimal(view["Balance"]) == BALANCE - Decimal("300.00")
    assert Decimal(view["Frozen"]) == BALANCE - Decimal("300.00")
    assert (await stats(sim, session))["effective_controls"] == 3


async def test_refusals(conn: BanksConnector) -> None:
    unknown = await done(conn, control("freeze", "u", target="6222000000000000000"))
    assert unknown.status == "refused" and unknown.code == "ACCOUNT_NOT_FOUND" and unknown.reason
    nothing = await done(conn, control("renew", "n", reference="YHKZD99999999"))
    assert nothing.status == "refused" and nothing.code == "CONTROL_NOT_FOUND"
