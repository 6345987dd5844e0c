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

import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from enforcement.domain.actors import Actor
from enforcement.domain.errors import DomainError
from enforcement.domain.lifecycle import ZHONGBEN
from enforcement.domain.measures import KEEP_ON_CLOSURE


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
    closure_mode: str | None = None  # how a closed case closed (结案方式)


def _role_denied(action_en: str, action_zh: str) -> AccessDenied:
    return AccessDenied("role_not_allowed", f"Your role may not {action_en}.", f"您的角色无权{action_zh}")


def searchable(case: CaseAccess) -> bool:
    """Whether the case's enforcement still allows a search of its debtor: an open case, or a case
    closed as 终本 (终结本次执行程序: closed *for now*; the judge still holds it, the court must keep
    searching the debtor's property, SPC 2016 终本规定 art. 9, and the judge's own post-closure
    searches count for the 失信 removal rule, DOMAIN.md §4). Any other closure (执行完毕, 终结执行,
    销案, 不予执行, ...) ends the enforcement: no search. A suspended case (中止) is not searched.
    The SQL fragment ``case_and_serial_for_actor`` (cases.sql: both search statements take it in)
    writes the same rule (a test makes them agree)."""
    return case.status == "open" or (case.status == "closed" and case.closure_mode == ZHONGBEN)


def check_search(actor: Actor, case: CaseAccess, *, subject_is_debtor: bool) -> None:
    """点对点: the judge holding the case searches its debtor, while the case is ``searchable``."""
    if actor.role != "judge":
        raise AccessDenied("role_cannot_search", "Only the judge holding the case may search.",
                           "仅承办该案的执行法官可以发起查询")
    if case.judge_login != actor.login:
        raise AccessDenied("not_case_judge", "This case is not assigned to you.",
                           "该案件未分配给您，不能查询")
    if not searchable(case):
        raise AccessDenied("case_not_open", "Searches are allowed only for open cases and cases closed "
                           "as 终本 (terminated for now).", "仅可对在办案件及终结本次执行程序的案件发起查询")
    if not subject_is_debtor:
        raise AccessDenied("subject_not_debtor", "The subject is not a debtor of this case.",
                           "被查询主体不是本案被执行人")


def check_breach_check(actor: Actor, case: CaseAccess) -> None:
    """The consumption-restriction check of an organization debtor's responsible persons (a
    hotel search of each, for this case's enforcement: 点对点) is made by the judge holding the
    case, open or closed (an order outlives a 终本 closure; only persons under an order still in
    force are searched, which the caller decides)."""
    if actor.role != "judge":
        raise AccessDenied("role_cannot_search", "Only the judge holding the case may search.",
                           "仅承办该案的执行法官可以发起查询")
    if case.judge_login != actor.login:
        raise AccessDenied("not_case_judge", "This case is not assigned to you.",
                           "该案件未分配给您，不能查询")


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


def check_read_metrics(actor: Actor) -> None:
    """/metrics with a user's token: operations only."""
    if actor.role != "ops":
        raise AccessDenied("role_not_allowed", "Only operations may read the metrics.", "仅运维人员可以读取监控指标")


def check_may_push_cases(actor: Actor) -> None:
    """Before any case is parsed: only a case-management system with a court pushes cases (its
    court is then checked per case by ``check_push_case``)."""
    if actor.role != "case_system" or not actor.court_code:
        check_push_case(actor, "")


def check_import_events(actor: Actor) -> None:
    """NDJSON event imports come from a court's case-management system only (each line's case is
    then checked by ``check_record_event``)."""
    if actor.role != "case_system":
        raise AccessDenied("role_cannot_import_events", "Only a court's case-management system imports events.",
                           "仅法院审判管理系统可以批量导入案件节点").about(action="case_event_import")


