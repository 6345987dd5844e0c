"""Bulk searches: up to ten thousand subjects in one request, answered at once with a batch id.

Every row is checked as a single search would be (the subject's ID, the purpose, the 点对点
rule: an open case held by the asking judge, the subject one of its debtors), but set-based:
one query for the cases, one for the debtors. One bad row refuses the whole batch, and the
answer names every bad row by its index, so that the judge fixes the file and sends it again;
nothing is stored. Every row refused by the 点对点 rule is audited on its own, with its case,
court, subject and purpose, like a single search's refusal (so the owning court's supervisor sees
it). A caller whose role may not search at all (a supervisor) is refused whole, 403
``role_cannot_search``, as a single search would be. A good batch is stored in one transaction
(searches, tasks, events, one audit record per search); the dispatchers then work through it
within each agency's limits, like any other search. Progress and per-subject results are readable while it runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from connectors.sdk.manifest import Manifest
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import AccessDenied, check_read_batch, check_search, check_search_batch
from enforcement.kernel import metrics
from enforcement.searches.errors import BatchEmpty, BatchInvalid, BatchNotFound
from enforcement.searches.service import PURPOSES, SearchRequest, notice_number, plan_agencies
from enforcement.searches.store.batches import BatchRecord, BatchStoreProtocol, NewBatch
from enforcement.searches.store.searches import CaseForSearch, NewSearch

MAX_REPORTED_ERRORS = 200


@dataclass(frozen=True, slots=True)
class RowError:
    """Why row ``index`` (0-based, in submission order) of a bulk search was refused."""

    index: int
    code: str
    message_en: str
    message_zh: str
    field: str | None = None
    denied: bool = False  # refused by the 点对点 rule (audited), rather than malformed
    # What a denied row was about, for its audit record (never in the answer).
    about: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "code": self.code,
                               "message": {"zh": self.message_zh, "en": self.message_en}}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(frozen=True, slots=True)
class BatchAccepted:
    batch_id: UUID
    total: int
    queued_tasks: int
    reused_tasks: int


class BatchService:
    def __init__(self, store: BatchStoreProtocol, manifests: Mapping[str, Manifest]) -> None:
        self.manifests = manifests
        self.store = store

    async def submit(
        self, actor: Actor, rows: Sequence[SearchRequest | RowError], *, request_id: str = ""
    ) -> BatchAccepted:
        """Check every row as a single search would be (set-based) and, if all pass, store the
        batch whole in one transaction (searches, tasks, one audit record each); the dispatchers
        work through it afterwards.

        Who may: the judge holding each row's open case, about its debtors (点对点). Raises
        ``BatchEmpty``; ``AccessDenied`` (``role_cannot_search``) for a role that may not search
        at all; ``BatchInvalid`` naming every bad row (each row refused by the 点对点 rule is
        audited on its own). Nothing is stored when it raises."""
        if not rows:
            raise BatchEmpty()
        errors = [r for r in rows if isinstance(r, RowError)]
        requests = [(i, r) for i, r in enumerate(rows) if isinstance(r, SearchRequest)]
        cases = await self.store.cases([r.case_id for _, r in requests])
        debtors = await self.store.debtor_rows(
            [(i, r.case_id, r.subject.kind, r.subject.id_number) for i, r in requests if r.case_id in cases]
        )
        plans = {kind: plan_agencies(self.manifests, kind) for kind in ("person", "organization")}
        for i, r in requests:
            problem = self._check(actor, i, r, cases.get(r.case_id), i in debtors, bool(plans[r.subject.kind]))
            if problem is not None:
                errors.append(problem)
        if errors:
            errors.sort(key=lambda e: e.index)
            audited = await self._audit_refusal(actor, len(rows), errors, request_id)
            try:
                check_search_batch(actor)
            except AccessDenied as refused:
                refused.audited = audited
                raise
            raise BatchInvalid(
                f"{len(errors)} of {len(rows)} rows are invalid; nothing was stored.",
                message_zh=f"共 {len(rows)} 行，其中 {len(errors)} 行不合格，未作任何查询",
                invalid_count=len(errors),
                invalid=[e.to_dict() for e in errors[:MAX_REPORTED_ERRORS]],
            )
        batch_id = uuid.uuid4()
        documents: dict[str, str] = {}
        searches: list[NewSearch] = []
        for _, r in requests:
            case = cases[r.case_id]
            court = case.court_code
            if r.document_number is None and court not in documents:
                documents[court] = notice_number(court, *await self.store.next_document_serial(court))
            search_id = uuid.uuid4()
            searches.append(NewSearch(
                id=search_id, case_id=r.case_id, subject_kind=r.subject.kind, subject_id_number=r.subject.id_number,
                subject_name=r.subject.name, subject_key=r.subject.key, purpose=r.purpose,
                requested_by=actor.login, force_fresh=r.force_fresh, request_no=search_id.hex[:20].upper(),
                case_number=case.case_number, court_code=court,
                judge_name=case.judge_name or actor.display_name,
                judge_officer_id=case.judge_officer_id or (actor.officer_id or ""),
                document_number=r.document_number or documents[court], agencies=plans[r.subject.kind],
                batch_id=batch_id, date_from=r.date_from, date_to=r.date_to,
            ))
        entries = [
            AuditEntry(
                action="search", actor_login=actor.login, actor_role=actor.role, actor_court=actor.court_code,
                case_id=s.case_id, case_number=s.case_number, case_court=s.court_code, subject_key=s.subject_key,
                purpose=s.purpose, target=str(s.id), request_id=request_id,
                details={"agencies": sorted(p.agency for p in s.agencies), "notice_number": s.document_number,
                         "force_fresh": s.force_fresh, "batch_id": str(batch_id), "batch_index": i},
            )
            for i, s in enumerate(searches)
        ] if self.store.audited else []
        created = await self.store.create(
            NewBatch(batch_id, actor.login, searches[0].purpose, actor.court_code, searches), audit_entries=entries
        )
        for s in searches:
            metrics.SEARCHES_CREATED.labels(purpose_kind=s.purpose).inc()
        metrics.BATCHES.inc()
        metrics.BATCH_SUBJECTS.inc(len(searches))
        return BatchAccepted(batch_id, len(searches), created.queued_tasks, created.reused_tasks)

    def _check(self, actor: Actor, i: int, r: SearchRequest, case: CaseForSearch | None, is_debtor: bool,
               covered: bool) -> RowError | None:
        if r.purpose not in PURPOSES:
            return RowError(i, "invalid_purpose", f"purpose must be one of {', '.join(PURPOSES)}",
                            f"查询事由须为：{'、'.join(PURPOSES)}", "purpose")
        if case is None:
            return RowError(i, "case_not_found", f"Case {r.case_id} does not exist.", f"案件 {r.case_id} 不存在",
                            "case_id")
        try:
            check_search(actor, case.access, subject_is_debtor=is_debtor)
        except AccessDenied as exc:
            about = (("case_id", case.id), ("case_number", case.case_number),
                     ("case_court", case.court_code), ("subject_key", r.subject.key), ("purpose", r.purpose))
            return RowError(i, exc.code, exc.message_en, exc.message_zh, denied=True, about=about)
        if not covered:
            return RowError(i, "no_agency", "No connected agency answers for this kind of subject.",
                            "没有可查询该类主体的协查单位", "subject")
        return None

    async def _audit_refusal(self, actor: Actor, total: int, errors: Sequence[RowError], request_id: str) -> bool:
        """One refusal record per row refused by the 点对点 rule, with its case, court, subject and
        purpose (masked when shown); malformed rows are the caller's mistake, not refusals. True
        when something was recorded."""
        denied = [e for e in errors if e.denied]
        if not self.store.audited or not denied:
            return False
        entries = [
            AuditEntry(
                action="refusal", actor_login=actor.login, actor_role=actor.role, actor_court=actor.court_code,
                reason=e.code, target="POST /api/v1/searches:batch", request_id=request_id,
                details={"attempted": "search", "via": "search_batch", "batch_index": e.index, "rows": total,
                         "refused_rows": len(denied)},
                **dict(e.about),
            )
            for e in denied
        ]
        await self.store.record_refusals(entries)
        for e in denied:
            metrics.ACCESS_DENIED.labels(reason=e.code).inc()
        return True

    async def authorize(self, actor: Actor, batch_id: UUID) -> BatchRecord:
        """The batch, if the actor may read it. Who may: the judge who sent it, or a supervisor of
        its court. Raises ``BatchNotFound`` and ``AccessDenied`` (``not_batch_owner``)."""
        batch = await self.store.get(batch_id)
        if batch is None:
            raise BatchNotFound()
        check_read_batch(actor, requested_by=batch.requested_by, court_code=batch.court_code)
        return batch

    async def progress(self, actor: Actor, batch_id: UUID) -> dict[str, Any]:
        """A batch's progress: searches completed, tasks by state and by agency. Who may, and what
        it raises: as ``authorize``."""
        batch = await self.authorize(actor, batch_id)
        counts = await self.store.search_counts(batch_id)
        tasks = await self.store.task_counts(batch_id)
        by_status: dict[str, int] = {}
        for per_agency in tasks.values():
            for status, n in per_agency.items():
                by_status[status] = by_status.get(status, 0) + n
        total, completed = counts.total, counts.completed
        url = f"/api/v1/searches:batch/{batch_id}"
        return {
            "id": str(batch_id),
            "status": "completed" if completed == total else "running",
            "total": total,
            "completed": completed,
            "running": total - completed,
            "purpose": batch.purpose,
            "requested_by": batch.requested_by,
            "created_at": batch.created_at.isoformat(),
            "completed_at": counts.last_completed_at.isoformat()
            if completed == total and counts.last_completed_at else None,
            "tasks": by_status,
            "agencies": tasks,
            "url": url,
            "results_url": f"{url}/results",
        }

    async def results(self, actor: Actor, batch_id: UUID, *, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        """A page of per-subject results, in submission order. Who may, and what it raises: as
        ``authorize``."""
        batch = await self.authorize(actor, batch_id)
        rows = await self.store.results(batch_id, offset, limit)
        total = batch.total
        following = offset + limit
        return {
            "id": str(batch_id),
            "total": total,
            "offset": offset,
            "limit": limit,
            "next": f"/api/v1/searches:batch/{batch_id}/results?offset={following}&limit={limit}"
            if following < total else None,
            "items": [
                {
                    "index": r.seq,
                    "search_id": str(r.search_id),
                    "url": f"/api/v1/searches/{r.search_id}",
                    "case_id": r.case_id,
                    "case_number": r.case_number,
                    "subject": {"kind": r.subject_kind, "id_number": r.subject_id_number, "name": r.subject_name},
                    "status": r.status,
                    "completed_at": r.completed_at.isoformat() if r.completed_at else None,
                    "record_count": sum(a.get("record_count") or 0 for a in r.agencies),
                    "agencies": r.agencies,
                }
                for r in rows
            ],
        }


__all__ = ["BatchAccepted", "BatchService", "RowError"]
