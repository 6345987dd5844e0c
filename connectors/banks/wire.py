"""Wire client of the 总对总 bank gateway (银行业金融机构网络执行查控): protocol only.

The gateway speaks JSON with PascalCase field names inherited from its XML ancestry, takes
subjects in batches and answers each subject later, under a ticket (查询流水号).

    GET  /cxkz/v1/Health                      -> {"Status": "UP", "ServerTime": ...}
    POST /cxkz/v1/QueryBatches                -> 202 {"BatchNo", "BankBatchNo", "AcceptedAt",
                                                      "Items": [{"SeqNo", "Ticket", "ItemStatus",
                                                                 "PollAfterSeconds", ...}]}
    GET  /cxkz/v1/Tickets/{Ticket}            -> {"Ticket", "Status": "PROCESSING" | "DONE" |
                                                  "REJECTED", ...}

    POST /cxkz/v1/Controls                    -> 200 {"Status": "SUCCESS" | "PARTIAL" | "REFUSED",
                                                  "ControlNo", "Amount", "QueueSeq", "EndDate",
                                                  "TransferNo", "ErrorCode", "ErrorMessage"}

Control operations (冻结 ``FREEZE``, 续冻 ``RENEW``, 解冻 ``UNFREEZE``, 扣划 ``DEDUCT``) go one per
call, each with its ``IdempotencyKey``: a re-sent key is answered with the first answer and never
applied twice. ``Amount`` empty freezes the whole account; ``ControlNo`` names the freeze a
renewal, release or deduction acts on; ``QueueSeq`` 1 is an effective freeze, more is 轮候.

Credential: header ``X-ZDZ-AppKey``. Idempotency: every item of a batch carries its own
``IdempotencyKey``; the gateway gives a re-submitted key its first ticket back. Errors: an HTTP
status plus ``{"ErrorCode": "...", "ErrorMessage": "..."}``. A subject the gateway refuses at
submission (malformed ID, missing field) comes back in the batch answer as an item with
``ItemStatus: "REJECTED"`` and its own ticket, which polls as ``Status: "REJECTED"``.

Codes on the wire: ``SubjectType`` 1 natural person / 2 organization; ``IdType`` 01 居民身份证 /
51 统一社会信用代码; dates ``yyyyMMdd``; amounts decimal strings in yuan; ``CurrencyCode``
ISO 4217 numeric (156 = CNY).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import aiohttp

from connectors.sdk import (
    AgencyRequest,
    AuthError,
    ConnectorError,
    ControlRequest,
    RejectedError,
    TransientError,
    WireResponse,
    fetch_json,
    require,
)

AUTH_HEADER = "X-ZDZ-AppKey"
HEALTH_PATH = "/cxkz/v1/Health"
BATCH_PATH = "/cxkz/v1/QueryBatches"
TICKET_PATH = "/cxkz/v1/Tickets/"
CONTROL_PATH = "/cxkz/v1/Controls"
CONTROL_TICKET_PATH = "/cxkz/v1/ControlTickets/"
CONTROL_OPS = {"freeze": "FREEZE", "renew": "RENEW", "release": "UNFREEZE", "deduct": "DEDUCT"}
BEIJING = timezone(timedelta(hours=8), "CST")

SUBJECT_TYPES = {"person": ("1", "01"), "organization": ("2", "51")}  # (SubjectType, IdType)

# Codes the gateway sends in ErrorCode. Anything not listed is a refusal of the query.
AUTH_CODES = frozenset({"AUTH_FAILED", "APPKEY_EXPIRED"})
TRANSIENT_CODES = frozenset({"SYSTEM_BUSY", "TOO_MANY_REQUESTS", "BANK_UNAVAILABLE"})

# Ticket states.
PROCESSING = "PROCESSING"
DONE = "DONE"
REJECTED = "REJECTED"


def error_for(status: int, body: Any) -> ConnectorError:
    """The error kind for a gateway error answer (``{"ErrorCode", "ErrorMessage"}``)."""
    code = body.get("ErrorCode") if isinstance(body, Mapping) else None
    message = body.get("ErrorMessage") if isinstance(body, Mapping) else None
    if not isinstance(code, str) or not code:
        return RejectedError(
            f"bank gateway refused the call (HTTP {status})", code=f"http_{status}"
        )
    text = f"{message or '银行前置系统拒绝'} ({code})"
    if code in AUTH_CODES:
        return AuthError(text, code=code)
    if code in TRANSIENT_CODES:
        return TransientError(text, code=code)
    return RejectedError(text, code=code)


def rejection_text(item: Mapping[str, Any]) -> tuple[str, str]:
    """(message, code) of a refused item or ticket."""
    code = str(item.get("ErrorCode") or "ITEM_REJECTED")
    message = str(item.get("ErrorMessage") or "银行拒绝查询")
    return f"{message} ({code})", code


def yyyymmdd(value: date | None) -> str:
    return f"{value:%Y%m%d}" if value else ""


def batch_number(requests: Sequence[AgencyRequest]) -> str:
    """The court side's batch number: the same subjects re-submitted give the same number."""
    digest = hashlib.sha256("|".join(r.idempotency_key for r in requests).encode()).hexdigest()
    return "PC" + digest[:24].upper()


def item_envelope(seq_no: int, request: AgencyRequest) -> dict[str, Any]:
    subject_type, id_type = SUBJECT_TYPES.get(request.subject.kind, ("", ""))
    return {
        "SeqNo": seq_no,
        "IdempotencyKey": request.idempotency_key,
        "RequestNo": request.request_no,
        "CaseNo": request.case_number,
        "CourtCode": request.court_code,
        "JudgeName": request.judge_name,
        "JudgeOfficerNo": request.judge_officer_id,
        "DocumentNo": request.document_number,
        "SubjectType": subject_type,
        "IdType": id_type,
        "IdNo": request.subject.id_number,
        "Name": request.subject.name,
        "Purpose": request.purpose,
        "DateFrom": yyyymmdd(request.date_from),
        "DateTo": yyyymmdd(request.date_to),
    }


