"""Transport-level translation of HTTP failures into the three error kinds.

Wire clients call ``fetch_json``; it returns the parsed JSON body and the status, or raises
TransientError / AuthError / RejectedError. Agency-specific error styles inside a 200 body are
the wire client's job, on top of this.

A 401/403 raises ``AuthError`` carrying the agency's own reason (read from the body: the
message is ``... (HTTP 401): <reason>`` and ``exc.detail`` is the parsed body). A client that
wants to map the agency's auth codes itself passes ``auth_statuses=frozenset()`` and reads the
answer like any other 4xx.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from connectors.sdk.errors import AuthError, RejectedError, TransientError


@dataclass(frozen=True, slots=True)
class WireResponse:
    status: int
    body: Any
    headers: Mapping[str, str]


# Keys under which agencies put a human-readable reason, in the order they are tried.
REASON_KEYS = (
    "errmsg",
    "ErrorMessage",
    "retMsg",
    "msg",
    "message",
    "detail",
    "title",
    "error_description",
    "reason",
    "error",
)
REASON_MAX_CHARS = 200


def agency_reason(body: Any, *, _depth: int = 0) -> str | None:
    """The human-readable reason in an agency's error answer, whatever its envelope style
    (``{"errmsg"}``, ``{"head": {"retMsg"}}``, RFC 7807 ``{"detail"}``...), or None."""
    if not isinstance(body, Mapping) or _depth > 3:
        return None
    for key in REASON_KEYS:
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:REASON_MAX_CHARS]
    for value in body.values():
        found = agency_reason(value, _depth=_depth + 1)
        if found:
            return found
    return None


def _lenient_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # HTTP-date form: not used by our agencies; fall back to backoff


async def fetch_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 - the connector's policy timeout, applied here
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    ok_statuses: frozenset[int] = frozenset({200, 201, 202}),
    auth_statuses: frozenset[int] = frozenset({401, 403}),
) -> WireResponse:
    """One HTTP exchange, bounded by ``timeout`` seconds in total (headers and body)."""
    try:
        async with asyncio.timeout(timeout):
            async with session.request(
                method,
                url,
                data=None if json_body is None else json.dumps(json_body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
                params=params,
            ) as resp:
                raw = await resp.read()
                status, ctype, resp_headers = resp.status, resp.content_type, dict(resp.headers)
    except TimeoutError as exc:
        raise TransientError(f"no answer within {timeout:g}s", code="timeout") from exc
    except aiohttp.ClientError as exc:
        raise TransientError(f"connection failed: {type(exc).__name__}", code="connection") from exc

    retry_after = parse_retry_after(resp_headers.get("Retry-After"))
    if status in (429, 503):
        raise TransientError(f"agency busy (HTTP {status})", code=f"http_{status}", retry_after=retry_after)
    if status >= 500:
        raise TransientError(f"agency error (HTTP {status})", code=f"http_{status}")
    if status in auth_statuses:
        detail = _lenient_json(raw)
        reason = agency_reason(detail)
        raise AuthError(
            f"agency refused our credentials (HTTP {status})" + (f": {reason}" if reason else ""),
            code=f"http_{status}",
            detail=detail,
        )
    body: Any = None
    if raw:
        if ctype not in ("application/json", "text/json") and not ctype.endswith("+json"):
            raise TransientError(f"unexpected content type {ctype!r}", code="bad_content_type")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TransientError("malformed JSON from agency", code="malformed") from exc
    if status not in ok_statuses:
        if 400 <= status < 500:
            return WireResponse(status, body, resp_headers)  # the client reads the agency's reason
        raise RejectedError(f"unexpected HTTP {status}", code=f"http_{status}")
    return WireResponse(status, body, resp_headers)


def require(body: Any, *path: str) -> Any:
    """Walk ``body`` by keys; a missing key is a malformed answer (transient: ask again)."""
    node = body
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise TransientError(f"answer lacks {'.'.join(path)}", code="malformed")
        node = node[key]
    return node


__all__ = [
    "REASON_KEYS",
    "WireResponse",
    "agency_reason",
    "fetch_json",
    "parse_retry_after",
    "require",
]