def check_record_event(actor: Actor, case: CaseAccess) -> None:
    """Events come from the case's judge, a supervisor of its court, or its court's case system."""
    if actor.role == "judge" and case.judge_login == actor.login:
        return
    if actor.role in ("supervisor", "case_system") and actor.court_code == case.court_code:
        return
    if actor.role in ("supervisor", "case_system"):
        raise AccessDenied("other_court", "You may record events only for your own court's cases.",
                           "仅可为本院案件记录节点")
    if actor.role == "judge":
        raise AccessDenied("not_case_judge", "This case is not assigned to you.", "该案件未分配给您")
    raise AccessDenied("role_cannot_record_events", "Your role may not record case events.", "您的角色无权记录案件节点")


def check_override_closure(actor: Actor, case: CaseAccess) -> None:
    """A missing 终本 condition is overridden only by a supervisor of the case's court (with a
    written reason, which the caller checks)."""
    if actor.role != "supervisor" or actor.court_code != case.court_code:
        raise AccessDenied("override_requires_supervisor",
                           "Only a supervisor of the case's court may override a missing 终本 condition.",
                           "仅本院院庭长可以越过终本条件").about(action="closure_override", case_id=case.case_id,
                                                                case_court=case.court_code)


def check_search_batch(actor: Actor) -> None:
    """Bulk searches, like single ones, are sent by judges only (each row is then checked by
    ``check_search`` against its case)."""
    if actor.role != "judge":
        raise AccessDenied("role_cannot_search", "Only the judge holding the case may search.",
                           "仅承办该案的执行法官可以发起查询").about(action="search_batch")


def check_read_batch(actor: Actor, *, requested_by: str, court_code: str | None) -> None:
    """A bulk search is read by the judge who sent it, or a supervisor of its court."""
    if requested_by == actor.login:
        return
    if actor.role == "supervisor" and court_code and actor.court_code == court_code:
        return
    raise AccessDenied("not_batch_owner", "Only the judge who sent a bulk search (or a supervisor of the "
                       "court) may read it.", "仅发起该批量查询的法官或本院院庭长可以查看")


def check_read_agencies(actor: Actor) -> None:
    """The agencies' health: every signed-in role but an agency account (which the API gate
    already stops before the handler)."""
    if actor.role == "agency":
        raise AccessDenied("role_cannot_read", "Agency accounts may not read other agencies' health.",
                           "协查单位账号不能查看各单位运行状态")


# Measures that keep or end a control the court already holds, without executing on the asset.
_KEEP_OR_END = frozenset({"renew", "release"})


def check_measure(actor: Actor, case: CaseAccess, kind: str = "freeze") -> None:
    """A control measure (freeze, seal, renew, release, deduct) is taken only by the judge holding
    the case (the same 点对点 rule as a search); what the case's state allows, by ``kind``:

    | case                                    | freeze, seal | deduct | renew | release |
    | --------------------------------------- | ------------ | ------ | ----- | ------- |
    | open                                    | yes          | yes    | yes   | yes     |
    | suspended (中止)                        | no           | no     | yes   | yes     |
    | closed 终本 / 和解长期履行 (controls kept) | no: resume   | no: resume | yes | yes  |
    | closed otherwise (执行完毕, 终结执行, ...)  | no           | no     | no    | yes     |

    After 终本 the court keeps its controls (SPC 终本规定 2016) and must renew them before they
    lapse, or may release them; 和解长期履行 keeps them too (``measures.KEEP_ON_CLOSURE``, the
    closure advice). A new freeze or seal, and a deduction, act on executable property, which
    a 终本 case by definition has none of: property found re-opens the case (恢复执行, 执恢) and the
    measure is taken there (``resume_case_first``). While enforcement is suspended (中止) no act of
    enforcement is taken, but the controls stay and their terms keep running: renew or release only.
    Any other closure ends the enforcement: its controls may only be released."""
    if actor.role != "judge":
        raise AccessDenied("role_cannot_control", "Only the judge holding the case may take control measures.",
                           "仅承办该案的执行法官可以采取控制措施").about(action="measure", case_id=case.case_id)
    if case.judge_login != actor.login:
        raise AccessDenied("not_case_judge", "This case is not assigned to you.",
                           "该案件未分配给您，不能采取控制措施").about(action="measure", case_id=case.case_id)
    check_measure_state(case, kind)


