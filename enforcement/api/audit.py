"""``GET /api/v1/audit``: a supervisor reads the audit trail of their court (records about its
cases, or made by its users), newest first, paged by ``before`` (a seq)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from enforcement.api.errors import ValidationFailed
from enforcement.api.keys import AUDIT, POOL, actor_of
from enforcement.domain.audit import AuditRecord, format_time
from enforcement.domain.authorization import check_read_audit
from enforcement.domain.privacy import mask_id_number
from enforcement.store.audit import AuditFilter

routes = web.RouteTableDef()

MAX_PAGE = 500


def _int(request: web.Request, name: str, *, default: int | None, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be an integer from {low} to {high}.",
                               message_zh=f"{name} 须为 {low} 至 {high} 的整数", code="invalid_parameter",
                               parameter=name)
    return value


def _time(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be an ISO 8601 date or time.",
                               message_zh=f"{name} 须为 ISO 8601 日期或时间", code="invalid_parameter",
                               parameter=name) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def masked_subject(subject_key: str | None) -> dict[str, str] | None:
    """The audited subject as it is shown: its kind and its masked number."""
    if not subject_key:
        return None
    kind, _, number = subject_key.partition(":")
    return {"kind": kind, "id_number": mask_id_number(number)}


def record_view(rec: AuditRecord) -> dict[str, Any]:
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
    actor = actor_of(request)
    court = check_read_audit(actor)
    limit = _int(request, "limit", default=100, low=1, high=MAX_PAGE)
    assert limit is not None
    f = AuditFilter(
        court_code=court,
        case_id=_int(request, "case_id", default=None, low=1, high=2**62),
        actor_login=request.query.get("actor") or None,
        action=request.query.get("action") or None,
        since=_time(request, "since"),
        until=_time(request, "until"),
        before_seq=_int(request, "before", default=None, low=1, high=2**62),
        limit=limit,
    )
    records = await request.app[AUDIT].page(request.app[POOL], f)
    next_before = records[-1].seq if len(records) == limit else None
    return web.json_response({"court_code": court, "items": [record_view(r) for r in records],
                              "next_before": next_before})


__all__ = ["masked_subject", "record_view", "routes"]
