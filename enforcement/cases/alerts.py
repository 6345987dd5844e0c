"""The judge's alerts: listed for the case's judge (or a supervisor of the court), acknowledged or
resolved by them, each with its evidence and the action it calls for (resume the case, remove
the dishonest listing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from enforcement.cases.errors import AlertNotFound, InvalidAlertStatus
from enforcement.cases.review import new_property_message
from enforcement.cases.store.alerts import Alert, AlertFilter, AlertStore
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import (
    CaseAccess,
    case_permissions,
    check_list_alerts,
    check_read,
    measure_permissions,
)
from enforcement.domain.lifecycle import ZHONGBEN
from enforcement.domain.measures import control_action

ALERT_KINDS = ("new_property", "consumption_breach", "dishonest_removal_due", "measure_renewal_due", "measure_lapsed")
ALERT_STATUSES = ("open", "acknowledged", "resolved")


def asset_words(natural_key: str) -> str:
    """A controlled asset as a judge reads it: a bank account's key ``开户行:账号:币种`` as
    ``开户行 账号 币种``; a VIN, a unit number or a holding as it is."""
    return " ".join(part for part in natural_key.split(":") if part)


def _message(row: Alert) -> dict[str, str]:
    evidence = row.evidence
    kind = row.kind
    if kind == "new_property":
        return new_property_message(list(evidence.get("assets") or []))
    if kind == "consumption_breach":
        message = evidence.get("message")
        if isinstance(message, dict):
            return {"zh": str(message.get("zh", "")), "en": str(message.get("en", ""))}
        return {"zh": "违反限制消费令", "en": "Breach of a consumption restriction"}
    if kind in ("measure_renewal_due", "measure_lapsed"):  # raised by the measures feature (issue 17)
        asset = asset_words(str(evidence.get("asset", "")))
        if kind == "measure_lapsed":
            return {"zh": f"控制措施（{asset}）已于{evidence.get('expired_on', '?')}到期失效，未续行",
                    "en": f"The control of {asset} lapsed on {evidence.get('expired_on', '?')} without renewal"}
        if evidence.get("advice") == "release":
            return {"zh": f"控制措施（{asset}）将于{evidence.get('expires_on', '?')}到期；本案执行已终结，应予解除",
                    "en": f"The control of {asset} expires on {evidence.get('expires_on', '?')}; the case's "
                          "enforcement has ended: release it"}
        return {"zh": f"控制措施（{asset}）将于{evidence.get('expires_on', '?')}到期，请及时续行",
                "en": f"The control of {asset} expires on {evidence.get('expires_on', '?')}: renew it in time"}
    done = evidence.get("empty_requeries_completed_on") or []
    due = row.due_on.isoformat() if row.due_on else "?"
    return {"zh": f"终本后{len(done)}次网络查询均未发现财产且无新线索，应于{due}前删除失信信息",
            "en": f"{len(done)} post-closure network searches found no property and no lead came in: "
                  f"remove the dishonest listing by {due}"}


def control_act(row: Alert) -> tuple[str, int] | None:
    """The act a renewal-due alert calls for on its control, and the control's measure id:
    ``renew``, or ``release`` when the case closed for good (the expiry watch wrote which in the
    evidence, with the measure's id)."""
    if row.kind != "measure_renewal_due" or not isinstance(row.evidence.get("measure_id"), int):
        return None
    measure_id = int(row.evidence["measure_id"])
    if row.evidence.get("renew_url"):
        return "renew", measure_id
    if row.evidence.get("release_url"):
        return "release", measure_id
    return None


# A renewal or release of the control already submitted, waiting or done answers the alert: it
# offers no second one (a refused or failed one, it offers again).
_ANSWERED = frozenset({"pending", "awaiting_approval", "done"})


def _actions(row: Alert, permitted: frozenset[str], today: date | None) -> dict[str, Any]:
    href = f"/api/v1/cases/{row.case_id}/events"
    if row.status == "resolved":
        return {}
    if row.kind == "new_property" and row.closure_mode == ZHONGBEN:
        if "record_events" not in permitted:
            return {}
        return {"resume": {"method": "POST", "href": href, "body": {"type": "resumed"}}}
    control = control_act(row)
    if control is not None:
        act, measure_id = control
        if act not in permitted or (row.follow_up is not None and row.follow_up.status in _ANSWERED):
            return {}
        # As GET /api/v1/measures offers it: the ruling defaulted to the case number and the court's date.
        return {act: control_action(act, measure_id, row.case_number, today)}
    if row.kind == "dishonest_removal_due" and "record_events" in permitted:
        return {"delist": {"method": "POST", "href": href, "body": {"type": "dishonest_delisted"}}}
    return {}


# The alerts whose action is a case event (resume, delist): offered by ``case_permissions``.
_EVENT_ACTION_KINDS = frozenset({"new_property", "dishonest_removal_due"})


def permitted_acts(actor: Actor | None, row: Alert) -> frozenset[str]:
    """What the actor may do about the alert, by the rule its action's API applies, from the case
    the alert row carries (no query): a control's alert, the case's measures
    (``measure_permissions``); a resumption or a delisting, the case's events
    (``case_permissions``: ``record_events``, as ``POST /api/v1/cases/{id}/events`` checks)."""
    if actor is None:
        return frozenset()
    case = CaseAccess(row.case_id, row.court_code, row.judge_login, row.case_status, row.closure_mode)
    if control_act(row) is not None:
        return measure_permissions(actor, case)
    if row.kind in _EVENT_ACTION_KINDS:
        return case_permissions(actor, case)
    return frozenset()


def alert_view(row: Alert, actor: Actor | None = None, today: date | None = None) -> dict[str, Any]:
    """The alert as the API shows ``actor`` it, with its message and the action it calls for, only
    when ``actor`` may take it (``permitted_acts``): a resumption or a delisting; a control's
    renewal or release (and none was submitted since), its ruling defaulted to the case number
    and ``today`` (the court's date)."""
    follow_up = row.follow_up
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "message": _message(row),
        "case": {"id": row.case_id, "case_number": row.case_number, "court_code": row.court_code,
                 "judge_login": row.judge_login, "status": row.case_status, "closure_mode": row.closure_mode},
        "debtor": None if row.party_id is None else {"party_id": row.party_id, "name": row.debtor_name},
        "search_id": str(row.search_id) if row.search_id else None,
        "round_id": row.round_id,
        "event_id": row.event_id,
        "due_on": row.due_on.isoformat() if row.due_on else None,
        "evidence": row.evidence,
        "actions": _actions(row, permitted_acts(actor, row), today),
        "follow_up": None if follow_up is None else {
            "id": follow_up.id, "kind": follow_up.kind, "status": follow_up.status,
            "notice_number": follow_up.notice_number},
        "raised_at": row.raised_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "acknowledged_by": row.acknowledged_by,
        "acknowledged_at": row.acknowledged_at.isoformat() if row.acknowledged_at else None,
        "resolved_by": row.resolved_by,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }


