"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from enforcement import metrics
from enforcement.api.keys import POOL
from enforcement.orchestrator.gauges import observe_pool
from enforcement.version import build, version

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
            await request.app[POOL].fetchval("SELECT 1")
    except Exception as exc:
        return web.json_response({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return web.json_response({"status": "ready", "database": "ok"})


@routes.get("/metrics")
async def prometheus_metrics(request: web.Request) -> web.Response:
    observe_pool(request.app[POOL])
    return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


__all__ = ["routes"]
