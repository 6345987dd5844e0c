"""Typed keys for what the composition root puts on the application and the request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import asyncpg
from aiohttp import web

from connectors.sdk.registry import Registry
from enforcement.domain.actors import Actor
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.settings import Settings

if TYPE_CHECKING:
    from enforcement.searches.events import EventHub
    from enforcement.searches.runtime import AgencyRuntime
    from enforcement.searches.service import SearchService

SETTINGS = web.AppKey("settings", Settings)
AUDIT = web.AppKey("audit", AuditLog)  # the audit chain: request.app[AUDIT].append(conn, entry) / .record(pool, entry)
POOL = web.AppKey("pool", asyncpg.Pool)
DSN = web.AppKey("dsn", str)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
REGISTRY = web.AppKey("registry", Registry)
RUNTIMES: web.AppKey[Mapping[str, AgencyRuntime]] = web.AppKey("runtimes")
SEARCHES: web.AppKey[SearchService] = web.AppKey("searches", object)  # type: ignore[arg-type]
EVENTS: web.AppKey[EventHub] = web.AppKey("events", object)  # type: ignore[arg-type]
EXTRAS = web.AppKey("extras", dict)  # services added by feature modules: name -> object

# Request-scoped values (request[...]).
ACTOR = web.RequestKey("actor", Actor)
REQUEST_ID = web.RequestKey("request_id", str)


def actor_of(request: web.Request) -> Actor:
    actor = request.get(ACTOR)
    if not isinstance(actor, Actor):
        from enforcement.api.errors import Unauthenticated

        raise Unauthenticated()
    return actor


def request_id_of(request: web.Request) -> str:
    value: Any = request.get(REQUEST_ID, "")
    return str(value)


__all__ = [
    "ACTOR", "AUDIT", "DSN", "EVENTS", "EXTRAS", "HTTP_SESSION", "POOL", "REGISTRY", "REQUEST_ID", "RUNTIMES",
    "SEARCHES", "SETTINGS", "actor_of", "request_id_of",
]
