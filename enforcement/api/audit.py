"""``GET /api/v1/audit``: a supervisor reads the audit trail of their court (records about its
cases, or made by its users); ops reads the records that belong to no court (refusals of ops and
agency accounts, 401s, callback refusals; ``court_code`` null). Newest first, paged by ``before``
(a seq).

Only chained records are listed: each has its seq and hash, and the paging by seq is stable. A
record is written with its action and takes its place in the chain within about a second
(decision 0404); until then it is not shown here (``enforcement audit verify`` reports records
that wait too long)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from enforcement.api.keys import AUDIT, POOL, actor_of
from enforcement.api.params import query_int, query_time
from enforcement.domain.audit import AuditRecord, format_time
from enforcement.domain.authorization import check_read_audit
from enforcement.domain.privacy import mask_id_number
from enforcement.kernel.audit import AuditFilter

routes = web.RouteTableDef()

MAX_PAGE = 500


def masked_subject(subject_key: str | None) -> dict[str, str] | None:
    """The audited subject as it is shown: its kind and its masked number."""
    if not subject_key:
        return None
    kind, _, number = subject_key.partition(":")
    return {"kind": kind, "id_number": mask_id_number(number)}


def record_view(rec: AuditRecord) -> dict[str, Any]:
    """One audit record as the API shows it (the subject masked)."""
    e = rec.entry
    return {
        "seq": rec.seq,
        "at": format_time(rec.at),
        "action": e.action,
        "actor": {"login": e.actor_login, "role": e.actor_role, "court_code": e.actor_court},
        "case": ({"id": e.case_id, "case_number": e.case_number, "court_code": e.case_court}
                 if e.case_id is not None or e.case_number is not None else None),
        "subject": masked_subject(e.subject_key),
        "purpose": e.purpose,
        "reason": e.reason,
        "target": e.target,
        "request_id": e.request_id,
        "details": dict(e.details),
        "prev_hash": rec.prev_hash,
        "hash": rec.hash,
    }


@routes.get("/api/v1/audit")
async def audit_trail(request: web.Request) -> web.Response:
    """A page of the audit trail: a supervisor their court's records, ops those of no court (403 otherwise)."""
    actor = actor_of(request)
    court = check_read_audit(actor)
    limit = query_int(request, "limit", default=100, low=1, high=MAX_PAGE)
    assert limit is not None
    f = AuditFilter(
        court_code=court,
        case_id=query_int(request, "case_id", default=None, low=1, high=2**62),
        actor_login=request.query.get("actor") or None,
        action=request.query.get("action") or None,
        since=query_time(request, "since"),
        until=query_time(request, "until"),
        before_seq=query_int(request, "before", default=None, low=1, high=2**62),
        limit=limit,
    )
    records = await request.app[AUDIT].page(request.app[POOL], f)
    next_before = records[-1].seq if len(records) == limit else None
    return web.json_response({"court_code": court, "items": [record_view(r) for r in records],
                              "next_before": next_before})


__all__ = ["masked_subject", "record_view", "routes"]
