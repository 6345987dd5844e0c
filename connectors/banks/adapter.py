"""The bank connector: batches of subjects in, tickets out, answers by polling or callback.

Outcomes:

- ``search_batch(requests)`` POSTs the requests as one gateway batch (split into several when
  more than the effective manifest's ``batch.max_size``) and returns one outcome per request,
  in order: ``Pending`` for an accepted subject, ``Rejected`` (with the bank's reason) for a
  subject the gateway refused at submission. (The refused item's ticket also polls as
  ``REJECTED``.) Only a refusal of the whole batch raises ``RejectedError``.
- ``search(request)`` is a batch of one; there a refused subject raises ``RejectedError`` at
  once, since nothing else shares the answer.
- ``poll(ticket)``: ``Pending`` while the bank is processing, an ``AgencyResult`` when it has
  answered, ``RejectedError`` for a refused or unknown ticket.
- ``parse_callback(body)``: the bank's push of answered tickets, many per callback.
- ``control(request)``: the gateway accepts a control for processing and answers by ticket
  (``Pending``; the manifest declares ``controls.answers: "async"``); a re-sent key it already
  processed is answered at once (``ControlResult``). ``control_status(ticket)``: ``Pending`` while
  the bank processes it, then the ``ControlResult`` (the same on every poll).

The wire -> domain mapping (``records_from_wire``, ``result_from_wire``) is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from connectors.banks.wire import (
    BEIJING,
    CONTROL_OPS,
    DONE,
    PROCESSING,
    REJECTED,
    BankWireClient,
    batch_envelope,
    control_envelope,
    rejection_text,
)
from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    BankAccount,
    BaseConnector,
    CallbackAnswer,
    ConnectorConfig,
    ControlOutcome,
    ControlRequest,
    ControlResult,
    ControlStatus,
    Freeze,
    ItemOutcome,
    Manifest,
    Outcome,
    Pending,
    Rejected,
    RejectedError,
    TransientError,
    compact_date,
    require,
)

ACCOUNT_TYPES = {"01": "current", "02": "fixed", "03": "card", "04": "wealth"}
CURRENCIES = {"156": "CNY", "840": "USD", "344": "HKD", "978": "EUR", "392": "JPY", "826": "GBP"}
STATUSES = {"N": "正常", "F": "冻结", "C": "销户"}
DEFAULT_POLL_AFTER = 3600.0  # the bank gave no hint: look again in an hour


def _malformed(what: str) -> TransientError:
    return TransientError(f"bank answer has a malformed {what}", code="malformed")


def _amount(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise _malformed(what) from exc
    if not amount.is_finite():
        raise _malformed(what)
    return amount.quantize(Decimal("0.01"))


def _date(value: Any, what: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return compact_date(str(value))
    except ValueError as exc:
        raise _malformed(what) from exc


def _code(table: Mapping[str, str], value: Any, what: str) -> str:
    text = str(value)
    if text in table:
        return table[text]
    raise _malformed(what)


def _currency(value: Any) -> str:
    text = str(value)
    if text in CURRENCIES:
        return CURRENCIES[text]
    if len(text) == 3 and text.isascii() and text.isalpha() and text.isupper():
        return text  # some banks already send the alphabetic code
    raise _malformed("currency")


def freeze_from_wire(data: Mapping[str, Any]) -> Freeze:
    try:
        order = int(data["FreezeSeq"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed("freeze order") from exc
    return Freeze(
        authority=str(require(data, "FreezeOrg")),
        amount=_amount(require(data, "FreezeAmount"), "freeze amount"),
        order=order,
        document_number=str(data.get("FreezeDocNo") or ""),
        frozen_until=_date(data.get("FreezeEndDate"), "freeze end date"),
    )


def account_from_wire(data: Mapping[str, Any]) -> BankAccount:
    freezes = data.get("FreezeList") or []
    if not isinstance(freezes, list) or not all(isinstance(f, Mapping) for f in freezes):
        raise _malformed("freeze list")
    return BankAccount(
        bank_name=str(require(data, "BankName")),
        branch=str(data.get("BranchName") or ""),
        account_number=str(require(data, "AccountNo")),
        account_type=_code(ACCOUNT_TYPES, require(data, "AccountType"), "account type"),
        currency=_currency(require(data, "CurrencyCode")),
        balance=_amount(require(data, "Balance"), "balance"),
        available_balance=_amount(require(data, "AvailableBalance"), "available balance"),
        status=_code(STATUSES, require(data, "AccountStatus"), "account status"),
        freezes=tuple(sorted((freeze_from_wire(f) for f in freezes), key=lambda f: f.order)),
    )


def records_from_wire(data: Mapping[str, Any]) -> tuple[BankAccount, ...]:
    """The accounts of a DONE ticket; ``()`` is the bank's 查无信息."""
    accounts = data.get("Accounts")
    if accounts is None:
        accounts = []
    if not isinstance(accounts, list) or not all(isinstance(a, Mapping) for a in accounts):
        raise _malformed("account list")
    return tuple(account_from_wire(a) for a in accounts)


def answered_at_from_wire(value: Any) -> datetime:
    """The bank's answer time (Beijing time unless it says otherwise), as UTC."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise _malformed("answer time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(UTC)


def result_from_wire(data: Mapping[str, Any]) -> AgencyResult:
    """A DONE ticket (from a poll or a callback) as an AgencyResult."""
    return AgencyResult(
        records=records_from_wire(data),
        raw=dict(data),
        answered_at=answered_at_from_wire(require(data, "AnsweredAt")),
        agency_reference=str(data.get("AnswerNo") or data.get("Ticket") or "") or None,
    )


def outcome_from_ticket(ticket: str, data: Mapping[str, Any]) -> Outcome:
    """A polled ticket's state as an outcome; a refused ticket raises RejectedError."""
    status = require(data, "Status")
    if status == PROCESSING:
        return Pending(ticket, _poll_after(data))
    if status == REJECTED:
        message, code = rejection_text(data)
        raise RejectedError(message, code=code)
    if status == DONE:
        return result_from_wire(data)
    raise _malformed("ticket status")


