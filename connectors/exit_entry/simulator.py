"""A simulator of the exit-entry administration's inquiry service, in its own wire format.

camelCase REST, bearer token, ``Idempotency-Key`` header; failures are RFC 7807
``application/problem+json`` documents with an HTTP 4xx/5xx status and an ``errorCode``:

    CRJ-40001 400 a required field is missing          CRJ-40101 401 bad or missing token
    CRJ-40002 400 the resident ID fails its check       CRJ-40901 409 idempotency key reused
    CRJ-40003 400 the crossing period is invalid                      for a different inquiry
    CRJ-40004 400 the ID type is not a resident ID      CRJ-42901 429 too many requests
    CRJ-40005 400 the body is not a JSON object         CRJ-50001 500 / CRJ-50301 503 unavailable

Data come from ``simdata`` (deterministic per subject); the answer to an idempotency key,
with its ``answeredAt``, is computed once and replayed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from aiohttp import web

from connectors.exit_entry.simdata import BEIJING, answer_parts, traveller, utc_now
from connectors.exit_entry.wire import HEALTH_PATH, ID_TYPE_RESIDENT, INQUIRY_PATH, PROBLEM_JSON
from connectors.sdk import (
    STATE_KEY,
    InvalidIdentifier,
    SimulatorConfig,
    SimulatorState,
    make_simulator_app,
    normalize_resident_id,
)

Clock = Callable[[], datetime]
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("exit_entry_clock")

_PROBLEMS: dict[str, tuple[int, str, str]] = {
    # errorCode: (HTTP status, type slug, title)
    "CRJ-40001": (400, "missing-field", "请求参数不完整"),
    "CRJ-40002": (400, "invalid-id-number", "证件号码校验失败"),
    "CRJ-40003": (400, "invalid-period", "查询时间段无效"),
    "CRJ-40004": (400, "unsupported-id-type", "不支持的证件类型"),
    "CRJ-40005": (400, "malformed-body", "请求体格式错误"),
    "CRJ-40101": (401, "unauthorized", "访问令牌无效"),
    "CRJ-40901": (409, "idempotency-conflict", "幂等键已用于其他查询"),
    "CRJ-42901": (429, "rate-limited", "请求过于频繁"),
    "CRJ-50001": (500, "internal-error", "系统内部错误"),
    "CRJ-50301": (503, "service-unavailable", "服务暂不可用"),
}
_KIT_CODES = {"unauthorized": "CRJ-40101", "rate_limited": "CRJ-42901"}
_REQUIRED = (
    ("requestNo", "查询请求编号"),
    ("caseNumber", "案号"),
    ("courtCode", "法院代码"),
    ("handlingJudge.name", "承办法官姓名"),
    ("handlingJudge.officerId", "承办法官工作证号"),
    ("assistNoticeNo", "协助查询通知书文号"),
    ("subject.idType", "证件类型"),
    ("subject.idNumber", "证件号码"),
    ("subject.name", "姓名"),
)


def problem_body(code: str, detail: str, instance: str = "") -> bytes:
    status, slug, title = _PROBLEMS[code]
    doc = {
        "type": f"https://zdz-crj.court.internal/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errorCode": code,
    }
    return json.dumps(doc, ensure_ascii=False).encode()


def problem(code: str, detail: str, instance: str = "") -> web.Response:
    return web.Response(
        status=_PROBLEMS[code][0],
        body=problem_body(code, detail, instance),
        content_type=PROBLEM_JSON,
    )


def error_style(status: int, code: str, message: str) -> tuple[str, bytes]:
    """Faults injected by the kit, as this agency would send them."""
    crj = _KIT_CODES.get(code) or ("CRJ-50301" if status == 503 else "CRJ-50001")
    return PROBLEM_JSON, problem_body(crj, message)


def _lookup(body: Mapping[str, Any], dotted: str) -> Any:
    node: Any = body
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _authorized(request: web.Request) -> bool:
    expected = f"Bearer {request.app[STATE_KEY].config.api_key}"
    return request.headers.get("Authorization", "") == expected


def _period(body: Mapping[str, Any]) -> tuple[date | None, date | None]:
    """The crossing period asked, or ValueError."""
    period = body.get("crossingPeriod")
    if period is None:
        return None, None
    if not isinstance(period, Mapping):
        raise ValueError("crossingPeriod 应为对象")
    start, end = (
        date.fromisoformat(v) if isinstance(v, str) and v else None
        for v in (period.get("startDate"), period.get("endDate"))
    )
    if start and end and start > end:
        raise ValueError("起始日期晚于截止日期")
    return start, end


def _fingerprint(body: Mapping[str, Any]) -> str:
    """What must not change under one idempotency key (a re-sent request may be renumbered)."""
    substance = {k: v for k, v in body.items() if k != "requestNo"}
    canonical = json.dumps(substance, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def health(request: web.Request) -> web.Response:
    if not _authorized(request):
        return problem("CRJ-40101", "Authorization 头缺失或访问令牌错误", request.path)
    now = request.app[CLOCK_KEY]().astimezone(BEIJING)
    return web.json_response({"status": "UP", "serverTime": now.isoformat(timespec="seconds")})


async def inquiry(request: web.Request) -> web.Response:
    path = request.path
    if not _authorized(request):
        return problem("CRJ-40101", "Authorization 头缺失或访问令牌错误", path)
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return problem("CRJ-40005", "请求体应为JSON对象", path)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return problem("CRJ-40001", "缺少 Idempotency-Key 请求头", path)
    for field, label in _REQUIRED:
        value = _lookup(body, field)
        if not isinstance(value, str) or not value.strip():
            return problem("CRJ-40001", f"缺少必填字段 {field}（{label}）", path)
    if body["subject"]["idType"] != ID_TYPE_RESIDENT:
        return problem("CRJ-40004", "本系统仅受理居民身份证号码查询", path)
    try:
        id_number = normalize_resident_id(body["subject"]["idNumber"])
    except InvalidIdentifier as exc:
        return problem("CRJ-40002", f"证件号码不符合GB 11643规则（{exc.rule}）", path)
    try:
        start, end = _period(body)
    except ValueError as exc:
        return problem("CRJ-40003", f"crossingPeriod 无效：{exc}", path)

    state = request.app[STATE_KEY]
    fingerprint = _fingerprint(body)
    clock = request.app[CLOCK_KEY]

    def compute() -> dict[str, Any]:
        now = clock()
        digest = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)
        parts = answer_parts(traveller(id_number), now, start, end)
        found = parts.pop("found")
        answer = {
            "queryId": f"CRJ{now.astimezone(BEIJING):%Y%m%d}{digest % 10**10:010d}",
            "requestNo": body["requestNo"],
            "answeredAt": now.astimezone(BEIJING).isoformat(timespec="seconds"),
            "resultCode": "FOUND" if found else "NO_RECORD",
            "resultMessage": "查询成功" if found else "查无信息",
            "subject": {"idNumber": id_number, "name": body["subject"]["name"]},
            "crossingPeriod": {
                "startDate": start.isoformat() if start else None,
                "endDate": end.isoformat() if end else None,
            },
            **(parts if found else {"travelDocuments": [], "crossings": [], "exitControl": None}),
        }
        return {"fingerprint": fingerprint, "answer": answer}

    stored = await state.effective(key, compute)
    if stored["fingerprint"] != fingerprint:
        return problem("CRJ-40901", "该幂等键已用于内容不同的查询", path)
    return web.json_response(stored["answer"], dumps=lambda o: json.dumps(o, ensure_ascii=False))


def create_simulator(
    config: SimulatorConfig | None = None, *, clock: Clock | None = None
) -> web.Application:
    """The exit-entry simulator; ``clock`` (UTC, tz-aware) fixes "now" for tests."""
    state = SimulatorState(config or SimulatorConfig())
    app = make_simulator_app(
        state,
        [web.get(HEALTH_PATH, health), web.post(INQUIRY_PATH, inquiry)],
        error_style=error_style,
    )
    app[CLOCK_KEY] = clock or utc_now
    return app


__all__ = ["create_simulator", "error_style", "problem", "problem_body"]
