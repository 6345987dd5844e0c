"""``/api/v1/alerts``: what the judge must look at (new property after a 终本, a breach of a
consumption restriction, a dishonest listing to remove), and marking it seen or handled."""

from __future__ import annotations

from aiohttp import web

from enforcement.api.errors import NotFound, ValidationFailed
from enforcement.api.keys import actor_of
from enforcement.api.searches import read_json
from enforcement.indicators.alerts import ALERT_KINDS, ALERT_STATUSES, AlertService

routes = web.RouteTableDef()

ALERTS = web.AppKey("alerts", AlertService)
MAX_PAGE = 500


def _choice(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in allowed:
        raise ValidationFailed(f"{name} must be one of {', '.join(allowed)}.",
                               message_zh=f"{name} 须为 {'、'.join(allowed)} 之一", code="invalid_parameter",
                               parameter=name)
    return value


def _int(request: web.Request, name: str, default: int | None, high: int) -> int | None:
    raw = request.query.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be a whole number.", message_zh=f"{name} 须为整数",
                               code="invalid_parameter", parameter=name) from exc
    if not 0 <= value <= high:
        raise ValidationFailed(f"{name} must be between 0 and {high}.", message_zh=f"{name} 须在0到{high}之间",
                               code="invalid_parameter", parameter=name)
    return value


@routes.get("/api/v1/alerts")
async def list_alerts(request: web.Request) -> web.Response:
    actor = actor_of(request)
    body = await request.app[ALERTS].list(
        actor, status=_choice(request, "status", ALERT_STATUSES), kind=_choice(request, "kind", ALERT_KINDS),
        case_id=_int(request, "case_id", None, 2**62), limit=_int(request, "limit", 100, MAX_PAGE) or 0,
        offset=_int(request, "offset", 0, 10**9) or 0)
    return web.json_response(body)


@routes.post("/api/v1/alerts/{alert_id}/status")
async def set_alert_status(request: web.Request) -> web.Response:
    actor = actor_of(request)
    try:
        alert_id = int(request.match_info["alert_id"])
    except ValueError as exc:
        raise NotFound("No such alert.", message_zh="提醒不存在", code="alert_not_found") from exc
    body = await read_json(request)
    status = body.get("status")
    if not isinstance(status, str):
        raise ValidationFailed("Field 'status' is required.", message_zh="缺少字段 status", code="missing_field",
                               field="status")
    return web.json_response(await request.app[ALERTS].set_status(actor, alert_id, status))


__all__ = ["ALERTS", "routes"]
