"""A simulator of the social insurance gateway (人社厅), in its own head/body wire format.

Every business answer is HTTP 200 with ``head.retCode`` (see ``wire`` for the code families):

    000000 交易成功          200001 必填项缺失           200004 交易码不存在
    300001 查无信息          200002 公民身份号码校验失败   200005 报文格式错误
    900001 应用认证失败      200003 不支持的证件类型       200006 流水号重复且报文不一致
    999999 系统繁忙 (kit-injected 5xx), 500003 流量控制 (kit-injected 429)

Transport faults injected by the kit (401, 429, 5xx) carry the same envelope. The answer to a
``serialNo``, with its ``respTime``, is computed once and replayed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from connectors.sdk import (
    STATE_KEY,
    InvalidIdentifier,
    SimulatorConfig,
    SimulatorState,
    make_simulator_app,
    normalize_resident_id,
)
from connectors.social_insurance.simdata import body_parts, insured
from connectors.social_insurance.wire import (
    BEIJING,
    GATEWAY_PATH,
    ID_TYPE_RESIDENT,
    RET_NO_DATA,
    RET_OK,
    TIME_FORMAT,
    TRANS_PING,
    TRANS_QUERY,
)

Clock = Callable[[], datetime]
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("social_insurance_clock")

MESSAGES = {
    RET_OK: "交易成功",
    RET_NO_DATA: "查无信息",
    "200001": "必填项缺失",
    "200002": "公民身份号码校验失败",
    "200003": "不支持的证件类型",
    "200004": "交易码不存在",
    "200005": "报文格式错误",
    "200006": "流水号重复且报文不一致",
    "500003": "流量控制，请稍后再试",
    "900001": "应用认证失败",
    "999999": "系统繁忙，请稍后再试",
}
_REQUIRED = (
    ("reqNo", "查询申请编号"),
    ("caseNo", "案号"),
    ("courtCode", "法院代码"),
    ("judgeName", "承办人姓名"),
    ("judgeCertNo", "承办人工作证号"),
    ("assistDocNo", "协助查询通知书文号"),
    ("aac058", "证件类型"),
    ("aac002", "公民身份号码"),
    ("aac003", "姓名"),
)


def _now_text(clock: Clock) -> str:
    return clock().astimezone(BEIJING).strftime(TIME_FORMAT)


def envelope(
    code: str,
    *,
    serial_no: str = "",
    trans_code: str = "",
    resp_time: str = "",
    resp_serial_no: str = "",
    detail: str = "",
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    message = MESSAGES.get(code, "交易失败")
    return {
        "head": {
            "retCode": code,
            "retMsg": f"{message}：{detail}" if detail else message,
            "serialNo": serial_no,
            "respSerialNo": resp_serial_no,
            "respTime": resp_time or datetime.now(BEIJING).strftime(TIME_FORMAT),
            "transCode": trans_code,
        },
        "body": dict(body or {}),
    }


def _reply(doc: Mapping[str, Any], status: int = 200) -> web.Response:
    return web.json_response(doc, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def error_style(status: int, code: str, message: str) -> tuple[str, bytes]:
    """Faults injected by the kit, in the gateway's envelope."""
    ret = {"unauthorized": "900001", "rate_limited": "500003"}.get(code, "999999")
    doc = envelope(ret, detail=message)
    return "application/json", json.dumps(doc, ensure_ascii=False).encode()


def _fingerprint(head: Mapping[str, Any], body: Mapping[str, Any]) -> str:
    """What must not change under one serialNo (a re-sent request may be renumbered)."""
    substance = {k: v for k, v in body.items() if k != "reqNo"}
    what = {"transCode": head.get("transCode"), "body": substance}
    canonical = json.dumps(what, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _answer(id_number: str, name: str, serial_no: str, clock: Clock) -> dict[str, Any]:
    now = clock().astimezone(BEIJING)
    digest = int(hashlib.sha256(serial_no.encode()).hexdigest()[:12], 16)
    parts = body_parts(insured(id_number), now.date())
    found = parts.pop("found")
    code, detail, body = RET_NO_DATA, "未查询到该人员参保信息", None
    if found:
        code, detail = RET_OK, ""
        body = {"aac002": id_number, "aac003": name, "totalCount": len(parts["cbxxList"]), **parts}
    return envelope(
        code,
        serial_no=serial_no,
        trans_code=TRANS_QUERY,
        resp_time=now.strftime(TIME_FORMAT),
        resp_serial_no=f"RS{now:%Y%m%d}{digest % 10**12:012d}",
        detail=detail,
        body=body,
    )


async def gateway(request: web.Request) -> web.Response:
    clock = request.app[CLOCK_KEY]
    now = _now_text(clock)
    try:
        doc = await request.json()
    except (ValueError, UnicodeDecodeError):
        doc = None
    head = doc.get("head") if isinstance(doc, dict) else None
    body = doc.get("body") if isinstance(doc, dict) else None
    if not isinstance(head, dict) or not isinstance(body, dict):
        return _reply(envelope("200005", resp_time=now, detail="报文应包含head和body对象"))
    serial_no = str(head.get("serialNo") or "")
    trans_code = str(head.get("transCode") or "")
    reply: dict[str, Any] = {"serial_no": serial_no, "trans_code": trans_code, "resp_time": now}
    state = request.app[STATE_KEY]
    if not head.get("appKey") or head.get("appSecret") != state.config.api_key:
        return _reply(envelope("900001", detail="appKey或appSecret错误", **reply))
    if not serial_no:
        return _reply(envelope("200001", detail="head.serialNo（交易流水号）", **reply))
    if trans_code == TRANS_PING:
        return _reply(envelope(RET_OK, body={"serverTime": now}, **reply))
    if trans_code != TRANS_QUERY:
        return _reply(envelope("200004", detail=trans_code[:20], **reply))
    for field, label in _REQUIRED:
        value = body.get(field)
        if not isinstance(value, str) or not value.strip():
            return _reply(envelope("200001", detail=f"{field}（{label}）", **reply))
    if body["aac058"] != ID_TYPE_RESIDENT:
        return _reply(envelope("200003", detail="仅受理居民身份证（aac058=01）", **reply))
    try:
        id_number = normalize_resident_id(body["aac002"])
    except InvalidIdentifier as exc:
        return _reply(envelope("200002", detail=f"不符合GB 11643规则（{exc.rule}）", **reply))

    fingerprint = _fingerprint(head, body)

    def compute() -> dict[str, Any]:
        answer = _answer(id_number, body["aac003"], serial_no, clock)
        return {"fingerprint": fingerprint, "answer": answer}

    stored = await state.effective(serial_no, compute)
    if stored["fingerprint"] != fingerprint:
        return _reply(envelope("200006", detail="同一流水号的请求内容不同", **reply))
    answer: dict[str, Any] = stored["answer"]
    return _reply(answer)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_simulator(
    config: SimulatorConfig | None = None, *, clock: Clock | None = None
) -> web.Application:
    """The social insurance gateway simulator; ``clock`` (tz-aware) fixes "now" for tests."""
    state = SimulatorState(config or SimulatorConfig())
    app = make_simulator_app(state, [web.post(GATEWAY_PATH, gateway)], error_style=error_style)
    app[CLOCK_KEY] = clock or _utc_now
    return app


__all__ = ["create_simulator", "envelope", "error_style"]
