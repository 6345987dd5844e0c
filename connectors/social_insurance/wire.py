"""Wire client of the human resources and social security department's (人社厅) gateway.

Protocol only, never retries. One gateway URL; the transaction is named by ``head.transCode``:

    POST /rsgateway/api/v1/trans
    {"head": {"transCode", "appKey", "appSecret", "serialNo", "reqTime", "version"},
     "body": {...}}
 -> {"head": {"retCode", "retMsg", "serialNo", "respSerialNo", "respTime", "transCode"},
     "body": {...}}

Business errors come back in HTTP 200 with a non-zero ``retCode`` (six digits):

    000000 success                300001 查无信息 (an answer: nothing insured, not an error)
    2xxxxx the request is refused (missing field, bad ID, unknown transaction, serialNo reused)
    5xxxxx the system is busy or a back end timed out (transient); 999999 system error
    900001 appKey/appSecret refused; 900002 the application may not call this transaction

``serialNo`` (交易流水号) is the idempotency key: the gateway answers a repeated serial number
with the answer it already gave. Person data use the 人社 data-element style codes
(``aac002`` 公民身份号码, ``aac003`` 姓名, ``aac058`` 证件类型).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp

from connectors.sdk import AgencyRequest, AuthError, ConnectorError, RejectedError, TransientError, fetch_json, require

GATEWAY_PATH = "/rsgateway/api/v1/trans"
TRANS_QUERY = "ZXCX1001"  # 法院执行查询：参保及待遇信息
TRANS_PING = "SYS0001"  # 连通性测试
VERSION = "1.0"
ID_TYPE_RESIDENT = "01"  # aac058: 居民身份证
DEFAULT_APP_KEY = "zdz-court"
BEIJING = timezone(timedelta(hours=8), "CST")
TIME_FORMAT = "%Y%m%d%H%M%S"

RET_OK = "000000"
RET_NO_DATA = "300001"
AUTH_CODES = frozenset({"900001", "900002"})
TRANSIENT_CODES = frozenset({"999999"})


def error_from_head(head: Mapping[str, Any]) -> ConnectorError:
    """The error kind for a non-zero ``retCode``; the message carries ``retMsg``.

    ``9000xx``: credentials (auth); ``5xxxxx`` and ``999999``: busy or failing (transient);
    anything else, ``2xxxxx`` first: this query is refused (rejected).
    """
    code = str(head.get("retCode") or "")
    message = f"人社厅：{head.get('retMsg') or '未知错误'} [{code or '无返回码'}]"
    if code in AUTH_CODES:
        return AuthError(message, code=code)
    if code.startswith("5") or code in TRANSIENT_CODES:
        return TransientError(message, code=code)
    return RejectedError(message, code=code or "no_ret_code")


def build_query(request: AgencyRequest) -> dict[str, Any]:
    """The ``body`` of transaction ZXCX1001 for ``request``, fields sent as they are."""
    return {
        "reqNo": request.request_no,
        "caseNo": request.case_number,
        "courtCode": request.court_code,
        "judgeName": request.judge_name,
        "judgeCertNo": request.judge_officer_id,
        "assistDocNo": request.document_number,
        "queryReason": request.purpose,
        "aac058": ID_TYPE_RESIDENT,
        "aac002": request.subject.id_number,
        "aac003": request.subject.name,
    }


def build_envelope(
    trans_code: str,
    body: Mapping[str, Any],
    *,
    app_key: str,
    app_secret: str,
    serial_no: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    moment = (now or datetime.now(BEIJING)).astimezone(BEIJING)
    return {
        "head": {
            "transCode": trans_code,
            "appKey": app_key,
            "appSecret": app_secret,
            "serialNo": serial_no,
            "reqTime": moment.strftime(TIME_FORMAT),
            "version": VERSION,
        },
        "body": dict(body),
    }


def parse_time(value: Any) -> datetime:
    """A gateway time (``yyyyMMddHHmmss``, Beijing time) as an aware datetime; ValueError."""
    return datetime.strptime(str(value), TIME_FORMAT).replace(tzinfo=BEIJING)


class SocialInsuranceWire:
    """Calls the gateway and checks its envelope; returns the whole parsed envelope."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        app_key: str,
        app_secret: str,
        timeout: float,
    ) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + GATEWAY_PATH
        self._app_key = app_key
        self._app_secret = app_secret
        self._timeout = timeout

    async def call(
        self, trans_code: str, body: Mapping[str, Any], *, serial_no: str
    ) -> dict[str, Any]:
        """One transaction. ``000000`` and ``300001`` (查无信息) return; other codes raise."""
        envelope = build_envelope(
            trans_code,
            body,
            app_key=self._app_key,
            app_secret=self._app_secret,
            serial_no=serial_no,
        )
        resp = await fetch_json(
            self._session,
            "POST",
            self._url,
            timeout=self._timeout,
            json_body=envelope,
            ok_statuses=frozenset({200}),
        )
        if resp.status != 200:  # the gateway answers business errors in HTTP 200 only
            raise RejectedError(f"人社厅：意外的HTTP状态 {resp.status}", code=f"http_{resp.status}")
        head = require(resp.body, "head")
        if not isinstance(head, Mapping):
            raise TransientError("人社厅答复缺少报文头", code="malformed")
        code = str(require(resp.body, "head", "retCode"))
        if code not in (RET_OK, RET_NO_DATA):
            raise error_from_head(head)
        answer: dict[str, Any] = resp.body
        return answer

    async def ping(self) -> dict[str, Any]:
        return await self.call(TRANS_PING, {}, serial_no=f"ping-{uuid.uuid4().hex}")

    async def query(self, request: AgencyRequest) -> dict[str, Any]:
        answer = await self.call(
            TRANS_QUERY, build_query(request), serial_no=request.idempotency_key
        )
        for name in ("respSerialNo", "respTime"):
            require(answer, "head", name)
        return answer


__all__ = [
    "AUTH_CODES",
    "BEIJING",
    "DEFAULT_APP_KEY",
    "GATEWAY_PATH",
    "ID_TYPE_RESIDENT",
    "RET_NO_DATA",
    "RET_OK",
    "TIME_FORMAT",
    "TRANS_PING",
    "TRANS_QUERY",
    "SocialInsuranceWire",
    "build_envelope",
    "build_query",
    "error_from_head",
    "parse_time",
]
