"""The wire client of 中国结算's court inquiry interface (法院网络查控 · 证券查询): protocol only, no
domain mapping, never retries.

Every call is one POST of a ``head``/``body`` envelope, the credential in the header
``X-CSDC-AppKey`` and the idempotency key as the head's 请求流水号 ``qqlsh`` (the depository
answers a repeated ``qqlsh`` with its first answer)::

    POST /csdc/fyck/v1/zqcx
    {"head": {"ywlx": "ZQCX", "qqlsh": "<idempotency key>", "qqsj": "yyyyMMddHHmmss"},
     "body": {"cxsqbh", "ah", "fydm", "cbr", "cbrgzzh", "wsh", "cxyy",
              "tzrlb": "1" | "2", "zjlb": "00" | "0A", "zjhm", "tzrmc"}}

    -> {"head": {"fhdm": "0000" | "0100", "fhxx", "qqlsh", "xysj": "yyyyMMddHHmmss"},
        "body": {"cxbh": 查询编号, "sjrq": "yyyyMMdd" (持有数据日期: the last settlement day),
                 "zhsl": number of accounts,
                 "zhxx": [{"zqzh", "scdm", "zhzt", "khrq", "tgdy",
                           "cyxx": [{"zqdm", "zqjc", "zqlb", "cysl", "djsl", "jg", "jgrq", "sz"}]}]}}

A failure is a ``head.fhdm`` code with ``body: null``, under HTTP 200 for business refusals
(``E2xx``) and under the HTTP status of the gateway for credentials (``E1xx``, 401/403) and
capacity or outage (``E3xx``, ``E9xx``, 429/5xx).

Controls (协助冻结: ``ZQDJ`` 冻结, ``ZQXD`` 续冻, ``ZQJD`` 解冻) go to ``/csdc/fyck/v1/zqdj`` in the
same envelope; the holding is named by ``scdm``/``zqzh``/``zqdm`` (the service's target
``SH:A123456789:600519``), a renewal or release by the depository's 冻结编号 ``djbh``; ``cdwh`` is
the 执行裁定书 number, ``xzwsh`` the 协助执行通知书, ``djjzrq`` the end date asked::

    -> {"head": {"fhdm": "0000", ...},
        "body": {"clzt": 1 已办理 | 2 部分办理 | 3 不予办理, "djbh", "lhxh": 轮候序号 (1 在先冻结),
                 "djjzrq": "yyyyMMdd", "clsj": "yyyyMMddHHmmss" (处理时间), "sbdm", "sbyy"}}

``LJCS`` (连接测试, ``/csdc/fyck/v1/ljcs``) is the heartbeat. Transport failures are translated by
``fetch_json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
    parse_retry_after,
)
from connectors.securities.codes import (
    AUTH_CODES,
    BEIJING,
    BUSINESS_TYPE,
    CODE_NO_ACCOUNT,
    CODE_OK,
    CONTROL_PATH,
    CONTROL_TYPES,
    HEARTBEAT_PATH,
    HEARTBEAT_TYPE,
    ID_TYPES,
    INVESTOR_TYPES,
    KEY_HEADER,
    MARKETS,
    QUERY_PATH,
    REASONS,
    TRANSIENT_CODES,
)


def _now() -> str:
    return datetime.now(BEIJING).strftime("%Y%m%d%H%M%S")


def build_query(request: AgencyRequest) -> dict[str, Any]:
    """The ZQCX envelope for one investor. Empty fields are sent empty: the depository decides."""
    subject = request.subject
    return {
        "head": {"ywlx": BUSINESS_TYPE, "qqlsh": request.idempotency_key, "qqsj": _now()},
        "body": {
            "cxsqbh": request.request_no,
            "ah": request.case_number,
            "fydm": request.court_code,
            "cbr": request.judge_name,
            "cbrgzzh": request.judge_officer_id,
            "wsh": request.document_number,
            "cxyy": request.purpose,
            "tzrlb": INVESTOR_TYPES.get(subject.kind, ""),
            "zjlb": ID_TYPES.get(subject.kind, ""),
            "zjhm": subject.id_number,
            "tzrmc": subject.name,
        },
    }


_MARKET_CODES = {v: k for k, v in MARKETS.items()}


def holding_of(target: str) -> tuple[str, str, str]:
    """(scdm, zqzh, zqdm) of a holding named ``SH:A123456789:600519``; a bad name is refused here."""
    parts = target.split(":")
    if len(parts) != 3 or parts[0] not in _MARKET_CODES or not all(parts):
        raise RejectedError("证券标识应为“市场:证券账户:证券代码”，如 SH:A123456789:600519", code="securities_E205")
    return _MARKET_CODES[parts[0]], parts[1].upper(), parts[2]


def build_control(request: ControlRequest) -> dict[str, Any]:
    """The envelope of one control: 冻结, 续冻 or 解冻 of one holding of one investor."""
    subject = request.subject
    market, account, code = holding_of(request.target)
    return {
        "head": {"ywlx": CONTROL_TYPES.get(request.op, ""), "qqlsh": request.idempotency_key, "qqsj": _now()},
        "body": {
            "kzsqbh": request.request_no,
            "ah": request.case_number,
            "fydm": request.court_code,
            "cbr": request.judge_name,
            "cbrgzzh": request.judge_officer_id,
            "cdwh": request.ruling_number,
            "xzwsh": request.document_number,
            "tzrlb": INVESTOR_TYPES.get(subject.kind, ""),
            "zjlb": ID_TYPES.get(subject.kind, ""),
            "zjhm": subject.id_number,
            "tzrmc": subject.name,
            "scdm": market,
            "zqzh": account,
            "zqdm": code,
            "djbh": request.reference or "",
            "djjzrq": request.until.strftime("%Y%m%d") if request.until else "",
        },
    }


def build_heartbeat() -> dict[str, Any]:
    return {"head": {"ywlx": HEARTBEAT_TYPE, "qqlsh": "", "qqsj": _now()}, "body": {}}


def error_for(code: str, message: str, *, status: int = 200, retry_after: float | None = None) -> ConnectorError:
    """The error kind for a depository code (or, without one, the HTTP status), carrying its reason."""
    reason = message.strip() or REASONS.get(code, "未知错误")
    text = f"中国结算返回 {code or status}：{reason}"
    tagged = f"securities_{code or status}"
    if code in AUTH_CODES or code.startswith("E1") or (not code and status in (401, 403)):
        return AuthError(text, code=tagged)
    if code in TRANSIENT_CODES or code.startswith(("E3", "E9")) or (not code and (status == 429 or status >= 500)):
        return TransientError(text, code=tagged, retry_after=retry_after)
    # E2xx, unknown codes: the depository refused this request; asking again will not help.
    return RejectedError(text, code=tagged)


def _head(body: Any) -> Mapping[str, Any] | None:
    head = body.get("head") if isinstance(body, Mapping) else None
    return head if isinstance(head, Mapping) else None


def check_envelope(response: WireResponse) -> dict[str, Any]:
    """The whole envelope of a successful answer (``0000``, or ``0100`` 查无账户), else the right error."""
    body = response.body
    head = _head(body)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if head is None or "fhdm" not in head:
        if response.status >= 400:
            raise error_for("", "", status=response.status, retry_after=retry_after)
        raise TransientError("中国结算应答缺少返回代码 head.fhdm", code="malformed")
    code = str(head["fhdm"]).strip()
    message = str(head.get("fhxx") or "")
    if code not in (CODE_OK, CODE_NO_ACCOUNT):
        raise error_for(code, message, status=response.status, retry_after=retry_after)
    if response.status >= 300:  # a success code under an error status: not an answer we can trust
        raise RejectedError(f"中国结算应答状态异常（HTTP {response.status}）", code=f"http_{response.status}")
    assert isinstance(body, Mapping)
    return dict(body)


class DepositoryClient:
    """Talks to one depository endpoint with one access key, over the injected session."""

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._base = config.base_url.rstrip("/")

    async def _post(self, path: str, envelope: Mapping[str, Any]) -> dict[str, Any]:
        response = await fetch_json(
            self._session, "POST", self._base + path, timeout=self._config.timeout_seconds,
            json_body=envelope, headers={KEY_HEADER: self._config.secret, "Accept": "application/json"},
            auth_statuses=frozenset(),  # the depository's own E1xx codes carry the reason
        )
        return check_envelope(response)

    async def heartbeat(self) -> dict[str, Any]:
        """LJCS: the cheapest authenticated call; proves reachability and the key."""
        return await self._post(HEARTBEAT_PATH, build_heartbeat())

    async def query(self, request: AgencyRequest) -> dict[str, Any]:
        """ZQCX: the investor's securities accounts and holdings; the whole parsed envelope."""
        return await self._post(QUERY_PATH, build_query(request))

    async def control(self, request: ControlRequest) -> dict[str, Any]:
        """ZQDJ/ZQXD/ZQJD: the whole parsed envelope of the depository's answer to one control."""
        return await self._post(CONTROL_PATH, build_control(request))


__all__ = ["DepositoryClient", "build_control", "build_heartbeat", "build_query", "check_envelope", "error_for",
           "holding_of"]
