"""The case registry's one entry point: pushes from the courts' case-management systems (one case,
or an NDJSON import of many) and reads by judges and supervisors.

A push is allowed to the ``case_system`` account of the court that holds the case; reads follow
the 点对点 rule (a judge reads their own cases, a supervisor their court's). An import keeps every
good row and reports every bad one with its line number and the reason; rows of another court
are refused, and that refusal is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from enforcement.cases.store.registry import (
    CaseFilter,
    CaseRecord,
    CaseRegistry,
    CaseSearch,
    EventRecord,
    RowResult,
    Upserted,
)
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import (
    AccessDenied,
    CaseAccess,
    case_list_scope,
    check_may_push_cases,
    check_push_case,
    check_read,
    check_read_push_conflicts,
)
from enforcement.domain.cases import CaseInput, CaseRejected, parse_case
from enforcement.domain.errors import CaseNotFound
from enforcement.domain.json_input import ImportLine, JsonRejected, parse_json
from enforcement.kernel import metrics

MAX_REPORTED_REJECTIONS = 1000

# Structural check of one case (the JSON Schema): returns None, or (code, field, en, zh).
StructureCheck = Callable[[Any], "tuple[str, str, str, str] | None"]


@dataclass
class ImportReport:
    """What an import did with each line: counted, created/updated/unchanged, rejected (with the
    line, the code and the reason), and the pushes kept as conflicts."""

    lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_count: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    conflicts_count: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, line: int, case_number: str | None, code: str, field_name: str | None, en: str, zh: str) -> None:
        """Count a rejected line (and report it, up to ``MAX_REPORTED_REJECTIONS``)."""
        self.rejected_count += 1
        metrics.CASES_PUSHED.labels(outcome="rejected").inc()
        if len(self.rejected) < MAX_REPORTED_REJECTIONS:
            self.rejected.append({"line": line, "case_number": case_number, "code": code, "field": field_name,
                                  "message": {"zh": zh, "en": en}})

    def to_dict(self) -> dict[str, Any]:
        """The report as the API sends it, every list in line order."""
        return {
            "lines": self.lines,
            "accepted": self.created + self.updated + self.unchanged,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected_count": self.rejected_count,
            "rejected": sorted(self.rejected, key=lambda r: r["line"]),
            "truncated": self.rejected_count > len(self.rejected),
            "cases": sorted(self.cases, key=lambda r: r["line"]),
            "conflicts_count": self.conflicts_count,
            "conflicts": sorted(self.conflicts, key=lambda r: r["line"]),
        }


def _case_number_of(body: Any) -> str | None:
    value = body.get("case_number") if isinstance(body, dict) else None
    return value[:40] if isinstance(value, str) else None


class CaseService:
    """The case registry's service: pushes and imports from case systems, reads by judges and
    supervisors. Built on a ``CaseRegistry`` store; never sees the database."""

    def __init__(self, registry: CaseRegistry, structure: StructureCheck) -> None:
        self.registry = registry
        self.structure = structure

    def parse(self, body: Any) -> CaseInput:
        """The case a pushed body describes. Raises ``CaseRejected`` (422) naming the first field
        that breaks the case's JSON Schema or a domain rule (case number, IDs, amounts, dates)."""
        problem = self.structure(body)
        if problem is not None:
            code, where, en, zh = problem
            raise CaseRejected(code, where, en, zh)
        return parse_case(body)

    def authorize_push(self, actor: Actor) -> None:
        """Only case-management systems push cases (their court is checked per case)."""
        check_may_push_cases(actor)

    async def push(self, actor: Actor, body: Any) -> tuple[Upserted, dict[str, Any]]:
        """Create or update one case (idempotent by case number) and return what happened and the
        case as the API shows it. A push that contradicts the case's recorded events is not
        applied to those fields and is kept as a conflict (``Upserted.conflicts``).

        Who: the ``case_system`` account of the case's court. Raises ``AccessDenied`` (403: another
        role, or another court's case), ``CaseRejected`` (422: bad body, unknown court, a judge
        login that is not an active judge of that court)."""
        self.authorize_push(actor)
        case = self.parse(body)
        try:
            check_push_case(actor, case.court_code)
        except AccessDenied as exc:
            exc.about(action="case_push", case_number=case.case_number, case_court=case.court_code)
            raise
        done = await self.registry.push(case, actor.login)
        metrics.CASES_PUSHED.labels(outcome=done.outcome).inc()
        view = await self.registry.get(done.case_id)
        assert view is not None
        return done, case_view(view)

    async def import_lines(self, actor: Actor, lines: Iterable[ImportLine], *, request_id: str = "") -> ImportReport:
        """Push every good line of an NDJSON import (each in a savepoint of its own) and report
        every line: ``lines == created + updated + unchanged + rejected_count``. A bad line (not
        JSON, bad case, unknown court, another court's case) is rejected with its number and the
        reason; lines of another court are also audited once, as one ``refusal`` record.

        Who: a court's ``case_system`` account. Raises ``AccessDenied`` (403) for any other actor;
        nothing else: every problem of a line is in the report."""
        self.authorize_push(actor)
        report = ImportReport()
        good: list[tuple[int, CaseInput]] = []
        refused_lines: list[int] = []
        for line in lines:
            report.lines += 1  # every non-blank line is counted, and ends up accepted or rejected
            if line.refused is not None:
                code, en, zh = line.refused
                report.reject(line.number, None, code, None, en, zh)
                continue
            try:
                body = parse_json(line.raw)
            except JsonRejected as exc:
                report.reject(line.number, None, exc.code, exc.field, exc.message_en, exc.message_zh)
                continue
            number = _case_number_of(body)
            try:
                case = self.parse(body)
            except CaseRejected as exc:
                report.reject(line.number, number, exc.code, exc.field, exc.message_en, exc.message_zh)
                continue
            if case.court_code != actor.court_code:
                refused_lines.append(line.number)
                report.reject(line.number, case.case_number, "other_court", "court_code",
                              "A case-management system pushes only its own court's cases.",
                              "审判管理系统仅可推送本院案件")
                continue
            good.append((line.number, case))
        for result in await self.registry.push_many(good, actor.login):
            self._count(report, result)
        if refused_lines:
            await self.registry.record_audit(AuditEntry(
                action="refusal", actor_login=actor.login, actor_role=actor.role, actor_court=actor.court_code,
                reason="other_court", target="POST /api/v1/cases:import", request_id=request_id,
                details={"attempted": "case_push", "lines": refused_lines[:MAX_REPORTED_REJECTIONS],
                         "count": len(refused_lines)},
            ))
            metrics.ACCESS_DENIED.labels(reason="other_court").inc()
        return report

    def _count(self, report: ImportReport, result: RowResult) -> None:
        if result.rejected is not None:
            exc = result.rejected
            report.reject(result.line, result.case_number, exc.code, exc.field, exc.message_en, exc.message_zh)
            return
        assert result.upserted is not None
        outcome = result.upserted.outcome
        setattr(report, outcome, getattr(report, outcome) + 1)
        metrics.CASES_PUSHED.labels(outcome=outcome).inc()
        report.cases.append({"line": result.line, "case_number": result.case_number, "id": result.upserted.case_id,
                             "outcome": outcome})
        if result.upserted.conflicts:
            report.conflicts_count += 1
            metrics.CASES_PUSHED.labels(outcome="conflict").inc()
            if len(report.conflicts) < MAX_REPORTED_REJECTIONS:
                report.conflicts.append({
                    "line": result.line, "case_number": result.case_number, "id": result.upserted.case_id,
                    "conflict_id": result.upserted.conflict_id,
                    "fields": [c.to_dict() for c in result.upserted.conflicts]})

    async def push_conflicts(self, actor: Actor, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Pushes kept for review (latest first) and their total.

        Who: a court's supervisor and case system read their court's (``check_read_push_conflicts``).
        Raises ``AccessDenied`` (403) for anyone else."""
        court = check_read_push_conflicts(actor)
        rows, total = await self.registry.push_conflicts(court, limit, offset)
        return [{"id": r.id, "case_id": r.case_id, "case_number": r.case_number,
                 "court_code": r.court_code, "fields": r.fields, "pushed_by": r.pushed_by,
                 "first_seen_at": r.first_seen_at.isoformat(), "last_seen_at": r.last_seen_at.isoformat(),
                 "times": r.times,
                 "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None} for r in rows], total

    async def find(self, actor: Actor, f: CaseFilter) -> tuple[list[dict[str, Any]], int]:
        """One page of cases (most urgent first unless ``f.order`` says otherwise) and the total, as the API shows them.

        Who: a judge sees only their own cases (``judge_login`` is forced to theirs); a supervisor
        or case system their court's (``court_code`` is forced to theirs). Raises
        ``AccessDenied`` (403) for a role that may not list cases."""
        scope = case_list_scope(actor)
        f = replace(f, court_code=scope.court_code, judge_login=scope.judge_login or f.judge_login)
        rows, total = await self.registry.find(f)
        return [case_view(r) for r in rows], total

    async def get(self, actor: Actor, case_id: int) -> dict[str, Any]:
        """The case with its parties, amounts, lifecycle events and searches.

        Who: as ``check_read`` decides (点对点: the case's judge, a supervisor of its court, its
        court's case system). Raises ``CaseNotFound`` (404), ``AccessDenied`` (403)."""
        row = await self.registry.get(case_id)
        if row is None:
            raise CaseNotFound(f"Case {case_id} does not exist.", message_zh=f"案件 {case_id} 不存在")
        try:
            check_read(actor, CaseAccess(row.id, row.court_code, row.judge_login, row.status))
        except AccessDenied as exc:
            exc.about(action="case_read", case_id=row.id, case_number=row.case_number,
                      case_court=row.court_code)
            raise
        view = case_view(row)
        view["events"] = [_event_view(e) for e in await self.registry.events(case_id)]
        view["searches"] = [_search_view(s) for s in await self.registry.searches(case_id)]
        return view


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_view(r: CaseRecord) -> dict[str, Any]:
    """The case as the API shows it (``Case`` in schemas/openapi.yaml)."""
    applicant = next((p for p in r.parties if p.role == "applicant"), None)
    return {
        "id": r.id,
        "case_number": r.case_number,
        "case_number_as_written": r.case_number_as_written or r.case_number,
        "court_code": r.court_code,
        "court_name": r.court_name,
        "case_type": r.case_type,
        "judge": ({"login": r.judge_login, "name": r.judge_name, "officer_id": r.judge_officer_id}
                  if r.judge_login else None),
        "applicant": ({"kind": applicant.kind, "id_number": applicant.id_number, "name": applicant.name}
                      if applicant else {"kind": None, "id_number": None, "name": r.applicant_name}),
        "debtors": [{"kind": p.kind, "id_number": p.id_number, "name": p.name,
                     "responsible_persons": [x.to_dict() for x in p.responsible]}
                    for p in r.parties if p.role == "debtor"],
        "cause": r.cause,
        "amount_to_enforce": f"{r.amount_to_enforce:.2f}",
        "amount_recovered": f"{r.amount_recovered:.2f}",
        "non_litigation": r.non_litigation,
        "filed_on": r.filed_on.isoformat(),
        "status": r.status,
        "closure_mode": r.closure_mode,
        "closed_on": _iso(r.closed_on),
        "statutory_deadline": _iso(r.statutory_deadline),
        "overdue": r.overdue,
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
    }


def _event_view(e: EventRecord) -> dict[str, Any]:
    """An event as ``CaseEvent`` of the lifecycle (issue 5) shows it, without its display name."""
    return {"id": e.id, "type": e.event_type, "occurred_on": e.occurred_on.isoformat(), "data": e.data,
            "source": e.source, "recorded_at": e.recorded_at.isoformat()}


def _search_view(s: CaseSearch) -> dict[str, Any]:
    return {
        "id": str(s.id),
        "subject": {"kind": s.subject_kind, "id_number": s.subject_id_number, "name": s.subject_name},
        "purpose": s.purpose,
        "status": s.status,
        "requested_by": s.requested_by,
        "created_at": s.created_at.isoformat(),
        "completed_at": s.completed_at.isoformat() if s.completed_at else None,
        "agencies": s.agencies,
        "answered": s.answered,
    }


__all__ = ["CaseService", "ImportReport", "StructureCheck", "case_view"]
