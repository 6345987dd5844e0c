"""Who may do what (DOMAIN.md section 6): pure decisions, no I/O.

A query is lawful only for the enforcement of a specific case, by the judge who holds it
(点对点): the case must be open, assigned to the asking judge, and the subject one of its
debtors. A supervisor reads within their own court. Each refusal has a stable reason code.
"""

from __future__ import annotations

from dataclasses import dataclass

from enforcement.domain.actors import Actor
from enforcement.domain.errors import DomainError


class AccessDenied(DomainError):
    """You may not do this."""

    default_zh = "无权执行此操作"

    def __init__(self, reason: str, message_en: str, message_zh: str) -> None:
        super().__init__(message_en, message_zh=message_zh, code=reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CaseAccess:
    """What the rules need to know about a case."""

    case_id: int
    court_code: str
    judge_login: str | None
    status: str


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
    """Results are read by the case's judge, or a supervisor of the same court."""
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
    raise AccessDenied("role_cannot_read", "Your role may not read search results.",
                       "您的角色无权查看查询结果")


__all__ = ["AccessDenied", "CaseAccess", "check_read", "check_search"]
