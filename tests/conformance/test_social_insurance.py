"""Conformance of the social insurance connector, driven over real HTTP against its simulator."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from aiohttp.test_utils import TestServer

from connectors.sdk.errors import AuthError, ConnectorError, RejectedError, TransientError
from connectors.sdk.manifest import Manifest
from connectors.sdk.types import AgencyRequest, ConnectorConfig
from connectors.social_insurance import CONNECTOR
from connectors.social_insurance.adapter import SocialInsuranceConnector
from connectors.social_insurance.simdata import body_parts, insured
from connectors.social_insurance.simulator import create_simulator
from connectors.social_insurance.wire import GATEWAY_PATH
from enforcement.domain.assets import Employment, Pension
from enforcement.domain.identifiers import (
    make_credit_code,
    make_resident_id,
    normalize_credit_code,
    resident_id_birth_date,
)
from enforcement.domain.subjects import Subject

SIM_KEY = "sim-key"  # the simulator's default api_key
WRONG_KEY = "not-the-sim-key"
NOW = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "records"


def find_person(want: str) -> str:
    """A resident ID whose simulated career has the wanted shape (deterministic search)."""
    for seq in range(1, 999):
        id_number = make_resident_id("210102", date(1955 + seq % 45, 1 + seq % 12, 9), seq)
        parts = body_parts(insured(id_number), NOW.date())
        shape = {
            "empty": not parts["found"],
            "worker": len(parts["cbxxList"]) >= 2 and parts["dyxx"] is None,
            "retired": parts["dyxx"] is not None,
        }
        if shape[want]:
            return id_number
    raise AssertionError(f"no simulated subject of shape {want!r}")


def make_request(
    id_number: str, key: str = "s-1:social_insurance", **overrides: Any
) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "R-" + key,
        "idempotency_key": key,
        "case_number": "（2026）辽0102执1234号",
        "court_code": "辽0102",
        "judge_name": "王法官",
        "judge_officer_id": "2101020012",
        "document_number": "（2026）辽0102执1234号之二",
        "subject": Subject.parse("person", id_number, "李四"),
    }
    fields.update(overrides)
    return AgencyRequest(**fields)


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    srv = TestServer(create_simulator(clock=lambda: NOW))
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def connector(
    server: TestServer, session: aiohttp.ClientSession, *, secret: str = SIM_KEY, timeout: float = 5
) -> SocialInsuranceConnector:
    config = ConnectorConfig(
        base_url=str(server.make_url("")),
        secret=secret,
        timeout_seconds=timeout,
        extra={"app_key": "zdz-fy-210102"},
    )
    made = CONNECTOR.factory(config, session)
    assert isinstance(made, SocialInsuranceConnector)
    return made


async def sim_config(server: TestServer, session: aiohttp.ClientSession, **cfg: Any) -> None:
    async with session.post(server.make_url("/_sim/config"), json=cfg) as resp:
        assert resp.status == 200, await resp.text()


async def sim_stats(server: TestServer, session: aiohttp.ClientSession) -> dict[str, Any]:
    async with session.get(server.make_url("/_sim/stats")) as resp:
        stats: dict[str, Any] = await resp.json()
        return stats


def validate(record: Any) -> None:
    schema = json.loads((SCHEMAS / f"{record.kind}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(record.to_dict())


def test_manifest_is_valid_and_describes_the_agency() -> None:
    manifest = Manifest.load("connectors.social_insurance")
    assert CONNECTOR.name == manifest.name == "social_insurance"
    assert manifest.subject_kinds == {"person"} and manifest.answer_mode == "sync"
    assert manifest.search_category == "income"
    assert set(manifest.record_kinds) == {"employment", "pension"}
    for kind in manifest.record_kinds:
        assert (SCHEMAS / f"{kind}.schema.json").is_file()


async def test_check_accepts_the_secret_and_refuses_a_wrong_one(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    await connector(server, session).check()
    with pytest.raises(AuthError) as info:
        await connector(server, session, secret=WRONG_KEY).check()
    assert info.value.code == "900001" and "应用认证失败" in info.value.message
    with pytest.raises(AuthError) as info:
        await connector(server, session, secret="").check()
    assert info.value.code == "no_credential"
    with pytest.raises(AuthError):
        await connector(server, session, secret=WRONG_KEY).search(
            make_request(find_person("worker"))
        )


async def test_worker_has_valid_employments(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    result = await connector(server, session).search(make_request(find_person("worker")))
    assert len(result.records) >= 2
    for record in result.records:
        assert isinstance(record, Employment)
        validate(record)
        assert normalize_credit_code(record.employer_credit_code) == record.employer_credit_code
        assert record.last_paid_month <= "2026-10"  # paid up to last month at most
    assert result.answered_at == NOW
    assert result.agency_reference and result.agency_reference.startswith("RS")
    assert result.raw["head"]["retCode"] == "000000"
    assert "appSecret" not in json.dumps(result.raw)


async def test_retired_person_draws_a_pension(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    person = find_person("retired")
    result = await connector(server, session).search(make_request(person))
    (pension,) = (r for r in result.records if isinstance(r, Pension))
    validate(pension)
    assert pension.monthly_amount > 0 and pension.paying_agency.endswith(("中心", "局"))
    assert pension.since is not None and pension.since <= NOW.date()
    age_at_retirement = pension.since.year - resident_id_birth_date(person).year
    assert age_at_retirement in (50, 51, 55, 56, 60, 61)
    for employment in (r for r in result.records if isinstance(r, Employment)):
        assert employment.status == "终止"
        assert employment.last_paid_month < pension.since.isoformat()[:7]


async def test_same_serial_twice_is_one_effective_query(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connector(server, session)
    req = make_request(find_person("worker"), key="s-2:social_insurance")
    first, second = await conn.search(req), await conn.search(req)
    # A re-dispatch may carry a new request number: still the same query under the same key.
    renumbered = await conn.search(dataclasses.replace(req, request_no="R-again"))
    assert renumbered.records == first.records
    assert first.records == second.records and first.raw == second.raw
    assert (first.answered_at, first.agency_reference) == (
        second.answered_at,
        second.agency_reference,
    )
    stats = await sim_stats(server, session)
    assert (stats["calls"], stats["effective_queries"]) == (3, 1)
    other = await conn.search(make_request(find_person("worker"), key="s-3:social_insurance"))
    assert other.records == first.records
    assert (await sim_stats(server, session))["effective_queries"] == 2


async def test_serial_reused_for_another_query_is_rejected(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connector(server, session)
    await conn.search(make_request(find_person("worker"), key="s-4:social_insurance"))
    with pytest.raises(RejectedError) as info:
        await conn.search(make_request(find_person("retired"), key="s-4:social_insurance"))
    assert info.value.code == "200006"


async def test_empty_answer(server: TestServer, session: aiohttp.ClientSession) -> None:
    result = await connector(server, session).search(make_request(find_person("empty")))
    assert result.records == ()
    assert result.raw["head"]["retCode"] == "300001" and result.agency_reference
    assert result.answered_at == NOW


async def test_organization_is_refused_before_any_call(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    code = make_credit_code("9", "1", "210102", "MA0U4G2B")
    org = Subject.parse("organization", code, "沈阳某某贸易有限公司")
    with pytest.raises(RejectedError) as info:
        await connector(server, session).search(make_request(find_person("empty"), subject=org))
    assert info.value.code == "subject_kind_unsupported"
    assert (await sim_stats(server, session))["calls"] == 0


@pytest.mark.parametrize(
    ("change", "code", "said"),
    [
        ({"document_number": ""}, "200001", "assistDocNo"),
        ({"judge_name": "  "}, "200001", "judgeName"),
        ({"subject": Subject("person", "210102198001011230", "王五")}, "200002", "GB 11643"),
    ],
)
async def test_business_rejections_carry_the_agency_reason(
    server: TestServer,
    session: aiohttp.ClientSession,
    change: dict[str, Any],
    code: str,
    said: str,
) -> None:
    with pytest.raises(RejectedError) as info:
        await connector(server, session).search(make_request(find_person("worker"), **change))
    assert info.value.code == code
    assert said in info.value.message and code in info.value.message
    assert "210102198001011230" not in info.value.message


async def test_gateway_refuses_unknown_transactions_and_garbage(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connector(server, session)
    with pytest.raises(RejectedError) as info:
        await conn.wire.call("XXXX9999", {}, serial_no="s-9:social_insurance")
    assert info.value.code == "200004"
    async with session.post(server.make_url(GATEWAY_PATH), data=b"not json") as resp:
        assert resp.status == 200
        doc = await resp.json()
    assert doc["head"]["retCode"] == "200005"


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        ({"p_5xx": 1}, TransientError, None),
        ({"down": True}, TransientError, "http_503"),
        ({"p_unauthorized": 1}, AuthError, "http_401"),
        ({"p_rate_limited": 1, "retry_after_seconds": 7}, TransientError, "http_429"),
        ({"p_malformed": 1}, TransientError, "malformed"),
        ({"p_wrong_content_type": 1}, TransientError, "bad_content_type"),
        ({"p_reset": 1}, TransientError, "connection"),
        ({"p_hang": 1, "hang_seconds": 1.0}, TransientError, "timeout"),
        ({"p_drip": 1, "drip_seconds": 1.0}, TransientError, "timeout"),
    ],
)
async def test_faults_map_to_error_kinds(
    server: TestServer,
    session: aiohttp.ClientSession,
    fault: dict[str, Any],
    kind: type[ConnectorError],
    code: str | None,
) -> None:
    await sim_config(server, session, **fault)
    conn = connector(server, session, timeout=0.3)
    request = make_request(find_person("worker"))
    for call in (conn.check, lambda: conn.search(request)):
        with pytest.raises(kind) as info:
            await call()
        if code is not None:
            assert info.value.code == code
        if "retry_after_seconds" in fault:
            assert isinstance(info.value, TransientError) and info.value.retry_after == 7
    stats = await sim_stats(server, session)
    assert sum(stats["faults"].values()) == 2  # both calls are POSTs: aiohttp never re-sends
    if not {"p_hang", "p_drip"} & set(fault):  # those answer late, after the client gave up
        assert stats["effective_queries"] == 0
