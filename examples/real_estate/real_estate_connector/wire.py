"""The wire client of the real estate registry's court interface (不动产登记信息管理基础平台 ·
法院查控接口): protocol only, no domain mapping, never retries.

    GET  /bdc/court/v1/ping                      -> {"success": true, "code": "0", "data": {...}}
    POST /bdc/court/v1/query                     -> {"success": true, "code": "0" | "1", "data": {
            "CXBH": 查询编号, "FKSJ": "yyyy-MM-dd HH:mm:ss" (Beijing time), "JLS": count,
            "BDCXX": [{"BDCDYH", "BDCQZH", "BDCLX", "ZL", "MJ", "YT", "QLLX", "GYFS", "QLBL",
                       "DJSJ", "DYZT", "DYJE", "CFZT", "CFSL"}, ...]}}

    POST /bdc/court/v1/control                   -> {"success": true, "code": "0", "data": {
            "KZJG": 1 已办理 | 3 不予办理, "CFBH": 查封编号, "LHSX": 轮候顺序 (1 在先查封),
            "CFJSRQ": 查封截止日期 "yyyy-MM-dd", "FKSJ", "BLDM"/"BLYY": 不予办理的代码与原因}}

A control (协助执行: 查封 ``KZLX`` 1, 续封 2, 解除查封 3) names the unit by ``BDCDYH`` and, for a
renewal or release, the seal by the registry's ``CFBH``; ``CFWH`` is the 执行裁定书 number and
``XZWSH`` the 协助执行通知书. Its ``X-Request-Id`` is the measure's idempotency key.

Request fields are TD/T 1066 data-element codes in upper case (``QLRMC`` 权利人名称, ``ZJHM``
证件号码, ...). Credential: header ``X-Access-Token``; idempotency key: header
``X-Request-Id`` (the registry answers a repeated id with its first answer). Failures carry an
HTTP status and ``{"success": false, "code": "<6 digits>", "message": "..."}``: ``401xxx`` and
``403xxx`` credentials, ``400xxx`` the request, ``429xxx``/``5xxxxx`` capacity or outage.
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
    ControlRequest,
    RejectedError,
    TransientError,
    WireResponse,
    agency_reason,
    fetch_json,
    parse_retry_after,
)

from real_estate_connector.codes import (
    AUTH_CODES,
    CODE_NOT_FOUND,
    CODE_OK,
    CONTROL_PATH,
    CONTROL_TYPES,
    HEALTH_PATH,
    HOLDER_TYPES,
    ID_TYPES,
    QUERY_PATH,
    REASONS,
    REQUEST_ID_HEADER,
    TOKEN_HEADER,
    TRANSIENT_CODES,
)


def build_query(request: AgencyRequest) -> dict[str, Any]:
    """The query body for one 权利人. Empty fields are sent empty: the registry decides."""
    subject = request.subject
    return {
        "CXSQDH": request.request_no,
        "AH": request.case_number,
        "FYDM": request.court_code,
        "CBR": request.judge_name,
        "CBRGZZH": request.judge_officer_id,
        "WSBH": request.document_number,
        "CXYY": request.purpose,
        "QLRLX": HOLDER_TYPES.get(subject.kind, ""),
        "ZJZL": ID_TYPES.get(subject.kind, ""),
        "ZJHM": subject.id_number,
        "QLRMC": subject.name,
    }


def build_control(request: ControlRequest) -> dict[str, Any]:
    """The control body: 查封, 续封 or 解除查封 of one unit of one 权利人."""
    subject = request.subject
    return {
        "KZLX": CONTROL_TYPES.get(request.op, ""),
        "KZSQDH": request.request_no,
        "AH": request.case_number,
        "FYDM": request.court_code,
        "CBR": request.judge_name,
        "CBRGZZH": request.judge_officer_id,
        "CFWH": request.ruling_number,
        "XZWSH": request.document_number,
        "QLRLX": HOLDER_TYPES.get(subject.kind, ""),
        "ZJZL": ID_TYPES.get(subject.kind, ""),
        "ZJHM": subject.id_number,
        "QLRMC": subject.name,
        "BDCDYH": request.target,
        "CFBH": request.reference or "",
        "CFJSRQ": request.until.isoformat() if request.until else "",
    }


def error_for(code: str, message: str, *, status: int, retry_after: float | None = None) -> ConnectorError:
    """The error kind for a registry error code, carrying the registry's own reason."""
    reason = message.strip() or REASONS.get(code, "未知错误")
    text = f"不动产登记平台返回 {code}：{reason}"
    tagged = f"real_estate_{code}"
    family = int(code[:3]) if len(code) == 6 and code.isdigit() else status
    if code in AUTH_CODES or family in (401, 403):
        return AuthError(text, code=tagged)
    if code in TRANSIENT_CODES or family == 429 or family >= 500:
        return TransientError(text, code=tagged, retry_after=retry_after)
    return RejectedError(text, code=tagged)


def check_envelope(response: WireResponse) -> dict[str, Any]:
    """The ``data`` of a successful answer (code 0, or 1 查无信息), else the right error."""
    body = response.body
    if not isinstance(body, Mapping) or "code" not in body:
        if response.status >= 400:
            reason = agency_reason(body) or ""
            raise error_for("", reason, status=response.status,
                            retry_after=parse_retry_after(response.headers.get("Retry-After")))
        raise TransientError("不动产登记平台应答缺少 code", code="malformed")
    code = str(body["code"]).strip()
    if response.status < 300 and body.get("success") is True and code in (CODE_OK, CODE_NOT_FOUND):
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise TransientError("不动产登记平台应答缺少 data", code="malformed")
        return dict(data)
    if response.status < 300 and code in (CODE_OK, CODE_NOT_FOUND):
        raise TransientError("不动产登记平台应答 success 标志异常", code="malformed")
    raise error_for(code, str(body.get("message") or ""), status=response.status,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")))


class RegistryClient:
    """Talks to one registry endpoint with one access token, over the injected session."""

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._base = config.base_url.rstrip("/")

    def _headers(self, request_id: str = "") -> dict[str, str]:
        headers = {TOKEN_HEADER: self._config.secret, "Accept": "application/json"}
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        return headers

    async def ping(self) -> dict[str, Any]:
        """The cheapest authenticated call: proves reachability and the token."""
        response = await fetch_json(
            self._session, "GET", self._base + HEALTH_PATH, timeout=self._config.timeout_seconds,
            headers=self._headers(), auth_statuses=frozenset(),  # the registry's own 401xxx codes
        )
        return check_envelope(response)

    async def query(self, request: AgencyRequest) -> dict[str, Any]:
        """The whole parsed answer (envelope included) for one 权利人."""
        response = await fetch_json(
            self._session, "POST", self._base + QUERY_PATH, timeout=self._config.timeout_seconds,
            json_body=build_query(request), headers=self._headers(request.idempotency_key),
            auth_statuses=frozenset(),
        )
        check_envelope(response)
        return dict(response.body)

    async def control(self, request: ControlRequest) -> dict[str, Any]:
        """The ``data`` of the registry's answer to one control (the request id is its key)."""
        response = await fetch_json(
            self._session, "POST", self._base + CONTROL_PATH, timeout=self._config.timeout_seconds,
            json_body=build_control(request), headers=self._headers(request.idempotency_key),
            auth_statuses=frozenset(),
        )
        return check_envelope(response)


__all__ = ["RegistryClient", "build_control", "build_query", "check_envelope", "error_for"]
