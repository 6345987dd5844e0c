"""The registry's seals (查封登记, 续行查封, 解除查封) against its stateful simulator: the seals
already held come first, later ones queue (轮候) and rise when one ahead is released; a re-sent
seal is answered with the first answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from connectors.sdk import ConnectorConfig, ControlRequest, RejectedError, SimulatorConfig, Subject, make_resident_id
from connectors.vehicles import CONNECTOR, VehiclesConnector
from connectors.vehicles.simdata import registered_vehicles


def _owner() -> tuple[Subject, dict[str, str]]:
    for seq in range(3000):
        rid = make_resident_id("210102", date(1980, 1, 2), seq)
        for vehicle in registered_vehicles("person", rid):
            if vehicle["cfsl"] == "0":
                return Subject.parse("person", rid, "王强"), vehicle
    raise AssertionError("no such owner")


OWNER, CAR = _owner()


def control(op: str, key: str, **kw: Any) -> ControlRequest:
    fields: dict[str, Any] = {
        "op": op, "request_no": f"KZ-{key}", "idempotency_key": key, "case_number": "（2026）辽0102执12号",
        "court_code": "辽0102", "judge_name": "张伟", "judge_officer_id": "J210102001",
        "ruling_number": "（2026）辽0102执12号", "document_number": "（2026）辽0102执协00001号",
        "subject": OWNER, "target": CAR["clsbdh"], "until": date(2028, 3, 1),
    }
    fields.update(kw)
    return ControlRequest(**fields)


@pytest.fixture
async def conn() -> AsyncIterator[VehiclesConnector]:
    server = TestServer(CONNECTOR.simulator(SimulatorConfig()))  # type: ignore[misc]
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield VehiclesConnector(ConnectorConfig(str(server.make_url("")), secret="sim-key", timeout_seconds=5), session)
    await server.close()


async def test_seals_queue_and_rise(conn: VehiclesConnector) -> None:
    first = await conn.control(control("seal", "s1"))
    assert first.status == "accepted" and first.queue_position == 1 and first.reference
    assert await conn.control(control("seal", "s1")) == first  # re-sent: the first answer
    second = await conn.control(control("seal", "s2", court_code="辽0103"))
    assert second.queue_position == 2  # 轮候
    renewed = await conn.control(control("renew", "r1", reference=second.reference, until=date(2029, 1, 1)))
    assert renewed.status == "accepted" and renewed.queue_position == 2 and renewed.until == date(2029, 1, 1)
    assert (await conn.control(control("release", "x1", reference=first.reference))).status == "accepted"
    risen = await conn.control(control("renew", "r2", reference=second.reference, until=date(2029, 1, 1)))
    assert risen.queue_position == 1  # rose when the first seal was released


async def test_refusals(conn: VehiclesConnector) -> None:
    other = await conn.control(control("seal", "o", target="LFV2A21K5D4012345"))
    assert other.status == "refused" and other.code == "4001" and other.reason
    with pytest.raises(RejectedError):
        await conn.control(control("deduct", "d"))
