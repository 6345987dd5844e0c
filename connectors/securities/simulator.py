"""A simulator of 中国结算's court inquiry interface, in the depository's own wire format (see
``wire.py``), built with the service's simulator kit.

It checks the access key, validates the query (a missing field, a mismatched investor and ID
type, a malformed ID number are refused with the depository's ``E2xx`` codes under HTTP 200),
answers each 请求流水号 once (``state.effective``), derives accounts and holdings from the
investor (``simdata``) as at the last settlement day, and lets the kit inject faults in the
depository's error style (``error_style``).

Controls (``/csdc/fyck/v1/zqdj``: 冻结, 续冻, 解冻) act on a holding of the investor against
``SecuritiesSimState.controls`` (the SDK's ``ControlLedger``): a holding another authority froze
already (``djsl`` > 0) is frozen in turn (轮候冻结: ``lhxh`` 2) and our freeze becomes effective
when the earlier one is released; each ``qqlsh`` is applied once. ``GET
/_sim/controls/{SH:A123456789:600519}`` shows a holding's freezes as the depository holds them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
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
from connectors.securities.codes import (
    BEIJING,
    CODE_NO_ACCOUNT,
    CODE_OK,
    CONTROL_PATH,
    CONTROL_TYPES,
    HEARTBEAT_PATH,
    ID_TYPES,
    INVESTOR_TYPES,
    KEY_HEADER,
    MARKETS,
    QUERY_PATH,
)
from connectors.securities.simdata import accounts_for, data_date

DEFAULT_PORT = 9107
REQUIRED = {
    "cxsqbh": "查询申请编号",
    "ah": "案号",
    "fydm": "法院代码",
    "cbr": "承办人",
    "cbrgzzh": "承办人工作证号",
    "wsh": "协助查询通知书文书号",
    "tzrlb": "投资者类别",
    "zjlb": "证件类别",
    "zjhm": "证件号码",
    "tzrmc": "投资者名称",
}
KIT_CODES = {"service_unavailable": "E901", "unauthorized": "E101", "rate_limited": "E301"}
_KIND_BY_INVESTOR = {v: k for k, v in INVESTOR_TYPES.items()}


def depository_now() -> str:
    return datetime.now(BEIJING).strftime("%Y%m%d%H%M%S")


def _envelope(code: str, message: str, body: Any, request_id: str = "") -> dict[str, Any]:
    return {"head": {"fhdm": code, "fhxx": message, "qqlsh": request_id, "xysj": depository_now()}, "body": body}


def error_style(status: int, code: str, message: str) -> tuple[str, bytes]:
    """The depository's error body; also used by the kit for injected faults."""
    body = _envelope(KIT_CODES.get(code, code), message, None)
    return "application/json", json.dumps(body, ensure_ascii=False).encode()


def _error(status: int, code: str, message: str) -> web.Response:
    ctype, body = error_style(status, code, message)
    return web.Response(status=status, body=body, content_type=ctype)


