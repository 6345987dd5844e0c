"""The case lifecycle over HTTP: events on a case (one, or NDJSON many from the case system), the
case's history and derived state, and the 终本 checklist."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aiohttp import web

from enforcement.api.auth import audit_refusal
from enforcement.api.errors import BadRequest, PayloadTooLarge, ValidationFailed
from enforcement.api.keys import AUDIT, POOL, SETTINGS, actor_of, request_id_of
from enforcement.api.params import path_id
from enforcement.api.searches import read_json
from enforcement.domain.authorization import AccessDenied
from enforcement.domain.errors import DomainError
from enforcement.indicators.lifecycle import EventInput, LifecycleService, Recorded
from enforcement.store import lifecycle as lifecycle_store

routes = web.RouteTableDef()

LIFECYCLE = web.AppKey("lifecycle", LifecycleService)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")
MAX_REPORTED = 1000


def case_id_of(request: web.Request) -> int:
    return path_id(request, "case_id")


def parse_date(raw: Any, name: str) -> date:
    if not isinstance(raw, str):
        raise ValidationFailed(f"Field {name!r} is required, a date YYYY-MM-DD.", message_zh=f"缺少日期字段 {name}",
                               code="missing_field", field=name)
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(f"Field {name!r} must be a date YYYY-MM-DD.",
                               message_zh=f"字段 {name} 须为日期 YYYY-MM-DD", code="wrong_type", field=name) from exc


def parse_event(body: dict[str, Any]) -> EventInput:
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValidationFailed("Field 'type' is required.", message_zh="缺少字段 type", code="missing_field",
                               field="type")
    data = body.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("Field 'data' must be an object.", message_zh="字段 data 须为对象", code="wrong_type",
                               field="data")
    external_id = body.get("external_id")
    if external_id is not None and (not isinstance(external_id, str) or not 0 < len(external_id) <= 100):
        raise ValidationFailed("Field 'external_id' must be a string of 1-100 characters.",
                               message_zh="字段 external_id 须为1至100个字符", code="wrong_type", field="external_id")
    reason = body.get("override_reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
        raise ValidationFailed("Field 'override_reason' must be a string (at most 2000 characters).",
                               message_zh="字段 override_reason 须为不超过2000字的文字", code="wrong_type",
                               field="override_reason")
    return EventInput(kind, parse_date(body.get("occurred_on"), "occurred_on"), data, external_id, reason)


def recorded_view(r: Recorded) -> dict[str, Any]:
    return {"event": r.event, "created": r.created, "lifecycle": r.lifecycle.to_dict(),
            "closure_check": r.checklist.to_dict() if r.checklist is not None else None, "override": r.override}


@routes.post("/api/v1/cases/{case_id}/events")
async def record_event(request: web.Request) -> web.Response:
    """Record one event; 201 when recorded, 200 when the same external_id was recorded before."""
    actor = actor_of(request)
    case_id = case_id_of(request)  # a bad id is a 404 before the body is read
    inp = parse_event(await read_json(request))
    result = await request.app[LIFECYCLE].record(actor, case_id, inp, request_id=request_id_of(request))
    return web.json_response(recorded_view(result), status=201 if result.created else 200)


@routes.get("/api/v1/cases/{case_id}/events")
async def case_history(request: web.Request) -> web.Response:
    actor = actor_of(request)
    return web.json_response(await request.app[LIFECYCLE].history(actor, case_id_of(request)))


@routes.get("/api/v1/cases/{case_id}/closure-check")
async def closure_check(request: web.Request) -> web.Response:
    actor = actor_of(request)
    raw = request.query.get("as_of")
    as_of = parse_date(raw, "as_of") if raw else None
    return web.json_response(await request.app[LIFECYCLE].closure_check(actor, case_id_of(request), as_of))


@routes.post("/api/v1/cases:import-events")
async def import_events(request: web.Request) -> web.Response:
    """NDJSON, one event per line, each naming its case by ``case_number``. Every good line is
    recorded (each in its own transaction, with the same rules as a single event); every bad one
    is reported with its line number and the reason. For case-management systems only; a line of
    another court's case is refused, and the refusal audited."""
    actor = actor_of(request)
    if str(actor.role) != "case_system":
        raise AccessDenied("role_cannot_import_events", "Only a court's case-management system imports events.",
                           "仅法院审判管理系统可以批量导入案件节点").about(action="case_event_import")
    if request.content_type not in NDJSON_TYPES:
        raise BadRequest(f"Expected NDJSON ({NDJSON_TYPES[0]}), got {request.content_type}.",
                         message_zh="请求体须为 NDJSON（每行一个 JSON 对象）", code="bad_content_type")
    settings = request.app[SETTINGS]
    if request.content_length is not None and request.content_length > settings.case_import_max_bytes:
        raise PayloadTooLarge(code="payload_too_large")
    raw = await request.content.read(settings.case_import_max_bytes + 1)
    if len(raw) > settings.case_import_max_bytes:
        raise PayloadTooLarge(code="payload_too_large")
    service = request.app[LIFECYCLE]
    report: dict[str, Any] = {"lines": 0, "recorded": 0, "duplicates": 0, "rejected_count": 0, "rejected": []}

    def reject(line: int, case_number: str | None, code: str, en: str, zh: str) -> None:
        report["rejected_count"] += 1
        if len(report["rejected"]) < MAX_REPORTED:
            report["rejected"].append({"line": line, "case_number": case_number, "code": code,
                                       "message": {"zh": zh, "en": en}})

    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        report["lines"] += 1
        if report["lines"] > settings.case_import_max_lines:
            raise PayloadTooLarge(f"At most {settings.case_import_max_lines} lines per import.",
                                  message_zh=f"每次导入不超过{settings.case_import_max_lines}行", code="too_many_lines")
        case_number: str | None = None
        try:
            body = json.loads(line)
            if not isinstance(body, dict):
                raise ValidationFailed("Each line must be a JSON object.", message_zh="每行须为 JSON 对象",
                                       code="not_an_object")
            case_number = body.get("case_number") if isinstance(body.get("case_number"), str) else None
            if case_number is None:
                raise ValidationFailed("Field 'case_number' is required.", message_zh="缺少字段 case_number",
                                       code="missing_field", field="case_number")
            case_id = await lifecycle_store.case_id_for_number(service.pool, case_number)
            if case_id is None:
                reject(number, case_number, "case_not_found", "No such case.", "案件不存在")
                continue
            result = await service.record(actor, case_id, parse_event(body), request_id=request_id_of(request))
            report["recorded" if result.created else "duplicates"] += 1
        except json.JSONDecodeError:
            reject(number, None, "malformed_json", "The line is not valid JSON.", "该行不是合法的 JSON")
        except ValidationFailed as exc:
            reject(number, case_number, exc.error_code, exc.message_en, exc.message_zh)
        except AccessDenied as exc:
            await audit_refusal(request.app[AUDIT], request.app[POOL], request, actor, exc)
            reject(number, case_number, exc.code, exc.message_en, exc.message_zh)
        except DomainError as exc:
            reject(number, case_number, exc.code, exc.message_en, exc.message_zh)
    report["truncated"] = report["rejected_count"] > len(report["rejected"])
    return web.json_response(report)


__all__ = ["LIFECYCLE", "parse_event", "routes"]
