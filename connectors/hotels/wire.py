"""The wire client of the 旅馆业治安管理信息系统 (hotel guest registrations): protocol only.

A snake_case REST API under ``/api/v2``:

- ``GET  /api/v2/health``: a cheap authenticated call.
- ``POST /api/v2/lodging/stay-queries``: the stays of one guest (resident ID only), optionally
  within a period: ``{"request_no", "case_no", "court_code", "judge_name", "judge_officer_id",
  "notice_no", "purpose", "guest": {"id_type": "resident_id", "id_number", "name"},
  "period": {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}}``.

Credentials travel as ``Authorization: Bearer <token>``, the idempotency key as the
``Idempotency-Key`` header. Answers are ``{"status": "ok", "result": {...}}``; failures are
``{"status": "error", "errcode": 40001, "errmsg": "..."}`` under a matching HTTP status (400
refused, 401/403 credentials, 429 throttled, 5xx outage). This client never retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from connectors.sdk import (
    AgencyRequest,
    AuthError,
    ConnectorConfig,
    ConnectorError,
    RejectedError,
    TransientError,
    WireResponse,
    fetch_json,
    parse_retry_after,
)

HEALTH_PATH = "/api/v2/health"
QUERY_PATH = "/api/v2/lodging/stay-queries"
IDEMPOTENCY_HEADER = "Idempotency-Key"
GUEST_ID_TYPE = "resident_id"

# errcode -> what it means; the first three digits are the HTTP status it travels with.
ERRCODES: dict[int, str] = {
    40001: "缺少必填参数",
    40002: "证件号码校验未通过",
    40003: "查询期间无效",
    40004: "不支持的证件类型",
    40005: "请求体不是有效的JSON",
    40101: "访问令牌无效",
    40102: "访问令牌已过期",
    40301: "无权查询旅馆业住宿登记信息",
    40401: "接口不存在",
    42901: "请求过于频繁",
    50001: "系统内部错误",
    50301: "系统维护中",
}


def build_query(request: AgencyRequest) -> dict[str, Any]:
    """The stay-query body for one guest; the period only with the bounds that were asked."""
    body: dict[str, Any] = {
        "request_no": request.request_no,
        "case_no": request.case_number,
        "court_code": request.court_code,
        "judge_name": request.judge_name,
        "judge_officer_id": request.judge_officer_id,
        "notice_no": request.document_number,
        "purpose": request.purpose,
        "guest": {
            "id_type": GUEST_ID_TYPE,
            "id_number": request.subject.id_number,
            "name": request.subject.name,
        },
    }
    period: dict[str, str] = {}
    if request.date_from is not None:
        period["start"] = request.date_from.isoformat()
    if request.date_to is not None:
        period["end"] = request.date_to.isoformat()
    if period:
        body["period"] = period
    return body


def error_for(
    errcode: int, errmsg: str = "", *, status: int = 200, retry_after: float | None = None
) -> ConnectorError:
    """The error kind for an ``errcode`` of the registry, carrying its reason."""
    reason = errmsg.strip() or ERRCODES.get(errcode, "未知错误")
    text = f"旅馆业系统返回 {errcode}：{reason}"
    tagged = f"hotels_{errcode}"
    family = errcode // 100 if errcode >= 10000 else status
    if family in (401, 403):
        return AuthError(text, code=tagged)
    if family == 429 or family >= 500:
        return TransientError(text, code=tagged, retry_after=retry_after)
    return RejectedError(text, code=tagged)


def _errcode(body: Mapping[str, Any]) -> int | None:
    raw = body.get("errcode")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    return None


def check_answer(response: WireResponse) -> dict[str, Any]:
    """The ``result`` of an ``ok`` answer, else the right error with the registry's reason."""
    body = response.body
    if not isinstance(body, Mapping):
        if response.status >= 400:
            raise RejectedError(
                f"旅馆业系统拒绝请求（HTTP {response.status}）", code=f"http_{response.status}"
            )
        raise TransientError("旅馆业系统应答不是JSON对象", code="malformed")
    if body.get("status") == "ok" and response.status < 400:
        result = body.get("result")
        if not isinstance(result, Mapping):
            raise TransientError("旅馆业系统应答缺少 result", code="malformed")
        return dict(result)
    if body.get("status") not in ("ok", "error"):
        if response.status >= 400:
            raise RejectedError(
                f"旅馆业系统拒绝请求（HTTP {response.status}）", code=f"http_{response.status}"
            )
        raise TransientError("旅馆业系统应答缺少 status", code="malformed")
    errcode = _errcode(body)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if retry_after is None and isinstance(body.get("retry_after"), int | float):
        retry_after = float(body["retry_after"])
    if errcode is None:
        errcode = response.status * 100 + 1 if response.status >= 400 else 50001
    raise error_for(
        errcode, str(body.get("errmsg") or ""), status=response.status, retry_after=retry_after
    )


class HotelRegistryClient:
    """Talks to one registry with one bearer token, over the injected session."""

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._base = config.base_url.rstrip("/")

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._config.secret}", "Accept": "application/json"}
        if idempotency_key:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        return headers

    async def health(self) -> dict[str, Any]:
        response = await fetch_json(
            self._session,
            "GET",
            self._base + HEALTH_PATH,
            timeout=self._config.timeout_seconds,
            headers=self._headers(),
        )
        return check_answer(response)

    async def search_stays(self, request: AgencyRequest) -> dict[str, Any]:
        """The whole parsed answer (envelope included) for one guest."""
        response = await fetch_json(
            self._session,
            "POST",
            self._base + QUERY_PATH,
            timeout=self._config.timeout_seconds,
            json_body=build_query(request),
            headers=self._headers(request.idempotency_key),
        )
        check_answer(response)
        return dict(response.body)


__all__ = [
    "ERRCODES",
    "GUEST_ID_TYPE",
    "HEALTH_PATH",
    "IDEMPOTENCY_HEADER",
    "QUERY_PATH",
    "HotelRegistryClient",
    "build_query",
    "check_answer",
    "error_for",
]
