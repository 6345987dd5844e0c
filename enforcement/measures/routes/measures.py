"""``/api/v1/cases/{case_id}/measures`` and ``/api/v1/measures/{measure_id}``: freeze or seal an
asset a search found, read a case's measures, renew, release or deduct from a control, and
(a supervisor) approve or reject a deduction held above the court's set amount (the judge may
withdraw it).

Order of checks on every POST: the permission first (403, audited by the edge), then the body
(400/413/422, audited here with the case: ``_body_refusals_audited``), then the rules (422/409,
audited by the service). A caller without the right learns nothing from a bad body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from enforcement.api.bodies import read_json
from enforcement.api.errors import ApiError, ValidationFailed
from enforcement.api.keys import actor_of, request_id_of
from enforcement.api.params import path_id, query_choice, query_int
from enforcement.measures.keys import MEASURES
from enforcement.measures.service import FollowUpRequest, MeasureRequest, MeasureService
from enforcement.measures.store.measures import MeasureCase

routes = web.RouteTableDef()

_FIRST = ("freeze", "seal")


def _text(body: dict[str, Any], name: str, *, required: bool = True) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"Field {name!r} is required.", message_zh=f"缺少字段 {name}",
                                   code="missing_field", field=name)
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"Field {name!r} must be a string.", message_zh=f"字段 {name} 类型错误",
                               code="wrong_type", field=name)
    return value


def _ruling(body: dict[str, Any]) -> tuple[str, str]:
    raw = body.get("ruling")
    if not isinstance(raw, dict):
        raise ValidationFailed("Field 'ruling' (number, ruled_on) is required.",
                               message_zh="缺少字段 ruling（执行裁定书文号与日期）", code="missing_field",
                               field="ruling")
    return _text(raw, "number"), _text(raw, "ruled_on")


def _amount(body: dict[str, Any]) -> Any:
    value = body.get("amount")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
        raise ValidationFailed("Field 'amount' must be a number or a decimal string.",
                               message_zh="字段 amount 类型错误", code="wrong_type", field="amount")
    return value


@asynccontextmanager
async def _body_refusals_audited(request: web.Request, service: MeasureService, case: MeasureCase,
                                 kind: str) -> AsyncIterator[None]:
    """A body refused once the permission passed (400, 413, 422): audited with the case, then raised."""
    try:
        yield
    except ApiError as exc:
        if 400 <= exc.status < 500 and exc.status != 403:
            await service.refused_input(actor_of(request), case, kind, exc.error_code,
                                        request_id=request_id_of(request))
        raise


@routes.get("/api/v1/cases/{case_id}/measures")
async def list_measures(request: web.Request) -> web.Response:
    service = request.app[MEASURES]
    case_id = path_id(request, "case_id")
    # 403 for a case the caller may not read; the notice days are the case's court's own, else the default.
    measures, permissions, notice_days = await service.case_measures(actor_of(request), case_id)
    return web.json_response({"measures": [service.view(m) for m in measures], **_court_day(service, notice_days),
                              "permissions": sorted(permissions)})


def _court_day(service: MeasureService, notice_days: int) -> dict[str, Any]:
    """The court's date and notice days the expiries are counted by (a page counts days left from them)."""
    return {"today": service.clock.today().isoformat(), "notice_days": notice_days}


LIST_STATES = ("due", "lapsed", "awaiting_approval", "live")


@routes.get("/api/v1/measures")
async def list_court_measures(request: web.Request) -> web.Response:
    """Measures across cases, in the caller's scope (a supervisor's court, a judge's own cases):
    renewals due within the court's notice days, lapses and deductions awaiting approval (no
    ``state``: all three), or every live control (``state=live``). A renewal due carries the act
    this caller may take on it (``actions``: renew, or release on a case closed for good), as an
    alert on it does."""
    state = query_choice(request, "state", LIST_STATES)
    limit = query_int(request, "limit", default=200, low=1, high=500)
    service = request.app[MEASURES]
    actor = actor_of(request)
    listed, notice_days, today = await service.listed(actor, state, limit)
    return web.json_response({
        "measures": [{**service.view(x.measure), "case_number": x.measure.case_number,
                      "judge_name": x.measure.judge_name, "state": x.state,
                      "pending_follow_up": x.pending_follow_up,
                      "actions": service.offered(actor, x, today)} for x in listed],
        "today": today.isoformat(), "notice_days": notice_days})


