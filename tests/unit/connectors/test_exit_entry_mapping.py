"""Exit-entry connector without I/O: wire -> domain mapping, problem documents -> error kinds,
and the request envelope."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connectors.exit_entry.adapter import answered_at_from_wire, records_from_wire
from connectors.exit_entry.wire import auth_headers, build_inquiry, error_from_problem
from connectors.sdk.errors import AuthError, RejectedError, TransientError
from connectors.sdk.types import AgencyRequest
from enforcement.domain.assets import BorderCrossing, ExitRestriction, TravelDocument
from enforcement.domain.identifiers import make_resident_id
from enforcement.domain.subjects import Subject

PERSON_ID = make_resident_id("210102", date(1980, 1, 2), 11)
SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "records"


def answer(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "queryId": "CRJ202611200000000042",
        "answeredAt": "2026-11-20T10:00:05+08:00",
        "resultCode": "FOUND",
        "resultMessage": "查询成功",
        "travelDocuments": [
            {
                "documentType": "ORDINARY_PASSPORT",
                "documentTypeName": "普通护照",
                "documentNumber": "EA1234567",
                "issueDate": "2019-05-06",
                "expiryDate": "2029-05-05",
                "issuingAuthority": "国家移民管理局",
                "status": "VALID",
                "statusName": "有效",
            },
            {
                "documentType": "HK_MACAO_PERMIT",
                "documentTypeName": "往来港澳通行证",
                "documentNumber": "C12345678",
                "issueDate": "2016-03-01",
                "expiryDate": "2026-02-28",
                "status": "EXPIRED",
                "statusName": "已过期",
            },
        ],
        "crossings": [
            {
                "crossingTime": "2024-02-10T09:30:00+08:00",
                "portCode": "440301",
                "portName": "罗湖口岸",
                "transport": "LAND",
                "direction": "EXIT",
                "directionName": "出境",
                "documentType": "HK_MACAO_PERMIT",
                "documentNumber": "C12345678",
                "region": "香港",
            }
        ],
        "exitControl": {
            "controlled": True,
            "controlType": "LIMIT_EXIT",
            "decidingAuthority": "沈阳市和平区人民法院",
            "effectiveDate": "2025-01-15",
        },
    }
    data.update(overrides)
    return data


def test_found_answer_maps_to_documents_crossings_and_restriction() -> None:
    records = records_from_wire(answer())
    assert records == (
        TravelDocument("passport", "EA1234567", date(2019, 5, 6), date(2029, 5, 5), "有效"),
        TravelDocument(
            "hk_macao_permit", "C12345678", date(2016, 3, 1), date(2026, 2, 28), "已过期"
        ),
        BorderCrossing(
            crossed_at=datetime(2024, 2, 10, 1, 30, tzinfo=UTC),
            port="罗湖口岸",
            direction="exit",
            destination="香港",
            document_number="C12345678",
        ),
        ExitRestriction(in_force=True, authority="沈阳市和平区人民法院", since=date(2025, 1, 15)),
    )


def test_records_validate_against_their_schemas() -> None:
    for record in records_from_wire(answer()):
        schema = json.loads((SCHEMAS / f"{record.kind}.schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(record.to_dict())


def test_no_record_is_an_empty_answer() -> None:
    data = answer(resultCode="NO_RECORD", travelDocuments=[], crossings=[], exitControl=None)
    assert records_from_wire(data) == ()


def test_no_restriction_is_reported_as_not_in_force() -> None:
    records = records_from_wire(answer(exitControl={"controlled": False}))
    assert records[-1] == ExitRestriction(in_force=False, authority="", since=None)


def test_entry_keeps_the_region_travelled_from() -> None:
    crossing = dict(answer()["crossings"][0], direction="ENTRY", region="澳门")
    data = answer(travelDocuments=[], crossings=[crossing], exitControl=None)
    (record,) = records_from_wire(data)
    assert isinstance(record, BorderCrossing)
    assert (record.direction, record.destination) == ("entry", "澳门")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("CANCELLED", "已注销"), ("DECLARED_INVALID", "已宣布作废"), ("VALID", "有效")],
)
def test_document_statuses(code: str, expected: str) -> None:
    doc = dict(answer()["travelDocuments"][0], status=code, statusName="ignored")
    (record,) = records_from_wire(answer(travelDocuments=[doc], crossings=[], exitControl=None))
    assert isinstance(record, TravelDocument)
    assert record.status == expected


def test_unknown_status_keeps_the_agency_wording() -> None:
    doc = dict(answer()["travelDocuments"][0], status="REPORTED_LOST", statusName="已挂失")
    (record,) = records_from_wire(answer(travelDocuments=[doc], crossings=[], exitControl=None))
    assert isinstance(record, TravelDocument)
    assert record.status == "已挂失"


@pytest.mark.parametrize(
    "broken",
    [
        {"travelDocuments": [{"documentType": "ORDINARY_PASSPORT"}]},
        {"travelDocuments": [dict(answer()["travelDocuments"][0], documentType="VISA")]},
        {"travelDocuments": [dict(answer()["travelDocuments"][0], issueDate="2019/05/06")]},
        {"crossings": [dict(answer()["crossings"][0], crossingTime="2024-02-10T09:30:00")]},
        {"crossings": [dict(answer()["crossings"][0], direction="TRANSIT")]},
        {"crossings": "none"},
        {"exitControl": {"controlled": "yes"}},
        {"resultCode": None},
    ],
)
def test_malformed_answers_are_transient(broken: dict[str, Any]) -> None:
    with pytest.raises(TransientError) as info:
        records_from_wire(answer(**broken))
    assert info.value.code == "malformed"


def test_answer_time_is_utc() -> None:
    assert answered_at_from_wire(answer()) == datetime(2026, 11, 20, 2, 0, 5, tzinfo=UTC)
    with pytest.raises(TransientError):
        answered_at_from_wire(answer(answeredAt="yesterday"))


def problem(status: int, code: str, detail: str = "缺少必填字段") -> dict[str, Any]:
    return {"type": "https://x/p", "title": "请求参数不完整", "status": status,
            "detail": detail, "errorCode": code}  # fmt: skip


def test_problem_codes_map_to_error_kinds() -> None:
    rejected = error_from_problem(400, problem(400, "CRJ-40001", "缺少必填字段 assistNoticeNo"))
    assert isinstance(rejected, RejectedError)
    assert rejected.code == "CRJ-40001"
    assert "assistNoticeNo" in rejected.message and "CRJ-40001" in rejected.message
    assert isinstance(error_from_problem(409, problem(409, "CRJ-40901")), RejectedError)
    assert isinstance(error_from_problem(400, problem(400, "CRJ-40101")), AuthError)
    assert isinstance(error_from_problem(400, problem(400, "CRJ-42901")), TransientError)
    assert isinstance(error_from_problem(408, None), TransientError)
    plain = error_from_problem(404, "<html>")
    assert isinstance(plain, RejectedError)
    assert plain.code == "http_404"


def request(**overrides: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": "REQ-1",
        "idempotency_key": "search-1:exit_entry",
        "case_number": "（2025）辽0102执1234号",
        "court_code": "辽0102",
        "judge_name": "王法官",
        "judge_officer_id": "2101020012",
        "document_number": "（2025）辽0102执1234号之一",
        "subject": Subject.parse("person", PERSON_ID, "张三"),
    }
    fields.update(overrides)
    return AgencyRequest(**fields)


def test_inquiry_body_carries_the_case_and_the_period() -> None:
    req = request(date_from=date(2024, 1, 1), date_to=date(2025, 12, 31))
    body = build_inquiry(req)
    assert body["assistNoticeNo"] == req.document_number
    assert body["handlingJudge"] == {"name": "王法官", "officerId": "2101020012"}
    assert body["subject"]["idNumber"] == req.subject.id_number
    assert body["crossingPeriod"] == {"startDate": "2024-01-01", "endDate": "2025-12-31"}
    assert "crossingPeriod" not in build_inquiry(request())
    half = build_inquiry(request(date_from=date(2024, 1, 1)))
    assert half["crossingPeriod"] == {"startDate": "2024-01-01", "endDate": None}


def test_headers_carry_token_and_idempotency_key() -> None:
    headers = auth_headers("s3cret", "search-1:exit_entry")
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Idempotency-Key"] == "search-1:exit_entry"
    assert "Idempotency-Key" not in auth_headers("s3cret")
