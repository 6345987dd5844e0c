"""Conformance of the exit-entry connector, driven over real HTTP against its simulator.

Only what is the agency's own is here: its result and refusal codes (CRJ-*), its problem+json
refusals, the shape of a traveller's history, the date range over crossings. What every connector
must do (credentials, schema-valid records, idempotency, refusing organizations before any call,
fault mapping, timeouts) is checked by the kit's rules (tests/conformance/test_suite_over_installed.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from connectors.exit_entry import CONNECTOR
from connectors.exit_entry.adapter import ExitEntryConnector
from connectors.exit_entry.simdata import answer_parts, traveller
from connectors.exit_entry.simulator import create_simulator
from connectors.exit_entry.wire import INQUIRY_PATH
from connectors.sdk import (
    AgencyRequest,
    AuthError,
    BorderCrossing,
    ConnectorConfig,
    ExitRestriction,
    RejectedError,
    Subject,
    TravelDocument,
    make_credit_code,
    make_resident_id,
)

SIM_KEY = "sim-key"  # the simulator's default api_key
NOW = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)


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


async def sim_stats(server: TestServer, session: aiohttp.ClientSession) -> dict[str, Any]:
    async with session.get(server.make_url("/_sim/stats")) as resp:
        stats: dict[str, Any] = await resp.json()
        return stats


def test_manifest_describes_the_agency() -> None:
    manifest = CONNECTOR.manifest
    assert CONNECTOR.name == manifest.name == "exit_entry"
    assert manifest.subject_kinds == {"person"}
    assert manifest.answer_mode == "sync" and manifest.date_range
    assert manifest.search_category == "location"
    assert set(manifest.record_kinds) == {"travel_document", "border_crossing", "exit_restriction"}


async def test_no_key_is_refused_before_any_call(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(AuthError) as info:
        await connector(server, session, secret="").check()
    assert info.value.code == "no_credential"
    assert (await sim_stats(server, session))["calls"] == 0


async def test_a_travellers_answer(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    result = await connector(server, session).search(make_request(find_person("traveller")))
    kinds = {type(r) for r in result.records}
    assert {TravelDocument, BorderCrossing, ExitRestriction} <= kinds
    assert result.answered_at == NOW
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


async def test_a_renumbered_request_under_the_same_key_is_the_same_query(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connector(server, session)
    req = make_request(find_person("traveller"), key="s-2:exit_entry")
    first = await conn.search(req)
    # A re-dispatch may carry a new request number: still the same query under the same key.
    renumbered = await conn.search(dataclasses.replace(req, request_no="R-again"))
    assert renumbered.records == first.records and renumbered.raw == first.raw
    stats = await sim_stats(server, session)
    assert (stats["calls"], stats["effective_queries"]) == (2, 1)


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


async def test_the_agency_refuses_a_non_resident_id_type(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    code = make_credit_code("9", "1", "210102", "MA0U4G2B")
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
