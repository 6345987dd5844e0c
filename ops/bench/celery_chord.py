"""The same fan-out written the way a Python team would otherwise write it: Celery with a Redis
broker and result backend, one search = a chord of five HTTP tasks (one per agency) whose
callback merges the answers into the dossier.

Configuration (fanout.py starts it): ``celery -A celery_chord worker --pool prefork
--concurrency 8`` (four processes per core, the usual advice for I/O-bound tasks), default
prefetch (4), JSON serialization, Redis 7 with persistence off. Each task calls the agency
through the project's own connector (wire format and all) on an aiohttp session and event loop
kept per worker process, so the HTTP work is the same code as the service's and connections are
reused; each process does one call at a time, as a synchronous ``requests`` task would.

Environment: ``BENCH_REDIS_URL``, ``BENCH_AGENCY_URLS`` (JSON: agency -> URL).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from celery import Celery

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
app = Celery("enforcement_bench", broker=REDIS, backend=REDIS)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)

_state: dict[str, Any] = {}


def _runtime() -> tuple[asyncio.AbstractEventLoop, dict[str, Any]]:
    """One event loop, one HTTP session and the five connectors per worker process (after fork)."""
    if "loop" not in _state:
        import aiohttp
        from agency_calls import connectors

        loop = asyncio.new_event_loop()
        session = loop.run_until_complete(_session(aiohttp))
        _state["loop"] = loop
        _state["conns"] = connectors(json.loads(os.environ["BENCH_AGENCY_URLS"]), session)
    return _state["loop"], _state["conns"]


async def _session(aiohttp: Any) -> Any:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16))


@app.task(name="bench.ask_agency")
def ask_agency(search_id: str, agency: str, person: list[str]) -> dict[str, Any]:
    from agency_calls import ask, request_for, result_to_json

    loop, conns = _runtime()
    result = loop.run_until_complete(ask(conns[agency], request_for(search_id, agency, person)))
    return {"agency": agency, **result_to_json(result)}


@app.task(name="bench.merge_dossier")
def merge_dossier(answers: list[dict[str, Any]], search_id: str) -> dict[str, Any]:
    from agency_calls import dossier_from_json

    merged = dossier_from_json(answers)
    return {"search_id": search_id, "entries": merged["entry_count"]}


__all__ = ["app", "ask_agency", "merge_dossier"]
