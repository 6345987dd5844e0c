"""The registry's seals (查封, 续封, 解除查封) against its stateful simulator: a unit sealed by one
court, later seals queued behind it (轮候查封) rising when the ones ahead are released, each
control applied once per request id; and the pure mapping of the registry's control answers.

Synchronous tests (each runs its own event loop), as this package's suite runs with or without
pytest-asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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

from real_estate_connector import CONNECTOR, RealEstateConnector
from real_estate_connector.adapter import control_from_wire
from real_estate_connector.simdata import properties_for


def _holder(seizures: int) -> tuple[Subject, dict[str, Any]]:
    """A person holding a unit with ``seizures`` seals of other courts on it."""
    for seq in range(5000):
        rid = make_resident_id("210102", date(1979, 3, 4), seq)
        for unit in properties_for("person", rid):
            if int(unit["CFSL"]) == seizures:
                return Subject.parse("person", rid, "刘洋"), unit
    raise AssertionError("no such holder")


CLEAR_HOLDER, CLEAR_UNIT = _holder(0)
SEIZED_HOLDER, SEIZED_UNIT = _holder(1)


def control(op: str, key: str, subject: Subject = CLEAR_HOLDER, target: str = CLEAR_UNIT["BDCDYH"],
            **kw: Any) -> ControlRequest:
    fields: dict[str, Any] = {
        "op": op, "request_no": f"KZ-{key}", "idempotency_key": key, "case_number": "（2026）辽0102执12号",
        "court_code": "辽0102", "judge_name": "张伟", "judge_officer_id": "J210102001",
        "ruling_number": "（2026）辽0102执12号", "document_number": "（2026）辽0102执协00001号",
        "subject": subject, "target": target, "until": date(2029, 3, 1),
    }
    fields.update(kw)
    return ControlRequest(**fields)


def with_registry(scenario: Callable[[RealEstateConnector, Any, str], Awaitable[None]]) -> None:
    async def run() -> None:
        server = TestServer(CONNECTOR.simulator(SimulatorConfig()))  # type: ignore[misc]
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as session:
                url = str(server.make_url("")).rstrip("/")
                conn = RealEstateConnector(ConnectorConfig(url, secret="sim-key", timeout_seconds=5),  # noqa: S106
                                           session)
                await scenario(conn, server.app[STATE_KEY], url)
        finally:
            await server.close()

    asyncio.run(run())


def test_a_seal_is_effective_later_ones_queue_and_rise_when_released() -> None:
    async def scenario(conn: RealEstateConnector, state: Any, url: str) -> None:
        first = await conn.control(control("seal", "s1"))
        assert first.status == "accepted" and first.queue_position == 1 and first.reference
        assert first.until == date(2029, 3, 1)
        assert await conn.control(control("seal", "s1")) == first  # re-sent: the first answer, applied once
        second = await conn.control(control("seal", "s2", court_code="辽0103"))
        third = await conn.control(control("seal", "s3", court_code="辽0104"))
        assert (second.queue_position, third.queue_position) == (2, 3)  # 轮候查封
        assert state.controls.stats() == {"effective_controls": 3, "duplicated_controls": 0}
        renewed = await conn.control(control("renew", "r1", reference=first.reference, until=date(2032, 3, 1)))
        assert renewed.status == "accepted" and renewed.queue_position == 1 and renewed.until == date(2032, 3, 1)
        released = await conn.control(control("release", "x1", reference=first.reference))
        assert released.status == "accepted"
        risen = await conn.control(control("renew", "r2", reference=second.reference, until=date(2031, 1, 1)))
        assert risen.queue_position == 1  # the first seal released: the next in the queue is now effective
        assert state.controls.position_of(third.reference) == 2
        again = await conn.control(control("release", "x2", reference=first.reference))
        assert again.status == "refused" and again.code == "CONTROL_NOT_ACTIVE"
        async with aiohttp.ClientSession() as s, s.get(f"{url}/_sim/controls/{CLEAR_UNIT['BDCDYH']}") as r:
            view = await r.json()
        assert [c["position"] for c in view["controls"]] == [None, 1, 2]

    with_registry(scenario)


def test_a_unit_sealed_by_another_court_is_sealed_in_turn() -> None:
    async def scenario(conn: RealEstateConnector, state: Any, url: str) -> None:
        ours = await conn.control(control("seal", "q1", SEIZED_HOLDER, SEIZED_UNIT["BDCDYH"]))
        assert ours.status == "accepted" and ours.queue_position == 2  # behind the other court's seal
        theirs = state.controls.objects[SEIZED_UNIT["BDCDYH"]].seals[0]
        state.controls.release(theirs.reference)  # the other court releases its seal
        assert state.controls.position_of(ours.reference) == 1

    with_registry(scenario)


def test_refusals_and_undeclared_operations() -> None:
    async def scenario(conn: RealEstateConnector, state: Any, url: str) -> None:
        other = await conn.control(control("seal", "o1", target="210102003005GB00012F00010023"))
        assert other.status == "refused" and other.code == "404101" and other.reason
        with pytest.raises(RejectedError):  # the manifest declares no deduction: nothing is sent
            await conn.control(control("deduct", "d1"))
        with pytest.raises(RejectedError):  # a renewal must name the seal (CFBH)
            await conn.control(control("renew", "n1"))
        assert state.controls.stats()["effective_controls"] == 0

    with_registry(scenario)


def test_control_answers_map_and_broken_ones_are_malformed() -> None:
    data = {"KZJG": "1", "CFBH": "BDCCFF00000001", "LHSX": 2, "CFJSRQ": "2029-03-01",
            "FKSJ": "2026-01-05 14:03:11", "BLDM": "", "BLYY": ""}
    result = control_from_wire(data)
    assert (result.status, result.reference, result.queue_position, result.until) == \
        ("accepted", "BDCCFF00000001", 2, date(2029, 3, 1))
    assert result.answered_at == datetime(2026, 1, 5, 6, 3, 11, tzinfo=UTC) and result.code is None
    refused = control_from_wire({**data, "KZJG": "3", "BLDM": "404101", "BLYY": "无此单元"})
    assert refused.status == "refused" and refused.code == "404101" and refused.reason == "无此单元"
    for broken in ({"KZJG": "9"}, {"LHSX": "第二"}, {"CFJSRQ": "2029/03/01"}, {"FKSJ": ""}):
        with pytest.raises(TransientError):
            control_from_wire({**data, **broken})
