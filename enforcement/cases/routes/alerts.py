"""``/api/v1/alerts``: what the judge must look at (new property after a 终本, a breach of a
consumption restriction, a dishonest listing to remove), and marking it seen or handled."""

from __future__ import annotations

from aiohttp import web

from enforcement.api.bodies import read_json
from enforcement.api.errors import ValidationFailed
from enforcement.api.keys import actor_of, request_id_of
from enforcement.api.params import path_id, query_choice, query_int
from enforcement.cases.alerts import ALERT_KINDS, ALERT_STATUSES
from enforcement.cases.keys import ALERTS

routes = web.RouteTableDef()

MAX_PAGE = 500


@routes.get("/api/v1/alerts")
async def list_alerts(request: web.Request) -> web.Response:
    actor = actor_of(request)
    body = await request.app[ALERTS].list(
        actor,
        status=query_choice(request, "status", ALERT_STATUSES),
        kind=query_choice(request, "kind", ALERT_KINDS),
        case_id=query_int(request, "case_id", default=None, high=2**62),
        limit=query_int(request, "limit", default=100, high=MAX_PAGE),
        offset=query_int(request, "offset", default=0, high=10**9),
    )
    return web.json_response(body)


@routes.post("/api/v1/alerts/{alert_id}/status")
async def set_alert_status(request: web.Request) -> web.Response:
    actor = actor_of(request)
    alert_id = path_id(request, "alert_id")
    body = await read_json(request)
    status = body.get("status")
    if not isinstance(status, str):
        raise ValidationFailed("Field 'status' is required.", message_zh="缺少字段 status", code="missing_field",
                               field="status")
    return web.json_response(await request.app[ALERTS].set_status(actor, alert_id, status,
                                                                      request_id=request_id_of(request)))


__all__ = ["routes"]
