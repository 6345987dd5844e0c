"""Conformance of the vehicles connector: the real simulator on loopback, the real connector over
real HTTP. Manifest, check, schema-valid results, idempotency, faults -> error kinds, refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from aiohttp.test_utils import TestServer

from connectors.sdk.errors import AuthError, ConnectorError, RejectedError, TransientError
from connectors.sdk.manifest import Manifest, manifest_schema
from connectors.sdk.protocol import Connector
from connectors.sdk.types import AgencyRequest, AgencyResult, ConnectorConfig
from connectors.vehicles import CONNECTOR
from connectors.vehicles.simdata import registered_vehicles
from enforcement.domain.assets import Vehicle
from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.domain.subjects import Subject

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas/records/vehicle.schema.json").read_text("utf-8"))
API_KEY = "sim-key"  # SimulatorConfig.api_key's default
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


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


def test_manifest_validates_and_names_the_entry_point() -> None:
    manifest = Manifest.load("connectors.vehicles")
    jsonschema.validate(dict(manifest.raw), manifest_schema())
    assert manifest.name == "vehicles" == CONNECTOR.name
    assert manifest.subject_kinds == {"person", "organization"}
    assert manifest.record_kinds == ("vehicle",)
    assert manifest.search_category == "vehicles"
    assert manifest.answer_mode == "sync"
    assert manifest.default_url.endswith(":9101")
    (ep,) = [e for e in entry_points(group="enforcement.connectors") if e.name == "vehicles"]
    assert ep.load() is CONNECTOR


async def test_check_passes_with_the_key_and_fails_clearly_without(
    connector: ConnectorMaker,
) -> None:
    good = connector()
    assert isinstance(good, Connector)
    await good.check()
    with pytest.raises(AuthError) as info:
        await connector(key="wrong-key").check()
    assert info.value.code == "vehicles_1001"


async def test_check_reports_an_unreachable_registry(session: aiohttp.ClientSession) -> None:
    config = ConnectorConfig(base_url="http://127.0.0.1:9", secret=API_KEY, timeout_seconds=1)
    with pytest.raises(TransientError):
        await CONNECTOR.factory(config, session).check()


async def test_search_returns_schema_valid_vehicles(connector: ConnectorMaker) -> None:
    result = await answer(connector(), make_request(OWNER))
    assert isinstance(result, AgencyResult)
    assert result.records
    for record in result.records:
        assert isinstance(record, Vehicle)
        VALIDATOR.validate(record.to_dict())
        assert record.plate_number.startswith("辽")
    assert result.answered_at.tzinfo is not None
    assert result.answered_at.utcoffset() == UTC.utcoffset(None)
    assert result.agency_reference and result.agency_reference.startswith("JGCX")
    assert result.raw["code"] == "0000"


async def test_repeated_key_is_one_effective_query(
    connector: ConnectorMaker, session: aiohttp.ClientSession, server: TestServer
) -> None:
    client = connector()
    first = await answer(client, make_request(OWNER, key="s-7:vehicles"))
    again = await answer(client, make_request(OWNER, key="s-7:vehicles"))
    assert again.records == first.records
    assert again.answered_at == first.answered_at
    assert again.agency_reference == first.agency_reference
    stats = await sim(session, server, "/_sim/stats")
    assert stats["effective_queries"] == 1
    assert stats["calls"] == 2
    later = await answer(client, make_request(OWNER, key="s-8:vehicles"))
    assert later.records == first.records  # same subject, same answer, a second query
    assert (await sim(session, server, "/_sim/stats"))["effective_queries"] == 2


async def test_organization_owner(connector: ConnectorMaker) -> None:
    result = await answer(connector(), make_request(COMPANY))
    assert result.records
    for record in result.records:
        VALIDATOR.validate(record.to_dict())


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


async def test_malformed_id_is_refused_without_echoing_it(connector: ConnectorMaker) -> None:
    broken = Subject(kind="person", id_number="21010219790314001X", name="张伟")
    with pytest.raises(RejectedError) as info:
        await answer(connector(), make_request(broken))
    assert info.value.code == "vehicles_2002"
    assert broken.id_number not in str(info.value)


FAULTS: list[tuple[dict[str, Any], type[ConnectorError]]] = [
    ({"p_5xx": 1}, TransientError),
    ({"down": True}, TransientError),
    ({"p_unauthorized": 1}, AuthError),
    ({"p_rate_limited": 1, "retry_after_seconds": 7}, TransientError),
    ({"p_malformed": 1}, TransientError),
    ({"p_wrong_content_type": 1}, TransientError),
    ({"p_reset": 1}, TransientError),
    ({"p_hang": 1, "hang_seconds": 1.0}, TransientError),
    ({"p_drip": 1, "drip_seconds": 2.0}, TransientError),
]


@pytest.mark.parametrize(("fault", "kind"), FAULTS, ids=[next(iter(f)) for f, _ in FAULTS])
async def test_injected_faults_map_to_the_right_kind(
    fault: dict[str, Any],
    kind: type[ConnectorError],
    connector: ConnectorMaker,
    session: aiohttp.ClientSession,
    server: TestServer,
) -> None:
    await sim(session, server, "/_sim/config", **fault)
    client = connector(timeout=0.4)
    calls: list[Callable[[], Awaitable[object]]] = [
        client.check,
        lambda: client.search(make_request(OWNER)),
    ]
    for call in calls:
        with pytest.raises(ConnectorError) as info:
            await call()
        assert type(info.value) is kind
    if "p_rate_limited" in fault:
        assert isinstance(info.value, TransientError)
        assert info.value.retry_after == 7
    if "p_hang" in fault or "p_drip" in fault:
        assert info.value.code == "timeout"


async def test_a_slow_but_complete_answer_within_the_timeout_is_an_answer(
    connector: ConnectorMaker, session: aiohttp.ClientSession, server: TestServer
) -> None:
    await sim(session, server, "/_sim/config", p_drip=1, drip_seconds=0.2)
    result = await answer(connector(timeout=3.0), make_request(OWNER))
    assert result.records
