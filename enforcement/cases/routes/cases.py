"""``/api/v1/cases``: the courts' case-management systems push cases (one, or NDJSON many);
judges and supervisors list and read them."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
from aiohttp import web

from enforcement.api.bodies import read_json, read_ndjson, require_ndjson
from enforcement.api.errors import ValidationFailed
from enforcement.api.keys import SETTINGS, actor_of, request_id_of
from enforcement.api.params import path_id, query_bool, query_date, query_int
from enforcement.cases.keys import CASES
from enforcement.cases.store.registry import CASE_ORDERS, CaseFilter
from enforcement.schema_files import load_schema, schema_file

routes = web.RouteTableDef()

CASE_SCHEMA_PATH = schema_file("case.schema.json")
MAX_PAGE = 500
MAX_SEARCH_TEXT = 100  # q: part of a case number, a name or an ID number


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
    conflicts = [c.to_dict() for c in done.conflicts]
    return web.json_response({"outcome": done.outcome, "case": view, "conflicts": conflicts},
                             status=201 if done.outcome == "created" else 200,
                             headers={"Location": f"/api/v1/cases/{done.case_id}"})


@routes.post("/api/v1/cases:import")
async def import_cases(request: web.Request) -> web.Response:
    """NDJSON, one case per line: every good row is kept, every bad one reported by line."""
    actor = actor_of(request)
    service = request.app[CASES]
    settings = request.app[SETTINGS]
    service.authorize_push(actor)  # refuses (403) before the body is read
    require_ndjson(request, "每行一个案件")
    lines = await read_ndjson(request, max_bytes=settings.case_import_max_bytes,
                              max_lines=settings.case_import_max_lines)
    report = await service.import_lines(actor, lines, request_id=request_id_of(request))
    return web.json_response(report.to_dict())


@routes.get("/api/v1/cases:push-conflicts")
async def push_conflicts(request: web.Request) -> web.Response:
    """Pushes whose state contradicted the case's events: not applied, kept for review."""
    actor = actor_of(request)
    limit = query_int(request, "limit", default=50, low=1, high=MAX_PAGE)
    offset = query_int(request, "offset", default=0, low=0, high=10**9)
    items, total = await request.app[CASES].push_conflicts(actor, limit, offset)
    return web.json_response({"items": items, "total": total, "limit": limit, "offset": offset})


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
    text = " ".join((request.query.get("q") or "").split()) or None
    if text is not None and (len(text) > MAX_SEARCH_TEXT or "\x00" in text):
        raise ValidationFailed(f"q is at most {MAX_SEARCH_TEXT} characters of text.",
                               message_zh=f"q 最多 {MAX_SEARCH_TEXT} 个字符", code="invalid_parameter", parameter="q")
    order = request.query.get("sort") or "urgency"
    if order not in CASE_ORDERS:
        raise ValidationFailed(f"sort must be one of {', '.join(CASE_ORDERS)}.",
                               message_zh=f"sort 须为 {'、'.join(CASE_ORDERS)} 之一", code="invalid_parameter",
                               parameter="sort")
    f = CaseFilter(
        judge_login=request.query.get("judge") or None,
        status=status,
        filed_from=query_date(request, "filed_from"),
        filed_to=query_date(request, "filed_to"),
        overdue=query_bool(request, "overdue"),
        limit=limit,
        offset=offset,
        text=text,
        order=order,
    )
    items, total = await request.app[CASES].find(actor, f)
    return web.json_response({"items": items, "total": total, "limit": limit, "offset": offset})


@routes.get("/api/v1/cases/{case_id}")
async def get_case(request: web.Request) -> web.Response:
    """A case with its parties, amounts, lifecycle events and searches."""
    actor = actor_of(request)
    return web.json_response(await request.app[CASES].get(actor, path_id(request, "case_id")))


__all__ = ["CASE_SCHEMA_PATH", "check_structure", "routes"]
