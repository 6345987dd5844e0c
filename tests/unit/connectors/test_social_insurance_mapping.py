"""Social insurance connector without I/O: wire -> domain mapping, retCode -> error kinds, the
request envelope, and the retirement rule of the simulated population."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connectors.sdk.errors import AuthError, RejectedError, TransientError
from connectors.sdk.types import AgencyRequest
from connectors.social_insurance.adapter import answered_at_from_wire, records_from_wire
from connectors.social_insurance.simdata import body_parts, insured, month_index
from connectors.social_insurance.wire import build_envelope, build_query, error_from_head
from enforcement.domain.assets import Employment, Pension
from enforcement.domain.identifiers import make_credit_code, make_resident_id, normalize_credit_code
from enforcement.domain.subjects import Subject

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "records"
CREDIT = make_credit_code("9", "1", "210102", "MA0U4G2B")


def envelope(code: str = "000000", **body: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "aac002": "210102196303040012",
        "aac003": "李四",
        "totalCount": 2,
        "cbxxList": [
            {
                "aab001": "210112345678",
                "aab004": "沈阳恒泰建筑工程有限公司",
                "aab998": CREDIT,
                "aab301": "210102",
                "aae140": "110,310,210,410,510",
                "aae180": "6500.00",
                "aac008": "1",
                "aac030": "20190301",
                "aae002": "202610",
            },
            {
                "aab001": "210187654321",
                "aab004": "大连远航物流有限公司",
                "aab998": "",
                "aae140": "110,310",
                "aae180": "4200",
                "aac008": "3",
                "aae002": "201812",
            },
        ],
        "dyxx": {"aae140": "110", "aic162": "20230401", "aic166": "3456.78",
                 "aab300": "沈阳市社会保险事业服务中心"},
    }  # fmt: skip
    data.update(body)
    head = {"retCode": code, "retMsg": "交易成功", "serialNo": "s-1:social_insurance",
            "respSerialNo": "RS20261120000000000042", "respTime": "20261120100005"}  # fmt: skip
    return {"head": head, "body": data}


def test_answer_maps_to_employments_and_pension() -> None:
    assert records_from_wire(envelope()) == (
        Employment(
            employer_name="沈阳恒泰建筑工程有限公司",
            employer_credit_code=CREDIT,
            insurance_types=("养老", "医疗", "失业", "工伤", "生育"),
            contribution_base=Decimal("6500.00"),
            status="正常参保",
            last_paid_month="2026-10",
        ),
        Employment(
            "大连远航物流有限公司", "", ("养老", "医疗"), Decimal("4200.00"), "终止", "2018-12"
        ),
        Pension(Decimal("3456.78"), "沈阳市社会保险事业服务中心", date(2023, 4, 1)),
    )


def test_records_validate_against_their_schemas() -> None:
    records = records_from_wire(envelope())
    assert normalize_credit_code(CREDIT) == CREDIT
    for record in records:
        schema = json.loads((SCHEMAS / f"{record.kind}.schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(record.to_dict())


def test_no_data_code_is_an_empty_answer() -> None:
    data = {"head": {"retCode": "300001", "retMsg": "查无信息", "respTime": "20261120100005"}}
    assert records_from_wire(data) == ()
    assert records_from_wire(envelope(cbxxList=[], dyxx=None)) == ()


def test_unknown_codes_are_kept_recognisably() -> None:
    item = dict(envelope()["body"]["cbxxList"][0], aae140="110,999,110", aac008="7")
    (record,) = records_from_wire(envelope(cbxxList=[item], dyxx=None))
    assert isinstance(record, Employment)
    assert record.insurance_types == ("养老", "险种999")
    assert record.status == "参保状态7"


@pytest.mark.parametrize(
    "broken",
    [
        {"cbxxList": [{"aab004": "某公司", "aae140": "110", "aac008": "1", "aae002": "202601"}]},
        {"cbxxList": [dict(envelope()["body"]["cbxxList"][0], aae180="六千")]},
        {"cbxxList": [dict(envelope()["body"]["cbxxList"][0], aae180="-1")]},
        {"cbxxList": [dict(envelope()["body"]["cbxxList"][0], aae002="2026-10")]},
        {"cbxxList": [dict(envelope()["body"]["cbxxList"][0], aae002="202613")]},
        {"cbxxList": [dict(envelope()["body"]["cbxxList"][0], aae140=",")]},
        {"cbxxList": {"aab004": "x"}},
        {"dyxx": {"aic166": "3000.00", "aab300": "某中心", "aic162": "2023-04-01"}},
        {"dyxx": {"aic166": "3000.00"}},
    ],
)
def test_malformed_answers_are_transient(broken: dict[str, Any]) -> None:
    with pytest.raises(TransientError) as info:
        records_from_wire(envelope(**broken))
    assert info.value.code == "malformed"


def test_answer_time_is_beijing_time_as_utc() -> None:
    assert answered_at_from_wire(envelope()) == datetime(2026, 11, 20, 2, 0, 5, tzinfo=UTC)
    with pytest.raises(TransientError):
        answered_at_from_wire({"head": {"respTime": "2026-11-20 10:00:05"}})


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("200001", RejectedError),
        ("200002", RejectedError),
        ("200006", RejectedError),
        ("900001", AuthError),
        ("900002", AuthError),
        ("500001", TransientError),
        ("500003", TransientError),
        ("999999", TransientError),
        ("", RejectedError),
    ],
)
def test_ret_codes_map_to_error_kinds(code: str, kind: type[Exception]) -> None:
    error = error_from_head(
        {"retCode": code, "retMsg": "必填项缺失：assistDocNo（协助查询通知书文号）"}
    )
    assert type(error) is kind
    assert "assistDocNo" in error.message and "人社厅" in error.message
    assert error.code == (code or "no_ret_code")


def test_envelope_carries_credentials_serial_and_case() -> None:
    subject = Subject.parse("person", make_resident_id("210102", date(1980, 1, 2), 11), "张三")
    request = AgencyRequest(
        request_no="REQ-1",
        idempotency_key="s-1:social_insurance",
        case_number="（2026）辽0102执1234号",
        court_code="辽0102",
        judge_name="王法官",
        judge_officer_id="2101020012",
        document_number="（2026）辽0102执1234号之二",
        subject=subject,
    )
    when = datetime(2026, 11, 20, 2, 0, 5, tzinfo=UTC)
    credentials = {"app_key": "k", "app_secret": "s"}
    doc = build_envelope("ZXCX1001", build_query(request), serial_no="x", now=when, **credentials)
    assert doc["head"] == {"transCode": "ZXCX1001", "appKey": "k", "appSecret": "s",
                           "serialNo": "x", "reqTime": "20261120100005",
                           "version": "1.0"}  # fmt: skip
    body = doc["body"]
    assert (body["aac002"], body["aac003"], body["aac058"]) == (subject.id_number, "张三", "01")
    assert body["assistDocNo"] == request.document_number
    assert body["caseNo"] == request.case_number and body["judgeCertNo"] == "2101020012"


def test_simulated_man_retires_at_sixty() -> None:
    id_number = next(
        i
        for seq in range(1, 999, 2)  # odd sequence: a man
        if insured(i := make_resident_id("210102", date(1961, 5, 17), seq)).known
    )
    before = body_parts(insured(id_number), date(2021, 5, 31))
    after = body_parts(insured(id_number), date(2021, 6, 1))
    assert before["dyxx"] is None
    assert after["dyxx"] is not None and after["dyxx"]["aic162"] == "20210601"
    assert all(item["aac008"] == "3" for item in after["cbxxList"])
    assert insured(id_number).retire_month == month_index(date(2021, 6, 1))


def test_simulated_woman_retires_at_fifty_or_fifty_five() -> None:
    for seq in range(0, 60, 2):  # even sequence: a woman
        person = insured(make_resident_id("210102", date(1968, 3, 4), seq))
        if person.known:
            assert person.retire_month in (
                month_index(date(2018, 4, 1)),
                month_index(date(2023, 4, 1)),
            )
