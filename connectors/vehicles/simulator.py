"""A simulator of the 公安交管 registry's "outaccess" interface, in the registry's own wire format.

One endpoint, ``POST /trffweb/outaccess/query``; the interface is chosen by ``jkid`` (``00C01``
heartbeat, ``01C21`` vehicles of an owner). Every answer is HTTP 200 with
``{"code", "msg", "data"}``; refusals are business codes (``1001`` bad credential, ``2001``
missing field, ``2002`` malformed ID, ...). Injected transport faults (5xx, 401, 429) carry the
same envelope with the matching business code.

Control interfaces (``04C51`` 查封登记, ``04C52`` 续行查封, ``04C53`` 解除查封) act on a vehicle of
the subject named by its VIN, against ``VehicleSimState.controls`` (the SDK's ``ControlLedger``):
the first seal is effective, later ones 轮候 behind it (``lhxh``) and rise when it is released; the
seals other authorities already hold (``cfsl``) come first. Once per ``ywlsh``.

The manifest's ``default_url`` names the port it is served on in the demo (DEFAULT_PORT).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from aiohttp import web

from connectors.sdk import (
    STATE_KEY,
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
from connectors.vehicles.codes import (
    BEIJING,
    CODE_NOT_FOUND,
    CODE_OK,
    CONTROL_JKIDS,
    ID_DOCUMENT_TYPE,
    JKID_HEARTBEAT,
    JKID_VEHICLE_QUERY,
    QUERY_PATH,
    SUBJECT_CATEGORY,
)
from connectors.vehicles.simdata import registered_vehicles

DEFAULT_PORT = 9101

# Required query fields and how the registry names them in its refusal.
REQUIRED_FIELDS: dict[str, str] = {
    "qqbh": "请求编号",
    "ah": "案号",
    "fydm": "法院代码",
    "cbfg": "承办法官",
    "cbfgzh": "承办法官工作证号",
    "wsbh": "协助查询通知书文书编号",
    "ztlb": "主体类别",
    "sfzmmc": "身份证明名称",
    "sfzmhm": "身份证明号码",
    "syr": "所有人名称",
}
_KIND_BY_CATEGORY = {v: k for k, v in SUBJECT_CATEGORY.items()}
# The kit's fault names, in the registry's business codes.
_FAULT_CODES = {"service_unavailable": "9999", "unauthorized": "1001", "rate_limited": "3001"}


def envelope(code: str, msg: str, data: Any = None) -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": data}


def error_body(status: int, code: str, message: str) -> tuple[str, bytes]:
    """The registry's error style, used by the kit's fault injection."""
    payload = envelope(_FAULT_CODES.get(code, "9999"), message)
    return "application/json", json.dumps(payload, ensure_ascii=False).encode()


def _answer(code: str, msg: str, data: Any = None) -> web.Response:
    return web.json_response(
        envelope(code, msg, data), dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


def registry_now() -> str:
    return datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def validate_query(cxtj: Mapping[str, Any], ywlsh: str) -> tuple[str, str] | None:
    """(code, msg) of the registry's refusal, or None when the query may run."""
    missing = [
        label for key, label in REQUIRED_FIELDS.items() if not str(cxtj.get(key) or "").strip()
    ]
    if not ywlsh:
        missing.append("业务流水号")
    if missing:
        return "2001", "必填项缺失：" + "、".join(missing)
    kind = _KIND_BY_CATEGORY.get(str(cxtj["ztlb"]))
    if kind is None or ID_DOCUMENT_TYPE[kind] != str(cxtj["sfzmmc"]):
        return "2003", "身份证明名称与主体类别不符"
    try:
        if kind == "person":
            normalize_resident_id(str(cxtj["sfzmhm"]))
        else:
            normalize_credit_code(str(cxtj["sfzmhm"]))
    except InvalidIdentifier as exc:
        return "2002", f"身份证明号码不符合编码规则（{exc.rule}）"
    return None


