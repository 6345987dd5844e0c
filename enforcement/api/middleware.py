"""Request id, error mapping and request metrics: the outermost middlewares."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from enforcement.api.errors import ApiError
from enforcement.api.keys import REQUEST_ID
from enforcement.api.params import check_query_text
from enforcement.domain.authorization import AccessDenied
from enforcement.domain.errors import DomainError, NotFoundError, StateConflict
from enforcement.kernel import metrics
from enforcement.kernel.db_errors import is_database_unavailable

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(code: str, message_en: str, message_zh: str, request_id: str, **details: object) -> dict[str, object]:
    """The JSON error body every refusal and failure answers with."""
    body: dict[str, object] = {
        "error": {"code": code, "message": {"zh": message_zh, "en": message_en}, "request_id": request_id}
    }
    if details:
        body["error"]["details"] = details  # type: ignore[index]
    return body


def domain_status(exc: DomainError) -> int:
    """The HTTP status of a domain error: 403 refused, 404 not found, 409 conflict, else 422."""
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, StateConflict):
        return 409
    return 422


# The request metrics' labelled children, looked up once per label set (``labels()`` validates
# and locks on every call; issue 19), as the dispatcher does.
@functools.lru_cache(maxsize=4096)  # bounded: the method is the client's word
def _requests(route: str, method: str, status: str) -> Any:
    return metrics.HTTP_REQUESTS.labels(route=route, method=method, status=status)


@functools.lru_cache(maxsize=4096)  # bounded: the method is the client's word
def _duration(route: str, method: str) -> Any:
    return metrics.HTTP_DURATION.labels(route=route, method=method)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request its id and log context, and turn every error into the JSON error body."""
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    if len(request_id) > 64 or not request_id.replace("-", "").isalnum():
        request_id = uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    resource = request.match_info.route.resource
    route = resource.canonical if resource else "unmatched"
    status = 500
    try:
        response = await _mapped(request, handler, request_id)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        method = request.method
        _requests(route, method, f"{status // 100}xx").inc()
        _duration(route, method).observe(time.perf_counter() - started)
        structlog.contextvars.unbind_contextvars("request_id")


async def _mapped(request: web.Request, handler: Handler, request_id: str) -> web.StreamResponse:
    try:
        check_query_text(request)
        return await handler(request)
    except ApiError as exc:
        return web.json_response(
            error_body(exc.error_code, exc.message_en, exc.message_zh, request_id, **exc.details),
            status=exc.status,
        )
    except DomainError as exc:
        status = domain_status(exc)
        return web.json_response(
            error_body(exc.code, exc.message_en, exc.message_zh, request_id, **exc.details), status=status
        )
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(exc.status, "http_error")
            zh = {404: "资源不存在", 405: "不支持该请求方法", 413: "请求内容过大"}.get(exc.status, "请求失败")
            # Keep the exception's own headers (Allow on a 405), not its plain-text body's.
            kept = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")}
            return web.json_response(error_body(code, exc.reason, zh, request_id), status=exc.status, headers=kept)
        raise
    except Exception as exc:
        if is_database_unavailable(exc):
            log.warning("database_unavailable", error=type(exc).__name__)
            return web.json_response(
                error_body("unavailable", "The database is unavailable; try again shortly.",
                           "数据库暂时不可用，请稍后重试", request_id),
                status=503,
                headers={"Retry-After": "2"},
            )
        log.error("unhandled_error", error=type(exc).__name__, exc_info=True)
        return web.json_response(
            error_body("internal_error", "Internal error; the request id helps operations find it.",
                       "服务器内部错误，请提供请求编号以便排查", request_id),
            status=500,
        )


__all__ = ["error_body", "request_context"]
