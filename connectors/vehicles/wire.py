"""The wire client of the 公安交管 vehicle registry (protocol only, no domain mapping).

Every call is one POST of a 公安 "outaccess" envelope to a single endpoint, the interface chosen
by ``jkid``::

    {"xtlb": "01", "jkxlh": "<接口序列号: our credential>", "jkid": "01C21",
     "ywlsh": "<业务流水号: the idempotency key>",
     "cxtj": {"qqbh": ..., "ah": ..., "fydm": ..., "cbfg": ..., "cbfgzh": ..., "wsbh": ...,
              "cxyy": ..., "ztlb": "1", "sfzmmc": "A", "sfzmhm": ..., "syr": ...}}

The registry answers HTTP 200 with ``{"code": "0000", "msg": "成功", "data": {...}}``; a failure
is a business code in the same envelope, still under HTTP 200 (``1xxx`` credentials, ``2xxx``
the request, ``3xxx``/``9xxx`` capacity or outage). Transport failures are translated by
``fetch_json``. This client never retries.
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
    fetch_json,
    require,
)
from connectors.vehicles.codes import (
    AUTH_CODES,
    CODE_OK,
    CONTROL_JKIDS,
    ID_DOCUMENT_TYPE,
    JKID_HEARTBEAT,
    JKID_VEHICLE_QUERY,
    QUERY_PATH,
    REJECTION_CODES,
    SUBJECT_CATEGORY,
    SUCCESS_CODES,
    SYSTEM_CATEGORY,
    TRANSIENT_CODES,
)


def build_query(request: AgencyRequest, secret: str) -> dict[str, Any]:
    """The 01C21 envelope for one subject. Empty fields are sent empty: the registry decides."""
    subject = request.subject
    return {
        "xtlb": SYSTEM_CATEGORY,
        "jkxlh": secret,
        "jkid": JKID_VEHICLE_QUERY,
        "ywlsh": request.idempotency_key,
        "cxtj": {
            "qqbh": request.request_no,
            "ah": request.case_number,
            "fydm": request.court_code,
            "cbfg": request.judge_name,
            "cbfgzh": request.judge_officer_id,
            "wsbh": request.document_number,
            "cxyy": request.purpose,
            "ztlb": SUBJECT_CATEGORY.get(subject.kind, ""),
            "sfzmmc": ID_DOCUMENT_TYPE.get(subject.kind, ""),
            "sfzmhm": subject.id_number,
            "syr": subject.name,
        },
    }


def build_control(request: ControlRequest, secret: str) -> dict[str, Any]:
    """The envelope of a control operation (04C51 seal, 04C52 renew, 04C53 release) on one vehicle,
    named by its VIN (``request.target``); ``ywlsh`` is the idempotency key."""
    subject = request.subject
    return {
        "xtlb": SYSTEM_CATEGORY,
        "jkxlh": secret,
        "jkid": CONTROL_JKIDS[request.op],
        "ywlsh": request.idempotency_key,
        "kzxx": {
            "qqbh": request.request_no,
            "ah": request.case_number,
            "fydm": request.court_code,
            "cbfg": request.judge_name,
            "cbfgzh": request.judge_officer_id,
            "cdsh": request.ruling_number,
            "wsbh": request.document_number,
            "ztlb": SUBJECT_CATEGORY.get(subject.kind, ""),
            "sfzmhm": subject.id_number,
            "syr": subject.name,
            "clsbdh": request.target,
            "jzrq": request.until.isoformat() if request.until else "",
            "kzbh": request.reference or "",
        },
    }


def build_heartbeat(secret: str) -> dict[str, Any]:
    return {"xtlb": "00", "jkxlh": secret, "jkid": JKID_HEARTBEAT, "ywlsh": "", "cxtj": {}}


def _known_reason(code: str) -> str:
    for table in (AUTH_CODES, REJECTION_CODES, TRANSIENT_CODES):
        if code in table:
            return table[code]
    return "未知错误"


def error_for(code: str, msg: str) -> ConnectorError:
    """The error kind for a business code of the registry, carrying its reason."""
    reason = msg.strip() or _known_reason(code)
    text = f"交管系统返回 {code}：{reason}"
    tagged = f"vehicles_{code}"
    if code in AUTH_CODES or code.startswith("1"):
        return AuthError(text, code=tagged)
    if code in TRANSIENT_CODES or code.startswith(("3", "9")):
        return TransientError(text, code=tagged)
    # 2xxx and anything unknown: the registry refused this request; asking again will not help.
    return RejectedError(text, code=tagged)


def check_envelope(response: WireResponse) -> dict[str, Any]:
    """The envelope of a successful answer (``0000`` or ``0001`` 查无信息), else the right error."""
    body = response.body
    if not isinstance(body, Mapping) or "code" not in body:
        if response.status >= 400:
            raise RejectedError(
                f"交管系统拒绝请求（HTTP {response.status}）", code=f"http_{response.status}"
            )
        raise TransientError("交管系统应答缺少 code", code="malformed")
    code = str(body["code"]).strip()
    msg = str(body.get("msg") or "")
    if code not in SUCCESS_CODES:
        raise error_for(code, msg)
    if response.status >= 400:  # a success code under an error status: not an answer we can trust
        raise RejectedError(
            f"交管系统应答状态异常（HTTP {response.status}）", code=f"http_{response.status}"
        )
    data = require(body, "data")
    if not isinstance(data, Mapping):
        raise TransientError("交管系统应答 data 不是对象", code="malformed")
    return dict(body)


class VehicleRegistryClient:
    """Talks to one registry endpoint with one credential, over the injected session."""

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._url = config.base_url.rstrip("/") + QUERY_PATH

    async def _post(self, envelope: Mapping[str, Any]) -> dict[str, Any]:
        response = await fetch_json(
            self._session,
            "POST",
            self._url,
            timeout=self._config.timeout_seconds,
            json_body=envelope,
            headers={"Accept": "application/json"},
        )
        return check_envelope(response)

    async def heartbeat(self) -> dict[str, Any]:
        """00C01: the cheapest authenticated call; proves reachability and the credential."""
        body = await self._post(build_heartbeat(self._config.secret))
        if body.get("code") != CODE_OK:
            raise TransientError("交管系统连通性检测未通过", code="heartbeat")
        return body

    async def control(self, request: ControlRequest) -> dict[str, Any]:
        """04C5x: one control operation; the whole parsed envelope."""
        return await self._post(build_control(request, self._config.secret))

    async def query_vehicles(self, request: AgencyRequest) -> dict[str, Any]:
        """01C21: the vehicles registered to the subject; the whole parsed envelope."""
        return await self._post(build_query(request, self._config.secret))


__all__ = [
    "VehicleRegistryClient",
    "build_control",
    "build_heartbeat",
    "build_query",
    "check_envelope",
    "error_for",
]
