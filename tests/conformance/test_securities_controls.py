"""The depository's freezes (冻结证券, 续冻, 解冻) against its stateful simulator: a holding no one
froze is frozen at once, one another authority froze already is frozen in turn (轮候冻结) and
rises when the earlier freeze is released; each request id is applied once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from connectors.sdk import (
    STATE_KEY,
    ConnectorConfig,
    ControlRequest,
    RejectedError,
    SimulatorConfig,
    Subject,
    TransientError,
    make_resident_id,
)
from connectors.securities import CONNECTOR, SecuritiesConnector
from connectors.securities.adapter import control_from_wire
from connectors.securities.codes import MARKETS
from connectors.securities.simdata import accounts_for, data_date


def _investor(frozen: bool) -> tuple[Subject, str]:
    """An investor with a holding (named as the service names it) that is, or is not, frozen already."""
    for seq in range(5000):
        rid = make_resident_id("110105", date(1975, 6, 7), seq)
        for account in accounts_for("person", rid, data_date()):
            for item in account["cyxx"]:
                if (int(item["djsl"]) > 0) == frozen and account["zhzt"] == "0":
                    target = f"{MARKETS[account['scdm']]}:{account['zqzh']}:{item['zqdm']}"
                    return Subject.parse("person", rid, "赵敏"), target
    raise AssertionError("no such investor")


INVESTOR, HOLDING = _investor(frozen=False)
FROZEN_INVESTOR, FROZEN_HOLDING = _investor(frozen=True)


def control(op: str, key: str, **kw: Any) -> ControlRequest:
    fields: dict[str, Any] = {
        "op": op, "request_no": f"DJ-{key}", "idempotency_key": key, "case_number": "（2026）京0105执88号",
        "court_code": "京0105", "judge_name": "李明", "judge_officer_id": "J110105023",
        "ruling_number": "（2026）京0105执88号", "document_number": "（2026）京0105执协00002号",
        "subject": INVESTOR, "target": HOLDING, "until": date(2029, 3, 1),
    }
    fields.update(kw)
    return ControlRequest(**fields)


@pytest.fixture
async def depository() -> AsyncIterator[tuple[SecuritiesConnector, Any]]:
    server = TestServer(CONNECTOR.simulator(SimulatorConfig()))  # type: ignore[misc]
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        config = ConnectorConfig(str(server.make_url("")), secret="sim-key", timeout_seconds=5)
        yield SecuritiesConnector(config, session), server.app[STATE_KEY]
    await server.close()


async def test_freezes_queue_and_rise(depository: tuple[SecuritiesConnector, Any]) -> None:
    conn, state = depository
    first = await conn.control(control("freeze", "f1"))
    assert first.status == "accepted" and first.queue_position == 1 and first.until == date(2029, 3, 1)
    assert await conn.control(control("freeze", "f1")) == first  # re-sent: the first answer, applied once
    second = await conn.control(control("freeze", "f2", court_code="京0106"))
    assert second.queue_position == 2  # 轮候冻结
    renewed = await conn.control(control("renew", "r1", reference=first.reference, until=date(2032, 3, 1)))
    assert renewed.status == "accepted" and renewed.until == date(2032, 3, 1)
    assert (await conn.control(control("release", "x1", reference=first.reference))).status == "accepted"
    assert state.controls.position_of(second.reference) == 1  # rose when the first was released
    assert state.controls.stats() == {"effective_controls": 4, "duplicated_controls": 0}


async def test_a_holding_frozen_by_another_authority_is_frozen_in_turn(
        depository: tuple[SecuritiesConnector, Any]) -> None:
    conn, state = depository
    ours = await conn.control(control("freeze", "q1", subject=FROZEN_INVESTOR, target=FROZEN_HOLDING))
    assert ours.status == "accepted" and ours.queue_position == 2
    theirs = state.controls.objects[FROZEN_HOLDING].seals[0]
    state.controls.release(theirs.reference)  # the other authority releases its freeze
    assert state.controls.position_of(ours.reference) == 1


async def test_refusals(depository: tuple[SecuritiesConnector, Any]) -> None:
    conn, state = depository
    other = await conn.control(control("freeze", "o1", target="SH:A000000001:600519"))
    assert other.status == "refused" and other.code == "E401" and other.reason
    with pytest.raises(RejectedError):  # no deduction of securities: refused before anything is sent
        await conn.control(control("deduct", "d1"))
    with pytest.raises(RejectedError):  # not market:account:code
        await conn.control(control("freeze", "b1", target="A123456789"))
    with pytest.raises(RejectedError):  # a renewal names the freeze (djbh)
        await conn.control(control("renew", "n1"))
    assert state.controls.stats()["effective_controls"] == 0


def test_control_answers_map_and_broken_ones_are_malformed() -> None:
    body = {"clzt": "1", "djbh": "ZQDJF00000001", "lhxh": "2", "djjzrq": "20290301", "clsj": "20260105140311",
            "sbdm": "", "sbyy": ""}
    result = control_from_wire({"head": {"fhdm": "0000"}, "body": body})
    assert (result.status, result.reference, result.queue_position, result.until) == \
        ("accepted", "ZQDJF00000001", 2, date(2029, 3, 1))
    assert result.answered_at == datetime(2026, 1, 5, 6, 3, 11, tzinfo=UTC)
    for broken in ({"clzt": "7"}, {"lhxh": "x"}, {"djjzrq": "2029-03-01"}, {"clsj": ""}):
        with pytest.raises(TransientError):
            control_from_wire({"head": {}, "body": {**body, **broken}})
