"""A simulator of the real estate registry's court interface, in the registry's own wire
format (see ``wire.py``), built with the service's simulator kit.

It checks the access token, validates the query (a missing field or a malformed ID number is
refused with the registry's code), answers each ``X-Request-Id`` once (``state.effective``),
derives the holdings from the 权利人 (``simdata``), and lets the kit inject faults in the
registry's error style (``error_style``).

Controls (``POST /bdc/court/v1/control``: 查封, 续封, 解除查封) act on a unit the 权利人 holds,
against ``RealEstateSimState.controls`` (the SDK's ``ControlLedger``): the seals other courts
already hold (``CFSL``) come first; a new seal is effective (``LHSX`` 1) only when none is ahead,
else it waits (轮候查封) and rises when the ones ahead are released. Once per ``X-Request-Id``.
``GET /_sim/controls/{BDCDYH}`` shows a unit's seals as the registry holds them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from aiohttp import web
from connectors.sdk import (
    Effect,
    InvalidIdentifier,
    SimulatorConfig,
    SimulatorState,
    make_simulator_app,
    normalize_credit_code,
    normalize_resident_id,
    state_of,
)
from connectors.sdk.control_kit import ControlSimState, EffectWire, effect_wire, object_control, refused

from real_estate_connector.codes import (
    BEIJING,
    CODE_NOT_FOUND,
    CODE_OK,
    CONTROL_PATH,
    CONTROL_TYPES,
    HEALTH_PATH,
    HOLDER_TYPES,
    ID_TYPES,
    QUERY_PATH,
    REQUEST_ID_HEADER,
    TOKEN_HEADER,
)
from real_estate_connector.simdata import properties_for

DEFAULT_PORT = 9106
REQUIRED = {
    "CXSQDH": "查询申请单号",
    "AH": "案号",
    "FYDM": "法院代码",
    "CBR": "承办人",
    "CBRGZZH": "承办人工作证号",
    "WSBH": "协助查询通知书文书编号",
    "QLRLX": "权利人类型",
    "ZJZL": "证件种类",
    "ZJHM": "证件号码",
    "QLRMC": "权利人名称",
}
KIT_CODES = {"service_unavailable": "503001", "unauthorized": "401001", "rate_limited": "429001"}
_KIND_BY_HOLDER = {v: k for k, v in HOLDER_TYPES.items()}


def error_style(status: int, code: str, message: str) -> tuple[str, bytes]:
    """The registry's error body; also used by the kit for injected faults."""
    body = {"success": False, "code": KIT_CODES.get(code, code), "message": message, "data": None}
    return "application/json", json.dumps(body, ensure_ascii=False).encode()


def _error(status: int, code: str, message: str) -> web.Response:
    ctype, body = error_style(status, code, message)
    return web.Response(status=status, body=body, content_type=ctype)


def _answer(code: str, message: str, data: Any) -> web.Response:
    body = {"success": True, "code": code, "message": message, "data": data}
    return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def registry_now() -> str:
    return datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _authorized(request: web.Request) -> bool:
    return request.headers.get(TOKEN_HEADER) == state_of(request.app, SimulatorState).config.api_key


def refusal(body: Any, request_id: str) -> tuple[str, str] | None:
    """(code, message) of the registry's refusal of a query, or None when it may run."""
    if not isinstance(body, dict):
        return "400104", "请求报文格式错误"
    missing = [f"{label}（{key}）" for key, label in REQUIRED.items() if not str(body.get(key) or "").strip()]
    if not request_id:
        missing.append(f"请求唯一标识（{REQUEST_ID_HEADER}）")
    if missing:
        return "400101", "必填项缺失：" + "、".join(missing)
    kind = _KIND_BY_HOLDER.get(str(body["QLRLX"]))
    if kind is None or ID_TYPES[kind] != str(body["ZJZL"]):
        return "400103", "证件种类与权利人类型不符"
    try:
        if kind == "person":
            normalize_resident_id(str(body["ZJHM"]))
        else:
            normalize_credit_code(str(body["ZJHM"]))
    except InvalidIdentifier as exc:
        return "400102", f"证件号码校验未通过（{exc.rule}）"
    return None


async def ping(request: web.Request) -> web.Response:
    if not _authorized(request):
        return _error(401, "401001", "访问令牌无效")
    return _answer(CODE_OK, "服务正常", {"ZT": "正常", "FWQSJ": registry_now()})


async def _accepted(request: web.Request,
                    refuse: Callable[[Any, str], tuple[str, str] | None]) -> tuple[Any, str] | web.Response:
    """(body, request id) of an authorized request ``refuse`` finds nothing wrong with, else the refusal."""
    if not _authorized(request):
        return _error(401, "401001", "访问令牌无效")
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "400104", "请求报文不是有效的JSON")
    request_id = request.headers.get(REQUEST_ID_HEADER, "").strip()
    problem = refuse(body, request_id)
    if problem is not None:
        return _error(400, *problem)
    return body, request_id