@routes.post("/api/v1/cases/{case_id}/measures")
async def submit_measure(request: web.Request) -> web.Response:
    case_id = path_id(request, "case_id")
    service = request.app[MEASURES]
    # Every kind this route takes (freeze, seal, deduct) needs what a freeze needs: permission first.
    case = await service.authorize(actor_of(request), case_id, "freeze")
    async with _body_refusals_audited(request, service, case, "submit"):
        body = await read_json(request)
        kind = _text(body, "kind")
        if kind == "deduct":
            parent = body.get("measure_id")
            if not isinstance(parent, int) or isinstance(parent, bool) or parent < 1:
                raise ValidationFailed("A deduction names the freeze it takes from (measure_id).",
                                       message_zh="扣划须指明所依据的冻结措施（measure_id）", code="missing_field",
                                       field="measure_id")
            parent_id = int(parent)
            number, ruled_on = _ruling(body)
            deduction = FollowUpRequest("deduct", number, ruled_on, amount=_amount(body))
        elif kind in _FIRST:
            number, ruled_on = _ruling(body)
            first = MeasureRequest(
                kind=kind, asset_kind=_text(body, "asset_kind"), natural_key=_text(body, "natural_key"),
                ruling_number=number, ruled_on=ruled_on, amount=_amount(body),
                until=_text(body, "until", required=False))
        else:
            raise ValidationFailed("kind must be freeze, seal or deduct (renew and release act on a measure).",
                                   message_zh="kind 须为 freeze、seal 或 deduct（续行与解除请对措施操作）",
                                   code="invalid_kind", field="kind")
    if kind == "deduct":
        measure = await service.follow_up(actor_of(request), parent_id, deduction, request_id=request_id_of(request),
                                          case_id=case_id)
    else:
        measure = await service.submit(actor_of(request), case_id, first, request_id=request_id_of(request))
    return web.json_response(service.view(measure), status=202)


@routes.get("/api/v1/measures/{measure_id}")
async def get_measure(request: web.Request) -> web.Response:
    service = request.app[MEASURES]
    return web.json_response(service.view(await service.get(actor_of(request), path_id(request, "measure_id"))))


async def _follow_up(request: web.Request, kind: str) -> web.Response:
    measure_id = path_id(request, "measure_id")
    service = request.app[MEASURES]
    case = await service.authorize_on(actor_of(request), measure_id, kind)  # 403 before the body is read
    async with _body_refusals_audited(request, service, case, kind):
        body = await read_json(request)
        number, ruled_on = _ruling(body)
        until = _text(body, "until", required=False) if kind == "renew" else None
    measure = await service.follow_up(actor_of(request), measure_id, FollowUpRequest(
        kind, number, ruled_on, until=until,  # type: ignore[arg-type]
    ), request_id=request_id_of(request))
    return web.json_response(service.view(measure), status=202)


@routes.post("/api/v1/measures/{measure_id}:renew")
async def renew_measure(request: web.Request) -> web.Response:
    return await _follow_up(request, "renew")


@routes.post("/api/v1/measures/{measure_id}:release")
async def release_measure(request: web.Request) -> web.Response:
    return await _follow_up(request, "release")


@routes.post("/api/v1/measures/{measure_id}:approve")
async def approve_measure(request: web.Request) -> web.Response:
    """A supervisor of the case's court approves a deduction held above the court's set amount."""
    service = request.app[MEASURES]
    measure = await service.approve(actor_of(request), path_id(request, "measure_id"),
                                    request_id=request_id_of(request))
    return web.json_response(service.view(measure), status=202)


async def _reason(request: web.Request, service: MeasureService, measure_id: int, act: str) -> Any:
    """The permission (403, audited by the edge), then the body's ``reason`` (audited when refused)."""
    case = await service.authorize_on(actor_of(request), measure_id, act)
    async with _body_refusals_audited(request, service, case, act):
        body = await read_json(request) if request.body_exists or act == "reject" else {}
        return _text(body, "reason", required=act == "reject")


@routes.post("/api/v1/measures/{measure_id}:reject")
async def reject_measure(request: web.Request) -> web.Response:
    """A supervisor of the case's court rejects a held deduction, with a reason: nothing goes to the bank."""
    service = request.app[MEASURES]
    measure_id = path_id(request, "measure_id")
    reason = await _reason(request, service, measure_id, "reject")
    measure = await service.reject(actor_of(request), measure_id, reason, request_id=request_id_of(request))
    return web.json_response(service.view(measure))


@routes.post("/api/v1/measures/{measure_id}:withdraw")
async def withdraw_measure(request: web.Request) -> web.Response:
    """The case's judge withdraws a held deduction (an optional reason): nothing goes to the bank."""
    service = request.app[MEASURES]
    measure_id = path_id(request, "measure_id")
    reason = await _reason(request, service, measure_id, "withdraw")
    measure = await service.withdraw(actor_of(request), measure_id, reason, request_id=request_id_of(request))
    return web.json_response(service.view(measure))