def _poll_after(item: Mapping[str, Any]) -> float:
    try:
        return max(0.0, float(item.get("PollAfterSeconds", DEFAULT_POLL_AFTER)))
    except (TypeError, ValueError):
        return DEFAULT_POLL_AFTER


CONTROL_STATUSES: dict[str, ControlStatus] = {"SUCCESS": "accepted", "PARTIAL": "partial", "REFUSED": "refused"}


def control_from_wire(data: Mapping[str, Any]) -> ControlResult:
    """The gateway's answer to a control operation."""
    status = CONTROL_STATUSES.get(str(require(data, "Status")))
    if status is None:
        raise _malformed("control status")
    amount = data.get("Amount")
    queue = data.get("QueueSeq")
    if queue is not None and (not isinstance(queue, int) or isinstance(queue, bool) or queue < 1):
        raise _malformed("queue position")
    return ControlResult(
        status=status,
        reference=str(data.get("ControlNo") or "") or None,
        answered_at=answered_at_from_wire(data.get("AnsweredAt") or datetime.now(BEIJING).isoformat()),
        amount=None if amount in (None, "") else _amount(amount, "control amount"),
        queue_position=queue,
        until=_date(data.get("EndDate"), "control end date"),
        transfer_reference=str(data.get("TransferNo") or "") or None,
        reason=str(data.get("ErrorMessage") or "") or None if status == "refused" else None,
        code=str(data.get("ErrorCode") or "") or None if status == "refused" else None,
        raw=dict(data),
    )


def control_outcome(data: Mapping[str, Any]) -> ControlOutcome:
    """A control ticket's state as the SDK's outcome: ``Pending`` while processing, else the answer."""
    if require(data, "Status") == PROCESSING:
        ticket = data.get("Ticket")
        if not isinstance(ticket, str) or not ticket:
            raise _malformed("control ticket")
        return Pending(ticket, _poll_after(data))
    return control_from_wire(data)


def callback_answers(body: Mapping[str, Any]) -> list[CallbackAnswer]:
    """The answers a callback carries; raises RejectedError for a callback we cannot read."""
    items = body.get("Items") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise RejectedError("callback body lacks an Items list", code="bad_callback")
    answers: list[CallbackAnswer] = []
    for item in items:
        ticket = item.get("Ticket") if isinstance(item, Mapping) else None
        if not isinstance(ticket, str) or not ticket:
            raise RejectedError("callback item lacks a ticket", code="bad_callback")
        status = item.get("Status")
        if status == DONE:
            try:
                answers.append(CallbackAnswer(ticket, result_from_wire(item)))
            except TransientError as exc:
                raise RejectedError(
                    f"callback answer unreadable: {exc}", code="bad_callback"
                ) from exc
        elif status == REJECTED:
            answers.append(CallbackAnswer(ticket, None, rejection=rejection_text(item)[0]))
        elif status != PROCESSING:  # a progress notice carries no answer: skip it
            raise RejectedError(f"callback item status {status!r}", code="bad_callback")
    return answers


class BanksConnector(BaseConnector):
    """Deferred, batch-capable connector to the 总对总 bank gateway."""

    manifest = Manifest.load("connectors.banks")

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self.wire = BankWireClient(session, config.base_url, config.secret, config.timeout_seconds)

    async def check(self) -> None:
        await self.wire.health()

    async def search(self, request: AgencyRequest) -> Outcome:
        [item] = await self._submit([request])
        if item.get("ItemStatus") == REJECTED:
            message, code = rejection_text(item)
            raise RejectedError(message, code=code)
        return Pending(str(item["Ticket"]), _poll_after(item))

    async def search_batch(self, requests: Sequence[AgencyRequest]) -> Sequence[ItemOutcome]:
        outcomes: list[ItemOutcome] = []
        size = self.manifest.batch.max_size if self.manifest.batch else len(requests) or 1
        for start in range(0, len(requests), size):
            for item in await self._submit(requests[start : start + size]):
                if item.get("ItemStatus") == REJECTED:
                    outcomes.append(Rejected(*rejection_text(item)))
                else:
                    outcomes.append(Pending(str(item["Ticket"]), _poll_after(item)))
        return outcomes

    async def poll(self, ticket: str) -> Outcome:
        return outcome_from_ticket(ticket, await self.wire.ticket(ticket))

    def parse_callback(self, body: Mapping[str, Any]) -> Sequence[CallbackAnswer]:
        return callback_answers(body)

    async def control(self, request: ControlRequest) -> ControlOutcome:
        if request.op not in CONTROL_OPS:
            raise RejectedError(f"banks take no {request.op!r} operation", code="control_not_supported")
        return control_outcome(await self.wire.control(control_envelope(request)))

    async def control_status(self, ticket: str) -> ControlOutcome:
        return control_outcome(await self.wire.control_ticket(ticket))

    async def _submit(self, requests: Sequence[AgencyRequest]) -> list[Mapping[str, Any]]:
        return await self.wire.submit_batch(batch_envelope(requests))


__all__ = [
    "BanksConnector",
    "account_from_wire",
    "answered_at_from_wire",
    "callback_answers",
    "control_from_wire",
    "control_outcome",
    "freeze_from_wire",
    "outcome_from_ticket",
    "records_from_wire",
    "result_from_wire",
]