async def query(request: web.Request) -> web.Response:
    state = state_of(request.app, SimulatorState)
    accepted = await _accepted(request, refusal)
    if isinstance(accepted, web.Response):
        return accepted
    body, request_id = accepted
    kind = _KIND_BY_HOLDER[str(body["QLRLX"])]
    id_number = str(body["ZJHM"]).strip().upper()

    def compute() -> dict[str, Any]:
        now = registry_now()
        holdings = properties_for(kind, id_number)
        return {
            "CXBH": "BDCCX" + now[:10].replace("-", "") + f"{state.rng.randrange(10**8):08d}",
            "FKSJ": now,
            "JLS": len(holdings),
            "BDCXX": holdings,
        }

    data = await state.effective(request_id, compute)
    if data["BDCXX"]:
        return _answer(CODE_OK, "查询成功", data)
    return _answer(CODE_NOT_FOUND, "查无不动产登记信息", data)


class RealEstateSimState(ControlSimState):
    """The kit's state plus the seals the registry holds."""

    control_prefix = "BDCCF"


CONTROL_REQUIRED = {**{k: v for k, v in REQUIRED.items() if k not in ("CXSQDH", "WSBH")},
                    "KZLX": "控制类型", "KZSQDH": "协助执行申请单号", "CFWH": "执行裁定书文号",
                    "XZWSH": "协助执行通知书文书编号", "BDCDYH": "不动产单元号"}
_OP_BY_TYPE = {v: k for k, v in CONTROL_TYPES.items()}


def control_refusal(body: Any, request_id: str) -> tuple[str, str] | None:
    """(code, message) of the registry's refusal of a control request, or None when it may run."""
    if not isinstance(body, dict):
        return "400104", "请求报文格式错误"
    missing = [f"{label}（{key}）" for key, label in CONTROL_REQUIRED.items() if not str(body.get(key) or "").strip()]
    if str(body.get("KZLX")) in ("2", "3") and not str(body.get("CFBH") or "").strip():
        missing.append("查封编号（CFBH）")
    if not request_id:
        missing.append(f"请求唯一标识（{REQUEST_ID_HEADER}）")
    if missing:
        return "400101", "必填项缺失：" + "、".join(missing)
    if str(body["KZLX"]) not in _OP_BY_TYPE:
        return "400104", "控制类型 KZLX 无效"
    return refusal({**body, "CXSQDH": body["KZSQDH"], "WSBH": body["XZWSH"]}, request_id)


def _apply_control(state: RealEstateSimState, body: Mapping[str, Any]) -> Effect:
    try:
        until = date.fromisoformat(str(body["CFJSRQ"])) if body.get("CFJSRQ") else None
    except ValueError:
        return refused("400104", "查封截止日期 CFJSRQ 格式错误")
    unit = str(body["BDCDYH"]).strip().upper()

    def locate() -> tuple[str, list[str]] | Effect:
        kind = _KIND_BY_HOLDER[str(body["QLRLX"])]
        held = next((p for p in properties_for(kind, str(body["ZJHM"]).strip().upper()) if p["BDCDYH"] == unit), None)
        if held is None:
            return refused("404101", "该权利人名下无此不动产单元")
        return unit, ["其他法院"] * int(held.get("CFSL") or 0)

    return object_control(state.controls, _OP_BY_TYPE[str(body["KZLX"])], authority=f"{body['FYDM']}人民法院",
                          until=until, reference=str(body.get("CFBH") or ""), locate=locate)


CONTROL_ANSWER = EffectWire(status="KZJG", reference="CFBH", queue="LHSX", until="CFJSRQ", answered="FKSJ",
                            code="BLDM", reason="BLYY")


async def control(request: web.Request) -> web.Response:
    state = state_of(request.app, RealEstateSimState)
    accepted = await _accepted(request, control_refusal)
    if isinstance(accepted, web.Response):
        return accepted
    body, request_id = accepted
    effect = state.controls.once(request_id, lambda: _apply_control(state, body))
    return _answer(CODE_OK, "办理完成" if effect.status != "refused" else "不予办理",
                   effect_wire(effect, CONTROL_ANSWER, BEIJING))


async def control_view(request: web.Request) -> web.Response:
    held = state_of(request.app, RealEstateSimState).controls.describe(request.match_info["unit"].upper())
    if held is None:
        return web.json_response({"message": "该不动产单元无查封记录"}, status=404)
    return web.json_response(held)


def create_simulator(config: SimulatorConfig | None = None) -> web.Application:
    state = RealEstateSimState(config or SimulatorConfig())
    routes = [web.get(HEALTH_PATH, ping), web.post(QUERY_PATH, query), web.post(CONTROL_PATH, control),
              web.get("/_sim/controls/{unit}", control_view)]
    return make_simulator_app(state, routes, error_style=error_style)


__all__ = ["DEFAULT_PORT", "RealEstateSimState", "control_refusal", "create_simulator", "error_style", "refusal"]
