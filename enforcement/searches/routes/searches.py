"""``/api/v1/searches``: submit a search, read its state and dossier, follow it live (SSE)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any
from uuid import UUID

from aiohttp import web

from enforcement.api.bodies import read_json
from enforcement.api.errors import ValidationFailed
from enforcement.api.keys import actor_of, pending_actor_of, request_id_of
from enforcement.api.params import path_uuid
from enforcement.domain.subjects import Subject
from enforcement.kernel import metrics
from enforcement.searches.keys import EVENTS, SEARCHES
from enforcement.searches.service import SearchRequest
from enforcement.searches.store.searches import EVENTS_FROM_START

routes = web.RouteTableDef()

SSE_HEARTBEAT_SECONDS = 15.0
SSE_IDLE_REPLAY_SECONDS = 2.0


def _field(body: dict[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"Field {name!r} is required.", message_zh=f"缺少字段 {name}",
                                   code="missing_field", field=name)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValidationFailed(f"Field {name!r} must be a {kind.__name__}.",
                               message_zh=f"字段 {name} 类型错误", code="wrong_type", field=name)
    return value


def _date(body: dict[str, Any], name: str) -> date | None:
    raw = _field(body, name, str, required=False)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(f"Field {name!r} must be a date YYYY-MM-DD.",
                               message_zh=f"字段 {name} 须为日期 YYYY-MM-DD", code="wrong_type", field=name) from exc


def parse_search_request(body: dict[str, Any]) -> SearchRequest:
    subject_raw = _field(body, "subject", dict)
    subject = Subject.parse(
        str(_field(subject_raw, "kind", str)),
        str(_field(subject_raw, "id_number", str)),
        str(_field(subject_raw, "name", str)),
    )
    return SearchRequest(
        case_id=_field(body, "case_id", int),
        subject=subject,
        purpose=_field(body, "purpose", str, required=False) or "财产调查",
        force_fresh=bool(_field(body, "force_fresh", bool, required=False) or False),
        document_number=_field(body, "document_number", str, required=False),
        date_from=_date(body, "date_from"),
        date_to=_date(body, "date_to"),
    )


def _search_id(request: web.Request) -> UUID:
    return path_uuid(request, "search_id")


@routes.post("/api/v1/searches")
async def create_search(request: web.Request) -> web.Response:
    # The token's user is looked up by the search's first statement (api.auth.PendingActor).
    actor = pending_actor_of(request) or actor_of(request)
    req = parse_search_request(await read_json(request))
    submitted = await request.app[SEARCHES].submit(actor, req, request_id=request_id_of(request))
    url = f"/api/v1/searches/{submitted.search_id}"
    return web.json_response(
        {"id": str(submitted.search_id), "url": url, "events_url": f"{url}/events", "agencies": submitted.tasks},
        status=202,
        headers={"Location": url},
    )


@routes.get("/api/v1/searches/{search_id}")
async def get_search(request: web.Request) -> web.Response:
    actor = actor_of(request)
    view = await request.app[SEARCHES].view(actor, _search_id(request), request_id=request_id_of(request))
    return web.json_response(view)


def _sse(event_id: int, kind: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, default=str)
    return f"id: {event_id}\nevent: {kind}\ndata: {payload}\n\n".encode()


def _cursor(last_event_id: str | None) -> int:
    """Where a stream resumes: after the id its client saw last (``Last-Event-ID``; the tasks'
    derived submission events have ids -n..-1, stored events from 1: decision 1930), or from the
    start when there is none or it is not an event id."""
    try:
        cursor = int(last_event_id or "")
    except ValueError:
        return EVENTS_FROM_START
    return cursor if EVENTS_FROM_START <= cursor < 2**63 else EVENTS_FROM_START


@routes.get("/api/v1/searches/{search_id}/events")
async def search_events(request: web.Request) -> web.StreamResponse:
    """The search's tasks as submitted (one ``task`` event each, derived from the tasks: ids
    -n..-1), then one SSE event per agency state change as stored; ``search_completed`` last, then
    the stream ends. Past the events' retention a completed search's whole stream is derived
    (decision 1950)."""
    actor = actor_of(request)
    search_id = _search_id(request)
    service = request.app[SEARCHES]
    # 403s, 404s
    search = await service.authorize_read(actor, search_id, request_id=request_id_of(request), via="events")
    hub = request.app[EVENTS]
    last_sent = _cursor(request.headers.get("Last-Event-ID"))
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    queue = await hub.subscribe(search_id)
    metrics.SSE_CLIENTS.inc()
    sent: set[int] = set()
    # where the replays read from: the client's cursor, then, once the first replay has sent every
    # derived event (ids below 0, fixed at submission), 0: the later replays read stored events only
    replay_from = last_sent
    try:
        async def send(events: list[Any]) -> bool:
            """Send what was not sent yet, in id order; True once the search is complete."""
            for ev in sorted(events, key=lambda e: e.id):
                if ev.id in sent or ev.id <= last_sent:
                    continue
                if ev.kind == "search_completed":
                    # Everything before it is committed and visible: send what we missed first.
                    missed = [e for e in await service.events_of(search_id, replay_from)
                              if e.id not in sent and e.kind != "search_completed"]
                    for m in missed:
                        await write(m)
                await write(ev)
                if ev.kind == "search_completed":
                    return True
            return False

        async def write(ev: Any) -> None:
            sent.add(ev.id)
            data = {"agency": ev.agency, **ev.payload, "at": ev.created_at.isoformat()}
            await response.write(_sse(ev.id, ev.kind, data))

        done = await send(await service.events_of(search_id, last_sent))
        replay_from = max(last_sent, 0)
        # Completed before the replay began (its completion event committed with the status read
        # above), yet not in the replay: the client's cursor is at or past the completion. Ends.
        done = done or search.status == "completed"
        idle = 0.0
        while not done:
            try:
                async with asyncio.timeout(SSE_IDLE_REPLAY_SECONDS):
                    ev = await queue.get()
                batch = [ev]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                done = await send(batch)
                idle = 0.0
            except TimeoutError:
                idle += SSE_IDLE_REPLAY_SECONDS
                done = await send(await service.events_of(search_id, replay_from))
                if idle >= SSE_HEARTBEAT_SECONDS:
                    await response.write(b": keep-alive\n\n")
                    idle = 0.0
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(search_id, queue)
        metrics.SSE_CLIENTS.dec()
    return response


__all__ = ["parse_search_request", "routes"]
