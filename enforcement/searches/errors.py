"""Every error the searches feature raises, in one place.

::

    DomainError (enforcement.domain.errors)
    ├── NotFoundError
    │   ├── CaseNotFound        (enforcement.domain.errors: one definition for every feature)
    │   ├── SearchNotFound      search_not_found        404
    │   └── BatchNotFound       batch_not_found         404
    ├── InvalidPurpose          invalid_purpose         422
    ├── NoAgencyCovers          no_agency               422
    ├── BatchInvalid            batch_invalid           422 (names every bad row)
    └── BatchEmpty              batch_empty             422
    AccessDenied (enforcement.domain.authorization)      403, audited as a refusal
    CallbackRefused (Exception)  a signed callback refused: its own status and reason
    TransientError (connectors.sdk.errors)
    └── BreakerOpen             breaker_open            the task waits (never reaches a caller)

A leaf module: it imports only the roots it extends.
"""

from __future__ import annotations

from connectors.sdk.errors import TransientError
from enforcement.domain.errors import CaseNotFound, DomainError, NotFoundError


class SearchNotFound(NotFoundError):
    """No such search."""

    default_zh = "查询记录不存在"
    code = "search_not_found"


class InvalidPurpose(DomainError):
    """The purpose of the search is not one of the lawful purposes."""

    default_zh = "查询事由不合法"
    code = "invalid_purpose"


class NoAgencyCovers(DomainError):
    """No connected agency answers for this kind of subject."""

    default_zh = "没有可查询该类主体的协查单位"
    code = "no_agency"


class BatchInvalid(DomainError):
    """Some rows of the bulk search are invalid; nothing was stored."""

    default_zh = "批量查询中有不合格的行，未作任何查询"
    code = "batch_invalid"


class BatchEmpty(DomainError):
    """The bulk search names no subject."""

    default_zh = "批量查询中没有查询对象"
    code = "batch_empty"


class BatchNotFound(NotFoundError):
    """No such bulk search."""

    default_zh = "批量查询不存在"
    code = "batch_not_found"


class CallbackRefused(Exception):
    """A callback the service will not act on, with an HTTP status and a reason in both languages."""

    def __init__(self, status: int, reason: str, message_en: str, message_zh: str) -> None:
        super().__init__(message_en)
        self.status = status
        self.reason = reason
        self.message_en = message_en
        self.message_zh = message_zh


class BreakerOpen(TransientError):
    """The agency's circuit breaker is open; the task waits."""


def case_not_found(case_id: int) -> CaseNotFound:
    """The one wording of a missing case, as every search path says it."""
    return CaseNotFound(f"Case {case_id} does not exist.", message_zh=f"案件 {case_id} 不存在", code="case_not_found")


__all__ = [
    "BatchEmpty",
    "BatchInvalid",
    "BatchNotFound",
    "BreakerOpen",
    "CallbackRefused",
    "CaseNotFound",
    "InvalidPurpose",
    "NoAgencyCovers",
    "SearchNotFound",
    "case_not_found",
]
