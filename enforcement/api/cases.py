"""``/api/v1/cases``: the courts' case-management systems push cases (one, or NDJSON many);
judges and supervisors list and read them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import jsonschema
from aiohttp import web

from enforcement.api.errors import BadRequest, PayloadTooLarge, ValidationFailed
from enforcement.api.keys import AUDIT, CASES, POOL, SETTINGS, actor_of, request_id_of
from enforcement.api.params import query_bool, query_date, query_int
from enforcement.api.searches import read_json
from enforcement.orchestrator.cases import CaseNotFound, CaseService, ImportLine
from enforcement.schema_files import load_schema, schema_file
from enforcement.store.case_registry import CaseFilter

routes = web.RouteTableDef()

CASE_SCHEMA_PATH = schema_file("case.schema.json")
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")
MAX_LINE_BYTES = 64 * 1024
MAX_PAGE = 500


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema("case.schema.json"))


def check_structure(body: Any) -> tuple[str, str, str, str] | None:
    """The first way ``body`` breaks schemas/case.schema.json, as (code, field, en, zh); the
    message names the field and the rule, never the value (which may be an ID number or a name)."""
    errors = sorted(_validator().iter_errors(body), key=lambda e: (len(e.absolute_path), list(map(str, e.path))))
    if not errors:
        return None
    err = jsonschema.exceptions.best_match(errors) or errors[0]
    where = "/".join(str(p) for p in err.absolute_path) or "(case)"
    rule = str(err.validator)
    if rule == "required" and isinstance(err.instance, dict):
        missing = [k for k in err.validator_value if k not in err.instance]
        return ("missing_field", f"{where}/{missing[0]}" if where != "(case)" else missing[0],
                f"{where}: the field {missing[0]!r} is required.", f"{where}：缺少字段 {missing[0]}")
    if rule == "additionalProperties":
        return ("unknown_field", where, f"{where}: a field that is not part of the case shape is present.",
                f"{where}：含有案件格式之外的字段")
    if rule == "type":
        expected = err.validator_value if isinstance(err.validator_value, str) else "/".join(err.validator_value)
        return ("wrong_type", where, f"{where}: must be of type {expected}.", f"{where}：类型须为 {expected}")
    if rule == "enum":
        allowed = ", ".join("null" if v is None else str(v) for v in err.validator_value)
        return ("not_allowed", where, f"{where}: must be one of {allowed}.", f"{where}：须为 {allowed} 之一")
    if rule in ("oneOf", "anyOf"):
        return ("wrong_type", where, f"{where}: has the wrong form.", f"{where}：格式不正确")
    return ("schema_violation", where, f"{where}: breaks the rule {rule} ({err.validator_value}).",
            f"{where}：不符合规则 {rule}（{err.validator_value}）")


@routes.post("/api/v1/cases")
async def push_case(request: web.Request) -> web.Response:
    actor = actor_of(request)
    service = request.app[CASES]
    service.authorize_push(actor)  # refuses (403) before the body is read
    body = await read_json(request)
    done, view = await service.push(actor, body)
    return web.json_response({"outcome": done.outcome, "case": view}, status=201 if done.outcome == "created" else 200,
                             headers={"Location": f"/api/v1/cases/{done.case_id}"})


async def _lines(request: web.Request, max_bytes: int) -> AsyncIterator[ImportLine]:
    """The body's lines, numbered from 1; a line over MAX_LINE_BYTES is refused (not read whole)."""
    number, buffer, too_long, total = 0, bytearray(), False, 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        total += len(chunk)
        if total > max_bytes:
            raise PayloadTooLarge(f"The import is larger than {max_bytes} bytes; split it.",
                                  message_zh=f"导入内容超过 {max_bytes} 字节，请分批导入", limit=max_bytes)
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if not too_long:
                buffer += piece
                if len(buffer) > MAX_LINE_BYTES:
                    too_long, buffer = True, bytearray()
            if end < 0:
                break
            number += 1
            line = _finish(number, buffer, too_long)
            if line is not None:
                yield line
            buffer, too_long, start = bytearray(), False, end + 1
    if buffer or too_long:
        line = _finish(number + 1, buffer, too_long)
        if line is not None:
            yield line


