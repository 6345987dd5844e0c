"""Control measures (查控的"控"): a judge freezes or seals an asset a search of the case found,
then renews, releases or deducts from it. Each is written with its ruling and its 协助执行通知书
number and queued for its agency (the dispatcher sends it, exactly once per idempotency key);
nothing reaches an agency from here.

Every refusal is audited and sends nothing: a 403 (``AccessDenied``) by the edge, a 422
(``InvalidMeasure``: an expired ruling, a freeze beyond the balance, ...) or a 409
(``MeasureConflict``: a duplicate, a control no longer active) here, as a ``refusal`` record with
the case and the rule's code.

The date is the court's (``MeasureClock``): tests move it instead of waiting a year.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import (
    AccessDenied,
    check_approve_measure,
    check_measure,
    check_read,
    check_withdraw_measure,
    deduction_needs_approval,
    measure_list_scope,
    measure_permissions,
)
from enforcement.domain.errors import DomainError
from enforcement.domain.measures import (
    AGENCY_OF,
    CATEGORY_OF,
    DEFAULT_RENEWAL_NOTICE_DAYS,
    DEFAULT_RULING_VALID_DAYS,
    InvalidMeasure,
    MeasureConflict,
    MeasureKind,
    Ruling,
    TargetAsset,
    check_cancel_reason,
    check_deduction,
    check_follow_up,
    check_new_measure,
    check_target,
    control_action,
    due_control_act,
    expiry_state,
    idempotency_key,
    parse_amount,
    renewal_term,
    term_end,
)
from enforcement.measures.errors import case_not_found, measure_not_found
from enforcement.measures.store.measures import ListedMeasure, Measure, MeasureCase, MeasureStore, NewMeasure

BEIJING_OFFSET = timedelta(hours=8)


class MeasureClock:
    """The court's date (Beijing), movable in tests: ``advance(days)``."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self.offset = timedelta()

    def now(self) -> datetime:
        return self._now() + self.offset

    def today(self) -> date:
        return (self.now() + BEIJING_OFFSET).date()

    def advance(self, days: int) -> None:
        self.offset += timedelta(days=days)


@dataclass(frozen=True, slots=True)
class MeasureConfig:
    # A renewal is due (and alerted) this many days before a control's expiry: the default where
    # the court set none of its own (``court.measure_renewal_notice_days``, decision 1704).
    renewal_notice_days: int = DEFAULT_RENEWAL_NOTICE_DAYS
    ruling_valid_days: int = DEFAULT_RULING_VALID_DAYS
    deadline_seconds: float = 3600.0
    funds_account: str = ""  # the court's 执行案款 account deductions go to
    # A deduction above this amount (yuan) waits for a supervisor of the case's court to approve it;
    # the default where the court set none of its own (``court.measure_deduction_approval_yuan``).
    deduction_approval_above: Decimal = Decimal("100000.00")

    def approval_above(self, case: MeasureCase) -> Decimal:
        """The case's court's own approval amount, else the deployment's."""
        return self.deduction_approval_above if case.approval_above is None else case.approval_above

    def notice_days(self, court_days: int | None) -> int:
        """The court's own renewal notice days, else the deployment's."""
        return self.renewal_notice_days if court_days is None else court_days


@dataclass(frozen=True, slots=True)
class MeasureRequest:
    """A first control (freeze or seal) of an asset the case's searches found."""

    kind: str
    asset_kind: str
    natural_key: str
    ruling_number: object
    ruled_on: object
    amount: object = None
    until: object = None


@dataclass(frozen=True, slots=True)
class FollowUpRequest:
    """A renewal, release or deduction of a control."""

    kind: MeasureKind
    ruling_number: object
    ruled_on: object
    amount: object = None
    until: object = None


def _target(asset_kind: str, natural_key: str, data: dict[str, Any]) -> str:
    """The asset as its agency names it."""
    if asset_kind == "bank_account":
        return str(data.get("account_number") or natural_key)
    if asset_kind == "vehicle":
        return str(data.get("vin") or natural_key)
    return natural_key


def _balance(data: dict[str, Any]) -> Decimal | None:
    raw = data.get("available_balance")
    try:
        return None if raw in (None, "") else Decimal(str(raw))
    except ArithmeticError:
        return None


def _until(raw: object) -> date | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise InvalidMeasure("date_invalid", "until must be a date (YYYY-MM-DD).", "until应为日期（YYYY-MM-DD）",
                         field="until")


