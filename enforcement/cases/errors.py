"""The cases feature's errors, in one place. Each class's docstring is its default English message,
``default_zh`` its Chinese one, ``code`` the stable code the API sends.

A leaf module: it imports only the domain's errors. The tree, with the domain errors the cases
services also raise (defined in ``enforcement.domain``, not here)::

    DomainError                                   (enforcement.domain.errors)
    ├── NotFoundError                      404
    │   ├── CaseNotFound            case_not_found           (enforcement.domain.errors)
    │   ├── AlertNotFound           alert_not_found
    │   └── IndicatorNotFound       indicator_not_found
    ├── StateConflict                      409
    │   └── ClosureRefused          closure_conditions_missing
    ├── InvalidOverride             override_reason_required   422
    ├── InvalidAlertStatus          invalid_alert_status       422
    ├── InvalidWindow               invalid_window             422
    ├── AccessDenied (403)                                  (enforcement.domain.authorization)
    ├── CaseRejected (422, per field)                       (enforcement.domain.cases)
    └── EventConflict (409)                                 (enforcement.domain.lifecycle)

    ValueError
    └── UnknownIndicatorFunction    a registered indicator names no plain SQL identifier (a bug
                                    in the indicator's registration: a 500, never shown as such)
"""

from __future__ import annotations

from enforcement.domain.errors import DomainError, NotFoundError, StateConflict

__all__ = [
    "AlertNotFound",
    "ClosureRefused",
    "IndicatorNotFound",
    "InvalidAlertStatus",
    "InvalidOverride",
    "InvalidWindow",
    "UnknownIndicatorFunction",
]


class ClosureRefused(StateConflict):
    """The case may not be closed as 终本: a legal condition is missing."""

    default_zh = "终本条件不具备，不能以终结本次执行程序结案"
    code = "closure_conditions_missing"


class InvalidOverride(DomainError):
    """A supervisor's override needs a written reason."""

    default_zh = "越过终本条件须书面说明理由"
    code = "override_reason_required"


class AlertNotFound(NotFoundError):
    """No such alert."""

    default_zh = "提醒不存在"
    code = "alert_not_found"


class InvalidAlertStatus(DomainError):
    """An alert can be set to acknowledged or resolved."""

    default_zh = "提醒状态只能设为已阅（acknowledged）或已处理（resolved）"
    code = "invalid_alert_status"


class IndicatorNotFound(NotFoundError):
    """No such indicator."""

    default_zh = "指标不存在"
    code = "indicator_not_found"


class InvalidWindow(DomainError):
    """The window must have a start on or before its end."""

    default_zh = "统计期间无效：起始日期须不晚于结束日期"
    code = "invalid_window"


class UnknownIndicatorFunction(ValueError):
    """An indicator names a function that does not exist or is not a plain identifier."""
