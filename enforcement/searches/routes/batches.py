"""``/api/v1/searches:batch``: bulk searches of up to ``BATCH_MAX_SUBJECTS`` (10,000) subjects.

- ``POST /api/v1/searches:batch``: a JSON array of search requests (each like the body of
  ``POST /api/v1/searches``), or NDJSON (``application/x-ndjson``: one request per line).
  Answers ``202`` at once with the batch id, or ``422 batch_invalid`` naming every bad row by
  its index (nothing is stored then).
- ``GET /api/v1/searches:batch/{batch_id}``: progress (searches completed, tasks by state).
- ``GET /api/v1/searches:batch/{batch_id}/results?offset=&limit=``: per-subject results, in
  submission order, a page at a time.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from enforcement.api.bodies import NDJSON_TYPES, json_error, read_body
from enforcement.api.errors import ApiError, BadRequest, PayloadTooLarge
from enforcement.api.keys import SETTINGS, actor_of, request_id_of
from enforcement.api.params import path_uuid, query_int
from enforcement.domain.errors import DomainError
from enforcement.domain.json_input import JsonRejected, parse_json
from enforcement.searches.bulk import RowError
from enforcement.searches.keys import BATCHES
from enforcement.searches.routes.searches import parse_search_request
from enforcement.searches.service import SearchRequest

routes = web.RouteTableDef()

RESULTS_MAX_LIMIT = 1000


def _rows_of(request_body: bytes, content_type: str) -> list[Any]:
    """The rows of the body, each JSON value checked by the one JSON reader (json_input)."""
    if content_type in NDJSON_TYPES:
        rows: list[Any] = []
        for number, line in enumerate(request_body.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                rows.append(parse_json(line))
            except JsonRejected as exc:
                error = json_error(exc)
                error.message_en = f"Line {number}: {error.message_en}"
                error.message_zh = f"第 {number} 行：{error.message_zh}"
                error.details["line"] = number
                raise error from exc
        return rows
    if content_type not in ("application/json", ""):
        raise BadRequest(f"Expected application/json (an array) or application/x-ndjson, got {content_type}.",
                         message_zh="请求体须为 JSON 数组或 NDJSON", code="bad_content_type")
    try:
        body = parse_json(request_body)
    except JsonRejected as exc:
        raise json_error(exc) from exc
    if not isinstance(body, list):
        raise BadRequest("The body must be a JSON array of search requests.",
                         message_zh="请求体须为查询请求的 JSON 数组", code="not_an_array")
    return body


def parse_row(index: int, row: Any) -> SearchRequest | RowError:
    """One row as a search request, or why it is not one."""
    if not isinstance(row, dict):
        return RowError(index, "not_an_object", "The row must be a JSON object.", "该行须为 JSON 对象")
    try:
        return parse_search_request(row)
    except ApiError as exc:
        field = exc.details.get("field")
        return RowError(index, exc.error_code, exc.message_en, exc.message_zh, str(field) if field else None)
    except DomainError as exc:
        return RowError(index, exc.code, exc.message_en, exc.message_zh, "subject")


def _batch_id(request: web.Request) -> UUID:
    return path_uuid(request, "batch_id")


@routes.post("/api/v1/searches:batch")
async def create_batch(request: web.Request) -> web.Response:
    actor = actor_of(request)
    settings = request.app[SETTINGS]
    limit = settings.batch_max_subjects
    rows = _rows_of(await read_body(request, settings.batch_max_bytes), request.content_type)
    if len(rows) > limit:
        raise PayloadTooLarge(f"A bulk search takes at most {limit} subjects, not {len(rows)}.",
                              message_zh=f"批量查询最多 {limit} 个对象，本次 {len(rows)} 个",
                              code="batch_too_large", limit=limit, rows=len(rows))
    parsed = [parse_row(i, row) for i, row in enumerate(rows)]
    accepted = await request.app[BATCHES].submit(actor, parsed, request_id=request_id_of(request))
    url = f"/api/v1/searches:batch/{accepted.batch_id}"
    return web.json_response(
        {
            "id": str(accepted.batch_id),
            "url": url,
            "results_url": f"{url}/results",
            "total": accepted.total,
            "queued_tasks": accepted.queued_tasks,
            "reused_tasks": accepted.reused_tasks,
        },
        status=202,
        headers={"Location": url},
    )


@routes.get("/api/v1/searches:batch/{batch_id}")
async def get_batch(request: web.Request) -> web.Response:
    actor = actor_of(request)
    return web.json_response(await request.app[BATCHES].progress(actor, _batch_id(request)))


@routes.get("/api/v1/searches:batch/{batch_id}/results")
async def get_batch_results(request: web.Request) -> web.Response:
    actor = actor_of(request)
    offset = query_int(request, "offset", default=0, high=10_000_000)
    limit = query_int(request, "limit", default=100, low=1, high=RESULTS_MAX_LIMIT)
    return web.json_response(
        await request.app[BATCHES].results(actor, _batch_id(request), offset=offset, limit=limit)
    )


__all__ = ["parse_row", "routes"]
