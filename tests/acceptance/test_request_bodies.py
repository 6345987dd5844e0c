"""Request bodies over real HTTP: every body is read whole (or line by line to its end) under a
per-route limit, every NDJSON line is accounted for, and JSON at the edge is bounded (depth,
numbers, NUL, lone surrogates) with a bilingual 4xx naming the field, never a 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from enforcement.api.keys import POOL
from enforcement.indicators.lifecycle import court_today
from enforcement.seeds import CASES

TODAY = court_today()
CMS = {"login": "cms-0102", "role": "case_system"}
NDJSON = {"Content-Type": "application/x-ndjson"}
OUR_CASES = [c[0] for c in CASES if c[1] == "辽0102"]


async def slowly(body: bytes, piece: int = 32 * 1024, pause: float = 0.005) -> AsyncIterator[bytes]:
    """The body in pieces with a pause between them, so it reaches the server in many reads
    (and, without Content-Length, chunked)."""
    for start in range(0, len(body), piece):
        yield body[start:start + piece]
        await asyncio.sleep(pause)


def event_lines(count: int, *, pad: int = 2800) -> bytes:
    """``count`` events over the court's seeded cases, ~3 KB each; external ids repeat every 40
    lines per case, so the first of each is recorded and the rest are duplicates."""
    on = (TODAY - timedelta(days=3)).isoformat()
    rows = []
    for i in range(count):
        number = OUR_CASES[i % len(OUR_CASES)]
        rows.append(json.dumps({"case_number": number, "type": "notice_served", "occurred_on": on,
                                "external_id": f"bulk-{i % 40}", "data": {"note": "x" * pad}},
                               ensure_ascii=False).encode())
    return b"\n".join(rows) + b"\n"


def assert_bilingual(body: Any, code: str) -> dict[str, Any]:
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, body
    assert error["message"]["zh"] and error["message"]["en"], body
    return error


async def test_an_event_import_arriving_in_pieces_is_read_to_its_end(make_api: Any) -> None:
    api = await make_api()
    body = event_lines(1000)
    assert len(body) > 2_500_000
    status, report = await api.request("POST", "/api/v1/cases:import-events", data=slowly(body),
                                       headers=NDJSON, **CMS)
    assert status == 200, report
    assert report["lines"] == 1000, {k: v for k, v in report.items() if k != "rejected"}
    assert report["rejected_count"] == 0, report["rejected"][:3]
    assert report["recorded"] + report["duplicates"] == 1000
    assert report["recorded"] == 40 and report["truncated"] is False
    stored = await api.app[POOL].fetchval("SELECT count(*) FROM case_event WHERE external_id LIKE 'bulk-%'")
    assert stored == 40
