"""A simulator of 中国结算's court inquiry interface, in the depository's own wire format (see
``wire.py``), built with the service's simulator kit.

It checks the access key, validates the query (a missing field, a mismatched investor and ID
type, a malformed ID number are refused with the depository's ``E2xx`` codes under HTTP 200),
answers each 请求流水号 once (``state.effective``), derives accounts and holdings from the
investor (``simdata``) as at the last settlement day, and lets the kit inject faults in the
depository's error style (``error_style``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from connectors.sdk import (
    InvalidIdentifier,
    SimulatorConfig,
    SimulatorState,
    make_simulator_app,
    normalize_credit_code,
    normalize_resident_id,
    state_of,
)
from connectors.securities.codes import (
    BEIJING,
    CODE_NO_ACCOUNT,
    CODE_OK,
    HEARTBEAT_PATH,
    ID_TYPES,
    INVESTOR_TYPES,
    KEY_HEADER,
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


async def query(request: web.Request) -> web.Response:
    state = state_of(request.app, SimulatorState)
    if not _authorized(request):
        return _error(401, "E101", "接入认证失败")
    try:
        envelope = await request.json()
    except ValueError:
        return _answer(_envelope("E204", "请求报文不是有效的JSON", None))
    refused = refusal(envelope)
    if refused is not None:
        return _answer(_envelope(*refused, None))
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


def create_simulator(config: SimulatorConfig | None = None) -> web.Application:
    state = SimulatorState(config or SimulatorConfig())
    return make_simulator_app(state, [web.post(HEARTBEAT_PATH, heartbeat), web.post(QUERY_PATH, query)],
                              error_style=error_style)


__all__ = ["DEFAULT_PORT", "create_simulator", "error_style", "refusal"]
