"""The case lifecycle over HTTP: events on a case (one, or NDJSON many from the case system), the
case's history and derived state, and the 终本 checklist."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aiohttp import web

from enforcement.api.auth import audit_refusal
from enforcement.api.bodies import read_json, read_ndjson, require_ndjson
from enforcement.api.errors import ValidationFailed
from enforcement.api.keys import SETTINGS, actor_of, request_id_of
from enforcement.api.params import path_id
from enforcement.cases.keys import LIFECYCLE
from enforcement.cases.lifecycle import EventInput, Recorded
from enforcement.domain.authorization import AccessDenied, check_import_events
from enforcement.domain.errors import DomainError
from enforcement.domain.json_input import JsonRejected, parse_json

routes = web.RouteTableDef()

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


def parse_event(body: dict[str, Any], *, max_data_bytes: int) -> EventInput:
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
    size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    if size > max_data_bytes:
        raise ValidationFailed(f"Field 'data' is {size} bytes as JSON; an event's data holds at most {max_data_bytes}.",
                               message_zh=f"字段 data 为 {size} 字节，单个节点的 data 不超过 {max_data_bytes} 字节",
                               code="data_too_large", field="data", limit=max_data_bytes)
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
    inp = parse_event(await read_json(request), max_data_bytes=request.app[SETTINGS].event_data_max_bytes)
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
    """NDJSON, one event per line, each naming its case by ``case_number``. The body is read to
    its end first (413, nothing recorded, if it is over the byte limit); then every good line is
    recorded (each in its own transaction, with the same rules as a single event) and every bad
    one is reported with its line number and the reason, lines past the line limit as
    ``too_many_lines``: ``lines == recorded + duplicates + rejected_count``. For case-management
    systems only; a line of another court's case is refused, and the refusal audited."""
    actor = actor_of(request)
    check_import_events(actor)
    require_ndjson(request)
    settings = request.app[SETTINGS]
    lines = await read_ndjson(request, max_bytes=settings.case_import_max_bytes,
                              max_lines=settings.case_import_max_lines)
    service = request.app[LIFECYCLE]
    report: dict[str, Any] = {"lines": len(lines), "recorded": 0, "duplicates": 0, "rejected_count": 0,
                              "rejected": []}

    def reject(line: int, case_number: str | None, code: str, en: str, zh: str, field: str | None = None) -> None:
        report["rejected_count"] += 1
        if len(report["rejected"]) < MAX_REPORTED:
            shown = case_number[:60] if case_number else None
            report["rejected"].append({"line": line, "case_number": shown, "code": code, "field": field,
                                       "message": {"zh": zh, "en": en}})

    for line in lines:
        if line.refused is not None:
            reject(line.number, None, *line.refused)
            continue
        case_number: str | None = None
        try:
            body = parse_json(line.raw)
            if not isinstance(body, dict):
                raise ValidationFailed("Each line must be a JSON object.", message_zh="每行须为 JSON 对象",
                                       code="not_an_object")
            case_number = body.get("case_number") if isinstance(body.get("case_number"), str) else None
            if case_number is None:
                raise ValidationFailed("Field 'case_number' is required.", message_zh="缺少字段 case_number",
                                       code="missing_field", field="case_number")
            inp = parse_event(body, max_data_bytes=settings.event_data_max_bytes)
            case_id = await service.case_id_for_number(case_number)
            if case_id is None:
                reject(line.number, case_number, "case_not_found", "No such case.", "案件不存在")
                continue
            result = await service.record(actor, case_id, inp, request_id=request_id_of(request))
            report["recorded" if result.created else "duplicates"] += 1
        except JsonRejected as exc:
            reject(line.number, None, exc.code, exc.message_en, exc.message_zh, exc.field)
        except ValidationFailed as exc:
            field = exc.details.get("field")
            reject(line.number, case_number, exc.error_code, exc.message_en, exc.message_zh,
                   str(field) if field else None)
        except AccessDenied as exc:
            await audit_refusal(request, actor, exc)
            reject(line.number, case_number, exc.code, exc.message_en, exc.message_zh)
        except DomainError as exc:
            reject(line.number, case_number, exc.code, exc.message_en, exc.message_zh)
    report["truncated"] = report["rejected_count"] > len(report["rejected"])
    return web.json_response(report)


__all__ = ["parse_date", "parse_event", "routes"]
