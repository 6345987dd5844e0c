"""Conformance of the securities connector (中国结算): the real simulator on loopback, the real
connector over real HTTP. Only what is the depository's own is here: its codes (0000, 0100 查无账户,
E101, E201 under HTTP 200), accounts of both markets with their holdings valued at the last
settlement day, investors of both kinds. What every connector must do is checked by the kit's
rules (tests/conformance/test_suite_over_installed.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
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
    SecuritiesHolding,
    Subject,
    make_credit_code,
    make_resident_id,
)
from connectors.securities import CONNECTOR
from connectors.securities.codes import BEIJING
from connectors.securities.simdata import accounts_for, last_settlement_day

API_KEY = "sim-key"  # SimulatorConfig.api_key's default
TODAY = datetime.now(BEIJING).date()


def first_subject(kind: str, want: Callable[[list[dict[str, Any]]], bool]) -> Subject:
    """A subject the simulated depository knows as wanted, found by the depository's own rule."""
    for seq in range(1, 2000):
        if kind == "person":
            number = make_resident_id("310104", date(1972, 8, 21), seq)
        else:
            number = make_credit_code("9", "1", "440300", f"MA{seq:06d}")
        if want(accounts_for(kind, number, last_settlement_day(TODAY))):
            return Subject.parse(kind, number, "李娜" if kind == "person" else "深圳某某投资有限公司")
    raise AssertionError("no such subject")


BOTH_MARKETS = first_subject("person", lambda a: {x["scdm"] for x in a if x["cyxx"]} == {"1", "2"})
NOBODY = first_subject("person", lambda a: not a)
COMPANY = first_subject("organization", lambda a: any(x["cyxx"] for x in a))


def make_request(subject: Subject, key: str = "s-1:securities", **overrides: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "Q20260106000001", "idempotency_key": key, "case_number": "（2026）沪0104执88号",
        "court_code": "沪0104", "judge_name": "王法官", "judge_officer_id": "3101040017",
        "document_number": "（2026）沪0104执88号之一", "subject": subject,
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
async def connector(server: TestServer) -> AsyncIterator[Callable[..., Connector]]:
    async with aiohttp.ClientSession() as session:
        def make(key: str = API_KEY) -> Connector:
            config = ConnectorConfig(base_url=str(server.make_url("/")), secret=key, timeout_seconds=3.0)
            return CONNECTOR.factory(config, session)
        yield make


async def answer(client: Connector, request: AgencyRequest) -> AgencyResult:
    outcome = await client.search(request)
    assert isinstance(outcome, AgencyResult)  # a sync agency: never a Pending ticket
    return outcome


def test_manifest_describes_the_depository() -> None:
    manifest = CONNECTOR.manifest
    assert manifest.name == "securities" == CONNECTOR.name
    assert manifest.subject_kinds == {"person", "organization"}
    assert manifest.record_kinds == ("securities_holding",)
    assert manifest.search_category == "securities"  # counts for the 终本 network search of securities
    assert manifest.answer_mode == "sync" and manifest.default_url.endswith(":9107")


async def test_a_wrong_key_is_the_depositorys_code_e101(connector: Callable[..., Connector]) -> None:
    with pytest.raises(AuthError) as info:
        await connector(key="wrong-key").check()
    assert info.value.code == "securities_E101" and "接入认证失败" in info.value.message


async def test_holdings_of_both_markets_at_the_last_settlement_day(connector: Callable[..., Connector]) -> None:
    result = await answer(connector(), make_request(BOTH_MARKETS))
    assert {r.market for r in result.records} == {"SH", "SZ"}
    for record in result.records:
        assert isinstance(record, SecuritiesHolding)
        assert record.account_number.startswith("A" if record.market == "SH" else "00")
        assert record.valued_on == last_settlement_day(TODAY) and record.price_date <= record.valued_on
        assert 0 <= record.frozen_quantity <= record.quantity
    assert result.answered_at.utcoffset() == UTC.utcoffset(None)
    assert result.agency_reference and result.agency_reference.startswith("ZJCX")


async def test_an_institution_holds_in_institutional_accounts(connector: Callable[..., Connector]) -> None:
    result = await answer(connector(), make_request(COMPANY))
    assert result.records
    assert all(r.account_number.startswith("B" if r.market == "SH" else "08") for r in result.records)


async def test_no_account_is_code_0100_and_an_empty_answer(connector: Callable[..., Connector]) -> None:
    result = await answer(connector(), make_request(NOBODY))
    assert result.records == ()
    assert result.raw["head"]["fhdm"] == "0100"


async def test_a_query_without_the_notice_number_is_refused_e201(connector: Callable[..., Connector]) -> None:
    with pytest.raises(RejectedError) as info:
        await connector().search(make_request(BOTH_MARKETS, document_number=""))
    assert info.value.code == "securities_E201" and "wsh" in info.value.message
    assert BOTH_MARKETS.id_number not in info.value.message


async def test_the_same_serial_number_is_answered_once(connector: Callable[..., Connector],
                                                       server: TestServer) -> None:
    first = await answer(connector(), make_request(BOTH_MARKETS, key="s-7:securities"))
    again = await answer(connector(), make_request(BOTH_MARKETS, key="s-7:securities"))
    assert first.agency_reference == again.agency_reference
    async with aiohttp.ClientSession() as s, s.get(server.make_url("/_sim/stats")) as resp:
        stats = await resp.json()
    assert stats["effective_queries"] == 1
