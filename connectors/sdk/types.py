"""Value types of the connector contract: what goes to an agency and what comes back.

Imports only the pure domain. Driver types (aiohttp responses) never appear here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from enforcement.domain.assets import AssetRecord
from enforcement.domain.subjects import Subject

if TYPE_CHECKING:
    from connectors.sdk.manifest import Manifest

AnswerMode = Literal["sync", "deferred"]


@dataclass(frozen=True, slots=True)
class AgencyRequest:
    """One query to one agency, carrying what the real network carries (DOMAIN.md section 2)."""

    request_no: str
    idempotency_key: str
    case_number: str
    court_code: str
    judge_name: str
    judge_officer_id: str
    document_number: str
    subject: Subject
    purpose: str = "财产调查"
    date_from: date | None = None
    date_to: date | None = None

    def envelope(self) -> dict[str, Any]:
        """The request as plain data, for connectors that want a generic starting point."""
        return {
            "request_no": self.request_no,
            "idempotency_key": self.idempotency_key,
            "case_number": self.case_number,
            "court_code": self.court_code,
            "judge_name": self.judge_name,
            "judge_officer_id": self.judge_officer_id,
            "document_number": self.document_number,
            "subject_kind": self.subject.kind,
            "subject_id_number": self.subject.id_number,
            "subject_name": self.subject.name,
            "purpose": self.purpose,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }


@dataclass(frozen=True, slots=True)
class AgencyResult:
    """A final answer. ``records`` empty means 查无信息, which is an answer too."""

    records: tuple[AssetRecord, ...]
    raw: Mapping[str, Any]
    answered_at: datetime
    agency_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """The agency accepted the query and will answer later (by polling or by callback)."""

    ticket: str
    poll_after_seconds: float = 5.0


Outcome = AgencyResult | Pending


@dataclass(frozen=True, slots=True)
class Rejected:
    """One item of a batch that the agency refused for good, with its reason.

    Only ``search_batch`` returns it: the other items of the batch stand. (A single ``search``
    or ``poll`` raises ``RejectedError`` instead.)
    """

    reason: str
    code: str = "rejected"


ItemOutcome = AgencyResult | Pending | Rejected
"""What ``search_batch`` answers for each request, in order."""

BatchOutcome = Sequence[ItemOutcome]


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """What a deployment tells a connector: where the agency is and how to prove who we are.

    ``manifest`` is the *effective* manifest (the declared one with the deployment's overrides,
    e.g. ``AGENCY_BANKS_BATCH_SIZE``); ``BaseConnector`` adopts it as ``self.manifest``. None
    means the connector's own manifest as shipped. ``timeout_seconds`` is the effective
    ``policy.timeout_seconds``: every call of the connector must end within it.
    """

    base_url: str
    secret: str = ""
    timeout_seconds: float = 10.0
    extra: Mapping[str, str] = field(default_factory=dict)
    manifest: Manifest | None = None


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """A deferred answer delivered by the agency's callback, parsed by the connector."""

    ticket: str
    outcome: AgencyResult | None
    rejection: str | None = None


ControlOp = Literal["freeze", "renew", "release", "deduct", "seal"]
ControlStatus = Literal["accepted", "partial", "refused"]
ControlAnswers = Literal["sync", "async"]
"""How an agency answers controls (the manifest's ``controls.answers``): ``sync`` in the same
call; ``async`` (banks) by ticket: ``control`` may answer ``Pending`` and ``control_status(ticket)``
is polled until the ``ControlResult``."""


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One control operation (查控的"控") at one agency: freeze, renew, release, deduct or seal.

    ``target`` names the asset as the agency knows it (an account number, a plate and VIN, a
    property certificate number); ``reference`` is the agency's reference of the control a
    renewal, release or deduction acts on. ``amount`` None freezes the whole account. A deduction
    goes to ``funds_account`` (the court's 执行案款 account). ``document_number`` is the
    协助执行通知书, ``ruling_number`` the 执行裁定书."""

    op: ControlOp
    request_no: str
    idempotency_key: str
    case_number: str
    court_code: str
    judge_name: str
    judge_officer_id: str
    ruling_number: str
    document_number: str
    subject: Subject
    target: str
    amount: Decimal | None = None
    until: date | None = None
    reference: str | None = None
    funds_account: str | None = None


@dataclass(frozen=True, slots=True)
class ControlResult:
    """The agency's answer to a control operation.

    ``accepted``: done as asked; ``partial``: done in part (``amount`` says how much was actually
    frozen or deducted); ``refused``: not done, with ``reason``/``code``. ``queue_position`` 1 is
    the effective control; more is 轮候 behind earlier authorities. ``reference`` names the control
    at the agency (for later renewals and releases); ``transfer_reference`` the funds transfer of a
    deduction."""

    status: ControlStatus
    reference: str | None
    answered_at: datetime
    amount: Decimal | None = None
    queue_position: int | None = None
    until: date | None = None
    transfer_reference: str | None = None
    reason: str | None = None
    code: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


ControlOutcome = ControlResult | Pending
"""What ``control`` and ``control_status`` answer: the agency's final answer, or ``Pending`` (the
operation is accepted for processing: poll ``control_status(ticket)`` after ``poll_after_seconds``).
Only a connector whose manifest declares ``controls.answers: "async"`` answers ``Pending``."""


__all__ = [
    "AgencyRequest",
    "AgencyResult",
    "AnswerMode",
    "BatchOutcome",
    "CallbackAnswer",
    "ConnectorConfig",
    "ControlAnswers",
    "ControlOp",
    "ControlOutcome",
    "ControlRequest",
    "ControlResult",
    "ControlStatus",
    "ItemOutcome",
    "Outcome",
    "Pending",
    "Rejected",
]
