"""The pure mapping of the registry's answers and error codes, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from connectors.sdk import AuthError, RejectedError, TransientError, WireResponse

from real_estate_connector import RealEstate, result_from_wire
from real_estate_connector.simdata import properties_for
from real_estate_connector.wire import check_envelope, error_for

FLAT = {
    "BDCDYH": "210102003005GB00012F00010023",
    "BDCQZH": "辽（2019）沈阳市不动产权第0012345号",
    "BDCLX": "2",
    "ZL": "沈阳市和平区南京北街123号2-3-1",
    "MJ": "89.5",
    "YT": "住宅",
    "QLLX": "4",
    "GYFS": "2",
    "QLBL": "50",
    "DJSJ": "2019-06-03",
    "DYZT": "1",
    "DYJE": "420000",
    "CFZT": "0",
    "CFSL": "2",
}


def envelope(*items: dict[str, Any], code: str = "0") -> dict[str, Any]:
    data = {"CXBH": "BDCCX2026010512345678", "FKSJ": "2026-01-05 14:03:11", "JLS": len(items), "BDCXX": list(items)}
    return {"success": True, "code": code, "message": "查询成功", "data": data}


def test_a_flat_maps_to_a_real_estate_record() -> None:
    result = result_from_wire(envelope(FLAT))
    (flat,) = result.records
    assert isinstance(flat, RealEstate)
    assert flat.property_type == "building" and flat.area_sqm == Decimal("89.50")
    assert flat.ownership == "按份共有" and flat.share == "50%"
    assert flat.right_type == "国有建设用地使用权/房屋所有权"
    assert flat.registered_on == date(2019, 6, 3)
    assert flat.mortgaged and flat.mortgage_amount == Decimal("420000.00")
    assert flat.seized and flat.seizure_count == 2  # CFZT says 0, but two seizures are registered
    assert flat.natural_key() == FLAT["BDCDYH"]
    assert flat.to_dict()["area_sqm"] == "89.50" and flat.to_dict()["mortgage_amount"] == "420000.00"
    assert result.answered_at == datetime(2026, 1, 5, 6, 3, 11, tzinfo=UTC)
    assert result.agency_reference == "BDCCX2026010512345678"


def test_nothing_registered_is_an_empty_answer() -> None:
    assert result_from_wire(envelope(code="1")).records == ()


@pytest.mark.parametrize("broken", [{"BDCDYH": "123"}, {"BDCLX": "9"}, {"MJ": "大约九十"}, {"DYZT": "Y"}, {"GYFS": ""}])
def test_a_broken_entry_is_a_malformed_answer(broken: dict[str, str]) -> None:
    with pytest.raises(TransientError):
        result_from_wire(envelope({**FLAT, **broken}))


def test_a_count_that_does_not_match_is_malformed() -> None:
    body = envelope(FLAT)
    body["data"]["JLS"] = 2
    with pytest.raises(TransientError):
        result_from_wire(body)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [(401, "401001", AuthError), (403, "403001", AuthError), (400, "400101", RejectedError),
     (400, "400102", RejectedError), (429, "429001", TransientError), (503, "503001", TransientError)],
)
def test_registry_codes_map_to_the_three_kinds(status: int, code: str, kind: type[Exception]) -> None:
    response = WireResponse(status, {"success": False, "code": code, "message": "原因"}, {})
    with pytest.raises(kind) as info:
        check_envelope(response)
    assert code in str(info.value) and "原因" in str(info.value)


def test_retry_after_travels_with_a_throttled_answer() -> None:
    error = error_for("429001", "请求过于频繁", status=429, retry_after=3.0)
    assert isinstance(error, TransientError) and error.retry_after == 3.0


def test_the_same_holder_always_holds_the_same_properties() -> None:
    assert properties_for("person", "210102197805141357") == properties_for("person", "210102197805141357")
