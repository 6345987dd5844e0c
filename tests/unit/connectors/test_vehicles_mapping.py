"""The vehicles connector without I/O: wire -> domain mapping, business codes -> error kinds,
the request envelope, and the simulated registry's data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connectors.sdk.errors import AuthError, RejectedError, TransientError
from connectors.sdk.http import WireResponse
from connectors.sdk.types import AgencyRequest
from connectors.vehicles.adapter import (
    parse_registry_date,
    parse_registry_time,
    records_from_wire,
    result_from_wire,
)
from connectors.vehicles.simdata import province_of, registered_vehicles
from connectors.vehicles.wire import build_query, check_envelope, error_for
from enforcement.domain.assets import Vehicle
from enforcement.domain.identifiers import (
    make_credit_code,
    make_resident_id,
    normalize_plate,
    normalize_vin,
)
from enforcement.domain.subjects import Subject

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "schemas/records/vehicle.schema.json").read_text("utf-8")
)
PERSON_ID = make_resident_id("210102", date(1978, 4, 9), 31)
ORG_ID = make_credit_code("9", "1", "440300", "MA5F1234")


def wire_vehicle(**overrides: str) -> dict[str, str]:
    item = {
        "hphm": "辽A·5B7C2",
        "hpzl": "02",
        "clsbdh": "LSVAU2180N2183941",
        "fdjh": "dj1234567",
        "clpp1": "大众汽车牌",
        "clxh": "SVW7141BRD",
        "csys": "J",
        "syxz": "A",
        "ccdjrq": "2019-05-12 00:00:00",
        "zt": "A",
        "dybj": "0",
        "cfsl": "0",
    }
    item.update(overrides)
    return item


def envelope(items: list[dict[str, str]], code: str = "0000") -> dict[str, Any]:
    return {
        "code": code,
        "msg": "成功" if items else "查无信息",
        "data": {
            "cxbh": "JGCX2026112400000042",
            "fksj": "2026-11-24 21:15:22",
            "jls": str(len(items)),
            "clxx": items,
        },
    }


def test_a_wire_vehicle_becomes_a_domain_vehicle() -> None:
    (vehicle,) = records_from_wire(envelope([wire_vehicle()])["data"])
    assert vehicle == Vehicle(
        plate_number="辽A5B7C2",
        plate_type="02",
        vin="LSVAU2180N2183941",
        engine_number="DJ1234567",
        make_model="大众汽车牌 SVW7141BRD",
        colour="黑",
        use="非营运",
        first_registered_on=date(2019, 5, 12),
        status_codes="A",
        mortgaged=False,
        seizure_count=0,
    )
    jsonschema.validate(vehicle.to_dict(), SCHEMA)


def test_seized_mortgaged_vehicle_keeps_every_status_letter() -> None:
    item = wire_vehicle(
        zt="kq", dybj="1", cfsl="2", csys="AJ", syxz="F", hpzl="1", ccdjrq="20180301"
    )
    (vehicle,) = records_from_wire(envelope([item])["data"])
    assert vehicle.status_codes == "KQ"
    assert vehicle.mortgaged is True
    assert vehicle.seizure_count == 2
    assert vehicle.colour == "白黑"
    assert vehicle.use == "货运"
    assert vehicle.plate_type == "01"
    assert vehicle.first_registered_on == date(2018, 3, 1)


def test_a_plate_outside_ga36_is_kept_as_registered() -> None:
    (vehicle,) = records_from_wire(envelope([wire_vehicle(hphm="使12345", hpzl="03")])["data"])
    assert vehicle.plate_number == "使12345"
    (no_plate,) = records_from_wire(envelope([wire_vehicle(hphm="")])["data"])
    assert no_plate.plate_number == ""
    assert no_plate.natural_key() == "LSVAU2180N2183941"


def test_empty_answer_is_an_answer_with_no_records() -> None:
    result = result_from_wire(envelope([], code="0001"))
    assert result.records == ()
    assert result.agency_reference == "JGCX2026112400000042"
    assert result.answered_at == datetime(2026, 11, 24, 13, 15, 22, tzinfo=UTC)
    assert result.raw["code"] == "0001"


def test_answer_time_is_beijing_time_made_utc() -> None:
    assert parse_registry_time("2026-01-01 07:30:00") == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert parse_registry_time("20260101073000") == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert parse_registry_time("2026-01-01T07:30:00+00:00") == datetime(
        2026, 1, 1, 7, 30, tzinfo=UTC
    )
    assert parse_registry_date("2019-05-12") == date(2019, 5, 12)
    with pytest.raises(TransientError):
        parse_registry_time("昨天")


@pytest.mark.parametrize(
    ("override", "what"),
    [
        ({"zt": ""}, "zt"),
        ({"zt": "正常"}, "zt"),
        ({"ccdjrq": "2019-13-45"}, "ccdjrq"),
        ({"cfsl": "-1"}, "cfsl"),
        ({"hphm": "", "clsbdh": ""}, "号牌号码"),
    ],
)
def test_broken_entry_is_a_malformed_answer(override: dict[str, str], what: str) -> None:
    with pytest.raises(TransientError) as info:
        records_from_wire(envelope([wire_vehicle(**override)])["data"])
    assert info.value.code == "malformed"
    assert what in info.value.message


def test_record_count_must_match_the_entries_sent() -> None:
    data = envelope([wire_vehicle(), wire_vehicle(clsbdh="LFV2A21K8E3000017")])["data"]
    assert len(records_from_wire(data)) == 2
    data["jls"] = "3"  # a truncated answer must not pass as complete
    with pytest.raises(TransientError, match="jls"):
        records_from_wire(data)


def test_answer_without_time_or_data_is_malformed() -> None:
    body = envelope([wire_vehicle()])
    del body["data"]["fksj"]
    with pytest.raises(TransientError):
        result_from_wire(body)
    with pytest.raises(TransientError):
        result_from_wire({"code": "0000", "msg": "成功"})


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("1001", AuthError),
        ("1003", AuthError),
        ("2001", RejectedError),
        ("2002", RejectedError),
        ("2005", RejectedError),
        ("3001", TransientError),
        ("9001", TransientError),
        ("9999", TransientError),
        ("1999", AuthError),
        ("4711", RejectedError),
    ],
)
def test_business_codes_map_to_error_kinds(code: str, kind: type[Exception]) -> None:
    error = error_for(code, "")
    assert type(error) is kind
    assert error.code == f"vehicles_{code}"
    assert code in error.message


def test_the_registry_reason_travels_with_the_error() -> None:
    response = WireResponse(
        200, {"code": "2001", "msg": "必填项缺失：协助查询通知书文书编号", "data": None}, {}
    )
    with pytest.raises(RejectedError) as info:
        check_envelope(response)
    assert "协助查询通知书文书编号" in info.value.message


def test_envelope_checks() -> None:
    ok = envelope([], code="0001")
    assert check_envelope(WireResponse(200, ok, {})) == ok
    with pytest.raises(TransientError):
        check_envelope(WireResponse(200, {"msg": "?"}, {}))
    with pytest.raises(TransientError):
        check_envelope(WireResponse(200, {"code": "0000", "msg": "成功", "data": []}, {}))
    with pytest.raises(RejectedError):
        check_envelope(WireResponse(404, None, {}))
    with pytest.raises(AuthError):
        check_envelope(WireResponse(200, {"code": "1001", "msg": "接口序列号无效"}, {}))


def request_for(subject: Subject, **overrides: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "Q202611240001",
        "idempotency_key": "search-1:vehicles",
        "case_number": "（2026）辽0102执1234号",
        "court_code": "辽0102",
        "judge_name": "王法官",
        "judge_officer_id": "2101020017",
        "document_number": "（2026）辽0102执1234号之一",
        "subject": subject,
    }
    fields.update(overrides)
    return AgencyRequest(**fields)


def test_request_envelope_carries_what_the_network_carries() -> None:
    org = Subject.parse("organization", ORG_ID, "深圳市某某物流有限公司")
    body = build_query(request_for(org), "secret-key")
    assert body["jkxlh"] == "secret-key"
    assert body["jkid"] == "01C21"
    assert body["ywlsh"] == "search-1:vehicles"
    cxtj = body["cxtj"]
    assert (cxtj["ztlb"], cxtj["sfzmmc"], cxtj["sfzmhm"]) == ("2", "M", ORG_ID)
    assert cxtj["wsbh"] == "（2026）辽0102执1234号之一"
    assert cxtj["ah"] == "（2026）辽0102执1234号"
    person = Subject.parse("person", PERSON_ID, "张三")
    assert build_query(request_for(person), "k")["cxtj"]["sfzmmc"] == "A"


def test_simulated_registry_is_deterministic_valid_and_sometimes_empty() -> None:
    empty = 0
    for seq in range(300):
        rid = make_resident_id("330106", date(1985, 1, 1) if seq % 2 else date(1962, 7, 30), seq)
        items = registered_vehicles("person", rid)
        assert items == registered_vehicles("person", rid)
        empty += not items
        assert len(items) <= 4
        for vehicle in records_from_wire({"jls": str(len(items)), "clxx": items}):
            assert normalize_vin(vehicle.vin) == vehicle.vin
            assert normalize_plate(vehicle.plate_number).startswith("浙")
            jsonschema.validate(vehicle.to_dict(), SCHEMA)
            if "K" in vehicle.status_codes:
                assert vehicle.seizure_count >= 1
            if vehicle.plate_type == "52":
                assert len(vehicle.plate_number) == 8
    assert 0.18 <= empty / 300 <= 0.32


def test_organizations_register_in_their_credit_code_region() -> None:
    assert province_of("organization", ORG_ID) == "粤"
    assert province_of("person", PERSON_ID) == "辽"
