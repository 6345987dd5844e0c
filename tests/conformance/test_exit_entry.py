"""Conformance of the exit-entry connector, driven over real HTTP against its simulator."""

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

from connectors.exit_entry import CONNECTOR
from connectors.exit_entry.adapter import ExitEntryConnector
from connectors.exit_entry.simdata import answer_parts, traveller
from connectors.exit_entry.simulator import create_simulator
from connectors.exit_entry.wire import INQUIRY_PATH
from connectors.sdk.errors import AuthError, ConnectorError, RejectedError, TransientError
from connectors.sdk.manifest import Manifest
from connectors.sdk.types import AgencyRequest, ConnectorConfig
from enforcement.domain.assets import BorderCrossing, ExitRestriction, TravelDocument
from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.domain.subjects import Subject

SIM_KEY = "sim-key"  # the simulator's default api_key
WRONG_KEY = "not-the-sim-key"
NOW = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "records"


def find_person(want: str) -> str:
    """A resident ID whose simulated history has the wanted shape (deterministic search)."""
    for seq in range(1, 999, 2):
        id_number = make_resident_id("210102", date(1970 + seq % 30, 1 + seq % 12, 9), seq)
        parts = answer_parts(traveller(id_number), NOW, None, None)
        shape = {
            "empty": not parts["found"],
            "traveller": parts["found"] and len(parts["crossings"]) >= 2,
            "restricted": parts["found"] and bool(parts["exitControl"].get("controlled")),
        }
        if shape[want]:
            return id_number
    raise AssertionError(f"no simulated subject of shape {want!r}")


def make_request(id_number: str, key: str = "s-1:exit_entry", **overrides: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "R-" + key,
        "idempotency_key": key,
        "case_number": "（2026）辽0102执1234号",
        "court_code": "辽0102",
        "judge_name": "王法官",
        "judge_officer_id": "2101020012",
        "document_number": "（2026）辽0102执1234号之三",
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
    server: TestServer,
    session: aiohttp.ClientSession,
    *,
    secret: str = SIM_KEY,
    timeout: float = 5,
) -> ExitEntryConnector:
    config = ConnectorConfig(
        base_url=str(server.make_url("")), secret=secret, timeout_seconds=timeout
    )
    made = CONNECTOR.factory(config, session)
    assert isinstance(made, ExitEntryConnector)
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
    manifest = Manifest.load("connectors.exit_entry")
    assert CONNECTOR.name == manifest.name == "exit_entry"
    assert manifest.subject_kinds == {"person"}
    assert manifest.answer_mode == "sync" and manifest.date_range
    assert manifest.search_category == "location"
    assert set(manifest.record_kinds) == {"travel_document", "border_crossing", "exit_restriction"}
    for kind in manifest.record_kinds:
        assert (SCHEMAS / f"{kind}.schema.json").is_file()


