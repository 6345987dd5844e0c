"""A simulator of the 旅馆业治安管理信息系统 stay-query API, in the registry's own wire format.

snake_case REST: ``GET /api/v2/health`` and ``POST /api/v2/lodging/stay-queries`` with a bearer
token and an ``Idempotency-Key`` header. Answers are ``{"status": "ok", "result": {...}}``;
refusals ``{"status": "error", "errcode": 40001, "errmsg": "..."}`` under HTTP 400 (40101 under
401 for a bad token). Injected faults use the same error body.

The manifest's ``default_url`` names the port it is served on in the demo (DEFAULT_PORT).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from aiohttp import web

from connectors.hotels.simdata import REGISTRY_TZ, in_period, registered_stays
from connectors.hotels.wire import (
    ERRCODES,
    GUEST_ID_TYPE,
    HEALTH_PATH,
    IDEMPOTENCY_HEADER,
    QUERY_PATH,
)
from connectors.sdk import (
    STATE_KEY,
    InvalidIdentifier,
    SimulatorConfig,
    SimulatorState,
    make_simulator_app,
    normalize_resident_id,
)

DEFAULT_PORT = 9104
REQUIRED_FIELDS = (
    "request_no",
    "case_no",
    "court_code",
    "judge_name",
    "judge_officer_id",
    "notice_no",
)
REQUIRED_GUEST_FIELDS = ("id_type", "id_number", "name")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def error_payload(errcode: int, errmsg: str | None = None) -> dict[str, Any]:
    return {"status": "error", "errcode": errcode, "errmsg": errmsg or ERRCODES.get(errcode, "")}


def error_body(status: int, code: str, message: str) -> tuple[str, bytes]:
    """The registry's error style, used by the kit's fault injection."""
    errcode = {"unauthorized": 40101, "rate_limited": 42901}.get(code, status * 100 + 1)
    return "application/json", _dumps(error_payload(errcode, message)).encode()


def _error(errcode: int, errmsg: str | None = None) -> web.Response:
    return web.json_response(error_payload(errcode, errmsg), status=errcode // 100, dumps=_dumps)


def _ok(result: Mapping[str, Any]) -> web.Response:
    return web.json_response({"status": "ok", "result": result}, dumps=_dumps)


def registry_now() -> str:
    return datetime.now(REGISTRY_TZ).replace(microsecond=0).isoformat()


def _authorized(request: web.Request) -> bool:
    expected = f"Bearer {request.app[STATE_KEY].config.api_key}"
    return request.headers.get("Authorization", "") == expected


def _blank(value: Any) -> bool:
    return not str(value or "").strip()


def validate_query(body: Mapping[str, Any], key: str) -> tuple[int, str] | None:
    """(errcode, errmsg) of the registry's refusal, or None when the query may run."""
    guest = body.get("guest")
    guest = guest if isinstance(guest, Mapping) else {}
    missing = [f for f in REQUIRED_FIELDS if _blank(body.get(f))]
    missing += [f"guest.{f}" for f in REQUIRED_GUEST_FIELDS if _blank(guest.get(f))]
    if not key:
        missing.append(IDEMPOTENCY_HEADER)
    if missing:
        return 40001, "缺少必填参数：" + ", ".join(missing)
    if guest["id_type"] != GUEST_ID_TYPE:
        return 40004, "不支持的证件类型：仅可按居民身份证号码查询"
    try:
        normalize_resident_id(str(guest["id_number"]))
    except InvalidIdentifier as exc:
        return 40002, f"证件号码校验未通过（{exc.rule}）"
    try:
        start, end = parse_period(body.get("period"))
    except (ValueError, TypeError):
        return 40003, "查询期间无效：应为 YYYY-MM-DD"
    if start and end and start > end:
        return 40003, "查询期间无效：起始日期晚于截止日期"
    return None


def parse_period(period: Any) -> tuple[date | None, date | None]:
    if period is None:
        return None, None
    if not isinstance(period, Mapping):
        raise ValueError("period must be an object")
    start, end = period.get("start"), period.get("end")
    return (
        date.fromisoformat(start) if start else None,
        date.fromisoformat(end) if end else None,
    )


def _compute(state: SimulatorState, id_number: str, period: Any) -> dict[str, Any]:
    start, end = parse_period(period)
    stays = [s for s in registered_stays(id_number) if in_period(s, start, end)]
    now = registry_now()
    return {
        "query_id": "LGZS" + now[:10].replace("-", "") + f"{state.rng.randrange(10**8):08d}",
        "answered_at": now,
        "total": len(stays),
        "stays": stays,
    }


async def _health(request: web.Request) -> web.Response:
    if not _authorized(request):
        return _error(40101)
    return _ok({"service": "lodging-registry", "version": "2.3.1", "server_time": registry_now()})


async def _query(request: web.Request) -> web.Response:
    if not _authorized(request):
        return _error(40101)
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _error(40005)
    if not isinstance(body, dict):
        return _error(40005)
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    refusal = validate_query(body, key)
    if refusal is not None:
        return _error(*refusal)
    state = request.app[STATE_KEY]
    id_number = normalize_resident_id(str(body["guest"]["id_number"]))
    result = await state.effective(key, lambda: _compute(state, id_number, body.get("period")))
    return _ok(result)


def create_simulator(config: SimulatorConfig | None = None) -> web.Application:
    state = SimulatorState(config or SimulatorConfig())
    routes = [web.get(HEALTH_PATH, _health), web.post(QUERY_PATH, _query)]
    return make_simulator_app(state, routes, error_style=error_body)


__all__ = ["DEFAULT_PORT", "create_simulator", "error_body", "parse_period", "validate_query"]
