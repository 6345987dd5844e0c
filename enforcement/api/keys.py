"""Typed keys for what the composition root puts on the application and the request.

App-wide keys only; a service's key lives beside its type (``kernel.pool.POOL``,
``kernel.users.USERS``, ``api.auth.DEMO_ISSUER``, ...). ``POOL`` and ``DSN`` are re-exported here
for the routes that still read the pool.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from connectors.sdk.registry import Registry
from enforcement.domain.actors import Actor
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.pool import DSN, POOL
from enforcement.kernel.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
AUDIT = web.AppKey("audit", AuditLog)  # the audit chain: request.app[AUDIT].append(conn, entry) / .record(pool, entry)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
REGISTRY = web.AppKey("registry", Registry)

# Request-scoped values (request[...]).
ACTOR = web.RequestKey("actor", Actor)
REQUEST_ID = web.RequestKey("request_id", str)
# The user a verified token names, on a route whose handler looks them up itself (api.auth.PendingActor).
PENDING_ACTOR: web.RequestKey[Any] = web.RequestKey("pending_actor")


def actor_of(request: web.Request) -> Actor:
    """The authenticated actor of the request; raises ``Unauthenticated`` when there is none."""
    actor = request.get(ACTOR)
    if not isinstance(actor, Actor):
        from enforcement.api.errors import Unauthenticated

        raise Unauthenticated()
    return actor


def pending_actor_of(request: web.Request) -> Any:
    """The request's ``api.auth.PendingActor`` (the token's user, to be looked up by the
    handler's statement and settled), or None when the middleware looked the user up already."""
    return request.get(PENDING_ACTOR)


def request_id_of(request: web.Request) -> str:
    """The request's id (``X-Request-Id`` or one made up), for logs, errors and audit records."""
    value: Any = request.get(REQUEST_ID, "")
    return str(value)


__all__ = [
    "ACTOR", "AUDIT", "DSN", "HTTP_SESSION", "PENDING_ACTOR", "POOL", "REGISTRY", "REQUEST_ID",
    "SETTINGS", "actor_of", "pending_actor_of", "request_id_of",
]
