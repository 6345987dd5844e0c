"""The hotels connector without I/O: wire -> domain mapping, the asked period, errcodes -> error
kinds, the request body, and the simulated registry's data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connectors.hotels.adapter import (
    in_period,
    parse_registry_time,
    records_from_wire,
    result_from_wire,
)
from connectors.hotels.simdata import registered_stays
from connectors.hotels.simulator import validate_query
from connectors.hotels.wire import build_query, check_answer, error_for
from connectors.sdk.errors import AuthError, RejectedError, TransientError
from connectors.sdk.http import WireResponse
from connectors.sdk.types import AgencyRequest, AgencyResult
from enforcement.domain.assets import HotelStay
from enforcement.domain.identifiers import make_resident_id
from enforcement.domain.subjects import Subject

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "schemas/records/hotel_stay.schema.json").read_text(
        "utf-8"
    )
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
GUEST_ID = make_resident_id("110105", date(1982, 10, 2), 45)


def wire_stay(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "hotel_name": "北京饭店",
        "hotel_code": "1101010481",
        "star_rating": 5,
        "address": "北京市东城区东长安街33号",
        "check_in_time": "2026-03-01T21:15:00+08:00",
        "check_out_time": "2026-03-03T11:02:00+08:00",
        "room_no": "1208",
    }
    item.update(overrides)
    return item


def answer(stays: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": "ok",
        "result": {
            "query_id": "LGZS2026112400000042",
            "answered_at": "2026-11-24T21:15:22+08:00",
            "total": len(stays),
            "stays": stays,
        },
    }


def stays_of(result: AgencyResult) -> list[HotelStay]:
    stays = [r for r in result.records if isinstance(r, HotelStay)]
    assert len(stays) == len(result.records)
    return stays


def test_a_wire_stay_becomes_a_domain_stay() -> None:
    (stay,) = records_from_wire(answer([wire_stay()])["result"])
    assert stay == HotelStay(
        hotel_name="北京饭店",
        star_rating=5,
        address="北京市东城区东长安街33号",
        checked_in_at=datetime(2026, 3, 1, 13, 15, tzinfo=UTC),
        checked_out_at=datetime(2026, 3, 3, 3, 2, tzinfo=UTC),
        room="1208",
    )
    VALIDATOR.validate(stay.to_dict())


def test_unrated_hotel_and_missing_check_out() -> None:
    (stay,) = records_from_wire(
        answer([wire_stay(star_rating="0", check_out_time=None, room_no=712)])["result"]
    )
    assert stay.star_rating == 0
    assert stay.checked_out_at is None
    assert stay.room == "712"
    VALIDATOR.validate(stay.to_dict())


def test_a_time_without_offset_is_beijing_time() -> None:
    assert parse_registry_time("2026-01-01T07:30:00") == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert parse_registry_time("2026-01-01T07:30:00Z") == datetime(2026, 1, 1, 7, 30, tzinfo=UTC)


def test_result_carries_time_reference_and_raw() -> None:
    result = result_from_wire(answer([wire_stay()]))
    assert result.answered_at == datetime(2026, 11, 24, 13, 15, 22, tzinfo=UTC)
    assert result.agency_reference == "LGZS2026112400000042"
    assert result.raw["status"] == "ok"
    assert len(result.records) == 1


def test_no_stay_is_an_empty_answer() -> None:
    result = result_from_wire(answer([]))
    assert result.records == ()
    assert result.agency_reference


def test_only_stays_overlapping_the_asked_period_are_kept() -> None:
    stays = [
        wire_stay(
            check_in_time="2025-12-30T22:00:00+08:00", check_out_time="2026-01-02T10:00:00+08:00"
        ),
        wire_stay(check_in_time="2026-03-01T00:30:00+08:00", check_out_time=None, room_no="305"),
        wire_stay(
            check_in_time="2026-06-01T15:00:00+08:00", check_out_time="2026-06-02T09:00:00+08:00"
        ),
    ]
    body = answer(stays)
    assert len(result_from_wire(body).records) == 3
    stays_of_q1 = stays_of(result_from_wire(body, date(2026, 1, 1), date(2026, 3, 31)))
    # The first stay overlaps New Year; the second began at 00:30 Beijing time on 1 March,
    # which is still 28 February in UTC: the period is in Beijing calendar days.
    assert [s.room for s in stays_of_q1] == ["1208", "305"]
    assert len(result_from_wire(body, date(2026, 3, 2), None).records) == 1
    assert len(result_from_wire(body, None, date(2025, 12, 30)).records) == 1
    assert result_from_wire(body, date(2026, 7, 1), date(2026, 8, 1)).records == ()
    (only,) = records_from_wire(answer([stays[1]])["result"])
    assert in_period(only, date(2026, 3, 1), date(2026, 3, 1))
    assert not in_period(only, date(2026, 2, 28), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("override", "what"),
    [
        ({"hotel_name": ""}, "hotel_name"),
        ({"star_rating": 6}, "star_rating"),
        ({"star_rating": "五星"}, "star_rating"),
        ({"star_rating": True}, "star_rating"),
        ({"check_in_time": "昨天晚上"}, "check_in_time"),
        ({"check_out_time": "2026-13-01T10:00:00+08:00"}, "check_out_time"),
    ],
)
def test_broken_entry_is_a_malformed_answer(override: dict[str, Any], what: str) -> None:
    with pytest.raises(TransientError) as info:
        records_from_wire(answer([wire_stay(**override)])["result"])
    assert info.value.code == "malformed"
    assert what in info.value.message


def test_total_must_match_the_stays_sent() -> None:
    body = answer([wire_stay()])
    body["result"]["total"] = 2
    with pytest.raises(TransientError, match="total"):
        result_from_wire(body)
    with pytest.raises(TransientError):
        result_from_wire({"status": "ok", "result": {"total": 0, "stays": []}})  # no time


@pytest.mark.parametrize(
    ("errcode", "status", "kind"),
    [
        (40001, 400, RejectedError),
        (40002, 400, RejectedError),
        (40003, 400, RejectedError),
        (40004, 400, RejectedError),
        (40101, 401, AuthError),
        (40102, 401, AuthError),
        (40301, 403, AuthError),
        (42901, 429, TransientError),
        (50001, 500, TransientError),
        (50301, 503, TransientError),
        (40999, 400, RejectedError),
        (7, 503, TransientError),
    ],
)
def test_errcodes_map_to_error_kinds(errcode: int, status: int, kind: type[Exception]) -> None:
    error = error_for(errcode, "", status=status)
    assert type(error) is kind
    assert error.code == f"hotels_{errcode}"


def test_the_registry_reason_travels_with_a_refusal() -> None:
    body = {"status": "error", "errcode": 40001, "errmsg": "缺少必填参数：notice_no"}
    with pytest.raises(RejectedError) as info:
        check_answer(WireResponse(400, body, {}))
    assert "notice_no" in info.value.message
    assert info.value.code == "hotels_40001"


def test_error_inside_http_200_and_throttling_hints() -> None:
    with pytest.raises(TransientError) as info:
        check_answer(
            WireResponse(200, {"status": "error", "errcode": "42901", "retry_after": 3}, {})
        )
    assert info.value.retry_after == 3
    with pytest.raises(TransientError):
        check_answer(WireResponse(200, {"result": {}}, {}))
    with pytest.raises(TransientError):
        check_answer(WireResponse(200, {"status": "ok"}, {}))
    with pytest.raises(RejectedError):
        check_answer(WireResponse(404, None, {}))
    with pytest.raises(RejectedError):
        check_answer(WireResponse(422, {"status": "error"}, {}))


def make_request(**overrides: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "Q202611240001",
        "idempotency_key": "search-1:hotels",
        "case_number": "（2026）京0105执1234号",
        "court_code": "京0105",
        "judge_name": "李法官",
        "judge_officer_id": "1101050023",
        "document_number": "（2026）京0105执1234号之二",
        "subject": Subject.parse("person", GUEST_ID, "刘洋"),
    }
    fields.update(overrides)
    return AgencyRequest(**fields)


def test_request_body_and_its_period() -> None:
    body = build_query(make_request())
    assert body["guest"] == {"id_type": "resident_id", "id_number": GUEST_ID, "name": "刘洋"}
    assert body["notice_no"] == "（2026）京0105执1234号之二"
    assert "period" not in body
    ranged = build_query(make_request(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31)))
    assert ranged["period"] == {"start": "2025-01-01", "end": "2025-12-31"}
    assert build_query(make_request(date_from=date(2025, 1, 1)))["period"] == {
        "start": "2025-01-01"
    }
    assert validate_query(ranged, "k") is None
    assert validate_query({**ranged, "notice_no": ""}, "k") == (40001, "缺少必填参数：notice_no")
    assert validate_query(ranged, "")[0] == 40001  # type: ignore[index]
    backwards = {**ranged, "period": {"start": "2025-12-31", "end": "2025-01-01"}}
    assert validate_query(backwards, "k")[0] == 40003  # type: ignore[index]


def test_simulated_registry_is_deterministic_and_realistic() -> None:
    empty, stays_seen, starred = 0, 0, 0
    for seq in range(300):
        rid = make_resident_id("210103", date(1970 + seq % 40, 1 + seq % 12, 1 + seq % 28), seq)
        stays = registered_stays(rid)
        assert stays == registered_stays(rid)
        empty += not stays
        assert len(stays) <= 4
        result = result_from_wire(answer(stays))
        for stay in stays_of(result):
            VALIDATOR.validate(stay.to_dict())
            assert stay.checked_out_at is None or stay.checked_out_at > stay.checked_in_at
            assert stay.checked_in_at < datetime(2026, 11, 2, tzinfo=UTC)
        stays_seen += len(result.records)
        starred += sum(1 for s in stays_of(result) if s.star_rating > 0)
    assert 0.18 <= empty / 300 <= 0.32
    assert 0.45 <= starred / stays_seen <= 0.75