def control_envelope(request: ControlRequest) -> dict[str, Any]:
    subject_type, id_type = SUBJECT_TYPES.get(request.subject.kind, ("", ""))
    return {
        "IdempotencyKey": request.idempotency_key,
        "RequestNo": request.request_no,
        "Op": CONTROL_OPS.get(request.op, request.op.upper()),
        "CaseNo": request.case_number,
        "CourtCode": request.court_code,
        "JudgeName": request.judge_name,
        "JudgeOfficerNo": request.judge_officer_id,
        "RulingNo": request.ruling_number,
        "DocumentNo": request.document_number,
        "SubjectType": subject_type,
        "IdType": id_type,
        "IdNo": request.subject.id_number,
        "Name": request.subject.name,
        "AccountNo": request.target,
        "Amount": "" if request.amount is None else f"{request.amount:.2f}",
        "EndDate": yyyymmdd(request.until),
        "ControlNo": request.reference or "",
        "FundsAccount": request.funds_account or "",
    }


def batch_envelope(
    requests: Sequence[AgencyRequest], *, now: datetime | None = None
) -> dict[str, Any]:
    """The gateway's batch envelope; items are numbered 1..n in request order."""
    submitted = (now or datetime.now(UTC)).astimezone(BEIJING)
    return {
        "BatchNo": batch_number(requests),
        "SubmitTime": submitted.isoformat(timespec="seconds"),
        "ItemCount": len(requests),
        "Items": [item_envelope(i, r) for i, r in enumerate(requests, 1)],
    }


def items_in_order(body: Any, count: int) -> list[Mapping[str, Any]]:
    """The batch answer's items, matched to the request order by ``SeqNo``."""
    items = require(body, "Items")
    if not isinstance(items, list):
        raise TransientError("batch answer Items is not a list", code="malformed")
    by_seq: dict[int, Mapping[str, Any]] = {}
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("SeqNo"), int):
            by_seq[item["SeqNo"]] = item
    ordered: list[Mapping[str, Any]] = []
    for seq in range(1, count + 1):
        item = by_seq.get(seq)
        if item is None or not isinstance(item.get("Ticket"), str) or not item["Ticket"]:
            raise TransientError(f"batch answer lacks a ticket for item {seq}", code="malformed")
        ordered.append(item)
    return ordered


class BankWireClient:
    """HTTP calls to the gateway. Never retries; raises TransientError/AuthError/RejectedError."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, app_key: str, timeout: float
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {AUTH_HEADER: app_key, "Accept": "application/json"}
        self._timeout = timeout

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        resp: WireResponse = await fetch_json(
            self._session,
            method,
            self._base + path,
            timeout=self._timeout,
            json_body=body,
            headers=self._headers,
        )
        if resp.status >= 300:
            raise error_for(resp.status, resp.body)
        if not isinstance(resp.body, Mapping):
            raise TransientError("bank gateway answer is not a JSON object", code="malformed")
        return resp.body

    async def health(self) -> Mapping[str, Any]:
        body = await self._call("GET", HEALTH_PATH)
        if require(body, "Status") != "UP":
            raise TransientError(f"bank gateway status {body['Status']!r}", code="not_up")
        return body  # type: ignore[no-any-return]

    async def submit_batch(self, envelope: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """POST one batch; the per-item answers, in the envelope's item order."""
        body = await self._call("POST", BATCH_PATH, envelope)
        return items_in_order(body, len(envelope["Items"]))

    async def control(self, envelope: Mapping[str, Any]) -> Mapping[str, Any]:
        """POST one control operation; the gateway's answer: PROCESSING with a ticket (accepted for
        processing), or, for a key it already processed, the answer (SUCCESS, PARTIAL or REFUSED)."""
        return await self._call("POST", CONTROL_PATH, envelope)  # type: ignore[no-any-return]

    async def control_ticket(self, ticket: str) -> Mapping[str, Any]:
        """A control ticket's state: PROCESSING, or the answer (SUCCESS, PARTIAL or REFUSED)."""
        if not ticket:
            raise RejectedError("empty control ticket", code="TICKET_NOT_FOUND")
        return await self._call("GET", CONTROL_TICKET_PATH + quote(ticket, safe=""))  # type: ignore[no-any-return]

    async def ticket(self, ticket: str) -> Mapping[str, Any]:
        """The ticket's state: PROCESSING, DONE (with the answer) or REJECTED (with the reason)."""
        if not ticket:
            raise RejectedError("empty ticket", code="TICKET_NOT_FOUND")
        body = await self._call("GET", TICKET_PATH + quote(ticket, safe=""))
        status = require(body, "Status")
        if status not in (PROCESSING, DONE, REJECTED):
            raise TransientError(f"unknown ticket status {status!r}", code="malformed")
        return body  # type: ignore[no-any-return]


__all__ = [
    "AUTH_HEADER",
    "BATCH_PATH",
    "BEIJING",
    "CONTROL_OPS",
    "CONTROL_PATH",
    "CONTROL_TICKET_PATH",
    "DONE",
    "HEALTH_PATH",
    "PROCESSING",
    "REJECTED",
    "SUBJECT_TYPES",
    "TICKET_PATH",
    "BankWireClient",
    "batch_envelope",
    "batch_number",
    "control_envelope",
    "error_for",
    "item_envelope",
    "items_in_order",
    "rejection_text",
    "yyyymmdd",
]
