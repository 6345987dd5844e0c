"""The measure dispatcher (worker processes): claims due measure tasks in batches under a lease
(``FOR UPDATE SKIP LOCKED``: many workers, each task to one), sends each to its agency through
the ``ControlGateway``, and keeps the answer, fenced by the lease.

Exactly once at the agency: every operation carries the measure's idempotency key, which the
agency applies once and answers again with the first answer. A worker killed mid-call leaves the
task ``running`` with a lease that expires; the next claim sends the same key again and keeps
the first answer, so the agency holds one freeze, never two. A transient failure is tried again
with backoff until the measure's deadline, then the measure fails; a connector's refusal
(``RejectedError``) fails it at once.

An agency that answers controls asynchronously (banks: hours to days) answers ``Pending``: the
control is accepted for processing. The task then *waits* with the agency's ticket stored
(``task_status`` waiting, the measure still ``pending``), and is claimed again under a lease when
its poll is due (``control_status(ticket)``; a poll is no new attempt). The first acceptance moves
the deadline out to the agency's own time to answer (its manifest's ``controls.deadline_seconds``).
A worker killed while waiting, or mid-poll, loses nothing: the ticket is in the row, the next
worker polls it, and the agency answers the same (a re-sent key also gets its first ticket back).

The expiry watch (``ExpiryWatch.tick``): live controls past their expiry lapse (an incident: an
alert on the case, ``enforcement_measures_lapsed_total``), and those whose renewal is due raise
an alert N days before, once per control and expiry: N is the control's court's own
(``court.measure_renewal_notice_days``), else ``MEASURE_RENEWAL_NOTICE_DAYS`` (default 15),
decided in the statement (decision 1704). An alert its control no longer asks for (renewed past
the expiry alerted, released, or, lapsed, controlled again by a new freeze or seal) is resolved by
the system with the answer that stores it, and swept at each tick (decision 1706).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

import structlog

from connectors.sdk.errors import RejectedError
from connectors.sdk.types import ControlOutcome, ControlRequest, ControlResult, Pending
from enforcement.domain.measures import renewal_wanted
from enforcement.domain.subjects import Subject
from enforcement.kernel import metrics
from enforcement.kernel.db_errors import is_database_unavailable
from enforcement.kernel.waits import wait_set
from enforcement.measures.port import ControlGateway
from enforcement.measures.service import MeasureClock, MeasureConfig
from enforcement.measures.store.measures import Answer, Measure, MeasureStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class MeasureDispatcherConfig:
    worker_id: str
    claim_batch_size: int = 50
    lease_seconds: float = 60.0
    idle_poll_seconds: float = 1.0
    call_timeout_seconds: float = 30.0
    max_backoff_seconds: float = 60.0
    # A control waiting for the agency's answer is polled when the agency says, within these bounds.
    min_poll_seconds: float = 0.1
    max_poll_seconds: float = 600.0


def control_request(m: Measure, funds_account: str) -> ControlRequest:
    return ControlRequest(
        op=m.kind,  # type: ignore[arg-type]
        request_no=m.request_no, idempotency_key=m.idempotency_key, case_number=m.case_number,
        court_code=m.court_code, judge_name=m.judge_name, judge_officer_id=m.judge_officer_id,
        ruling_number=m.ruling_number, document_number=m.document_number,
        subject=Subject(m.subject_kind, m.subject_id_number, m.subject_name),  # type: ignore[arg-type]
        target=m.target, amount=m.amount, until=m.asked_until, reference=m.parent_reference,
        funds_account=funds_account if m.kind == "deduct" else None,
    )


def answer_of(m: Measure, result: ControlResult, answered_on: date) -> Answer:
    """What is kept of the agency's answer: a control becomes active (or partial, or refused); a
    follow-up is done (or refused). ``answered_on``: the court's date of the answer."""
    if result.status == "refused":
        status = "refused"
    elif m.parent_id is None:
        status = "active" if result.status == "accepted" else "partial"
    else:
        status = "done"
    amount = result.amount if result.amount is not None else (m.amount if status != "refused" else None)
    control = m.parent_id is None and status != "refused"
    return Answer(
        status=status, reference=result.reference, effect_amount=amount, queue_position=result.queue_position,
        transfer_reference=result.transfer_reference, refusal_code=result.code, refusal_reason=result.reason,
        answered_at=result.answered_at,
        starts_on=answered_on if control else None,
        expires_on=(result.until or m.asked_until) if control or (m.kind == "renew" and status == "done") else None,
    )