async def test_check_accepts_the_key_and_refuses_a_wrong_one(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    await connector(server, session).check()
    with pytest.raises(AuthError):
        await connector(server, session, secret=WRONG_KEY).check()
    with pytest.raises(AuthError) as info:
        await connector(server, session, secret="").check()
    assert info.value.code == "no_credential"
    with pytest.raises(AuthError):
        await connector(server, session, secret=WRONG_KEY).search(
            make_request(find_person("traveller"))
        )


async def test_search_returns_valid_records(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    result = await connector(server, session).search(make_request(find_person("traveller")))
    kinds = {type(r) for r in result.records}
    assert {TravelDocument, BorderCrossing, ExitRestriction} <= kinds
    for record in result.records:
        validate(record)
        assert record.kind in CONNECTOR.manifest.record_kinds
    assert result.answered_at == NOW and result.answered_at.tzinfo is not None
    assert result.agency_reference and result.agency_reference.startswith("CRJ")
    assert result.raw["resultCode"] == "FOUND"
    numbers = {r.document_number for r in result.records if isinstance(r, TravelDocument)}
    for crossing in (r for r in result.records if isinstance(r, BorderCrossing)):
        assert crossing.document_number in numbers and crossing.crossed_at <= NOW


async def test_restriction_in_force(server: TestServer, session: aiohttp.ClientSession) -> None:
    result = await connector(server, session).search(make_request(find_person("restricted")))
    (restriction,) = (r for r in result.records if isinstance(r, ExitRestriction))
    assert restriction.in_force and restriction.authority and restriction.since
    assert restriction.since <= NOW.date()


async def test_same_key_twice_is_one_effective_query(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connector(server, session)
    req = make_request(find_person("traveller"), key="s-2:exit_entry")
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
    third = await conn.search(make_request(find_person("traveller"), key="s-3:exit_entry"))
    assert third.records == first.records  # same subject, same answer, a second query
    assert (await sim_stats(server, session))["effective_queries"] == 2


async def test_key_reused_for_another_query_is_rejected(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connector(server, session)
    await conn.search(make_request(find_person("traveller"), key="s-4:exit_entry"))
    with pytest.raises(RejectedError) as info:
        await conn.search(make_request(find_person("empty"), key="s-4:exit_entry"))
    assert info.value.code == "CRJ-40901"


async def test_empty_answer(server: TestServer, session: aiohttp.ClientSession) -> None:
    result = await connector(server, session).search(make_request(find_person("empty")))
    assert result.records == ()
    assert result.raw["resultCode"] == "NO_RECORD" and result.agency_reference


async def test_date_range_bounds_the_crossings(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    conn, person = connector(server, session), find_person("traveller")
    full = await conn.search(make_request(person, key="s-5:exit_entry"))
    crossings = [r for r in full.records if isinstance(r, BorderCrossing)]
    first_day = min(c.crossed_at for c in crossings).date()
    bounded = await conn.search(
        make_request(person, key="s-6:exit_entry", date_from=first_day, date_to=first_day)
    )
    inside = [r for r in bounded.records if isinstance(r, BorderCrossing)]
    assert inside and len(inside) < len(crossings) and set(inside) <= set(crossings)
    assert {r for r in bounded.records if not isinstance(r, BorderCrossing)} == {
        r for r in full.records if not isinstance(r, BorderCrossing)
    }
    with pytest.raises(RejectedError) as info:
        await conn.search(
            make_request(
                person, key="s-7:exit_entry", date_from=date(2025, 1, 2), date_to=date(2025, 1, 1)
            )
        )
    assert info.value.code == "CRJ-40003"


async def test_organization_is_refused_before_any_call(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    code = make_credit_code("9", "1", "210102", "MA0U4G2B")
    org = Subject.parse("organization", code, "沈阳某某贸易有限公司")
    with pytest.raises(RejectedError) as info:
        await connector(server, session).search(make_request(find_person("empty"), subject=org))
    assert info.value.code == "subject_kind_unsupported"
    assert (await sim_stats(server, session))["calls"] == 0
    # The agency itself refuses a non-resident ID type.
    body = {"requestNo": "R", "caseNumber": "C", "courtCode": "辽0102",
            "handlingJudge": {"name": "王", "officerId": "1"}, "assistNoticeNo": "N",
            "subject": {"idType": "USCC", "idNumber": code, "name": "某公司"}}  # fmt: skip
    headers = {"Authorization": "Bearer sim-key", "Idempotency-Key": "s-8:exit_entry"}
    async with session.post(server.make_url(INQUIRY_PATH), json=body, headers=headers) as resp:
        assert resp.status == 400 and resp.content_type == "application/problem+json"
        problem = await resp.json(content_type=None)
    assert problem["errorCode"] == "CRJ-40004" and problem["status"] == 400


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"document_number": ""}, "CRJ-40001"),
        ({"judge_officer_id": " "}, "CRJ-40001"),
        ({"subject": Subject("person", "210102198001011230", "王五")}, "CRJ-40002"),
    ],
)
async def test_business_rejections_carry_the_agency_reason(
    server: TestServer, session: aiohttp.ClientSession, change: dict[str, Any], code: str
) -> None:
    with pytest.raises(RejectedError) as info:
        await connector(server, session).search(make_request(find_person("traveller"), **change))
    assert info.value.code == code
    assert code in info.value.message and "出入境管理局" in info.value.message
    if "document_number" in change:
        assert "assistNoticeNo" in info.value.message
    assert "210102198001011230" not in info.value.message


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
    request = make_request(find_person("traveller"))
    for call in (conn.check, lambda: conn.search(request)):
        with pytest.raises(kind) as info:
            await call()
        if code is not None:
            assert info.value.code == code
        if "retry_after_seconds" in fault:
            assert isinstance(info.value, TransientError) and info.value.retry_after == 7
    stats = await sim_stats(server, session)
    # aiohttp itself re-sends an idempotent GET once when a kept-alive connection is reset.
    assert 2 <= sum(stats["faults"].values()) <= 3
    if not {"p_hang", "p_drip"} & set(fault):  # those answer late, after the client gave up
        assert stats["effective_queries"] == 0
