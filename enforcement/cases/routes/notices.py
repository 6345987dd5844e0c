"""The applicant's notice (告知) and the consumption-restriction check of an organization
debtor's responsible persons, over HTTP."""

from __future__ import annotations

from aiohttp import web

from enforcement.api.keys import actor_of
from enforcement.api.params import path_id, query_choice, query_int
from enforcement.cases.keys import BREACH_CHECK, NOTICES

routes = web.RouteTableDef()


@routes.get("/api/v1/cases/{case_id}/applicant-notice")
async def notice_draft(request: web.Request) -> web.Response:
    """The draft notice to the applicant (not recorded: recording it as sent is an
    ``applicant_notified`` event)."""
    actor = actor_of(request)
    case_id = path_id(request, "case_id")
    occasion = query_choice(request, "occasion", ("requery", "zhongben")) or "zhongben"
    round_ = query_int(request, "round", default=None, low=1, high=100)
    return web.json_response(await request.app[NOTICES].draft(actor, case_id, occasion, round_))


@routes.post("/api/v1/cases/{case_id}/breach-check")
async def breach_check(request: web.Request) -> web.Response:
    """Search the hotel agency (and any agency that can show a breach) for the responsible
    persons of the case's organization debtors under a consumption restriction in force."""
    actor = actor_of(request)
    case_id = path_id(request, "case_id")
    return web.json_response(await request.app[BREACH_CHECK].check(actor, case_id), status=202)


__all__ = ["routes"]