def check_measure_state(case: CaseAccess, kind: str) -> None:
    """What the case's state allows (``check_measure``'s table), whoever acts: also what a
    supervisor's approval of a held deduction needs (an open case)."""
    if case.status == "open" or (kind in _KEEP_OR_END and case.status == "suspended"):
        return
    if case.status == "closed" and case.closure_mode in KEEP_ON_CLOSURE:
        if kind in _KEEP_OR_END:
            return
        raise AccessDenied("resume_case_first",
                           f"The case closed as {case.closure_mode}: its controls may be renewed or released; "
                           "to freeze, seal or deduct, resume the case (恢复执行) first.",
                           f"本案已以{case.closure_mode}方式结案：仅可续行或解除原控制措施；"
                           "如需冻结、查封或扣划，请先恢复执行").about(action="measure", case_id=case.case_id)
    if case.status == "closed" and kind == "release":
        return
    if case.status == "closed" and kind == "renew":
        raise AccessDenied("case_closed_release_only",
                           "The case's enforcement has ended: its controls may only be released.",
                           "本案执行已终结，其控制措施仅可解除").about(action="measure", case_id=case.case_id)
    raise AccessDenied("case_not_open", "New control measures and deductions are allowed only for open cases.",
                       "仅可对在办案件采取新的控制措施或扣划").about(action="measure", case_id=case.case_id)


def check_withdraw_measure(actor: Actor, case: CaseAccess) -> None:
    """A held deduction (awaiting approval) is withdrawn by the judge holding the case, whatever the
    case's state: withdrawing sends nothing."""
    if actor.role != "judge" or case.judge_login != actor.login:
        raise AccessDenied("not_case_judge", "Only the judge holding the case may withdraw its deduction.",
                           "仅承办该案的执行法官可以撤回该扣划").about(action="measure_withdraw", case_id=case.case_id)


def deduction_needs_approval(amount: Decimal, approval_threshold: Decimal) -> bool:
    """A deduction above the court's set amount waits for a supervisor's approval before it is sent."""
    return amount > approval_threshold


def check_approve_measure(actor: Actor, case: CaseAccess, *, approving: bool = True) -> None:
    """A deduction above the court's set amount is approved (or rejected: ``approving`` False) by a
    supervisor of the case's court. Approving sends it, so the case must still allow a deduction
    (``check_measure_state``: a case closed or suspended meanwhile refuses it); rejecting sends
    nothing and is allowed whatever the case's state."""
    if actor.role != "supervisor" or actor.court_code != case.court_code:
        raise AccessDenied("approval_requires_supervisor",
                           "Only a supervisor of the case's court may approve this deduction.",
                           "仅本院院庭长可以批准该扣划").about(action="measure_approval", case_id=case.case_id)
    if approving:
        check_measure_state(case, "deduct")


@dataclass(frozen=True, slots=True)
class Scope:
    """What a list query may return: the rows of ``court_code`` (None: no court bound), and of
    the cases held by ``judge_login`` (None: every judge of the court)."""

    court_code: str | None
    judge_login: str | None

    @property
    def court_wide(self) -> bool:
        return self.judge_login is None


def scope_of(actor: Actor) -> Scope:
    """The rows a list query (cases, alerts, indicators) shows this actor: a judge the cases they
    hold, in their court; a supervisor their court's. Any other role lists nothing
    (``role_cannot_read``; the callers may refine the code)."""
    if actor.role == "judge":
        return Scope(actor.court_code, actor.login)
    if actor.role == "supervisor" and actor.court_code:
        return Scope(actor.court_code, None)
    raise AccessDenied("role_cannot_read", "Your role may not read cases or search results.",
                       "您的角色无权查看案件或查询结果")


def case_list_scope(actor: Actor) -> Scope:
    """The cases a list shows this actor: a judge the cases they hold; a supervisor or the court's
    case system the court's (``check_list_cases`` refuses any other role)."""
    check_list_cases(actor)
    if actor.role == "judge":
        return Scope(None, actor.login)
    return Scope(actor.court_code, None)


