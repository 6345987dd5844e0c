"""Conformance of the hotels connector: the real simulator on loopback, the real connector over
real HTTP. Only what is the registry's own is here: stay times from Beijing time, the asked
period, its errcodes (400xx) and its refusal of organizations in its own words. What every
connector must do (credentials, an unreachable registry, schema-valid records, idempotency, fault
mapping, timeouts) is checked by the kit's rules (tests/conformance/test_suite_over_installed.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from connectors.hotels import CONNECTOR
from connectors.hotels.simdata import registered_stays
from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    Connector,
    ConnectorConfig,
    HotelStay,
    RejectedError,
    Subject,
    make_credit_code,
    make_resident_id,
)

API_KEY = "sim-key"  # SimulatorConfig.api_key's default
BEIJING = timezone(timedelta(hours=8))


def first_guest(min_stays: int, max_stays: int) -> Subject:
    """A guest with that many registered stays, found by the registry's own rule."""
    for seq in range(1, 2000):
        number = make_resident_id("110105", date(1983, 6, 21), seq)
        if min_stays <= len(registered_stays(number)) <= max_stays:
            return Subject.parse("person", number, "刘洋")
    raise AssertionError("no such guest")


TRAVELLER = first_guest(3, 4)
HOMEBODY = first_guest(0, 0)


def stays_of(result: AgencyResult) -> list[HotelStay]:
    stays = [r for r in result.records if isinstance(r, HotelStay)]
    assert len(stays) == len(result.records)
    return stays


def make_request(subject: Subject, key: str = "s-1:hotels", **overrides: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "Q20261124000001",
        "idempotency_key": key,
        "case_number": "（2026）京0105执1234号",
        "court_code": "京0105",
        "judge_name": "李法官",
        "judge_officer_id": "1101050023",
        "document_number": "（2026）京0105执1234号之二",
        "subject": subject,
        "purpose": "查找下落不明的被执行人",
    }
    fields.update(overrides)
    return AgencyRequest(**fields)


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    assert CONNECTOR.simulator is not None
    srv = TestServer(CONNECTOR.simulator(), host="127.0.0.1")
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
    assert manifest.name == "hotels" == CONNECTOR.name
    assert manifest.subject_kinds == {"person"}
    assert manifest.record_kinds == ("hotel_stay",)
    assert manifest.search_category == "location"
    assert manifest.date_range is True
    assert manifest.answer_mode == "sync"
    assert manifest.default_url.endswith(":9104")


async def test_stays_are_read_in_beijing_time(connector: ConnectorMaker) -> None:
    result = await answer(connector(), make_request(TRAVELLER))
    assert len(result.records) >= 3
    for record in result.records:
        assert isinstance(record, HotelStay)
        assert record.checked_in_at.utcoffset() == timedelta(0)
    assert result.answered_at.utcoffset() == timedelta(0)
    assert abs(result.answered_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert result.agency_reference and result.agency_reference.startswith("LGZS")
    assert result.raw["status"] == "ok"


async def test_the_asked_period_limits_the_stays(connector: ConnectorMaker) -> None:
    client = connector()
    every = stays_of(await answer(client, make_request(TRAVELLER, key="s-2:hotels")))
    first_day = every[0].checked_in_at.astimezone(BEIJING).date()
    last_day = every[-1].checked_in_at.astimezone(BEIJING).date()
    assert first_day < last_day
    period: dict[str, Any] = {"date_from": first_day + timedelta(days=10), "date_to": last_day}
    ranged = await answer(client, make_request(TRAVELLER, key="s-3:hotels", **period))
    assert 1 <= len(ranged.records) < len(every)
    assert set(ranged.records) <= set(every)
    for stay in stays_of(ranged):
        left = (stay.checked_out_at or stay.checked_in_at).astimezone(BEIJING).date()
        assert left >= period["date_from"]
        assert stay.checked_in_at.astimezone(BEIJING).date() <= period["date_to"]
    after: dict[str, Any] = {"date_from": date(2026, 11, 1)}  # after the registry's data window
    assert (await answer(client, make_request(TRAVELLER, key="s-4:hotels", **after))).records == ()


async def test_no_stay_is_an_empty_answer(connector: ConnectorMaker) -> None:
    result = await answer(connector(), make_request(HOMEBODY))
    assert result.records == ()
    assert result.raw["result"]["total"] == 0
    assert result.agency_reference


async def test_the_registry_refuses_organizations_in_its_own_words(
    session: aiohttp.ClientSession, server: TestServer
) -> None:
    org = Subject.parse("organization", make_credit_code("9", "1", "110105", "MA0012AB"), "某公司")
    body = {
        "request_no": "Q1",
        "case_no": "（2026）京0105执1234号",
        "court_code": "京0105",
        "judge_name": "李法官",
        "judge_officer_id": "1101050023",
        "notice_no": "（2026）京0105执1234号之二",
        "guest": {"id_type": "credit_code", "id_number": org.id_number, "name": org.name},
    }
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "s-9:hotels"}
    url = server.make_url("/api/v2/lodging/stay-queries")
    async with session.post(url, json=body, headers=headers) as resp:
        assert resp.status == 400
        assert (await resp.json())["errcode"] == 40004
    assert (await sim(session, server, "/_sim/stats"))["effective_queries"] == 0


async def test_missing_notice_number_is_refused_with_the_registry_reason(
    connector: ConnectorMaker, session: aiohttp.ClientSession, server: TestServer
) -> None:
    with pytest.raises(RejectedError) as info:
        await answer(connector(), make_request(TRAVELLER, document_number=""))
    assert info.value.code == "hotels_40001"
    assert "notice_no" in info.value.message
    assert (await sim(session, server, "/_sim/stats"))["effective_queries"] == 0


async def test_bad_period_and_malformed_id_are_refused(connector: ConnectorMaker) -> None:
    backwards: dict[str, Any] = {"date_from": date(2026, 3, 1), "date_to": date(2026, 1, 1)}
    with pytest.raises(RejectedError) as info:
        await answer(connector(), make_request(TRAVELLER, **backwards))
    assert info.value.code == "hotels_40003"
    broken = Subject(kind="person", id_number="11010519830621001X", name="刘洋")
    with pytest.raises(RejectedError) as info:
        await answer(connector(), make_request(broken))
    assert info.value.code == "hotels_40002"
