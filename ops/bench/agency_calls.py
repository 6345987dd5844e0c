"""Calling the five agencies without the service: the connectors' own adapters over one
aiohttp session, for the in-memory ceiling (asyncio.gather) and the Celery chord.

A deferred agency (banks) answers a query with a ticket; the ticket is polled until the
answer is there (the benchmark's bank simulator answers at once, so one poll).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp

from connectors.sdk.protocol import Connector
from connectors.sdk.registry import Registry
from connectors.sdk.types import AgencyRequest, AgencyResult, ConnectorConfig, Pending
from enforcement.domain.dossier import Observation, Provenance, merge
from enforcement.domain.subjects import Subject

SIMULATOR_KEY = "sim-key"  # the simulators' default credential (SimulatorConfig.api_key)


def connectors(urls: Mapping[str, str], session: aiohttp.ClientSession) -> dict[str, Connector]:
    registry = Registry.discover()
    out: dict[str, Connector] = {}
    for name, url in urls.items():
        spec = registry[name]
        config = ConnectorConfig(base_url=url, secret=SIMULATOR_KEY,
                                 timeout_seconds=spec.manifest.policy.timeout_seconds, manifest=spec.manifest)
        out[name] = spec.factory(config, session)
    return out


def request_for(search_id: str, agency: str, person: Sequence[str]) -> AgencyRequest:
    return AgencyRequest(
        request_no=f"{search_id.replace('-', '')[:20].upper()}-{agency}",
        idempotency_key=f"{search_id}:{agency}",
        case_number="（2026）辽0102执50001号",
        court_code="辽0102",
        judge_name="张伟",
        judge_officer_id="2101020031",
        document_number="（2026）辽0102执协查00001号",
        subject=Subject.parse("person", person[0], person[1]),
    )


async def ask(connector: Connector, request: AgencyRequest) -> AgencyResult:
    outcome = await connector.search(request)
    while isinstance(outcome, Pending):
        if outcome.poll_after_seconds:
            await asyncio.sleep(outcome.poll_after_seconds)
        outcome = await connector.poll(outcome.ticket)
    assert isinstance(outcome, AgencyResult)
    return outcome


def dossier(results: Mapping[str, AgencyResult]) -> dict[str, Any]:
    observations = [
        Observation(r.kind, r.natural_key(), r.to_dict(), Provenance(agency, 0, result.answered_at))
        for agency, result in results.items()
        for r in result.records
    ]
    return merge(observations).to_dict()


async def fan_out(conns: Mapping[str, Connector], person: Sequence[str]) -> dict[str, Any]:
    """One search, the in-memory way: ask every agency at once, merge what comes back."""
    search_id = str(uuid.uuid4())
    answers = await asyncio.gather(*(ask(c, request_for(search_id, name, person)) for name, c in conns.items()))
    return dossier(dict(zip(conns, answers, strict=True)))


def result_to_json(result: AgencyResult) -> dict[str, Any]:
    return {
        "answered_at": result.answered_at.isoformat(),
        "records": [{"kind": r.kind, "natural_key": r.natural_key(), "data": r.to_dict()} for r in result.records],
    }


def dossier_from_json(answers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    observations = [
        Observation(rec["kind"], rec["natural_key"], rec["data"],
                    Provenance(a["agency"], 0, datetime.fromisoformat(a["answered_at"]).astimezone(UTC)))
        for a in answers
        for rec in a["records"]
    ]
    return merge(observations).to_dict()


__all__ = ["ask", "connectors", "dossier", "dossier_from_json", "fan_out", "request_for", "result_to_json"]
