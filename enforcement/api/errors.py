"""API errors: one root, each class's docstring its default English message and ``zh`` its
Chinese one; the middleware turns any of them (and any DomainError) into a JSON body with a
stable ``code``, both messages and the request id. Raised by the edge (parsing, bodies, tokens);
the rules raise ``domain.errors`` classes instead.

The class tree (status, default code)::

    ApiError                500  internal_error     the request could not be served
    ├── BadRequest          400  bad_request        malformed (syntax, encoding, content type)
    ├── ValidationFailed    422  validation_failed  well formed, invalid content
    ├── Unauthenticated     401  unauthenticated    no valid bearer token (audited, bounded)
    ├── Forbidden           403  forbidden          an edge refusal (audited; rules raise AccessDenied)
    ├── NotFound            404  not_found          no such resource
    ├── Conflict            409  conflict           the resource's state does not allow this
    ├── PayloadTooLarge     413  payload_too_large  the body is over its route's limit
    └── Unavailable         503  unavailable        the database or a key source is away; retry

A route narrows the code per instance (``NotFound(..., code="user_not_found")``) or by a subclass
(``api.web.DemoSignInDisabled``).
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    """The request could not be served."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    zh: ClassVar[str] = "服务器内部错误"

    def __init__(self, message_en: str | None = None, *, message_zh: str | None = None,
                 code: str | None = None, **details: Any) -> None:
        self.message_en = message_en or (type(self).__doc__ or "").strip()
        self.message_zh = message_zh or self.zh
        self.error_code = code or self.code
        self.details = details
        super().__init__(self.message_en)


class BadRequest(ApiError):
    """The request is malformed."""

    status, code, zh = 400, "bad_request", "请求格式错误"


class ValidationFailed(ApiError):
    """The request's content is invalid."""

    status, code, zh = 422, "validation_failed", "请求内容不合法"


class Unauthenticated(ApiError):
    """A valid bearer token is required."""

    status, code, zh = 401, "unauthenticated", "需要有效的身份令牌"


class Forbidden(ApiError):
    """You may not do this."""

    status, code, zh = 403, "forbidden", "无权执行此操作"


class NotFound(ApiError):
    """No such resource."""

    status, code, zh = 404, "not_found", "资源不存在"


class Conflict(ApiError):
    """The resource is not in a state that allows this."""

    status, code, zh = 409, "conflict", "资源状态不允许此操作"


class PayloadTooLarge(ApiError):
    """The request body is too large."""

    status, code, zh = 413, "payload_too_large", "请求内容过大"


class Unavailable(ApiError):
    """The service is temporarily unavailable; try again shortly."""

    status, code, zh = 503, "unavailable", "服务暂时不可用，请稍后重试"


__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "Unauthenticated",
    "Unavailable",
    "ValidationFailed",
]