def _compute(state: SimulatorState, kind: str, id_number: str) -> dict[str, Any]:
    now = registry_now()
    vehicles = registered_vehicles(kind, id_number)
    return {
        "cxbh": "JGCX" + now[:10].replace("-", "") + f"{state.rng.randrange(10**8):08d}",
        "fksj": now,
        "jls": str(len(vehicles)),
        "clxx": vehicles,
    }


async def _query(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _answer("2000", "请求报文格式错误")
    if not isinstance(body, dict):
        return _answer("2000", "请求报文格式错误")
    if str(body.get("jkxlh") or "") != state.config.api_key:
        return _answer("1001", "接口序列号无效")
    jkid = str(body.get("jkid") or "")
    if jkid == JKID_HEARTBEAT:
        return _answer(CODE_OK, "成功", {"fwzt": "1", "xtsj": registry_now()})
    if jkid in CONTROL_JKIDS.values():
        return _control(state_of(request.app, VehicleSimState), jkid, body)
    if jkid != JKID_VEHICLE_QUERY:
        return _answer("2004", f"接口标识不存在：{jkid[:16]}")
    cxtj = body.get("cxtj")
    if not isinstance(cxtj, dict):
        return _answer("2001", "必填项缺失：查询条件")
    ywlsh = str(body.get("ywlsh") or "").strip()
    refusal = validate_query(cxtj, ywlsh)
    if refusal is not None:
        return _answer(*refusal)
    kind = _KIND_BY_CATEGORY[str(cxtj["ztlb"])]
    id_number = str(cxtj["sfzmhm"]).strip().upper()
    data = await state.effective(ywlsh, lambda: _compute(state, kind, id_number))
    if data["clxx"]:
        return _answer(CODE_OK, "成功", data)
    return _answer(CODE_NOT_FOUND, "查无信息", data)


class VehicleSimState(ControlSimState):
    """The kit's state plus the seals the registry holds."""

    control_prefix = "JGKZ"


_OP_BY_JKID = {jkid: op for op, jkid in CONTROL_JKIDS.items()}


def _apply_control(state: VehicleSimState, jkid: str, kzxx: Mapping[str, Any]) -> Effect:
    try:
        until = date.fromisoformat(str(kzxx["jzrq"])) if kzxx.get("jzrq") else None
    except ValueError:
        return refused("2002", "截止日期格式错误")

    def locate() -> tuple[str, list[str]] | Effect:
        kind = _KIND_BY_CATEGORY.get(str(kzxx.get("ztlb")))
        vin = str(kzxx.get("clsbdh") or "")
        if kind is None:
            return refused("2003", "主体类别无效")
        vehicle = next((v for v in registered_vehicles(kind, str(kzxx.get("sfzmhm") or "").upper())
                        if v["clsbdh"] == vin), None)
        if vehicle is None:
            return refused("4001", "该所有人名下无此车辆")
        return vin, ["其他机关"] * int(vehicle.get("cfsl") or 0)

    return object_control(state.controls, _OP_BY_JKID[jkid], authority=f"{kzxx.get('fydm')}人民法院", until=until,
                          reference=str(kzxx.get("kzbh") or ""), locate=locate)


CONTROL_ANSWER = EffectWire(status="kzzt", reference="kzbh", queue="lhxh", until="jzrq", answered="fksj",
                            code="sbdm", reason="sbyy")


def _control(state: VehicleSimState, jkid: str, body: Mapping[str, Any]) -> web.Response:
    kzxx = body.get("kzxx")
    ywlsh = str(body.get("ywlsh") or "").strip()
    if not isinstance(kzxx, dict) or not ywlsh:
        return _answer("2001", "必填项缺失：控制信息或业务流水号")
    effect = state.controls.once(ywlsh, lambda: _apply_control(state, jkid, kzxx))
    return _answer(CODE_OK, "成功", effect_wire(effect, CONTROL_ANSWER, BEIJING))


def create_simulator(config: SimulatorConfig | None = None) -> web.Application:
    state = VehicleSimState(config or SimulatorConfig())
    return make_simulator_app(state, [web.post(QUERY_PATH, _query)], error_style=error_body)


__all__ = ["DEFAULT_PORT", "VehicleSimState", "create_simulator", "envelope", "error_body", "validate_query"]
