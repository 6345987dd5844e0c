"""The judge's alerts: listed for the case's judge (or a supervisor of the court), acknowledged or
resolved by them, each with its evidence and the action it calls for (resume the case, remove
the dishonest listing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from enforcement.cases.review import new_property_message
from enforcement.cases.store import alerts as store
from enforcement.domain.actors import Actor
from enforcement.domain.authorization import AccessDenied, CaseAccess, check_read
from enforcement.domain.errors import DomainError, NotFoundError
from enforcement.domain.lifecycle import ZHONGBEN

ALERT_KINDS = ("new_property", "consumption_breach", "dishonest_removal_due")
ALERT_STATUSES = ("open", "acknowledged", "resolved")


class AlertNotFound(NotFoundError):
    """No such alert."""

    default_zh = "提醒不存在"
    code = "alert_not_found"


class InvalidAlertStatus(DomainError):
    """An alert can be set to acknowledged or resolved."""

    default_zh = "提醒状态只能设为已阅（acknowledged）或已处理（resolved）"
    code = "invalid_alert_status"


def _message(row: Mapping[str, Any]) -> dict[str, str]:
    evidence = row["evidence"] if isinstance(row["evidence"], dict) else {}
    kind = row["kind"]
    if kind == "new_property":
        return new_property_message(list(evidence.get("assets") or []))
    if kind == "consumption_breach":
        message = evidence.get("message")
        if isinstance(message, dict):
            return {"zh": str(message.get("zh", "")), "en": str(message.get("en", ""))}
        return {"zh": "违反限制消费令", "en": "Breach of a consumption restriction"}
    done = evidence.get("empty_requeries_completed_on") or []
    due = row["due_on"].isoformat() if row["due_on"] else "?"
    return {"zh": f"终本后{len(done)}次复查均未发现新财产且无新线索，应于{due}前删除失信信息",
            "en": f"{len(done)} post-closure re-queries found nothing new and no lead came in: "
                  f"remove the dishonest listing by {due}"}


def _actions(row: Mapping[str, Any]) -> dict[str, Any]:
    href = f"/api/v1/cases/{row['case_id']}/events"
    if row["status"] == "resolved":
        return {}
    if row["kind"] == "new_property" and row["closure_mode"] == ZHONGBEN:
        return {"resume": {"method": "POST", "href": href, "body": {"type": "resumed"}}}
    if row["kind"] == "dishonest_removal_due":
        return {"delist": {"method": "POST", "href": href, "body": {"type": "dishonest_delisted"}}}
    return {}


def alert_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "kind": row["kind"],
        "status": row["status"],
        "message": _message(row),
        "case": {"id": int(row["case_id"]), "case_number": row["case_number"], "court_code": row["court_code"],
                 "judge_login": row["judge_login"], "status": row["case_status"], "closure_mode": row["closure_mode"]},
        "debtor": None if row["party_id"] is None else {"party_id": int(row["party_id"]), "name": row["debtor_name"]},
        "search_id": str(row["search_id"]) if row["search_id"] else None,
        "round_id": row["round_id"],
        "event_id": row["event_id"],
        "due_on": row["due_on"].isoformat() if row["due_on"] else None,
        "evidence": row["evidence"] if isinstance(row["evidence"], dict) else {},
        "actions": _actions(row),
        "raised_at": row["raised_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "acknowledged_by": row["acknowledged_by"],
        "acknowledged_at": row["acknowledged_at"].isoformat() if row["acknowledged_at"] else None,
    }


class AlertService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def list(self, actor: Actor, *, status: str | None = None, kind: str | None = None,
                   case_id: int | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        if actor.role == "judge":
            f = store.AlertFilter(judge_login=actor.login, court_code=actor.court_code)
        elif actor.role == "supervisor" and actor.court_code:
            f = store.AlertFilter(court_code=actor.court_code)
        else:
            raise AccessDenied("role_cannot_read_alerts", "Only judges and supervisors read alerts.",
                               "仅执行法官和院庭长可以查看提醒")
        f = store.AlertFilter(court_code=f.court_code, judge_login=f.judge_login, status=status, kind=kind,
                              case_id=case_id, limit=limit, offset=offset)
        rows, total = await store.list_alerts(self.pool, f)
        return {"total": total, "limit": limit, "offset": offset, "alerts": [alert_view(r) for r in rows]}

    async def set_status(self, actor: Actor, alert_id: int, status: str) -> dict[str, Any]:
        if status not in ("acknowledged", "resolved"):
            raise InvalidAlertStatus()
        row = await store.get_alert(self.pool, alert_id)
        if row is None:
            raise AlertNotFound()
        check_read(actor, CaseAccess(int(row["case_id"]), row["court_code"], row["judge_login"], row["case_status"]))
        await store.set_status(self.pool, alert_id, status, actor.login)
        updated = await store.get_alert(self.pool, alert_id)
        assert updated is not None
        return alert_view(updated)


__all__ = ["ALERT_KINDS", "ALERT_STATUSES", "AlertNotFound", "AlertService", "alert_view"]