def measure_list_scope(actor: Actor) -> Scope:
    """Measures across cases (renewals due, lapses, deductions awaiting approval: GET
    /api/v1/measures): a judge those of the cases they hold, a supervisor their court's."""
    try:
        return scope_of(actor)
    except AccessDenied:
        raise AccessDenied("role_cannot_read_measures", "Only judges and supervisors read control measures.",
                           "仅执行法官和院庭长可以查看控制措施").about(action="list_measures") from None


def check_list_alerts(actor: Actor) -> Scope:
    """Alerts: a judge reads those of the cases they hold (in their court), a supervisor their court's."""
    try:
        return scope_of(actor)
    except AccessDenied:
        raise AccessDenied("role_cannot_read_alerts", "Only judges and supervisors read alerts.",
                           "仅执行法官和院庭长可以查看提醒") from None


def indicator_scope(actor: Actor, *, court_code: str | None, judge_login: str | None) -> Scope:
    """The figures asked for (``court_code``, ``judge_login``; None: not narrowed), bound to what
    the actor may see: a supervisor their court's (any judge of it), a judge their own."""
    if actor.role == "supervisor" and actor.court_code:
        if court_code not in (None, actor.court_code):
            raise AccessDenied("other_court", "Supervisors read indicators of their own court.",
                               "院庭长仅可查看本院指标").about(action="indicators", case_court=court_code)
        return Scope(actor.court_code, judge_login)
    if actor.role == "judge":
        if judge_login not in (None, actor.login) or court_code not in (None, actor.court_code):
            raise AccessDenied("not_own_figures", "Judges read their own indicators only.",
                               "执行法官仅可查看本人的指标").about(action="indicators")
        return Scope(actor.court_code, actor.login)
    raise AccessDenied("role_cannot_read_indicators", "Only supervisors and judges read indicators.",
                       "仅院庭长和执行法官可以查看指标").about(action="indicators")


def _allowed(check: Callable[[], object]) -> bool:
    try:
        check()
    except AccessDenied:
        return False
    return True


def _read_agencies(actor: Actor) -> None:
    check_api_gate(actor, "/api/v1/agencies")
    check_read_agencies(actor)


def _court_wide(scope: Scope) -> None:
    if not scope.court_wide:
        raise AccessDenied("role_not_allowed", "This reads a whole court.", "仅可查看本人范围")


# What the workbench may offer the signed-in actor (GET /api/v1/workbench/me, the demo sign-in):
# each permission is the answer of the rule above for a case or a list of the actor's own, so the
# page and the API never disagree.
PERMISSIONS: dict[str, Callable[[Actor], object]] = {
    "list_cases": check_list_cases,
    "list_court_cases": lambda a: _court_wide(scope_of(a)),
    "search_own_cases": lambda a: check_search(a, CaseAccess(0, a.court_code or "", a.login, "open"),
                                               subject_is_debtor=True),
    "read_indicators": lambda a: indicator_scope(a, court_code=None, judge_login=None),
    "read_court_indicators": lambda a: _court_wide(indicator_scope(a, court_code=None, judge_login=None)),
    "read_alerts": check_list_alerts,
    "read_audit": check_read_audit,
    "read_metrics": check_read_metrics,
    "read_agencies": lambda a: _read_agencies(a),
    "read_push_conflicts": check_read_push_conflicts,
    "push_cases": check_may_push_cases,
    "override_closure": lambda a: check_override_closure(a, CaseAccess(0, a.court_code or "", None, "open")),
    "control_own_cases": lambda a: check_measure(a, CaseAccess(0, a.court_code or "", a.login, "open")),
    "read_measures": lambda a: measure_list_scope(a),
    "approve_deductions": lambda a: check_approve_measure(a, CaseAccess(0, a.court_code or "", None, "open")),
    "reject_deductions": lambda a: check_approve_measure(a, CaseAccess(0, a.court_code or "", None, "open"),
                                                         approving=False),
}


