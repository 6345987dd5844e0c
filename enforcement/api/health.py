"""Liveness, readiness and Prometheus metrics.

``/metrics`` carries every court's figures, so it is not public outside the demo
(``Settings.metrics_public``). Prometheus presents ``METRICS_TOKEN`` as a bearer token (an ops
user's JWT works too; the auth middleware checks both), and with ``METRICS_PORT`` the metrics
are served on a listener of their own, for a port only the monitoring network reaches, and no
longer beside the API (404 there).
"""

from __future__ import annotations

import asyncio
import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from enforcement.api.errors import NotFound, Unauthenticated
from enforcement.api.keys import SETTINGS
from enforcement.api.middleware import Handler, request_context
from enforcement.kernel import metrics
from enforcement.kernel.pool import POOL_PROBE
from enforcement.kernel.version import build, version

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    """The process is alive, and which release and build it runs."""
    return web.json_response({"status": "ok", "version": version(), "build": build()})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """The process can serve: the database answers."""
    try:
        async with asyncio.timeout(2):
            await request.app[POOL_PROBE].ping()
    except Exception as exc:
        return web.json_response({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return web.json_response({"status": "ready", "database": "ok"})


def _exposition(app: web.Application) -> web.Response:
    app[POOL_PROBE].observe()
    return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


@routes.get("/metrics")
async def prometheus_metrics(request: web.Request) -> web.Response:
    """The Prometheus exposition (404 when the metrics have a port of their own)."""
    port = request.app[SETTINGS].metrics_port
    if port:
        raise NotFound(f"The metrics are served on their own port ({port}), not here.",
                       message_zh=f"监控指标在独立端口（{port}）提供，不在此端口")
    return _exposition(request.app)


def metrics_token_matches(request: web.Request, token: str) -> bool:
    """The request presents ``token`` as its bearer token (compared in constant time)."""
    header = request.headers.get("Authorization", "")
    presented = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return bool(token) and hmac.compare_digest(presented.encode(), token.encode())


def metrics_listener(main: web.Application) -> web.Application:
    """The application behind ``METRICS_PORT``: ``/metrics`` only, behind ``METRICS_TOKEN`` when set."""
    token = main[SETTINGS].metrics_token

    @web.middleware
    async def token_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token and not metrics_token_matches(request, token):
            metrics.AUTH_FAILURES.labels(reason="metrics_token").inc()
            raise Unauthenticated("The metrics token (METRICS_TOKEN) is required as the bearer token.",
                                  message_zh="需要监控令牌（METRICS_TOKEN）作为身份令牌")
        return await handler(request)

    async def serve(_request: web.Request) -> web.Response:
        return _exposition(main)

    listener = web.Application(middlewares=[request_context, token_gate])
    listener.router.add_get("/metrics", serve)
    return listener


# The running listener behind METRICS_PORT (the composition root starts it when the port is set).
METRICS_LISTENER = web.AppKey("metrics_listener", web.AppRunner)

__all__ = ["METRICS_LISTENER", "metrics_listener", "metrics_token_matches", "routes"]
