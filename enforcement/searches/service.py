"""Submitting a search and reading it back: the one entry point the API uses.

Submitting validates the subject, checks the 点对点 rule against the case, plans one task per
agency that covers the subject, and stores everything in one transaction (the store's); the judge
never waits on an agency. Reading merges the stored records into the typed dossier, lets the
annotators (wired by the composition root) add their alerts from it, and renders it once.

The service holds no connection: it talks to ``SearchStoreProtocol`` (the ``SearchStore`` in
production, an in-memory fake in unit tests). Its errors are in ``enforcement.searches.errors``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, cast
from uuid import UUID

import structlog

from connectors.sdk.manifest import Manifest
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import AccessDenied, check_read, check_search
from enforcement.domain.dossier import Dossier, DossierAbout, DossierAlert, Observation, Provenance, merge
from enforcement.domain.subjects import Subject
from enforcement.kernel import metrics
from enforcement.kernel.audit import Conn
from enforcement.searches.errors import InvalidPurpose, NoAgencyCovers, SearchNotFound, case_not_found
from enforcement.searches.port import SearchFollower, SystemSearch, SystemSearchMade, TransactionHandle
from enforcement.searches.store.searches import (
    EVENTS_FROM_START,
    AgencyPlan,
    AssetRow,
    CaseForSearch,
    CreatedTask,
    NewSearch,
    SearchEvent,
    SearchRecord,
    SearchStoreProtocol,
    SearchTask,
)

log = structlog.get_logger(__name__)

PURPOSES = ("财产调查", "下落查找", "终本复查", "恢复执行", "保全查询")
# What the service itself may search for: the judge's purposes, and the consumption-restriction
# check (限制消费核查) of an organization debtor's responsible persons (enforcement.cases.breach_check).
SYSTEM_PURPOSES = (*PURPOSES, "限制消费核查")


class DossierAnnotator(Protocol):
    """Adds alerts to a search's dossier (e.g. a consumption-restriction breach), from the typed
    dossier, before it is rendered."""

    async def __call__(self, about: DossierAbout, dossier: Dossier) -> Sequence[DossierAlert]: ...


@dataclass(frozen=True, slots=True)
class SearchRequest:
    case_id: int
    subject: Subject
    purpose: str = "财产调查"
    force_fresh: bool = False
    document_number: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    batch_id: UUID | None = None


class UnsettledActor(Protocol):
    """The user a verified bearer token names, not looked up yet (``api.auth.PendingActor``):
    ``submit`` loads them with the case, in its first statement, and has them ``settle``d
    (a 401 or the API gate's 403 raised there) before anything else is decided."""

    login: str
    claimed_role: str | None

    async def settle(self, user: Actor | None) -> Actor: ...


@dataclass(frozen=True, slots=True)
class Submitted:
    search_id: UUID
    tasks: list[dict[str, Any]]


def plan_agencies(manifests: Mapping[str, Manifest], subject_kind: str) -> list[AgencyPlan]:
    """One plan per agency whose manifest covers the kind of subject, with its deadline and
    freshness."""
    return [
        AgencyPlan(m.name, m.policy.deadline_seconds, m.policy.freshness_hours)
        for m in manifests.values()
        if subject_kind in m.subject_kinds
    ]


def notice_number(court_code: str, year: int, serial: int) -> str:
    """A 协助查询通知书 number: （year）court执协查serial号, ``year`` the court's year (Beijing time)
    the serial was counted in, as the database returns it with the serial (``court_year``)."""
    return f"（{year}）{court_code}执协查{serial:05d}号"


def check_purpose(purpose: str) -> None:
    """Raise ``InvalidPurpose`` unless ``purpose`` is one of the lawful ``PURPOSES``."""
    if purpose not in PURPOSES:
        raise InvalidPurpose(
            f"purpose must be one of {', '.join(PURPOSES)}",
            message_zh=f"查询事由须为：{'、'.join(PURPOSES)}",
            code="invalid_purpose",
        )


@functools.cache  # one child per lawful purpose (check_purpose ran): looked up once (issue 19)
def _searches_created(purpose: str) -> Any:
    return metrics.SEARCHES_CREATED.labels(purpose_kind=purpose)


def _submitted(search_id: UUID, tasks: Sequence[CreatedTask]) -> Submitted:
    return Submitted(search_id, [{"agency": t.agency, "status": t.status, "reused": t.reused} for t in tasks])


class SearchService:
    def __init__(self, store: SearchStoreProtocol, manifests: Mapping[str, Manifest],
                 annotators: Sequence[DossierAnnotator] = ()) -> None:
        self.store = store
        self.manifests = manifests
        self.annotators: list[DossierAnnotator] = list(annotators)  # the composition root may add more
        self.followers: list[SearchFollower] = []  # told after each judge's search (the composition root adds)

    async def load_case(self, case_id: int) -> CaseForSearch:
        """The case a search is made for. Anyone (no rule applies: the caller checks). Raises
        ``CaseNotFound``."""
        case = await self.store.case_for_search(case_id)
        if case is None:
            raise case_not_found(case_id)
        return case

    async def submit(self, actor: Actor | UnsettledActor, req: SearchRequest, *, request_id: str = "") -> Submitted:
        """Make a search: plan one task per agency covering the subject (or reuse a fresh stored
        answer), take the court's notice number and write the search, its tasks and its audit
        record together; return at once, before any agency answers.

        Who may: the judge holding the open case, about one of its debtors (点对点,
        ``domain.authorization.check_search``). Raises ``InvalidPurpose``, ``CaseNotFound``,
        ``AccessDenied`` (with what it was about, for the refusal's audit record), and
        ``NoAgencyCovers``; a refusal takes no notice number.

        ``actor`` may be a user not looked up yet (``UnsettledActor``): the first statement loads
        them with the case, and they are settled before anything else is decided."""
        check_purpose(req.purpose)
        plans = plan_agencies(self.manifests, req.subject.kind)
        take_serial = bool(plans) and not req.document_number
        # The case and, only if the search is allowed and will be made, its notice serial: one
        # statement, and a refusal (401, 403, or 422 for no agency) consumes no number.
        if isinstance(actor, Actor):
            case = await self.store.case_for_submission(
                req.case_id, req.subject.kind, req.subject.id_number, actor_login=actor.login,
                actor_role=actor.role, take_serial=take_serial,
            )
        else:
            user, case = await self.store.case_and_user_for_submission(
                req.case_id, req.subject.kind, req.subject.id_number, login=actor.login,
                claimed_role=actor.claimed_role, take_serial=take_serial,
            )
            actor = await actor.settle(user)
        if case is None:
            raise case_not_found(req.case_id)
        try:
            check_search(actor, case.access, subject_is_debtor=case.is_debtor)
        except AccessDenied as exc:
            exc.about(action="search", case_id=case.id, case_number=case.case_number,
                      case_court=case.court_code, subject_key=req.subject.key, purpose=req.purpose)
            raise
        if not plans:
            raise NoAgencyCovers(code="no_agency")
        search_id = uuid.uuid4()
        document_number = req.document_number or await self._document_number(case)
        new = NewSearch(
            id=search_id,
            case_id=req.case_id,
            subject_kind=req.subject.kind,
            subject_id_number=req.subject.id_number,
            subject_name=req.subject.name,
            subject_key=req.subject.key,
            purpose=req.purpose,
            requested_by=actor.login,
            force_fresh=req.force_fresh,
            request_no=search_id.hex[:20].upper(),
            case_number=case.case_number,
            court_code=case.court_code,
            judge_name=case.judge_name or actor.display_name,
            judge_officer_id=case.judge_officer_id or (actor.officer_id or ""),
            document_number=document_number,
            agencies=plans,
            batch_id=req.batch_id,
            date_from=req.date_from,
            date_to=req.date_to,
        )
        audit_entry = None
        if self.store.audited:
            audit_entry = AuditEntry(
                action="search", actor_login=actor.login, actor_role=actor.role, actor_court=actor.court_code,
                case_id=req.case_id, case_number=case.case_number, case_court=case.court_code,
                subject_key=req.subject.key, purpose=req.purpose, target=str(search_id), request_id=request_id,
                details={"agencies": sorted(p.agency for p in plans), "notice_number": document_number,
                         "force_fresh": req.force_fresh},
            )
        tasks = await self.store.create(new, audit_entry=audit_entry)
        _searches_created(req.purpose).inc()
        for t in tasks:
            if t.reused:
                metrics.TASKS_REUSED.labels(agency=t.agency).inc()
        for follow in self.followers:
            await follow(actor.login, actor.role, req.case_id, req.subject)
        return _submitted(search_id, tasks)

    async def _document_number(self, case: CaseForSearch) -> str:
        if case.serial is None or case.serial_year is None:
            # check_search allowed what the lookup's SQL mirror of it did not: the two rules have
            # drifted apart. Still correct (a number is taken now), one round trip more.
            log.warning("document_serial_not_taken_with_case", case_id=case.id)
            return notice_number(case.court_code, *await self.store.next_document_serial(case.court_code))
        return notice_number(case.court_code, case.serial_year, case.serial)

    async def submit_system(self, tx: TransactionHandle, request: SystemSearch) -> SystemSearchMade:
        """``SearchPort.submit_system``: a search the service makes on its own, inside the caller's
        transaction (``tx``, an opaque handle handed through to the store): the six-monthly
        re-query of a 终本 debtor (issue 5).

        Who may: the service itself. There is no judge asking and the case is closed, so the
        点对点 check does not apply; the caller answers for the lawfulness (a debtor of a 终本 case,
        on the legal schedule). The agencies still receive the case's judge, as the network
        requires; the search is recorded as requested by ``requested_by`` (``system:...``), asks
        every agency afresh, and is audited (role ``system``) in the same transaction. Raises
        ``InvalidPurpose``, ``CaseNotFound`` and ``NoAgencyCovers``."""
        conn = cast(Conn, tx)
        case_id, subject, purpose = request.case_id, request.subject, request.purpose
        requested_by, details = request.requested_by, request.details
        if purpose not in SYSTEM_PURPOSES:
            raise InvalidPurpose(code="invalid_purpose")
        case = await self.store.case_in(conn, case_id)
        if case is None:
            raise case_not_found(case_id)
        plans = [p for p in plan_agencies(self.manifests, subject.kind)
                 if not request.agencies or p.agency in request.agencies]
        if not plans:
            raise NoAgencyCovers(code="no_agency")
        search_id = uuid.uuid4()
        year, serial = await self.store.next_document_serial_in(conn, case.court_code)
        document_number = notice_number(case.court_code, year, serial)
        new = NewSearch(
            id=search_id, case_id=case_id, subject_kind=subject.kind, subject_id_number=subject.id_number,
            subject_name=subject.name, subject_key=subject.key, purpose=purpose, requested_by=requested_by,
            force_fresh=True, request_no=search_id.hex[:20].upper(), case_number=case.case_number,
            court_code=case.court_code, judge_name=case.judge_name or "",
            judge_officer_id=case.judge_officer_id or "", document_number=document_number, agencies=plans,
        )
        entry = None if not self.store.audited else AuditEntry(
            action="search", actor_login=requested_by, actor_role=request.actor_role, case_id=case_id,
            case_number=case.case_number, case_court=case.court_code, subject_key=subject.key,
            purpose=purpose, target=str(search_id),
            details={"agencies": sorted(p.agency for p in plans), "notice_number": document_number,
                     "force_fresh": True, **(details or {})},
        )
        await self.store.create_in(conn, new, audit_entry=entry)
        metrics.SEARCHES_CREATED.labels(purpose_kind=purpose).inc()
        return SystemSearchMade(search_id)

    async def authorize_read(self, actor: Actor, search_id: UUID, *, request_id: str = "",
                             via: str = "view") -> SearchRecord:
        """Check that the actor may read the search's results, and audit the read (its own
        transaction, before any result leaves): a dossier is never shown without its record.

        Who may: as ``domain.authorization.check_read`` decides (the case's judge, the court's
        supervisors). Raises ``SearchNotFound``, ``CaseNotFound`` and ``AccessDenied``."""
        search = await self.store.get(search_id)
        if search is None:
            raise SearchNotFound(code="search_not_found")
        case = await self.load_case(search.case_id)
        try:
            check_read(actor, case.access)
        except AccessDenied as exc:
            exc.about(action="dossier_read", case_id=case.id, case_number=case.case_number,
                      case_court=case.court_code, subject_key=search.subject_key, purpose=search.purpose)
            raise
        if self.store.audited:
            await self.store.record_read(AuditEntry(
                action="dossier_read", actor_login=actor.login, actor_role=actor.role, actor_court=actor.court_code,
                case_id=case.id, case_number=case.case_number, case_court=case.court_code,
                subject_key=search.subject_key, purpose=search.purpose, target=str(search_id),
                request_id=request_id, details={"via": via},
            ))
        return search

    async def view(self, actor: Actor, search_id: UUID, *, request_id: str = "") -> dict[str, Any]:
        """The search as ``GET /api/v1/searches/{id}`` shows it: state, agencies, dossier, alerts.
        Who may, and what it raises: as ``authorize_read`` (the read is audited)."""
        search = await self.authorize_read(actor, search_id, request_id=request_id)
        return await self.render(search)

    async def events_of(self, search_id: UUID, after: int = EVENTS_FROM_START) -> list[SearchEvent]:
        """The search's events after event id ``after``, in id order (an SSE stream's replay): its
        tasks' submission events first, derived (ids -n..-1), then the stored ones (decision 1930);
        past the events' retention a completed search's whole log, derived (decision 1950). No
        check: the caller authorized the read (``authorize_read``). Raises nothing of its own."""
        return await self.store.events_of(search_id, after)

    async def render(self, search: SearchRecord) -> dict[str, Any]:
        """The view of a search already authorized: the dossier is merged and annotated as typed
        values, then rendered once. No check (``view`` is the checked entry point)."""
        tasks = await self.store.tasks(search.id)
        records = await self.store.records(search.id)
        previous = await self.store.previous_search_at(search.subject_key, search.created_at)
        dossier = merge(_observation(r, previous is not None) for r in records)
        about = DossierAbout(search.id, search.case_id, search.subject_kind, search.subject_id_number,
                             search.subject_key, search.purpose)
        alerts: list[DossierAlert] = []
        for annotate in self.annotators:
            alerts.extend(await annotate(about, dossier))
        return {
            "id": str(search.id),
            "case_id": search.case_id,
            "case_number": search.case_number,
            "status": search.status,
            "purpose": search.purpose,
            "subject": {
                "kind": search.subject_kind,
                "id_number": search.subject_id_number,
                "name": search.subject_name,
            },
            "requested_by": search.requested_by,
            "document_number": search.document_number,
            "force_fresh": search.force_fresh,
            "created_at": search.created_at.isoformat(),
            "completed_at": search.completed_at.isoformat() if search.completed_at else None,
            "previous_search_at": previous.isoformat() if previous else None,
            "agencies": [_task_view(t, self.manifests.get(t.agency)) for t in tasks],
            "dossier": dossier.to_dict(),
            "alerts": [a.to_dict() for a in alerts],
        }


def _observation(r: AssetRow, has_previous: bool) -> Observation:
    return Observation(
        kind=r.kind,
        natural_key=r.natural_key,
        data=r.data,
        provenance=Provenance(r.agency, r.answer_id, r.answered_at, r.reused),
        is_new=r.is_new and has_previous,
    )


def _task_view(t: SearchTask, manifest: Manifest | None) -> dict[str, Any]:
    return {
        "agency": t.agency,
        "name": {"zh": manifest.display_zh, "en": manifest.display_en} if manifest else None,
        "status": t.status,
        "state": "reused" if t.reused else t.status,
        "attempts": t.attempts,
        "reused": t.reused,
        "answered_at": t.answered_at.isoformat() if t.answered_at else None,
        "reused_from_search": str(t.answer_search_id) if t.reused and t.answer_search_id else None,
        "record_count": t.record_count,
        "error": {"code": t.error_code, "message": t.error_message} if t.error_code else None,
        "deadline_at": t.deadline_at.isoformat(),
        "finished_at": t.finished_at.isoformat() if t.finished_at else None,
    }


__all__ = [
    "PURPOSES",
    "SYSTEM_PURPOSES",
    "DossierAnnotator",
    "SearchRequest",
    "SearchService",
    "Submitted",
    "check_purpose",
    "notice_number",
    "plan_agencies",
]