class MeasureService:
    def __init__(self, store: MeasureStore, config: MeasureConfig, clock: MeasureClock) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    async def _case(self, case_id: int) -> MeasureCase:
        case = await self.store.case(case_id)
        if case is None:
            raise case_not_found(case_id)
        return case

    async def submit(self, actor: Actor, case_id: int, req: MeasureRequest, *, request_id: str = "") -> Measure:
        """Freeze or seal an asset found by a search of the case: the case's judge only."""
        case = await self.authorize(actor, case_id, req.kind)
        return await self._refusals_audited(actor, case, req.kind, request_id, self._submit(actor, case, req,
                                                                                            request_id))

    async def authorize(self, actor: Actor, case_id: int, kind: str) -> MeasureCase:
        """May ``actor`` take a ``kind`` measure on the case (``check_measure``)? The case, or
        ``AccessDenied`` (403, audited by the edge with the case). Routes call it before they read
        the body: a caller without the right learns nothing from a bad body."""
        case = await self._case(case_id)
        try:
            check_measure(actor, case.access, kind)
        except AccessDenied as exc:
            exc.about(action=f"measure_{kind}", case_id=case.id, case_number=case.case_number,
                      case_court=case.court_code)
            raise
        return case

    async def authorize_on(self, actor: Actor, measure_id: int, kind: str) -> MeasureCase:
        """``authorize`` for an act on an existing measure (renew, release, approve, reject,
        withdraw): 404 for no such measure, 403 (audited) for a caller without the right."""
        measure = await self.store.get(measure_id)
        if measure is None:
            raise measure_not_found(measure_id)
        if kind in ("approve", "reject", "withdraw"):
            case = await self._case(measure.case_id)
            try:
                if kind == "withdraw":
                    check_withdraw_measure(actor, case.access)
                else:
                    check_approve_measure(actor, case.access, approving=kind == "approve")
            except AccessDenied as exc:
                exc.about(action=f"measure_{kind}", case_id=case.id, case_number=case.case_number,
                          case_court=case.court_code, target=f"measure:{measure.id}")
                raise
            return case
        return await self.authorize(actor, measure.case_id, kind)

    async def refused_input(self, actor: Actor, case: MeasureCase, kind: str, code: str, *,
                            request_id: str = "") -> None:
        """A body refused after the permission passed (422, 400, 413): its refusal record, with the case."""
        await self.store.record_refusal(AuditEntry(
            action="refusal", actor_login=actor.login, actor_role=actor.role, actor_court=actor.court_code,
            case_id=case.id, case_number=case.case_number, case_court=case.court_code, reason=code,
            target=f"measure_{kind}", request_id=request_id, details={"attempted": f"measure_{kind}"},
        ))

    async def _submit(self, actor: Actor, case: MeasureCase, req: MeasureRequest, request_id: str) -> Measure:
        today = self.clock.today()
        ruling = Ruling.parse(req.ruling_number, req.ruled_on, today=today, valid_days=self.config.ruling_valid_days)
        if not isinstance(req.asset_kind, str) or not isinstance(req.natural_key, str) or not req.natural_key:
            raise InvalidMeasure("target_invalid", "Name the asset: asset_kind and natural_key from the dossier.",
                                 "请指明财产：卷宗中的财产类别和标识")
        found = await self.store.found_asset(case.id, req.asset_kind, req.natural_key)
        assets = [] if found is None else [TargetAsset(found.asset_kind, found.natural_key, _balance(found.data))]
        target = check_target(req.asset_kind, req.natural_key, assets)
        amount = check_new_measure(req.kind, target, parse_amount(req.amount, required=False))
        category = CATEGORY_OF[target.asset_kind]
        until = term_end(category, today, _until(req.until))
        assert found is not None
        agency = AGENCY_OF[target.asset_kind]
        new = NewMeasure(
            case_id=case.id, parent_id=None, kind=req.kind, asset_kind=target.asset_kind, agency=agency,
            target_key=target.natural_key, target=_target(target.asset_kind, target.natural_key, found.data),
            subject_kind=found.subject_kind, subject_id_number=found.subject_id_number,
            subject_name=found.subject_name, amount=amount, asked_until=until, ruling_number=ruling.number,
            ruled_on=ruling.ruled_on, case_number=case.case_number, court_code=case.court_code,
            judge_login=case.judge_login or actor.login, judge_name=case.judge_name or actor.display_name,
            judge_officer_id=case.judge_officer_id or (actor.officer_id or ""), requested_by=actor.login,
            idempotency_key=idempotency_key(case.id, req.kind, target.natural_key, ruling.number, None),
            request_no=uuid.uuid4().hex[:20].upper(), deadline_seconds=self.config.deadline_seconds,
        )
        return await self.store.create(new, self._entry(actor, case, req.kind, request_id, amount, target.natural_key))

    async def follow_up(self, actor: Actor, measure_id: int, req: FollowUpRequest, *,
                        request_id: str = "", case_id: int | None = None) -> Measure:
        """Renew, release or deduct from a control: the case's judge only. ``case_id``: the case the
        caller named (a deduction under /cases/{id}/measures), which must be the control's."""
        parent = await self.store.get(measure_id)
        if parent is None or (case_id is not None and parent.case_id != case_id):
            raise measure_not_found(measure_id)
        case = await self.authorize(actor, parent.case_id, req.kind)
        return await self._refusals_audited(actor, case, req.kind, request_id,
                                            self._follow_up(actor, case, parent, req, request_id))

    async def _follow_up(self, actor: Actor, case: MeasureCase, parent: Measure, req: FollowUpRequest,
                         request_id: str) -> Measure:
        today = self.clock.today()
        check_follow_up(req.kind, parent.kind, parent.status, parent.asset_kind)
        ruling = Ruling.parse(req.ruling_number, req.ruled_on, today=today, valid_days=self.config.ruling_valid_days)
        amount: Decimal | None = None
        until: date | None = None
        held = False
        if req.kind == "renew":
            if parent.expires_on is None:
                raise InvalidMeasure("no_expiry", "The control has no expiry to renew.", "该措施无期限，无需续行")
            _, until = renewal_term(CATEGORY_OF[parent.asset_kind], parent.expires_on, today, _until(req.until))
        elif req.kind == "deduct":
            amount = parse_amount(req.amount, required=True)
            assert amount is not None
            check_deduction(amount, parent.effect_amount or Decimal("0.00"))
            held = deduction_needs_approval(amount, self.config.approval_above(case))
        new = NewMeasure(
            case_id=case.id, parent_id=parent.id, kind=req.kind, asset_kind=parent.asset_kind, agency=parent.agency,
            target_key=parent.target_key, target=parent.target, subject_kind=parent.subject_kind,
            subject_id_number=parent.subject_id_number, subject_name=parent.subject_name, amount=amount,
            asked_until=until, ruling_number=ruling.number, ruled_on=ruling.ruled_on, case_number=case.case_number,
            court_code=case.court_code, judge_login=case.judge_login or actor.login,
            judge_name=case.judge_name or actor.display_name,
            judge_officer_id=case.judge_officer_id or (actor.officer_id or ""), requested_by=actor.login,
            idempotency_key=idempotency_key(case.id, req.kind, parent.target_key, ruling.number, parent.id),
            request_no=uuid.uuid4().hex[:20].upper(), deadline_seconds=self.config.deadline_seconds, held=held,
        )
        entry = self._entry(actor, case, req.kind, request_id, amount, parent.target_key, parent_id=parent.id)
        if held:
            entry = dataclasses.replace(entry, details={
                **entry.details, "awaiting_approval": True,
                "approval_above": f"{self.config.approval_above(case):.2f}"})
        return await self.store.create(new, entry)

    async def approve(self, actor: Actor, measure_id: int, *, request_id: str = "") -> Measure:
        """A supervisor of the case's court approves a deduction held above the court's set amount:
        it is queued for the bank now. A judge or another court's supervisor: 403 (audited by the
        edge); a measure not awaiting approval, or whose freeze is no longer active: 409 (audited)."""
        measure = await self.store.get(measure_id)
        if measure is None:
            raise measure_not_found(measure_id)
        case = await self._case(measure.case_id)
        try:
            check_approve_measure(actor, case.access)
        except AccessDenied as exc:
            exc.about(action="measure_approve", case_id=case.id, case_number=case.case_number,
                      case_court=case.court_code, target=f"measure:{measure.id}")
            raise
        return await self._refusals_audited(actor, case, "approve", request_id,
                                            self._approve(actor, case, measure, request_id))

    async def _approve(self, actor: Actor, case: MeasureCase, measure: Measure, request_id: str) -> Measure:
        if measure.status != "awaiting_approval":
            raise MeasureConflict(f"The measure is {measure.status}; only a deduction awaiting approval is approved.",
                                  message_zh=f"该措施当前状态为{measure.status}，无需或不能审批",
                                  code="not_awaiting_approval", status=measure.status)
        if measure.parent_id is not None:
            parent = await self.store.get(measure.parent_id)
            if parent is not None:
                check_follow_up("deduct", parent.kind, parent.status)
        entry = AuditEntry(action="measure_approve", actor_login=actor.login, actor_role=actor.role,
                           actor_court=actor.court_code, case_id=case.id, case_number=case.case_number,
                           case_court=case.court_code, request_id=request_id, target=f"measure:{measure.id}",
                           details={"kind": measure.kind, "measure_id": measure.id,
                                    "amount": None if measure.amount is None else f"{measure.amount:.2f}",
                                    "approval_above": f"{self.config.approval_above(case):.2f}",
                                    "notice_number": measure.document_number})
        approved = await self.store.approve(measure.id, actor.login, self.config.deadline_seconds, entry)
        if approved is None:  # approved by another supervisor a moment ago
            raise MeasureConflict("The measure is no longer awaiting approval.", message_zh="该措施已不在待审批状态",
                                  code="not_awaiting_approval")
        return approved

    async def reject(self, actor: Actor, measure_id: int, reason: object, *, request_id: str = "") -> Measure:
        """A supervisor of the case's court rejects a held deduction, with a reason: nothing goes to
        the bank; the measure shows ``rejected`` with who, when and why. 403 (audited by the edge)
        for anyone else; 422 (audited) without a reason; 409 (audited) when it is not held."""
        return await self._cancel(actor, measure_id, "reject", reason, request_id=request_id)

    async def withdraw(self, actor: Actor, measure_id: int, reason: object = None, *,
                       request_id: str = "") -> Measure:
        """The case's judge withdraws a held deduction (reason optional): as ``reject``, shown ``withdrawn``."""
        return await self._cancel(actor, measure_id, "withdraw", reason, request_id=request_id)

    async def _cancel(self, actor: Actor, measure_id: int, act: str, reason: object, *, request_id: str) -> Measure:
        case = await self.authorize_on(actor, measure_id, act)
        measure = await self.store.get(measure_id)
        if measure is None:
            raise measure_not_found(measure_id)
        return await self._refusals_audited(actor, case, act, request_id,
                                            self._cancelled(actor, case, measure, act, reason, request_id))

    async def _cancelled(self, actor: Actor, case: MeasureCase, measure: Measure, act: str, reason: object,
                         request_id: str) -> Measure:
        text = check_cancel_reason(reason, required=act == "reject")
        if measure.status != "awaiting_approval":
            raise MeasureConflict(f"The measure is {measure.status}; only a deduction awaiting approval can be "
                                  f"{act}ed.", message_zh=f"该措施当前状态为{measure.status}，仅待审批的扣划可以"
                                  f"{'驳回' if act == 'reject' else '撤回'}", code="not_awaiting_approval",
                                  status=measure.status)
        status = "rejected" if act == "reject" else "withdrawn"
        entry = AuditEntry(action=f"measure_{act}", actor_login=actor.login, actor_role=actor.role,
                           actor_court=actor.court_code, case_id=case.id, case_number=case.case_number,
                           case_court=case.court_code, request_id=request_id, target=f"measure:{measure.id}",
                           details={"kind": measure.kind, "measure_id": measure.id, "status": status,
                                    "amount": None if measure.amount is None else f"{measure.amount:.2f}",
                                    "reason": text, "notice_number": measure.document_number})
        done = await self.store.cancel_held(measure.id, status, actor.login, text, entry)
        if done is None:  # approved, rejected or withdrawn a moment ago
            raise MeasureConflict("The measure is no longer awaiting approval.", message_zh="该措施已不在待审批状态",
                                  code="not_awaiting_approval")
        return done

    def _entry(self, actor: Actor, case: MeasureCase, kind: str, request_id: str, amount: Decimal | None,
               target_key: str, *, parent_id: int | None = None) -> AuditEntry:
        details: dict[str, Any] = {"kind": kind, "asset": target_key}
        if amount is not None:
            details["amount"] = f"{amount:.2f}"
        if parent_id is not None:
            details["follows"] = parent_id
        return AuditEntry(action=f"measure_{kind}", actor_login=actor.login, actor_role=actor.role,
                          actor_court=actor.court_code, case_id=case.id, case_number=case.case_number,
                          case_court=case.court_code, request_id=request_id, details=details)

    async def _refusals_audited(self, actor: Actor, case: MeasureCase, kind: str, request_id: str,
                                work: Awaitable[Measure]) -> Measure:
        try:
            return await work
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            await self.store.record_refusal(AuditEntry(
                action="refusal", actor_login=actor.login, actor_role=actor.role, actor_court=actor.court_code,
                case_id=case.id, case_number=case.case_number, case_court=case.court_code, reason=exc.code,
                target=f"measure_{kind}", request_id=request_id, details={"attempted": f"measure_{kind}"},
            ))
            raise

    async def get(self, actor: Actor, measure_id: int) -> Measure:
        measure = await self.store.get(measure_id)
        if measure is None:
            raise measure_not_found(measure_id)
        case = await self._case(measure.case_id)
        try:
            check_read(actor, case.access)
        except AccessDenied as exc:
            exc.about(action="read_measure", case_id=case.id, case_number=case.case_number, case_court=case.court_code)
            raise
        return measure

    async def case_measures(self, actor: Actor, case_id: int) -> tuple[list[Measure], frozenset[str], int]:
        """The case's measures (whoever may read the case), what ``actor`` may do with them now
        (``measure_permissions``: the workbench offers these acts and no other; every request is
        checked again), and the notice days their expiries are counted by (the case's court's own, else the
        deployment's), from one look at the case."""
        case = await self._case(case_id)
        try:
            check_read(actor, case.access)
        except AccessDenied as exc:
            exc.about(action="read_measures", case_id=case.id, case_number=case.case_number,
                      case_court=case.court_code)
            raise
        return (await self.store.of_case(case_id), measure_permissions(actor, case.access),
                self.config.notice_days(case.notice_days))

    async def listed(self, actor: Actor, state: str | None, limit: int) -> tuple[list[ListedMeasure], int, date]:
        """Measures across cases, in the actor's scope (``measure_list_scope``: a supervisor their
        court's, a judge the cases they hold): renewals due within each measure's court's notice
        days, lapses, deductions awaiting approval (``state`` None: all three), or every live
        control; the scope's court's notice days (the deployment's for no court); and the court's
        date they were counted by."""
        scope = measure_list_scope(actor)
        today = self.clock.today()
        listed = await self.store.listed(scope.court_code, scope.judge_login, state, today,
                                         self.config.renewal_notice_days, limit)
        own = None if scope.court_code is None else await self.store.court_notice_days(scope.court_code)
        return listed, self.config.notice_days(own), today

    @staticmethod
    def offered(actor: Actor, x: ListedMeasure, today: date) -> dict[str, Any]:
        """What a listed control offers ``actor``, as an alert on it does: a renewal due's ``renew``
        (``release`` once its case closed for good), only when ``measure_permissions`` lets the
        actor take it on the row's case (as it stands now, read with the row) and no follow-up of
        the control is pending; its ruling defaulted to the case number and ``today``. Nothing on a
        lapsed, live or held row. The act's own route checks it all again."""
        if x.state != "due" or x.pending_follow_up is not None:
            return {}
        act = due_control_act(x.case.status, x.case.closure_mode, measure_permissions(actor, x.case))
        return {} if act is None else {act: control_action(act, x.measure.id, x.measure.case_number, today)}

    def view(self, m: Measure) -> dict[str, Any]:
        """A measure as the API shows it."""
        expiry = None
        if m.expires_on is not None and m.status in ("active", "partial"):
            expiry = expiry_state(m.expires_on, self.clock.today(), self.config.notice_days(m.court_notice_days))
        elif m.status == "lapsed":
            expiry = "lapsed"

        def money(v: Decimal | None) -> str | None:
            return None if v is None else f"{v:.2f}"

        return {
            "id": m.id, "url": f"/api/v1/measures/{m.id}", "case_id": m.case_id, "parent_id": m.parent_id,
            "kind": m.kind, "asset_kind": m.asset_kind, "agency": m.agency, "natural_key": m.target_key,
            "amount": money(m.amount), "ruling": {"number": m.ruling_number, "ruled_on": m.ruled_on.isoformat()},
            "notice_number": m.document_number, "judge": m.judge_login, "requested_by": m.requested_by,
            "status": m.status, "task_status": m.task_status, "attempts": m.attempts, "agency_ticket": m.agency_ticket,
            "reference": m.reference, "effect_amount": money(m.effect_amount), "queue_position": m.queue_position,
            "transfer_reference": m.transfer_reference,
            "refusal": None if m.refusal_code is None and m.refusal_reason is None
            else {"code": m.refusal_code, "reason": m.refusal_reason},
            "starts_on": None if m.starts_on is None else m.starts_on.isoformat(),
            "expires_on": None if m.expires_on is None else m.expires_on.isoformat(),
            "expiry_state": expiry,
            "created_at": m.created_at.isoformat(), "answered_at": None if m.answered_at is None
            else m.answered_at.isoformat(),
            "approved_by": m.approved_by,
            "approved_at": None if m.approved_at is None else m.approved_at.isoformat(),
            "cancelled": None if m.cancelled_by is None else {
                "by": m.cancelled_by, "at": None if m.cancelled_at is None else m.cancelled_at.isoformat(),
                "reason": m.cancel_reason},
        }


__all__ = ["FollowUpRequest", "MeasureClock", "MeasureConfig", "MeasureRequest", "MeasureService"]