class AlertService:
    """The judge's alerts: listing and marking them. Built on an ``AlertStore``."""

    def __init__(self, store: AlertStore, today: Callable[[], date | None] = lambda: None) -> None:
        self.store = store
        # The court's date the measures are counted by (app.py: the measures' clock), the default
        # date of a renewal's ruling; None: the alerts carry no date.
        self.today = today

    async def list(self, actor: Actor, *, status: str | None = None, kind: str | None = None,
                   case_id: int | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """One page of alerts (newest first), filtered by status, kind, case.

        Who: a judge sees the alerts of their own cases, a supervisor their court's. Raises
        ``AccessDenied`` (403: ``role_cannot_read_alerts``) for anyone else."""
        scope = check_list_alerts(actor)
        f = AlertFilter(court_code=scope.court_code, judge_login=scope.judge_login, status=status, kind=kind,
                        case_id=case_id, limit=limit, offset=offset)
        rows, total = await self.store.list_alerts(f)
        today = self.today()
        return {"total": total, "limit": limit, "offset": offset,
                **({"today": today.isoformat()} if today else {}),
                "alerts": [alert_view(r, actor, today) for r in rows]}

    async def set_status(self, actor: Actor, alert_id: int, status: str, *, request_id: str = "") -> dict[str, Any]:
        """Mark an alert ``acknowledged`` or ``resolved`` (by the actor, now); return it. Audited
        (``alert_status_changed``: who, the case, ``{alert_kind, from, to}``) in the change's
        transaction; an acknowledgement is kept when the alert is resolved later (``resolved_by``).
        The status it has already changes nothing (no record).

        Who: whoever may read the alert's case (``check_read``). Raises ``InvalidAlertStatus``
        (422: another status), ``AlertNotFound`` (404), ``AccessDenied`` (403)."""
        if status not in ("acknowledged", "resolved"):
            raise InvalidAlertStatus()
        row = await self.store.get_alert(alert_id)
        if row is None:
            raise AlertNotFound()
        check_read(actor, CaseAccess(row.case_id, row.court_code, row.judge_login, row.case_status))
        await self.store.set_status(alert_id, status, AuditEntry(
            action="alert_status_changed", actor_login=actor.login, actor_role=str(actor.role),
            actor_court=actor.court_code, case_id=row.case_id, case_number=row.case_number,
            case_court=row.court_code, target=f"alert:{alert_id}", request_id=request_id))
        updated = await self.store.get_alert(alert_id)
        assert updated is not None
        return alert_view(updated, actor, self.today())


__all__ = ["ALERT_KINDS", "ALERT_STATUSES", "AlertService", "alert_view", "control_act", "permitted_acts"]
