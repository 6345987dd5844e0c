"""``/api/v1/agencies``: each agency's health, and the signed callback endpoint.

- ``GET /api/v1/agencies``: health, breaker state, queue depth and recent latency of each
  agency (any signed-in user but an agency's own account).
- ``GET /api/v1/record-kinds``: the words of every record kind the registered connectors
  produce (its label and each field's, in Chinese and English, coded values, formats), read
  from the kinds' JSON Schemas (``connectors.sdk.record_labels``): the workbench shows no raw key.
- ``POST /api/v1/agencies/{agency}/callbacks``: a deferred answer pushed by the agency. No
  bearer token: the HMAC signature with the agency's callback secret is the credential
  (``enforcement.searches.callbacks``). Every refusal is audited (actor ``agency:<name>``,
  role ``agency``, the reason and status; never the body or the headers), bounded like the 401s
  (``api.auth.AnonymousRefusals``).
"""

from __future__ import annotations

from aiohttp import web

from connectors.sdk.record_labels import kind_labels
from connectors.sdk.signing import HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP
from enforcement.api.auth import REFUSALS, audit_anonymous_refusal
from enforcement.api.bodies import read_body
from enforcement.api.errors import PayloadTooLarge
from enforcement.api.keys import SETTINGS, actor_of, request_id_of
from enforcement.api.middleware import error_body
from enforcement.domain.authorization import check_read_agencies
from enforcement.searches.callbacks import SignedCallback
from enforcement.searches.errors import CallbackRefused
from enforcement.searches.keys import AGENCY_VIEW, CALLBACKS, RUNTIMES

routes = web.RouteTableDef()


@routes.get("/api/v1/agencies")
async def list_agencies(request: web.Request) -> web.Response:
    actor = actor_of(request)
    check_read_agencies(actor)
    return web.json_response(await request.app[AGENCY_VIEW].list())


@routes.get("/api/v1/record-kinds")
async def record_kinds(request: web.Request) -> web.Response:
    actor_of(request)  # any signed-in user the API gate lets through
    kinds: dict[str, str] = {}
    for runtime in request.app[RUNTIMES].values():
        for kind in runtime.manifest.record_kinds:
            kinds.setdefault(kind, runtime.manifest.package)
    return web.json_response({"kinds": [kind_labels(kind, package).to_dict()
                                        for kind, package in sorted(kinds.items())]})


@routes.post("/api/v1/agencies/{agency}/callbacks")
async def agency_callback(request: web.Request) -> web.Response:
    # Unauthenticated until the signature is checked: read no more than a callback can be.
    limit = request.app[SETTINGS].callback_max_bytes
    try:
        body = await read_body(request, limit)
    except PayloadTooLarge:
        return await _refused(request, CallbackRefused(
            413, "payload_too_large", f"The callback is larger than {limit} bytes.",
            f"回调内容超过 {limit} 字节"), limit=limit)
    cb = SignedCallback(
        agency=request.match_info["agency"],
        timestamp=request.headers.get(HEADER_TIMESTAMP),
        nonce=request.headers.get(HEADER_NONCE),
        signature=request.headers.get(HEADER_SIGNATURE),
        body=body,
    )
    try:
        report = await request.app[CALLBACKS].receive(cb)
    except CallbackRefused as exc:
        return await _refused(request, exc)
    return web.json_response({"status": "accepted", **report.to_dict()})


async def _refused(request: web.Request, exc: CallbackRefused, **details: object) -> web.Response:
    agency = request.match_info["agency"]
    known = agency in request.app[RUNTIMES]
    await audit_anonymous_refusal(
        request, request.app[REFUSALS], reason=exc.reason, status=exc.status,
        login=f"agency:{agency}" if known else "(unknown agency)", role="agency",
        details={"agency": agency if known else None},
    )
    return web.json_response(
        error_body(exc.reason, exc.message_en, exc.message_zh, request_id_of(request), **details), status=exc.status
    )


__all__ = ["routes"]