class MeasureDispatcher:
    def __init__(self, store: MeasureStore, gateway: ControlGateway, config: MeasureDispatcherConfig,
                 measure_config: MeasureConfig, clock: MeasureClock) -> None:
        self.store = store
        self.clock = clock
        self.gateway = gateway
        self.config = config
        self.measure_config = measure_config
        self._wake = asyncio.Event()

    def wake(self, *_: object) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                handled = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_database_unavailable(exc):  # the database is away for now: wait and claim again
                    log.warning("measure_dispatch_failed", error=type(exc).__name__, database_unavailable=True)
                else:  # not the database being away: a bug, say so loudly
                    log.error("measure_dispatch_failed", exc_info=True)
                handled = 0
            if handled:
                continue
            self._wake.clear()
            await wait_set(self._wake, self.config.idle_poll_seconds)

    async def tick(self) -> int:
        """Claim one batch and send it; the number claimed."""
        claimed = await self.store.claim(self.config.worker_id, self.config.claim_batch_size,
                                         self.config.lease_seconds)
        if claimed:
            await asyncio.gather(*(self._send(m) for m in claimed))
        return len(claimed)

    async def _send(self, m: Measure) -> None:
        """Send the control, or poll the agency's ticket of a control it accepted, and keep what
        comes back: the answer, a wait for the next poll, a retry, or the failure."""
        worker = self.config.worker_id
        try:
            async with asyncio.timeout(self.config.call_timeout_seconds):
                outcome: ControlOutcome
                if m.agency_ticket:
                    outcome = await self.gateway.control_status(m.agency, m.agency_ticket)
                else:
                    outcome = await self.gateway.control(
                        m.agency, control_request(m, self.measure_config.funds_account))
        except RejectedError as exc:
            metrics.MEASURES_SENT.labels(agency=m.agency, operation=m.kind, outcome="failed").inc()
            await self.store.fail(m.id, worker, f"{exc.code}: {exc.message}")
            return
        except KeyError:
            metrics.MEASURES_SENT.labels(agency=m.agency, operation=m.kind, outcome="failed").inc()
            await self.store.fail(m.id, worker, f"agency_not_connected: {m.agency}")
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # transient: timeouts, connection errors, the agency's 5xx
            error = f"{type(exc).__name__}: {exc}"
            if m.past_deadline:
                metrics.MEASURES_SENT.labels(agency=m.agency, operation=m.kind, outcome="failed").inc()
                await self.store.fail(m.id, worker, f"deadline_passed: {error}")
                return
            delay = min(self.config.max_backoff_seconds, 2.0 ** min(m.attempts, 6))
            metrics.MEASURES_SENT.labels(agency=m.agency, operation=m.kind, outcome="retried").inc()
            await self.store.retry(m.id, worker, delay, error)
            return
        if isinstance(outcome, Pending):
            await self._wait(m, outcome)
            return
        kept = await self.store.answer(m, worker, answer_of(m, outcome, self.clock.today()))
        metrics.MEASURES_SENT.labels(agency=m.agency, operation=m.kind, outcome=outcome.status).inc()
        if kept is None:
            log.warning("measure_lease_lost", measure_id=m.id)

    async def _wait(self, m: Measure, pending: Pending) -> None:
        """The agency has the control and will answer later: wait with its ticket, poll when due."""
        worker = self.config.worker_id
        if m.agency_ticket and m.past_deadline:  # accepted, then never answered in the agency's own time
            metrics.MEASURES_SENT.labels(agency=m.agency, operation=m.kind, outcome="failed").inc()
            log.error("measure_never_answered", measure_id=m.id, agency=m.agency, ticket=m.agency_ticket)
            await self.store.fail(m.id, worker, f"deadline_passed: {m.agency} never answered ticket {m.agency_ticket}")
            return
        poll_in = min(self.config.max_poll_seconds, max(self.config.min_poll_seconds, pending.poll_after_seconds))
        ticket = m.agency_ticket or pending.ticket  # the ticket kept is the one polled
        if m.agency_ticket is None:  # just accepted for processing (a poll that is still pending counts nothing)
            metrics.MEASURES_SENT.labels(agency=m.agency, operation=m.kind, outcome="pending").inc()
        if not await self.store.wait(m.id, worker, ticket, poll_in, self.gateway.answer_within_seconds(m.agency)):
            log.warning("measure_lease_lost", measure_id=m.id)


class ExpiryWatch:
    """Renewals due and lapses, by the court's date."""

    def __init__(self, store: MeasureStore, config: MeasureConfig, clock: MeasureClock,
                 interval_seconds: float = 600.0) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.interval_seconds = interval_seconds

    async def tick(self) -> tuple[int, int]:
        """(renewal alerts raised, controls lapsed) now."""
        today = self.clock.today()
        # Alerts a renewal, a release or a new control answered, left open (decision 1706).
        await self.store.resolve_answered_alerts()
        lapsed = await self.store.lapse(today)  # with their lapse alerts, one transaction
        for row, alerted in lapsed:
            metrics.MEASURES_LAPSED.labels(agency=row.agency).inc()
            log.error("measure_lapsed", measure_id=row.id, agency=row.agency, expired_on=row.expires_on.isoformat())
            if alerted:
                metrics.ALERTS_RAISED.labels(kind="measure_lapsed").inc()
        raised = 0
        for row in await self.store.renewals_due(today, self.config.renewal_notice_days):
            evidence: dict[str, object] = {"measure_id": row.id, "kind": row.kind, "asset": row.target_key,
                                           "expires_on": row.expires_on.isoformat()}
            if renewal_wanted(row.case_status, row.closure_mode):
                evidence["renew_url"] = f"/api/v1/measures/{row.id}:renew"
            else:  # the case closed for good: the control is to be released, not renewed
                evidence["advice"] = "release"
                evidence["release_url"] = f"/api/v1/measures/{row.id}:release"
            if await self.store.raise_alert("measure_renewal_due", row, evidence):
                raised += 1
                metrics.ALERTS_RAISED.labels(kind="measure_renewal_due").inc()
        due, lapsed_total = await self.store.gauges(today, self.config.renewal_notice_days)
        metrics.MEASURES_EXPIRY.labels(state="due").set(due)
        metrics.MEASURES_EXPIRY.labels(state="lapsed").set(lapsed_total)
        return raised, len(lapsed)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_database_unavailable(exc):
                    log.warning("measure_expiry_watch_failed", error=type(exc).__name__, database_unavailable=True)
                else:
                    log.error("measure_expiry_watch_failed", exc_info=True)
            await asyncio.sleep(self.interval_seconds)


__all__ = ["ExpiryWatch", "MeasureDispatcher", "MeasureDispatcherConfig", "answer_of", "control_request"]
