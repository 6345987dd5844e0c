"""The securities connector without I/O: the depository's answer -> ``SecuritiesHolding`` records,
its codes -> error kinds, the request envelope, and the simulated depository's data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connectors.sdk.errors import AuthError, RejectedError, TransientError
from connectors.sdk.http import WireResponse
from connectors.sdk.types import AgencyRequest
from connectors.securities.adapter import parse_depository_time, records_from_wire, result_from_wire
from connectors.securities.simdata import SHANGHAI, accounts_for, closing_price, last_settlement_day
from connectors.securities.wire import build_query, check_envelope, error_for
from enforcement.domain.assets import RECORD_TYPES, SecuritiesHolding
from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.domain.subjects import Subject

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "schemas/records/securities_holding.schema.json").read_text("utf-8")
)
PERSON_ID = make_resident_id("310104", date(1975, 6, 2), 17)
ORG_ID = make_credit_code("9", "1", "440300", "MA5F7788")


def wire_holding(**overrides: str) -> dict[str, str]:
    item = {"zqdm": "600519", "zqjc": "贵州茅台", "zqlb": "A0", "cysl": "300", "djsl": "100",
            "jg": "1523.50", "jgrq": "20260105", "sz": "457050.00"}
    item.update(overrides)
    return item


def wire_account(holdings: list[dict[str, str]], **overrides: Any) -> dict[str, Any]:
    account: dict[str, Any] = {"zqzh": "A123456789", "scdm": "1", "zhzt": "0", "khrq": "20150312",
                               "tgdy": "中信证券股份有限公司上海淮海中路证券营业部", "cyxx": holdings}
    account.update(overrides)
    return account


def envelope(accounts: list[dict[str, Any]], code: str = "0000") -> dict[str, Any]:
    return {"head": {"fhdm": code, "fhxx": "查询成功", "qqlsh": "s-1:securities", "xysj": "20260106091502"},
            "body": {"cxbh": "ZJCX2026010600000042", "sjrq": "20260105", "zhsl": len(accounts), "zhxx": accounts}}


def test_a_wire_holding_becomes_a_domain_record() -> None:
    (holding,) = records_from_wire(envelope([wire_account([wire_holding()])])["body"])
    assert holding == SecuritiesHolding(
        account_number="A123456789", market="SH", account_status="正常",
        custodian="中信证券股份有限公司上海淮海中路证券营业部", security_code="600519", security_name="贵州茅台",
        security_type="stock", quantity=300, frozen_quantity=100, price=Decimal("1523.500"),
        price_date=date(2026, 1, 5), market_value=Decimal("457050.00"), valued_on=date(2026, 1, 5))
    assert holding.natural_key() == "SH:A123456789:600519"
    assert holding.to_dict()["price"] == "1523.500" and holding.to_dict()["market_value"] == "457050.00"
    jsonschema.validate(holding.to_dict(), SCHEMA)
    assert RECORD_TYPES["securities_holding"] is SecuritiesHolding


def test_a_fund_price_keeps_three_decimals_and_a_suspended_price_its_own_date() -> None:
    fund = wire_holding(zqdm="159919", zqjc="沪深300ETF", zqlb="E0", cysl="50000", djsl="0", jg="4.012",
                        sz="200600.00", jgrq="20251201")
    (holding,) = records_from_wire(envelope([wire_account([fund], zqzh="0012345678", scdm="2")])["body"])
    assert (holding.market, holding.security_type, holding.to_dict()["price"]) == ("SZ", "fund", "4.012")
    assert holding.price_date == date(2025, 12, 1) and holding.valued_on == date(2026, 1, 5)


def test_every_account_and_every_holding_become_records() -> None:
    accounts = [wire_account([wire_holding(), wire_holding(zqdm="601318", zqjc="中国平安")]),
                wire_account([wire_holding(zqdm="000001", zqjc="平安银行")], zqzh="0012345678", scdm="2",
                             zhzt="1"),
                wire_account([], zqzh="A000000001", zhzt="4")]  # dormant, holds nothing: raw only
    records = records_from_wire(envelope(accounts)["body"])
    assert [r.natural_key() for r in records] == ["SH:A123456789:600519", "SH:A123456789:601318",
                                                  "SZ:0012345678:000001"]
    assert records[2].account_status == "冻结"


def test_no_account_is_an_answer_with_no_records() -> None:
    result = result_from_wire({"head": {"fhdm": "0100", "fhxx": "查无该投资者证券账户", "xysj": "20260106091502"},
                               "body": {"cxbh": "ZJCX2026010600000043", "sjrq": "20260105", "zhsl": 0, "zhxx": []}})
    assert result.records == ()
    assert result.agency_reference == "ZJCX2026010600000043"
    assert result.answered_at == datetime(2026, 1, 6, 1, 15, 2, tzinfo=UTC)


def test_answer_time_is_beijing_time_made_utc() -> None:
    assert parse_depository_time("20260101073000") == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    with pytest.raises(TransientError):
        parse_depository_time("2026-01-01 07:30:00")


@pytest.mark.parametrize(
    ("account", "holding", "what"),
    [
        ({}, {"djsl": "400"}, "djsl"),
        ({}, {"cysl": "-1"}, "cysl"),
        ({}, {"zqdm": "60051"}, "zqdm"),
        ({}, {"zqlb": "X9"}, "zqlb"),
        ({}, {"jg": "abc"}, "jg"),
        ({}, {"jgrq": "20260106"}, "jgrq"),  # a price after the data date
        ({"scdm": "9"}, {}, "scdm"),
        ({"zhzt": "7"}, {}, "zhzt"),
        ({"zqzh": "X12"}, {}, "zqzh"),
    ],
)
def test_a_broken_entry_is_a_malformed_answer(account: dict[str, str], holding: dict[str, str], what: str) -> None:
    with pytest.raises(TransientError) as info:
        records_from_wire(envelope([wire_account([wire_holding(**holding)], **account)])["body"])
    assert info.value.code == "malformed"
    assert what in info.value.message


def test_the_account_count_must_match_the_accounts_sent() -> None:
    body = envelope([wire_account([wire_holding()])])["body"]
    body["zhsl"] = 2  # a truncated answer must not pass as complete
    with pytest.raises(TransientError, match="zhsl"):
        records_from_wire(body)


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [("E101", 401, AuthError), ("E102", 200, AuthError), ("E103", 403, AuthError), ("E201", 200, RejectedError),
     ("E202", 200, RejectedError), ("E203", 200, RejectedError), ("E301", 429, TransientError),
     ("E901", 503, TransientError), ("E999", 200, TransientError), ("E477", 200, RejectedError)],
)
def test_depository_codes_map_to_error_kinds(code: str, status: int, kind: type[Exception]) -> None:
    response = WireResponse(status, {"head": {"fhdm": code, "fhxx": "原因说明"}, "body": None}, {"Retry-After": "5"})
    with pytest.raises(kind) as info:
        check_envelope(response)
    assert info.value.code == f"securities_{code}"  # type: ignore[attr-defined]
    assert "原因说明" in info.value.message  # type: ignore[attr-defined]
    if kind is TransientError:
        assert info.value.retry_after == 5  # type: ignore[attr-defined]


def test_an_envelope_without_a_code_is_malformed_or_the_status_decides() -> None:
    with pytest.raises(TransientError, match="fhdm"):
        check_envelope(WireResponse(200, {"body": {}}, {}))
    with pytest.raises(AuthError):
        check_envelope(WireResponse(401, {"error": "x"}, {}))
    assert isinstance(error_for("", "", status=404), RejectedError)
    with pytest.raises(RejectedError):  # a success code under an error status is not trusted
        check_envelope(WireResponse(404, envelope([]), {}))


def test_the_request_envelope_carries_the_key_and_the_network_fields() -> None:
    request = AgencyRequest(request_no="Q1", idempotency_key="s-9:securities", case_number="（2026）沪0104执1号",
                            court_code="沪0104", judge_name="王法官", judge_officer_id="3101040017",
                            document_number="（2026）沪0104执1号之一",
                            subject=Subject.parse("organization", ORG_ID, "深圳某某科技有限公司"))
    sent = build_query(request)
    assert sent["head"]["ywlx"] == "ZQCX" and sent["head"]["qqlsh"] == "s-9:securities"
    assert sent["body"]["tzrlb"] == "2" and sent["body"]["zjlb"] == "0A" and sent["body"]["zjhm"] == ORG_ID
    assert sent["body"]["wsh"] == "（2026）沪0104执1号之一"


def test_the_simulated_accounts_look_like_the_markets() -> None:
    on = date(2026, 1, 5)
    people = [make_resident_id("310104", date(1970, 1, 1), seq) for seq in range(1, 200)]
    holders = [accounts_for("person", p, on) for p in people]
    assert 0.35 < sum(1 for h in holders if not h) / len(holders) < 0.65  # about half hold nothing
    numbers = [a["zqzh"] for h in holders for a in h]
    assert all(n.startswith("A") and len(n) == 10 if n[0].isalpha() else n.startswith("00") for n in numbers)
    orgs = [accounts_for("organization", make_credit_code("9", "1", "440300", f"MA{i:06d}"), on) for i in range(60)]
    assert {a["zqzh"][:2] if a["scdm"] == "2" else a["zqzh"][0] for h in orgs for a in h} <= {"B", "08"}
    assert accounts_for("person", people[0], on) == accounts_for("person", people[0], on)
    for account in (a for h in holders for a in h):
        for item in account["cyxx"]:
            assert 0 <= int(item["djsl"]) <= int(item["cysl"])
            assert Decimal(item["sz"]) == (Decimal(item["jg"]) * int(item["cysl"])).quantize(Decimal("0.01"))
            assert item["jgrq"] <= on.strftime("%Y%m%d")


def test_the_data_date_is_the_last_weekday_before_the_query() -> None:
    assert last_settlement_day(date(2026, 1, 6)) == date(2026, 1, 5)  # Tuesday -> Monday
    assert last_settlement_day(date(2026, 1, 5)) == date(2026, 1, 2)  # Monday -> Friday
    moutai = SHANGHAI[0]
    assert closing_price(moutai, date(2026, 1, 5)) == closing_price(moutai, date(2026, 1, 5))
    assert abs(closing_price(moutai, date(2026, 1, 5)) - moutai.base_price) <= moutai.base_price * Decimal("0.15")
