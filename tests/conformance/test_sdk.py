"""The connector SDK's shared parts: the agency's reason kept on 401/403, the effective manifest
adopted by connectors, per-item batch refusals, record schemas found in a package or the
project, and typed simulator state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.sdk.base import BaseConnector
from connectors.sdk.errors import AuthError, ConfigurationError, RejectedError
from connectors.sdk.http import agency_reason, fetch_json
from connectors.sdk.manifest import Manifest
from connectors.sdk.record_schemas import find_record_schema
from connectors.sdk.simulator_kit import SimulatorConfig, SimulatorState, make_simulator_app, state_of
from connectors.sdk.types import AgencyRequest, ConnectorConfig, Outcome, Pending, Rejected
from connectors.vehicles import CONNECTOR as VEHICLES
from enforcement.domain.identifiers import make_resident_id
from enforcement.domain.subjects import Subject


async def refuse(request: web.Request) -> web.Response:
    body = {"hotels": {"status": "error", "errcode": 40101, "errmsg": "访问令牌已过期"},
            "exit_entry": {"type": "about:blank", "title": "Unauthorized", "detail": "证书已吊销"},
            "social": {"head": {"retCode": "900001", "retMsg": "appKey无效"}, "body": {}}}[request.match_info["style"]]
    return web.json_response(body, status=401)


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/{style}", refuse)
    srv = TestServer(app)
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.mark.parametrize(("style", "reason"), [("hotels", "访问令牌已过期"), ("exit_entry", "证书已吊销"),
                                               ("social", "appKey无效")])
async def test_a_refused_credential_keeps_the_agency_reason(server: TestServer, style: str, reason: str) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(AuthError) as info:
            await fetch_json(session, "GET", str(server.make_url(f"/{style}")), timeout=2)
        assert info.value.message == f"agency refused our credentials (HTTP 401): {reason}"
        assert info.value.detail is not None
        # A client that maps the agency's auth codes itself reads the answer instead.
        answer = await fetch_json(session, "GET", str(server.make_url(f"/{style}")), timeout=2,
                                  auth_statuses=frozenset())
        assert answer.status == 401 and agency_reason(answer.body) == reason


def test_agency_reason_finds_nothing_in_nothing() -> None:
    assert agency_reason(None) is None and agency_reason({"code": 1}) is None and agency_reason([1]) is None


def subject(seq: int) -> Subject:
    return Subject.parse("person", make_resident_id("210102", date(1980, 1, 1), seq), "张三")


class Picky(BaseConnector):
    """Refuses odd-numbered subjects, answers the others at once."""

    manifest = VEHICLES.manifest

    async def check(self) -> None:
        return None

    async def search(self, request: AgencyRequest) -> Outcome:
        if int(request.subject.id_number[14:17]) % 2:
            raise RejectedError("单号有误", code="odd")
        return Pending(request.idempotency_key)


def request_for(seq: int) -> AgencyRequest:
    return AgencyRequest(f"R{seq}", f"s-{seq}:vehicles", "（2026）辽0102执1号", "辽0102", "王", "1", "文书1",
                         subject(seq))


async def test_the_default_batch_keeps_each_refusal_in_its_slot() -> None:
    async with aiohttp.ClientSession() as session:
        picky = Picky(ConnectorConfig("http://127.0.0.1:9"), session)
        outcomes = await picky.search_batch([request_for(2), request_for(3), request_for(4)])
    assert outcomes == [Pending("s-2:vehicles"), Rejected("单号有误", "odd"), Pending("s-4:vehicles")]


async def test_a_connector_adopts_the_effective_manifest() -> None:
    effective = VEHICLES.manifest.with_overrides({"timeout_seconds": "2.5", "max_attempts": "2"})
    async with aiohttp.ClientSession() as session:
        connector: Any = VEHICLES.factory(ConnectorConfig("http://x", manifest=effective), session)
        assert connector.manifest is effective and connector.manifest.policy.timeout_seconds == 2.5
        assert type(connector).manifest.policy.timeout_seconds == 5  # the class keeps the declared one
        default: Any = VEHICLES.factory(ConnectorConfig("http://x"), session)
        assert default.manifest == VEHICLES.manifest
        other = Manifest.load("connectors.banks")
        with pytest.raises(ConfigurationError, match="not 'banks'"):
            VEHICLES.factory(ConnectorConfig("http://x", manifest=other), session)


def test_record_schemas_come_from_the_package_first_then_the_project() -> None:
    found = find_record_schema("vehicle", "connectors.vehicles")
    assert found is not None and found[1] == "schemas/records/vehicle.schema.json"
    assert find_record_schema("vessel", "connectors.vehicles") is None
    assert Manifest.load("connectors.vehicles").package == "connectors.vehicles"


def test_simulator_state_is_read_back_typed() -> None:
    class Mine(SimulatorState):
        pass

    app = make_simulator_app(Mine(SimulatorConfig(time_scale=10.0, answer_delay_seconds=5.0)), [])
    assert isinstance(state_of(app, Mine), Mine)
    assert state_of(app, SimulatorState).answer_delay() == 0.5
    with pytest.raises(TypeError):
        state_of(make_simulator_app(SimulatorState(SimulatorConfig()), []), Mine)
