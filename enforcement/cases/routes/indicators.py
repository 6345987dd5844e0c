"""``/api/v1/indicators``: the enforcement indicators for a window, a court, a judge, a case type,
with the cases that pull each one down; JSON, or CSV (``format=csv``, audited as an export)."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from enforcement.api.keys import actor_of, request_id_of
from enforcement.api.params import query_int
from enforcement.cases.indicators import (
    CASES_CSV_COLUMNS,
    CSV_COLUMNS,
    Scope,
    cases_rows,
    report_rows,
    scope_for,
    to_csv,
)
from enforcement.cases.keys import INDICATORS
from enforcement.cases.lifecycle import court_today
from enforcement.cases.routes.lifecycle import parse_date

routes = web.RouteTableDef()

MAX_PAGE = 1000


def scope_of(request: web.Request) -> Scope:
    q = request.query
    today = court_today()
    date_to = parse_date(q["to"], "to") if q.get("to") else today
    date_from = parse_date(q["from"], "from") if q.get("from") else date(date_to.year, 1, 1)
    return Scope(date_from, date_to, q.get("court") or None, q.get("judge") or None, q.get("case_type") or None)


# UTF-8 with a byte-order mark: Excel on a Chinese Windows reads a CSV without one as GBK (乱码).
UTF8_BOM = "\ufeff"


def _csv_response(text: str, filename: str) -> web.Response:
    return web.Response(text=UTF8_BOM + text, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@routes.get("/api/v1/indicators")
async def indicators(request: web.Request) -> web.Response:
    actor = actor_of(request)
    service = request.app[INDICATORS]
    scope = scope_of(request)
    report: dict[str, Any] = await service.compute(actor, scope)
    if request.query.get("format") == "csv":
        rows = report_rows(report)
        await service.audit_export(actor, "indicators.csv", scope_for(actor, scope), len(rows), request_id_of(request))
        return _csv_response(to_csv(rows, CSV_COLUMNS), f"indicators_{report['from']}_{report['to']}.csv")
    return web.json_response(report)


@routes.get("/api/v1/indicators/{code}/cases")
async def indicator_cases(request: web.Request) -> web.Response:
    actor = actor_of(request)
    service = request.app[INDICATORS]
    scope = scope_of(request)
    limit = query_int(request, "limit", default=100, high=MAX_PAGE)
    offset = query_int(request, "offset", default=0, high=10**9)
    drill = await service.cases(actor, request.match_info["code"], scope, limit=limit, offset=offset)
    if request.query.get("format") == "csv":
        rows = cases_rows(drill)
        await service.audit_export(actor, f"indicator_cases:{drill['code']}.csv", scope_for(actor, scope), len(rows),
                                   request_id_of(request))
        return _csv_response(to_csv(rows, CASES_CSV_COLUMNS), f"{drill['code']}_cases.csv")
    return web.json_response(drill)


__all__ = ["routes", "scope_of"]
