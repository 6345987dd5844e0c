"""In-memory fakes of the measures store and of the agencies' control gateway, with the methods
the service and the dispatcher call and the semantics of ``sql/measures.sql`` that matter: the
duplicate checks and the notice serial in one step, only queued or waiting tasks claimed (a task
waiting for the agency keeps its ticket; a poll is no new attempt), an answer kept
only by the lease holder with its effect on the control it follows, a held deduction cancelled
or approved only while it awaits approval."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connectors.sdk.types import ControlOutcome, ControlRequest, ControlResult, Pending
from enforcement.domain.audit import AuditEntry
from enforcement.domain.measures import MeasureConflict, assistance_notice_number
from enforcement.measures.store.measures import Answer, ExpiryRow, FoundAsset, Measure, MeasureCase, NewMeasure

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
_LIVE_SAME = ("awaiting_approval", "pending", "active", "partial", "done")


def _duplicate(measure_id: int) -> MeasureConflict:
    return MeasureConflict("duplicate", message_zh="重复", code="duplicate_measure", measure_id=measure_id)


@dataclass
class FakeMeasureStore:
    cases: dict[int, MeasureCase] = field(default_factory=dict)
    assets: dict[tuple[int, str, str], FoundAsset] = field(default_factory=dict)
    measures: dict[int, Measure] = field(default_factory=dict)
    audits: list[AuditEntry] = field(default_factory=list)
    refusals: list[AuditEntry] = field(default_factory=list)
    recovered: dict[int, Decimal] = field(default_factory=dict)
    serial: int = 0

    async def case(self, case_id: int) -> MeasureCase | None:
        return self.cases.get(case_id)

    async def found_asset(self, case_id: int, asset_kind: str, natural_key: str) -> FoundAsset | None:
        return self.assets.get((case_id, asset_kind, natural_key))

    async def get(self, measure_id: int) -> Measure | None:
        m = self.measures.get(measure_id)
        if m is None:
            return None
        parent = self.measures.get(m.parent_id) if m.parent_id is not None else None
        return dataclasses.replace(m, parent_reference=None if parent is None else parent.reference)

    async def court_notice_days(self, court_code: str) -> int | None:
        return None

    async def of_case(self, case_id: int) -> list[Measure]:
        return [m for m in self.measures.values() if m.case_id == case_id]

    async def create(self, new: NewMeasure, audit_entry: AuditEntry) -> Measure:
        same = next((m for m in self.measures.values() if m.idempotency_key == new.idempotency_key), None)
        if same is not None and same.status in _LIVE_SAME:
            raise _duplicate(same.id)
        if new.parent_id is None:
            other = next((m for m in self.measures.values() if m.case_id == new.case_id and m.agency == new.agency
                          and m.target_key == new.target_key and m.kind in ("freeze", "seal")
                          and m.status in ("pending", "active", "partial")), None)
        else:
            other = next((m for m in self.measures.values() if m.parent_id == new.parent_id
                          and m.status in ("awaiting_approval", "pending")), None)
        if other is not None:
            raise _duplicate(other.id)
        self.serial += 1
        mid = len(self.measures) + 1
        fields = {f.name: getattr(new, f.name) for f in dataclasses.fields(NewMeasure)
                  if f.name not in ("deadline_seconds", "held")}
        self.measures[mid] = Measure(
            id=mid, **fields, document_number=assistance_notice_number(new.court_code, 2026, self.serial),
            status="awaiting_approval" if new.held else "pending", task_status="held" if new.held else "queued",
            attempts=0, deadline_at=NOW, last_error=None, reference=None, effect_amount=None, queue_position=None,
            transfer_reference=None, refusal_code=None, refusal_reason=None, answered_at=None, starts_on=None,
            expires_on=None, created_at=NOW, updated_at=NOW)
        if same is not None:
            key = f"{new.idempotency_key}:{same.id}"
            self.measures[mid] = dataclasses.replace(self.measures[mid], idempotency_key=key)
        self.audits.append(dataclasses.replace(audit_entry, target=f"measure:{mid}"))
        return self.measures[mid]

    def _set(self, measure_id: int, **changes: Any) -> Measure:
        self.measures[measure_id] = dataclasses.replace(self.measures[measure_id], **changes)
        return self.measures[measure_id]

    async def approve(self, measure_id: int, approver: str, deadline_seconds: float,
                      audit_entry: AuditEntry) -> Measure | None:
        if self.measures[measure_id].status != "awaiting_approval":
            return None
        self.audits.append(audit_entry)
        return self._set(measure_id, status="pending", task_status="queued", approved_by=approver, approved_at=NOW)

    async def cancel_held(self, measure_id: int, status: str, by: str, reason: str | None,
                          audit_entry: AuditEntry) -> Measure | None:
        if self.measures[measure_id].status != "awaiting_approval":
            return None
        self.audits.append(audit_entry)
        return self._set(measure_id, status=status, task_status="cancelled", cancelled_by=by, cancelled_at=NOW,
                         cancel_reason=reason)

    async def claim(self, worker: str, batch: int, lease_seconds: float) -> list[Measure]:
        claimed: list[Measure | None] = []
        for m in list(self.measures.values()):
            if m.task_status in ("queued", "waiting") and len(claimed) < batch:
                self._set(m.id, task_status="running", attempts=m.attempts + (m.agency_ticket is None))
                claimed.append(await self.get(m.id))
        return [m for m in claimed if m is not None]

    async def answer(self, measure: Measure, worker: str, answer: Answer) -> Measure | None:
        if self.measures[measure.id].task_status != "running":
            return None
        self._set(measure.id, status=answer.status, task_status="answered", reference=answer.reference or
                  self.measures[measure.id].reference, effect_amount=answer.effect_amount,
                  queue_position=answer.queue_position, transfer_reference=answer.transfer_reference,
                  refusal_code=answer.refusal_code, refusal_reason=answer.refusal_reason,
                  answered_at=answer.answered_at, starts_on=answer.starts_on, expires_on=answer.expires_on)
        if answer.status == "done" and measure.parent_id is not None:
            parent = self.measures[measure.parent_id]
            if measure.kind == "renew" and answer.expires_on is not None:
                self._set(parent.id, expires_on=answer.expires_on)
            elif measure.kind == "release" and parent.status in ("active", "partial", "lapsed"):
                self._set(parent.id, status="released")
            elif measure.kind == "deduct" and answer.effect_amount is not None:
                self._set(parent.id, effect_amount=max((parent.effect_amount or Decimal(0)) - answer.effect_amount,
                                                       Decimal(0)))
                self.recovered[measure.case_id] = self.recovered.get(measure.case_id, Decimal(0)) + \
                    answer.effect_amount
        return self.measures[measure.id]

    async def wait(self, measure_id: int, worker: str, ticket: str, poll_in_seconds: float,
                   answer_within_seconds: float) -> bool:
        if self.measures[measure_id].task_status != "running":
            return False
        self._set(measure_id, task_status="waiting", agency_ticket=ticket, last_error=None)
        return True

    async def retry(self, measure_id: int, worker: str, delay_seconds: float, error: str) -> None:
        waiting = self.measures[measure_id].agency_ticket is not None
        self._set(measure_id, task_status="waiting" if waiting else "queued", last_error=error)

    async def fail(self, measure_id: int, worker: str, error: str) -> None:
        self._set(measure_id, status="failed", task_status="failed", last_error=error)

    async def renewals_due(self, today: date, notice_days: int) -> list[ExpiryRow]:
        return []

    async def lapse(self, today: date) -> list[tuple[ExpiryRow, bool]]:
        return []

    async def raise_alert(self, kind: str, row: ExpiryRow, evidence: dict[str, Any]) -> bool:
        return False

    async def resolve_answered_alerts(self) -> int:
        return 0

    async def gauges(self, today: date, notice_days: int) -> tuple[int, int]:
        return 0, 0

    async def record_refusal(self, entry: AuditEntry) -> None:
        self.refusals.append(entry)


@dataclass
class FakeGateway:
    """An agency that accepts every control once per idempotency key (its ``sent`` list), or
    raises ``fail_with`` instead. ``by_ticket``: it answers later, like a bank: ``Pending`` with a
    ticket (the same for a re-sent key), and ``control_status`` answers ``Pending`` until the
    ticket is in ``processed``, then the answer (the same on every poll)."""

    sent: list[ControlRequest] = field(default_factory=list)
    fail_with: Exception | None = None
    answers: dict[str, ControlResult] = field(default_factory=dict)
    by_ticket: bool = False
    tickets: dict[str, str] = field(default_factory=dict)  # ticket -> idempotency key
    processed: set[str] = field(default_factory=set)
    polls: int = 0

    async def control(self, agency: str, request: ControlRequest) -> ControlOutcome:
        if self.fail_with is not None:
            raise self.fail_with
        result = self._apply(request)
        if not self.by_ticket:
            return result
        ticket = f"T-{request.idempotency_key}"
        self.tickets[ticket] = request.idempotency_key
        return result if ticket in self.processed else Pending(ticket, 1.0)

    async def control_status(self, agency: str, ticket: str) -> ControlOutcome:
        self.polls += 1
        if self.fail_with is not None:
            raise self.fail_with
        if ticket not in self.tickets:
            from connectors.sdk.errors import RejectedError

            raise RejectedError("unknown ticket", code="TICKET_NOT_FOUND")
        if ticket not in self.processed:
            return Pending(ticket, 1.0)
        return self.answers[self.tickets[ticket]]

    def answer_within_seconds(self, agency: str) -> float:
        return 604800.0

    def _apply(self, request: ControlRequest) -> ControlResult:
        if request.idempotency_key in self.answers:
            return self.answers[request.idempotency_key]
        self.sent.append(request)
        ref = request.reference or f"REF{len(self.sent)}"
        result = ControlResult(status="accepted", reference=ref, answered_at=NOW, amount=request.amount,
                               queue_position=1 if request.op in ("freeze", "seal") else None, until=request.until,
                               transfer_reference=f"HZ{len(self.sent)}" if request.op == "deduct" else None)
        self.answers[request.idempotency_key] = result
        return result


__all__ = ["NOW", "FakeGateway", "FakeMeasureStore"]
