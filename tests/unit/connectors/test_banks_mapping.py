"""The bank connector's pure parts: envelope building, wire -> domain mapping, error kinds."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connectors.banks.adapter import (
    callback_answers,
    outcome_from_ticket,
    records_from_wire,
    result_from_wire,
)
from connectors.banks.simdata import accounts_for, in_range
from connectors.banks.simulator import item_problem
from connectors.banks.wire import batch_envelope, batch_number, error_for, items_in_order
from connectors.sdk.errors import AuthError, RejectedError, TransientError
from connectors.sdk.types import AgencyRequest, AgencyResult, Pending
from enforcement.domain.assets import BankAccount
from enforcement.domain.identifiers import (
    make_credit_code,
    make_resident_id,
    normalize_bank_card,
)
from enforcement.domain.subjects import Subject

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "schemas/records/bank_account.schema.json").read_text(
        encoding="utf-8"
    )
)
PERSON_ID = make_resident_id("110105", date(1979, 4, 12), 31)
ORG_ID = make_credit_code("9", "1", "440300", "MA5G7K2P")


def wire_account(**overrides: Any) -> dict[str, Any]:
    account: dict[str, Any] = {
        "BankName": "中国工商银行",
        "BankCode": "102",
        "BranchName": "北京分行朝阳支行",
        "AccountNo": "6222020200112233446",
        "AccountType": "03",
        "AccountTypeName": "借记卡",
        "CurrencyCode": "156",
        "Balance": "12000.5",
        "AvailableBalance": "2000.50",
        "AccountStatus": "F",
        "AccountStatusName": "冻结",
        "OpenDate": "20190301",
        "CloseDate": "",
        "FreezeList": [
            {
                "FreezeSeq": 2,
                "FreezeOrg": "北京市公安局",
                "FreezeAmount": "0.00",
                "FreezeDocNo": "京经侦冻财字〔2026〕0042号",
                "FreezeEndDate": "20270110",
            },
            {
                "FreezeSeq": 1,
                "FreezeOrg": "北京市朝阳区人民法院",
                "FreezeAmount": "10000.00",
                "FreezeDocNo": "（2026）京0105执1234号",
                "FreezeStartDate": "20260105",
                "FreezeEndDate": "20270105",
            },
        ],
    }
    account.update(overrides)
    return account


def done(accounts: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Ticket": "CX20261124ABCDE12345",
        "Status": "DONE",
        "AnswerNo": "FK20261124FFEE001122",
        "AnsweredAt": "2026-11-24T21:30:00+08:00",
        "ResultCode": "0000" if accounts else "0001",
        "ResultMessage": "查询成功" if accounts else "查无信息",
        "Accounts": accounts,
    }
    body.update(overrides)
    return body


def request(subject: Subject, key: str = "s-1:banks", **kw: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "RQ0001",
        "idempotency_key": key,
        "case_number": "（2026）京0105执1234号",
        "court_code": "京0105",
        "judge_name": "李明",
        "judge_officer_id": "J110105023",
        "document_number": "（2026）京0105执1234号之一",
        "subject": subject,
    }
    fields.update(kw)
    return AgencyRequest(**fields)


def test_account_maps_codes_amounts_and_freezes_in_order() -> None:
    [account] = records_from_wire(done([wire_account()]))
    assert isinstance(account, BankAccount)
    assert (account.bank_name, account.account_type, account.currency) == (
        "中国工商银行",
        "card",
        "CNY",
    )
    assert account.status == "冻结"
    assert account.balance == Decimal("12000.50") and account.available_balance == Decimal(
        "2000.50"
    )
    assert [f.order for f in account.freezes] == [1, 2]
    first = account.freezes[0]
    assert first.authority == "北京市朝阳区人民法院" and first.amount == Decimal("10000.00")
    assert first.frozen_until == date(2027, 1, 5)
    jsonschema.Draft202012Validator(SCHEMA).validate(account.to_dict())
    assert account.to_dict()["balance"] == "12000.50"


@pytest.mark.parametrize(
    ("wire_type", "wire_currency", "wire_status", "expected"),
    [
        ("01", "840", "N", ("current", "USD", "正常")),
        ("02", "156", "C", ("fixed", "CNY", "销户")),
        ("04", "HKD", "N", ("wealth", "HKD", "正常")),
    ],
)
def test_account_type_currency_and_status_codes(
    wire_type: str, wire_currency: str, wire_status: str, expected: tuple[str, str, str]
) -> None:
    raw = wire_account(
        AccountType=wire_type, CurrencyCode=wire_currency, AccountStatus=wire_status, FreezeList=[]
    )
    [account] = records_from_wire(done([raw]))
    assert (account.account_type, account.currency, account.status) == expected
    assert account.freezes == ()


def test_empty_answer_is_an_answer() -> None:
    result = result_from_wire(done([]))
    assert result.records == ()
    assert result.raw["ResultMessage"] == "查无信息"
    assert result_from_wire(done([], Accounts=None)).records == ()


def test_answer_time_is_converted_to_utc_and_reference_kept() -> None:
    result = result_from_wire(done([]))
    assert result.answered_at == datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
    assert result.agency_reference == "FK20261124FFEE001122"
    naive = result_from_wire(done([], AnsweredAt="2026-11-24T08:00:00"))  # Beijing time assumed
    assert naive.answered_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [
        {"Balance": "12,000.00"},
        {"Balance": "NaN"},
        {"AccountType": "99"},
        {"CurrencyCode": "999"},
        {"AccountStatus": "X"},
        {"FreezeList": "none"},
        {"FreezeList": [{"FreezeSeq": "first", "FreezeOrg": "某法院", "FreezeAmount": "1.00"}]},
        {
            "FreezeList": [
                {
                    "FreezeSeq": 1,
                    "FreezeOrg": "某法院",
                    "FreezeAmount": "1.00",
                    "FreezeEndDate": "2027-01-05",
                }
            ]
        },
    ],
)
def test_malformed_account_is_transient(bad: dict[str, Any]) -> None:
    with pytest.raises(TransientError) as info:
        records_from_wire(done([wire_account(**bad)]))
    assert info.value.code == "malformed"


def test_missing_fields_are_transient() -> None:
    raw = wire_account()
    del raw["AccountNo"]
    with pytest.raises(TransientError):
        records_from_wire(done([raw]))
    with pytest.raises(TransientError):
        result_from_wire({"Status": "DONE", "Accounts": []})  # no AnsweredAt
    with pytest.raises(TransientError):
        result_from_wire(done([], AnsweredAt="yesterday"))


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {"ErrorCode": "AUTH_FAILED", "ErrorMessage": "AppKey无效"}, AuthError),
        (400, {"ErrorCode": "SYSTEM_BUSY", "ErrorMessage": "系统繁忙"}, TransientError),
        (400, {"ErrorCode": "TOO_MANY_REQUESTS", "ErrorMessage": "请求过于频繁"}, TransientError),
        (404, {"ErrorCode": "TICKET_NOT_FOUND", "ErrorMessage": "查询流水号不存在"}, RejectedError),
        (413, {"ErrorCode": "BATCH_TOO_LARGE", "ErrorMessage": "单批次最多200条"}, RejectedError),
        (404, None, RejectedError),
        (400, ["not", "an", "object"], RejectedError),
    ],
)
def test_gateway_error_codes_map_to_error_kinds(status: int, body: Any, kind: type) -> None:
    exc = error_for(status, body)
    assert type(exc) is kind
    if isinstance(body, dict):
        assert exc.code == body["ErrorCode"]
        assert body["ErrorMessage"] in exc.message


def test_ticket_states_map_to_outcomes() -> None:
    pending = outcome_from_ticket(
        "T1", {"Ticket": "T1", "Status": "PROCESSING", "PollAfterSeconds": 1800}
    )
    assert pending == Pending("T1", 1800.0)
    assert isinstance(outcome_from_ticket("T1", done([wire_account()])), AgencyResult)
    with pytest.raises(RejectedError) as info:
        outcome_from_ticket(
            "T1",
            {
                "Ticket": "T1",
                "Status": "REJECTED",
                "ErrorCode": "ID_NUMBER_INVALID",
                "ErrorMessage": "证件号码校验未通过",
            },
        )
    assert info.value.code == "ID_NUMBER_INVALID" and "证件号码校验未通过" in info.value.message
    with pytest.raises(TransientError):
        outcome_from_ticket("T1", {"Ticket": "T1", "Status": "LOST"})


def test_callback_carries_many_tickets() -> None:
    body = {
        "NotifyNo": "TZ1",
        "Items": [
            done([wire_account()], Ticket="T1"),
            {
                "Ticket": "T2",
                "Status": "REJECTED",
                "ErrorCode": "ITEM_FIELD_MISSING",
                "ErrorMessage": "缺少必填项：协助查询通知书文号（DocumentNo）",
            },
            done([], Ticket="T3"),
        ],
    }
    answers = callback_answers(body)
    assert [a.ticket for a in answers] == ["T1", "T2", "T3"]
    assert answers[0].outcome is not None and len(answers[0].outcome.records) == 1
    assert answers[1].outcome is None and answers[1].rejection is not None
    assert "DocumentNo" in answers[1].rejection
    assert answers[2].outcome is not None and answers[2].outcome.records == ()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"Items": "x"},
        {"Items": [{"Status": "DONE"}]},
        {"Items": [{"Ticket": "T", "Status": "??"}]},
        {"Items": [done([wire_account(Balance="bad")])]},
    ],
)
def test_unreadable_callback_is_rejected(body: dict[str, Any]) -> None:
    with pytest.raises(RejectedError) as info:
        callback_answers(body)
    assert info.value.code == "bad_callback"


def test_batch_envelope_numbers_items_in_order() -> None:
    person = Subject.parse("person", PERSON_ID, "王小明")
    org = Subject.parse("organization", ORG_ID, "深圳市某某贸易有限公司")
    reqs = [
        request(person, "s-1:banks", date_from=date(2024, 1, 1), date_to=date(2026, 11, 1)),
        request(org, "s-2:banks"),
    ]
    envelope = batch_envelope(reqs)
    assert envelope["ItemCount"] == 2 and envelope["BatchNo"] == batch_number(reqs)
    first, second = envelope["Items"]
    assert (first["SeqNo"], first["SubjectType"], first["IdType"], first["IdNo"]) == (
        1,
        "1",
        "01",
        PERSON_ID,
    )
    assert (first["DateFrom"], first["DateTo"]) == ("20240101", "20261101")
    assert first["IdempotencyKey"] == "s-1:banks" and first["DocumentNo"].endswith("之一")
    assert (second["SeqNo"], second["SubjectType"], second["IdType"]) == (2, "2", "51")
    assert second["DateFrom"] == "" and second["Name"] == "深圳市某某贸易有限公司"
    assert batch_number(reqs) != batch_number(reqs[:1])


def test_batch_answer_items_are_matched_by_seq_no() -> None:
    body = {"Items": [{"SeqNo": 2, "Ticket": "B"}, {"SeqNo": 1, "Ticket": "A"}]}
    assert [i["Ticket"] for i in items_in_order(body, 2)] == ["A", "B"]
    with pytest.raises(TransientError):
        items_in_order({"Items": [{"SeqNo": 1, "Ticket": "A"}]}, 2)
    with pytest.raises(TransientError):
        items_in_order({"Items": [{"SeqNo": 1, "Ticket": ""}]}, 1)
    with pytest.raises(TransientError):
        items_in_order({"BatchNo": "x"}, 1)


def test_simulator_refuses_bad_items_with_reasons() -> None:
    person = Subject.parse("person", PERSON_ID, "王小明")
    item = batch_envelope([request(person)])["Items"][0]
    assert item_problem(item) is None
    assert item_problem({**item, "DocumentNo": ""}) == (
        "ITEM_FIELD_MISSING",
        "缺少必填项：协助查询通知书文号（DocumentNo）",
    )
    bad_id = PERSON_ID[:17] + ("0" if PERSON_ID[17] != "0" else "1")
    code, message = item_problem({**item, "IdNo": bad_id}) or ("", "")
    assert code == "ID_NUMBER_INVALID" and bad_id not in message
    assert item_problem({**item, "IdType": "51"}) == (
        "SUBJECT_TYPE_INVALID",
        "主体类型与证件类型不符",
    )
    assert item_problem({**item, "DateFrom": "20260101", "DateTo": "20250101"}) is not None
    assert item_problem({**item, "DateTo": "2025-01-01"}) is not None


def test_simulated_data_is_deterministic_and_realistic() -> None:
    people = [
        make_resident_id("310115", date(1970 + n % 30, 1 + n % 12, 1 + n % 28), n)
        for n in range(300)
    ]
    answers = [accounts_for("person", p) for p in people]
    assert answers == [accounts_for("person", p) for p in people]
    empty = sum(1 for a in answers if not a) / len(answers)
    assert 0.15 < empty < 0.4
    validator = jsonschema.Draft202012Validator(SCHEMA)
    accounts = [a for answer in answers for a in answer]
    for record in records_from_wire(done(accounts)):
        validator.validate(record.to_dict())
        if record.account_type == "card":
            assert normalize_bank_card(record.account_number) == record.account_number
        frozen = sum((f.amount for f in record.freezes), Decimal(0))
        assert record.available_balance == max(Decimal(0), record.balance - frozen)
        assert (record.status == "冻结") == bool(record.freezes)
    assert {a["AccountType"] for a in accounts} == {"01", "02", "03", "04"}
    assert len({a["BankName"] for a in accounts}) >= 8


def test_date_range_filters_accounts() -> None:
    account = wire_account(OpenDate="20200101", CloseDate="20220101")
    assert in_range(account, None, None)
    assert not in_range(account, None, date(2019, 12, 31))  # opened after the range
    assert not in_range(account, date(2022, 1, 2), None)  # closed before the range
    assert in_range(account, date(2021, 1, 1), date(2021, 12, 31))