def permissions_of(actor: Actor) -> frozenset[str]:
    """The names of ``PERMISSIONS`` this actor holds."""
    return frozenset(name for name, rule in PERMISSIONS.items() if _allowed(functools.partial(rule, actor)))


def case_permissions(actor: Actor, case: CaseAccess) -> frozenset[str]:
    """What the actor may do with this case (for a case view): ``read``, ``search`` (a debtor of
    it), ``record_events``, ``override_closure``."""
    rules: dict[str, Callable[[], object]] = {
        "read": lambda: check_read(actor, case),
        "search": lambda: check_search(actor, case, subject_is_debtor=True),
        "record_events": lambda: check_record_event(actor, case),
        "override_closure": lambda: check_override_closure(actor, case),
    }
    return frozenset(name for name, rule in rules.items() if _allowed(rule))


MEASURE_ACTS = ("approve", "deduct", "freeze", "reject", "release", "renew", "seal", "withdraw")


def measure_permissions(actor: Actor, case: CaseAccess) -> frozenset[str]:
    """What the actor may do with this case's control measures (``MEASURE_ACTS``; the case page
    offers exactly these): a new ``freeze``/``seal``, a ``deduct``, a ``renew``, a ``release``
    (``check_measure`` by kind: a 终本 case renews and releases only), ``withdraw`` a held deduction
    (the case's judge), ``approve`` or ``reject`` one (a supervisor of its court)."""
    rules: dict[str, Callable[[], object]] = {
        **{kind: functools.partial(check_measure, actor, case, kind)
           for kind in ("freeze", "seal", "deduct", "renew", "release")},
        "withdraw": lambda: check_withdraw_measure(actor, case),
        "approve": lambda: check_approve_measure(actor, case),
        "reject": lambda: check_approve_measure(actor, case, approving=False),
    }
    return frozenset(name for name, rule in rules.items() if _allowed(rule))


# Coarse gate in front of every /api/ route: roles that are refused before any handler runs.
# ops: health and metrics only (and the agencies' health, GET /api/v1/agencies, the audit records
# that belong to no court, GET /api/v1/audit, and who they are, GET /api/v1/workbench/me, so the
# workbench opens on the agencies' page); agency: its own
# (HMAC-signed) callbacks only, which bypass bearer authentication; case_system: the case
# registry only (cases and their events).
API_PREFIXES_BY_ROLE: dict[str, tuple[str, ...] | None] = {
    "judge": None,            # None: every route; the handlers decide
    "supervisor": None,
    "case_system": ("/api/v1/cases",),
    "ops": ("/api/v1/agencies", "/api/v1/audit", "/api/v1/workbench/me"),
    "agency": (),
}


def check_api_gate(actor: Actor, path: str) -> None:
    allowed = API_PREFIXES_BY_ROLE.get(actor.role, ())
    if allowed is None or any(path == p or path.startswith((p + "/", p + ":")) for p in allowed):
        return
    raise _role_denied("use this part of the API", "使用该接口")


__all__ = [
    "API_PREFIXES_BY_ROLE",
    "MEASURE_ACTS",
    "PERMISSIONS",
    "AccessDenied",
    "CaseAccess",
    "Scope",
    "case_list_scope",
    "case_permissions",
    "check_api_gate",
    "check_approve_measure",
    "check_breach_check",
    "check_import_events",
    "check_list_alerts",
    "check_list_cases",
    "check_may_push_cases",
    "check_measure",
    "check_measure_state",
    "check_override_closure",
    "check_push_case",
    "check_read",
    "check_read_agencies",
    "check_read_audit",
    "check_read_batch",
    "check_read_metrics",
    "check_read_push_conflicts",
    "check_record_event",
    "check_search",
    "check_search_batch",
    "check_withdraw_measure",
    "deduction_needs_approval",
    "indicator_scope",
    "measure_list_scope",
    "measure_permissions",
    "permissions_of",
    "scope_of",
]
