"""Conformance of the social insurance connector, driven over real HTTP against its simulator.

Only what is the gateway's own is here: its retCodes (900001, 200001-200006, 300001), its
transaction envelope, the careers and pensions of the simulated insured. What every connector
must do (credentials, schema-valid records, idempotency, refusing organizations before any call,
fault mapping, timeouts) is checked by the kit's rules (tests/conformance/test_suite_over_installed.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from connectors.sdk import (
    AgencyRequest,
    AuthError,
    ConnectorConfig,
    Employment,
    Pension,
    RejectedError,
    Subject,
    make_resident_id,
    normalize_credit_code,
    resident_id_birth_date,
)
from connectors.social_insurance import CONNECTOR
from connectors.social_insurance.adapter import SocialInsuranceConnector
from connectors.social_insurance.simdata import body_parts, insured
from connectors.social_insurance.simulator import create_simulator
from connectors.social_insurance.wire import GATEWAY_PATH

SIM_KEY = "sim-key"  # the simulator's default api_key
WRONG_KEY = "not-the-sim-key"
NOW = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)


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


async def sim_stats(server: TestServer, session: aiohttp.ClientSession) -> dict[str, Any]:
    async with session.get(server.make_url("/_sim/stats")) as resp:
        stats: dict[str, Any] = await resp.json()
        return stats


def test_manifest_describes_the_agency() -> None:
    manifest = CONNECTOR.manifest
    assert CONNECTOR.name == manifest.name == "social_insurance"
    assert manifest.subject_kinds == {"person"} and manifest.answer_mode == "sync"
    assert manifest.search_category == "income"
    assert set(manifest.record_kinds) == {"employment", "pension"}


async def test_the_gateways_own_credential_codes(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(AuthError) as info:
        await connector(server, session, secret=WRONG_KEY).check()
    assert info.value.code == "900001" and "应用认证失败" in info.value.message
    with pytest.raises(AuthError) as info:
        await connector(server, session, secret="").check()
    assert info.value.code == "no_credential"


async def test_a_workers_employments(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    result = await connector(server, session).search(make_request(find_person("worker")))
    assert len(result.records) >= 2
    for record in result.records:
        assert isinstance(record, Employment)
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
    assert pension.monthly_amount > 0 and pension.paying_agency.endswith(("中心", "局"))
    assert pension.since is not None and pension.since <= NOW.date()
    age_at_retirement = pension.since.year - resident_id_birth_date(person).year
    assert age_at_retirement in (50, 51, 55, 56, 60, 61)
    for employment in (r for r in result.records if isinstance(r, Employment)):
        assert employment.status == "终止"
        assert employment.last_paid_month < pension.since.isoformat()[:7]


async def test_a_renumbered_request_under_the_same_serial_is_the_same_query(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connector(server, session)
    req = make_request(find_person("worker"), key="s-2:social_insurance")
    first = await conn.search(req)
    # A re-dispatch may carry a new request number: still the same query under the same key.
    renumbered = await conn.search(dataclasses.replace(req, request_no="R-again"))
    assert renumbered.records == first.records and renumbered.raw == first.raw
    stats = await sim_stats(server, session)
    assert (stats["calls"], stats["effective_queries"]) == (2, 1)


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