def _finish(number: int, buffer: bytearray, too_long: bool) -> ImportLine | None:
    if too_long:
        return ImportLine(number, refused=("line_too_long", f"The line is longer than {MAX_LINE_BYTES} bytes.",
                                           f"该行超过 {MAX_LINE_BYTES} 字节"))
    raw = bytes(buffer).strip()
    return ImportLine(number, raw) if raw else None


@routes.post("/api/v1/cases:import")
async def import_cases(request: web.Request) -> web.Response:
    """NDJSON, one case per line: every good row is kept, every bad one reported by line."""
    actor = actor_of(request)
    service = request.app[CASES]
    settings = request.app[SETTINGS]
    service.authorize_push(actor)  # refuses (403) before the body is read
    if request.content_type not in NDJSON_TYPES:
        raise BadRequest(f"Expected application/x-ndjson, got {request.content_type}.",
                         message_zh="请求体须为 NDJSON（application/x-ndjson），每行一个案件", code="bad_content_type")
    if request.content_length is not None and request.content_length > settings.case_import_max_bytes:
        raise PayloadTooLarge(f"The import is larger than {settings.case_import_max_bytes} bytes; split it.",
                              message_zh=f"导入内容超过 {settings.case_import_max_bytes} 字节，请分批导入",
                              limit=settings.case_import_max_bytes)
    lines: list[ImportLine] = []
    kept = 0
    async for line in _lines(request, settings.case_import_max_bytes):
        if line.refused is None:
            kept += 1
            if kept > settings.case_import_max_lines:
                line = ImportLine(line.number, refused=(
                    "too_many_lines", f"An import holds at most {settings.case_import_max_lines} cases; "
                    "send this line again in another import.",
                    f"每次导入最多 {settings.case_import_max_lines} 个案件，请在下一批中重新发送该行"))
        lines.append(line)
    report = await service.import_lines(actor, lines, request_id=request_id_of(request))
    return web.json_response(report.to_dict())


@routes.get("/api/v1/cases")
async def list_cases(request: web.Request) -> web.Response:
    """A judge's own cases; a supervisor's court's cases (optionally one judge's)."""
    actor = actor_of(request)
    status = request.query.get("status") or None
    if status is not None and status not in ("open", "suspended", "closed"):
        raise ValidationFailed("status must be open, suspended or closed.",
                               message_zh="status 须为 open、suspended 或 closed", code="invalid_parameter",
                               parameter="status")
    limit = query_int(request, "limit", default=50, low=1, high=MAX_PAGE)
    offset = query_int(request, "offset", default=0, high=10_000_000)
    f = CaseFilter(
        judge_login=request.query.get("judge") or None,
        status=status,
        filed_from=query_date(request, "filed_from"),
        filed_to=query_date(request, "filed_to"),
        overdue=query_bool(request, "overdue"),
        limit=limit,
        offset=offset,
    )
    items, total = await request.app[CASES].find(actor, f)
    return web.json_response({"items": items, "total": total, "limit": limit, "offset": offset})


@routes.get("/api/v1/cases/{case_id}")
async def get_case(request: web.Request) -> web.Response:
    """A case with its parties, amounts, lifecycle events and searches."""
    actor = actor_of(request)
    try:
        case_id = int(request.match_info["case_id"])
    except ValueError:
        case_id = 0
    if case_id <= 0 or case_id > 2**62:
        raise CaseNotFound("No such case.", message_zh="案件不存在")
    return web.json_response(await request.app[CASES].get(actor, case_id))


def setup(app: web.Application) -> None:
    async def case_service(app: web.Application) -> AsyncIterator[None]:
        app[CASES] = CaseService(app[POOL], app[AUDIT], check_structure)
        yield

    app.cleanup_ctx.append(case_service)


__all__ = ["check_structure", "routes", "setup"]