def _answer(envelope: dict[str, Any]) -> web.Response:
    return web.json_response(envelope, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _authorized(request: web.Request) -> bool:
    return request.headers.get(KEY_HEADER) == state_of(request.app, SimulatorState).config.api_key


def refusal(envelope: Any) -> tuple[str, str] | None:
    """(code, message) of the depository's refusal of a query, or None when it may run."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("head"), dict) \
            or not isinstance(envelope.get("body"), dict):
        return "E204", "请求报文格式错误"
    head, body = envelope["head"], envelope["body"]
    missing = [f"{label}（{key}）" for key, label in REQUIRED.items() if not str(body.get(key) or "").strip()]
    if not str(head.get("qqlsh") or "").strip():
        missing.append("请求流水号（qqlsh）")
    if missing:
        return "E201", "必填项缺失：" + "、".join(missing)
    kind = _KIND_BY_INVESTOR.get(str(body["tzrlb"]))
    if kind is None or ID_TYPES[kind] != str(body["zjlb"]):
        return "E203", "投资者类别与证件类别不符"
    try:
        if kind == "person":
            normalize_resident_id(str(body["zjhm"]))
        else:
            normalize_credit_code(str(body["zjhm"]))
    except InvalidIdentifier as exc:
        return "E202", f"证件号码校验失败（{exc.rule}）"
    return None


async def heartbeat(request: web.Request) -> web.Response:
    if not _authorized(request):
        return _error(401, "E101", "接入认证失败")
    return _answer(_envelope(CODE_OK, "连接正常", {"fwzt": "正常"}))


async def _accepted(request: web.Request,
                    refuse: Callable[[Any], tuple[str, str] | None]) -> dict[str, Any] | web.Response:
    """The envelope of an authorized request ``refuse`` finds nothing wrong with, else the refusal."""
    if not _authorized(request):
        return _error(401, "E101", "接入认证失败")
    try:
        envelope = await request.json()
    except ValueError:
        return _answer(_envelope("E204", "请求报文不是有效的JSON", None))
    problem = refuse(envelope)
    if problem is not None:
        return _answer(_envelope(*problem, None))
    return dict(envelope)


async def query(request: web.Request) -> web.Response:
    state = state_of(request.app, SimulatorState)
    envelope = await _accepted(request, refusal)
    if isinstance(envelope, web.Response):
        return envelope
    head, body = envelope["head"], envelope["body"]
    request_id = str(head["qqlsh"]).strip()
    kind = _KIND_BY_INVESTOR[str(body["tzrlb"])]
    id_number = str(body["zjhm"]).strip().upper()

    def compute() -> dict[str, Any]:
        on = data_date()
        accounts = accounts_for(kind, id_number, on)
        answer = {"cxbh": "ZJCX" + depository_now()[:8] + f"{state.rng.randrange(10**8):08d}",
                  "sjrq": on.strftime("%Y%m%d"), "zhsl": len(accounts), "zhxx": accounts}
        if accounts:
            return _envelope(CODE_OK, "查询成功", answer, request_id)
        return _envelope(CODE_NO_ACCOUNT, "查无该投资者证券账户", answer, request_id)

    return _answer(await state.effective(request_id, compute))


class SecuritiesSimState(ControlSimState):
    """The kit's state plus the freezes the depository holds."""

    control_prefix = "ZQDJ"


CONTROL_REQUIRED = {**{k: v for k, v in REQUIRED.items() if k not in ("cxsqbh", "wsh")},
                    "kzsqbh": "协助执行申请编号", "cdwh": "执行裁定书文号", "xzwsh": "协助执行通知书文书号",
                    "scdm": "市场代码", "zqzh": "证券账户", "zqdm": "证券代码"}
_OP_BY_TYPE = {v: k for k, v in CONTROL_TYPES.items()}
CONTROL_ANSWER = EffectWire(status="clzt", reference="djbh", queue="lhxh", until="djjzrq", answered="clsj",
                            code="sbdm", reason="sbyy", date_format="%Y%m%d", time_format="%Y%m%d%H%M%S")


def control_refusal(envelope: Any) -> tuple[str, str] | None:
    """(code, message) of the depository's refusal of a control request, or None when it may run."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("head"), dict) \
            or not isinstance(envelope.get("body"), dict):
        return "E204", "请求报文格式错误"
    head, body = envelope["head"], envelope["body"]
    if str(head.get("ywlx")) not in _OP_BY_TYPE:
        return "E204", "业务类型 ywlx 无效"
    missing = [f"{label}（{key}）" for key, label in CONTROL_REQUIRED.items() if not str(body.get(key) or "").strip()]
    if head["ywlx"] != CONTROL_TYPES["freeze"] and not str(body.get("djbh") or "").strip():
        missing.append("冻结编号（djbh）")
    if missing:
        return "E201", "必填项缺失：" + "、".join(missing)
    return refusal({"head": head, "body": {**body, "cxsqbh": body["kzsqbh"], "wsh": body["xzwsh"]}})


def _apply_control(state: SecuritiesSimState, op: str, body: Mapping[str, Any]) -> Effect:
    try:
        until = datetime.strptime(str(body["djjzrq"]), "%Y%m%d").date() if body.get("djjzrq") else None
    except ValueError:
        return refused("E204", "冻结截止日期 djjzrq 格式错误")
    market, account, code = (str(body[k]).strip().upper() for k in ("scdm", "zqzh", "zqdm"))

    def locate() -> tuple[str, list[str]] | Effect:
        kind = _KIND_BY_INVESTOR[str(body["tzrlb"])]
        for held in accounts_for(kind, str(body["zjhm"]).strip().upper(), data_date()):
            if held["scdm"] == market and held["zqzh"] == account:
                item = next((h for h in held["cyxx"] if h["zqdm"] == code), None)
                if item is not None:
                    return f"{MARKETS[market]}:{account}:{code}", ["其他机关"] if int(item["djsl"]) else []
        return refused("E401", "该投资者名下无此证券持有")

    return object_control(state.controls, op, authority=f"{body['fydm']}人民法院", until=until,
                          reference=str(body.get("djbh") or ""), locate=locate)


async def control(request: web.Request) -> web.Response:
    state = state_of(request.app, SecuritiesSimState)
    envelope = await _accepted(request, control_refusal)
    if isinstance(envelope, web.Response):
        return envelope
    head, body = envelope["head"], envelope["body"]
    request_id = str(head["qqlsh"]).strip()
    effect = state.controls.once(request_id, lambda: _apply_control(state, _OP_BY_TYPE[head["ywlx"]], body))
    return _answer(_envelope(CODE_OK, "处理完成", effect_wire(effect, CONTROL_ANSWER, BEIJING), request_id))


async def control_view(request: web.Request) -> web.Response:
    held = state_of(request.app, SecuritiesSimState).controls.describe(request.match_info["key"].upper())
    if held is None:
        return web.json_response({"message": "该证券无冻结记录"}, status=404)
    return web.json_response(held)


def create_simulator(config: SimulatorConfig | None = None) -> web.Application:
    state = SecuritiesSimState(config or SimulatorConfig())
    routes = [web.post(HEARTBEAT_PATH, heartbeat), web.post(QUERY_PATH, query), web.post(CONTROL_PATH, control),
              web.get("/_sim/controls/{key}", control_view)]
    return make_simulator_app(state, routes, error_style=error_style)


__all__ = ["DEFAULT_PORT", "SecuritiesSimState", "control_refusal", "create_simulator", "error_style", "refusal"]
