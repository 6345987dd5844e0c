"""Who may do what (DOMAIN.md section 6): pure decisions, no I/O.

A query is lawful only for the enforcement of a specific case, by the judge who holds it
(点对点): the case must be open, assigned to the asking judge, and the subject one of its
debtors. A supervisor reads within their own court. A court's case-management system
(``case_system``) pushes that court's cases and reads nothing. ``ops`` sees health and metrics
only, ``agency`` its own callbacks only. Each refusal has a stable reason code.

Every refusal is audited. ``AccessDenied.audit_context`` carries what the refusal was about (the
case, the subject, the purpose) for the audit record; it never goes into the response body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enforcement.domain.actors import Actor
from enforcement.domain.errors import DomainError


class AccessDenied(DomainError):
    """You may not do this."""

    default_zh = "无权执行此操作"

    def __init__(self, reason: str, message_en: str, message_zh: str) -> None:
        super().__init__(message_en, message_zh=message_zh, code=reason)
        self.reason = reason
        self.audit_context: dict[str, Any] = {}
        self.audited = False  # True once the refusal's own record(s) were written (a bulk search, row by row)

    def about(self, **context: Any) -> AccessDenied:
        """Record what the refused action was about (case, subject, purpose, action); chainable."""
        self.audit_context.update({k: v for k, v in context.items() if v is not None})
        return self


@dataclass(frozen=True, slots=True)
class CaseAccess:
    """What the rules need to know about a case."""

    case_id: int
    court_code: str
    judge_login: str | None
    status: str


def _role_denied(action_en: str, action_zh: str) -> AccessDenied:
    return AccessDenied("role_not_allowed", f"Your role may not {action_en}.", f"您的角色无权{action_zh}")


def check_search(actor: Actor, case: CaseAccess, *, subject_is_debtor: bool) -> None:
    if actor.role != "judge":
        raise AccessDenied("role_cannot_search", "Only the judge holding the case may search.",
                           "仅承办该案的执行法官可以发起查询")
    if case.judge_login != actor.login:
        raise AccessDenied("not_case_judge", "This case is not assigned to you.",
                           "该案件未分配给您，不能查询")
    if case.status != "open":
        raise AccessDenied("case_not_open", "Searches are allowed only for open cases.",
                           "仅可对在办案件发起查询")
    if not subject_is_debtor:
        raise AccessDenied("subject_not_debtor", "The subject is not a debtor of this case.",
                           "被查询主体不是本案被执行人")


def check_read(actor: Actor, case: CaseAccess) -> None:
    """A case and its results are read by the case's judge, or a supervisor of the same court."""
    if actor.role == "judge" and case.judge_login == actor.login:
        return
    if actor.role == "supervisor" and actor.court_code == case.court_code:
        return
    if actor.role == "supervisor":
        raise AccessDenied("other_court", "Supervisors read within their own court.",
                           "院庭长仅可查看本院案件")
    if actor.role == "judge":
        raise AccessDenied("not_case_judge", "This case is not assigned to you.",
                           "该案件未分配给您，不能查看")
    raise AccessDenied("role_cannot_read", "Your role may not read cases or search results.",
                       "您的角色无权查看案件或查询结果")


def check_read_push_conflicts(actor: Actor) -> str:
    """Pushes kept for review (decision 0901): a court's supervisor and case system read their
    court's; returns that court."""
    if actor.role in ("supervisor", "case_system") and actor.court_code:
        return actor.court_code
    if actor.role == "judge":
        raise AccessDenied("role_cannot_read_push_conflicts",
                           "Only a court's supervisor or case system reads the pushes kept for review.",
                           "仅本院院庭长或审判管理系统可查看待核对的推送")
    raise _role_denied("read the pushes kept for review", "查看待核对的推送")


def check_list_cases(actor: Actor) -> None:
    """Case lists: a judge sees their own cases, a supervisor their court's."""
    if actor.role not in ("judge", "supervisor"):
        raise AccessDenied("role_cannot_read", "Your role may not read cases or search results.",
                           "您的角色无权查看案件或查询结果")


def check_push_case(actor: Actor, court_code: str) -> None:
    """Cases are pushed by the case-management system of the court that holds them."""
    if actor.role != "case_system":
        raise AccessDenied("role_cannot_push_cases", "Only a court's case-management system may push cases.",
                           "仅法院审判管理系统可以推送案件")
    if actor.court_code != court_code:
        raise AccessDenied("other_court", "A case-management system pushes only its own court's cases.",
                           "审判管理系统仅可推送本院案件")


def check_read_audit(actor: Actor) -> str | None:
    """The audit trail is read by supervisors, within their court (returns that court), and by ops,
    who read the records that belong to no court (returns None): refusals of operations and
    agency accounts, of anonymous callers (401s) and of callbacks. Records about a case or by a
    court's user are never shown to ops."""
    if actor.role == "ops":
        return None
    if actor.role != "supervisor" or not actor.court_code:
        raise AccessDenied("role_cannot_read_audit", "Only supervisors (and ops, for what belongs to no court) "
                           "read the audit trail.", "仅院庭长（及运维人员，限不属于任何法院的记录）可以查看审计记录")
    return actor.court_code


# Coarse gate in front of every /api/ route: roles that are refused before any handler runs.
# ops: health and metrics only (and the agencies' health, GET /api/v1/agencies, and the audit records
# that belong to no court, GET /api/v1/audit); agency: its own
# (HMAC-signed) callbacks only, which bypass bearer authentication; case_system: the case
# registry only (cases and their events).
API_PREFIXES_BY_ROLE: dict[str, tuple[str, ...] | None] = {
    "judge": None,            # None: every route; the handlers decide
    "supervisor": None,
    "case_system": ("/api/v1/cases",),
    "ops": ("/api/v1/agencies", "/api/v1/audit"),
    "agency": (),
}


def check_api_gate(actor: Actor, path: str) -> None:
    allowed = API_PREFIXES_BY_ROLE.get(actor.role, ())
    if allowed is None or any(path == p or path.startswith((p + "/", p + ":")) for p in allowed):
        return
    raise _role_denied("use this part of the API", "使用该接口")


__all__ = [
    "API_PREFIXES_BY_ROLE",
    "AccessDenied",
    "CaseAccess",
    "check_api_gate",
    "check_list_cases",
    "check_push_case",
    "check_read",
    "check_read_audit",
    "check_search",
]
