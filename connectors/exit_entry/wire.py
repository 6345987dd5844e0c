"""Wire client of the exit-entry administration (国家移民管理局 / 出入境管理局) inquiry service.

Protocol only, never retries. The agency speaks camelCase JSON over REST:

    GET  /crj/api/v2/health             bearer token -> {"status": "UP", "serverTime": ...}
    POST /crj/api/v2/person-inquiries   bearer token, ``Idempotency-Key`` header -> the answer

A successful inquiry is HTTP 200 with ``queryId``, ``answeredAt``, ``resultCode`` (``FOUND`` or
``NO_RECORD``), ``travelDocuments``, ``crossings`` and ``exitControl``. A failure is an RFC 7807
``application/problem+json`` document (``type``, ``title``, ``status``, ``detail``,
``instance``) with the agency's own ``errorCode`` (``CRJ-40001`` ...), sent with an HTTP 4xx or
5xx status. ``fetch_json`` already turns 401/403, 429, 5xx, timeouts and garbage into the three
error kinds; this module reads the problem document of the other 4xx answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from connectors.sdk import AgencyRequest, AuthError, ConnectorError, RejectedError, TransientError, fetch_json, require

HEALTH_PATH = "/crj/api/v2/health"
INQUIRY_PATH = "/crj/api/v2/person-inquiries"
PROBLEM_JSON = "application/problem+json"
ID_TYPE_RESIDENT = "RESIDENT_ID_CARD"

# errorCode values whose kind the HTTP status alone would not tell.
AUTH_CODES = frozenset({"CRJ-40101", "CRJ-40301"})
TRANSIENT_CODES = frozenset({"CRJ-40801", "CRJ-42901", "CRJ-50001", "CRJ-50301"})
TRANSIENT_STATUSES = frozenset({408, 425})

_ANSWER_FIELDS = ("queryId", "answeredAt", "resultCode")


def build_inquiry(request: AgencyRequest) -> dict[str, Any]:
    """The JSON body of ``POST /person-inquiries`` for ``request``, sent as it is.

    Empty fields are sent empty: the agency, not the client, decides what it refuses.
    """
    body: dict[str, Any] = {
        "requestNo": request.request_no,
        "caseNumber": request.case_number,
        "courtCode": request.court_code,
        "handlingJudge": {"name": request.judge_name, "officerId": request.judge_officer_id},
        "assistNoticeNo": request.document_number,
        "purpose": request.purpose,
        "subject": {
            "idType": ID_TYPE_RESIDENT,
            "idNumber": request.subject.id_number,
            "name": request.subject.name,
        },
    }
    if request.date_from is not None or request.date_to is not None:
        body["crossingPeriod"] = {
            "startDate": request.date_from.isoformat() if request.date_from else None,
            "endDate": request.date_to.isoformat() if request.date_to else None,
        }
    return body


def auth_headers(secret: str, idempotency_key: str | None = None) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {secret}",
        "Accept": f"application/json, {PROBLEM_JSON}",
    }
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def error_from_problem(status: int, body: Any) -> ConnectorError:
    """The error kind for a non-success answer carrying an RFC 7807 problem document.

    The message carries the agency's ``title``/``detail`` (which never echo the subject) and its
    ``errorCode``; the error's ``code`` is the ``errorCode`` itself.
    """
    problem: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    code = str(problem.get("errorCode") or f"http_{status}")
    title = str(problem.get("title") or "")
    detail = str(problem.get("detail") or "")
    reason = "：".join(part for part in (title, detail) if part) or f"HTTP {status}"
    message = f"出入境管理局：{reason} [{code}]"
    if code in AUTH_CODES:
        return AuthError(message, code=code)
    if code in TRANSIENT_CODES or status in TRANSIENT_STATUSES:
        return TransientError(message, code=code)
    return RejectedError(message, code=code)


class ExitEntryWire:
    """One method per endpoint; returns the parsed JSON answer as plain data."""

    def __init__(
        self, session: aiohttp.ClientSession, *, base_url: str, secret: str, timeout: float
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._secret = secret
        self._timeout = timeout

    async def health(self) -> dict[str, Any]:
        resp = await fetch_json(
            self._session,
            "GET",
            self._base + HEALTH_PATH,
            timeout=self._timeout,
            headers=auth_headers(self._secret),
        )
        if resp.status != 200:
            raise error_from_problem(resp.status, resp.body)
        status = require(resp.body, "status")
        if status != "UP":
            raise TransientError(f"出入境管理局服务状态 {status!r}", code="not_up")
        body: dict[str, Any] = resp.body
        return body

    async def inquire(self, request: AgencyRequest) -> dict[str, Any]:
        resp = await fetch_json(
            self._session,
            "POST",
            self._base + INQUIRY_PATH,
            timeout=self._timeout,
            json_body=build_inquiry(request),
            headers=auth_headers(self._secret, request.idempotency_key),
            ok_statuses=frozenset({200}),
        )
        if resp.status != 200:
            raise error_from_problem(resp.status, resp.body)
        for name in _ANSWER_FIELDS:
            require(resp.body, name)
        body: dict[str, Any] = resp.body
        return body


__all__ = [
    "AUTH_CODES",
    "HEALTH_PATH",
    "ID_TYPE_RESIDENT",
    "INQUIRY_PATH",
    "PROBLEM_JSON",
    "TRANSIENT_CODES",
    "ExitEntryWire",
    "auth_headers",
    "build_inquiry",
    "error_from_problem",
]
