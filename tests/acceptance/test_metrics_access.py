"""/metrics carries every court's figures: outside the demo it is not public; Prometheus presents
METRICS_TOKEN as a bearer token, or reads a listener of its own (METRICS_PORT)."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest

from enforcement.kernel.settings import Settings

TOKEN = "m" * 40


async def get(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_metrics_are_public_only_in_the_demo_and_never_with_a_token() -> None:
    assert Settings.from_env({}).metrics_public is True
    assert Settings.from_env({"JWT_MODE": "jwks"}).metrics_public is False
    assert Settings.from_env({"METRICS_TOKEN": TOKEN}).metrics_public is False
    assert Settings.from_env({"JWT_MODE": "jwks", "METRICS_PUBLIC": "1"}).metrics_public is True
    s = Settings.from_env({"METRICS_TOKEN": TOKEN, "METRICS_PORT": "9180"})
    assert (s.metrics_token, s.metrics_port) == (TOKEN, 9180)
    assert Settings.from_env({}).metrics_port == 0


async def test_metrics_behind_the_token(make_api: Any) -> None:
    api = await make_api(metrics_token=TOKEN)  # METRICS_PUBLIC left at its demo default: the token wins
    url = api.url("/metrics")
    status, body = await get(url)
    assert (status, body["error"]["code"]) == (401, "unauthenticated")
    status, body = await get(url, "not-the-token")
    assert status == 401, body
    status, text = await get(url, TOKEN)
    assert status == 200 and "enforcement_build_info" in text
    status, text = await get(url, api.token("ops", "ops"))
    assert status == 200
    status, body = await get(url, api.token("zhangwei", "judge"))
    assert (status, body["error"]["code"]) == (403, "role_not_allowed")
    status, _ = await get(api.url("/healthz"))
    assert status == 200
    # The token opens /metrics only, not the API.
    status, body = await get(api.url("/api/v1/cases"), TOKEN)
    assert status == 401, body


@pytest.mark.parametrize("token", ["", TOKEN])
async def test_metrics_on_their_own_listener(make_api: Any, token: str) -> None:
    port = free_port()
    api = await make_api(metrics_port=port, metrics_token=token)
    status, body = await get(api.url("/metrics"), token or None)
    assert (status, body["error"]["code"]) == (404, "not_found"), body
    assert str(port) in body["error"]["message"]["en"]
    url = f"http://127.0.0.1:{port}/metrics"
    if token:
        status, body = await get(url)
        assert (status, body["error"]["code"]) == (401, "unauthenticated")
        status, body = await get(url, api.token("ops", "ops"))  # the listener takes the metrics token only
        assert status == 401
    status, text = await get(url, token or None)
    assert status == 200 and "enforcement_build_info" in text and "enforcement_db_pool_connections" in text
    status, _ = await get(f"http://127.0.0.1:{port}/api/v1/cases", token or None)
    assert status == 404  # nothing else is served there
