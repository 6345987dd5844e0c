"""Conformance of the vehicles connector: the real simulator on loopback, the real connector over
real HTTP. Only what is the registry's own is here: its codes (0000, 0001, 1001, 200x), plates of
the owner's province, owners of both kinds. What every connector must do (credentials, an
unreachable registry, schema-valid records, idempotency, fault mapping, timeouts) is checked by
the kit's rules (tests/conformance/test_suite_over_installed.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    AuthError,
    Connector,
    ConnectorConfig,
    RejectedError,
    Subject,
    Vehicle,
    make_credit_code,
    make_resident_id,
)
from connectors.vehicles import CONNECTOR
from connectors.vehicles.simdata import registered_vehicles

API_KEY = "sim-key"  # SimulatorConfig.api_key's default


def first_subject(kind: str, want_vehicles: bool) -> Subject:
    """A subject the simulated registry knows (or does not), found by the registry's own rule."""
    for seq in range(1, 1000):
        if kind == "person":
            number = make_resident_id("210102", date(1979, 3, 14), seq)
        else:
            number = make_credit_code("9", "1", "210102", f"MA{seq:06d}")
        if bool(registered_vehicles(kind, number)) == want_vehicles:
            name = "张伟" if kind == "person" else "沈阳某某运输有限公司"
            return Subject.parse(kind, number, name)
    raise AssertionError("no such subject")


OWNER = first_subject("person", True)
NOBODY = first_subject("person", False)
COMPANY = first_subject("organization", True)


def make_request(subject: Subject, key: str = "s-1:vehicles", **overrides: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "Q20261124000001",
        "idempotency_key": key,
        "case_number": "（2026）辽0102执1234号",
        "court_code": "辽0102",
        "judge_name": "王法官",
        "judge_officer_id": "2101020017",
        "document_number": "（2026）辽0102执1234号之一",
        "subject": subject,
    }
    fields.update(overrides)
    return AgencyRequest(**fields)


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    srv = TestServer(CONNECTOR.simulator(), host="127.0.0.1") if CONNECTOR.simulator else None
    assert srv is not None
    await srv.start_server()
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


ConnectorMaker = Callable[..., Connector]


@pytest.fixture
def connector(server: TestServer, session: aiohttp.ClientSession) -> ConnectorMaker:
    def make(key: str = API_KEY, timeout: float = 3.0) -> Connector:
        config = ConnectorConfig(
            base_url=str(server.make_url("/")), secret=key, timeout_seconds=timeout
        )
        return CONNECTOR.factory(config, session)

    return make


async def answer(client: Connector, request: AgencyRequest) -> AgencyResult:
    """A sync agency answers at once: never a Pending ticket."""
    outcome = await client.search(request)
    assert isinstance(outcome, AgencyResult)
    return outcome


async def sim(session: aiohttp.ClientSession, server: TestServer, path: str, **body: Any) -> Any:
    url = server.make_url(path)
    if body:
        async with session.post(url, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()
    async with session.get(url) as resp:
        return await resp.json()


def test_manifest_describes_the_registry() -> None:
    manifest = CONNECTOR.manifest
    assert manifest.name == "vehicles" == CONNECTOR.name
    assert manifest.subject_kinds == {"person", "organization"}
    assert manifest.record_kinds == ("vehicle",)
    assert manifest.search_category == "vehicles"
    assert manifest.answer_mode == "sync"
    assert manifest.default_url.endswith(":9101")


async def test_a_wrong_key_is_the_registrys_code_1001(connector: ConnectorMaker) -> None:
    with pytest.raises(AuthError) as info:
        await connector(key="wrong-key").check()
    assert info.value.code == "vehicles_1001"


async def test_plates_of_the_owners_province(connector: ConnectorMaker) -> None:
    result = await answer(connector(), make_request(OWNER))
    assert isinstance(result, AgencyResult)
    assert result.records
    for record in result.records:
        assert isinstance(record, Vehicle)
        assert record.plate_number.startswith("辽")
    assert result.answered_at.utcoffset() == UTC.utcoffset(None)
    assert result.agency_reference and result.agency_reference.startswith("JGCX")
    assert result.raw["code"] == "0000"


async def test_organization_owner(connector: ConnectorMaker) -> None:
    result = await answer(connector(), make_request(COMPANY))
    assert result.records
    assert all(isinstance(record, Vehicle) for record in result.records)


async def test_nothing_registered_is_an_empty_answer(connector: ConnectorMaker) -> None:
    result = await answer(connector(), make_request(NOBODY))
    assert result.records == ()
    assert result.raw["code"] == "0001"
    assert result.raw["msg"] == "查无信息"
    assert result.agency_reference


async def test_missing_document_number_is_refused_with_the_registry_reason(
    connector: ConnectorMaker, session: aiohttp.ClientSession, server: TestServer
) -> None:
    with pytest.raises(RejectedError) as info:
        await answer(connector(), make_request(OWNER, document_number=""))
    assert info.value.code == "vehicles_2001"
    assert "文书编号" in info.value.message
    assert (await sim(session, server, "/_sim/stats"))["effective_queries"] == 0


async def test_malformed_id_is_the_registrys_code_2002(connector: ConnectorMaker) -> None:
    broken = Subject(kind="person", id_number="21010219790314001X", name="张伟")
    with pytest.raises(RejectedError) as info:
        await answer(connector(), make_request(broken))
    assert info.value.code == "vehicles_2002"
