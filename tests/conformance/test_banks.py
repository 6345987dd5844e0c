"""Conformance of the bank connector against its simulator over real HTTP on loopback.

Batches in, tickets out, answers by polling or by signed callback; simulated days pass in
fractions of a real second (``time_scale``). Only what is the bank gateway's own is here: its
result and refusal codes, the ticket numbers, the batch limit, the answer delay in days, callback
redelivery and the ticket ledger. What every connector must do (protocol, credentials, schema-valid
records, idempotency, fault mapping for check/search/poll/search_batch, the ticket life cycle, signed
callbacks) is checked by the kit's rules (tests/conformance/test_suite_over_installed.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.banks import CONNECTOR, BanksConnector
from connectors.banks.simdata import accounts_for
from connectors.banks.wire import batch_envelope
from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    ConnectorConfig,
    Pending,
    Rejected,
    RejectedError,
    SimulatorConfig,
    Subject,
    make_credit_code,
    make_resident_id,
)

FAST = SimulatorConfig(time_scale=864000.0, answer_delay_seconds=86400.0)  # a day in 0.1 s
CALLBACK_KEY = "cb-signing-key-银行"


def _person(with_accounts: bool) -> Subject:
    for seq in range(1000):
        rid = make_resident_id("110105", date(1978, 5, 6), seq)
        if bool(accounts_for("person", rid)) == with_accounts:
            return Subject.parse("person", rid, "张伟")
    raise AssertionError("no such subject")


def _organization() -> Subject:
    for seq in range(1000):
        code = make_credit_code("9", "1", "440300", f"MA5{seq:05d}")
        if accounts_for("organization", code):
            return Subject.parse("organization", code, "深圳市华强贸易有限公司")
    raise AssertionError("no such subject")


PERSON = _person(True)
NOBODY = _person(False)
COMPANY = _organization()


def make_request(subject: Subject, key: str, **kw: Any) -> AgencyRequest:
    fields: dict[str, Any] = {
        "request_no": f"RQ-{key}",
        "idempotency_key": key,
        "case_number": "（2026）京0105执1234号",
        "court_code": "京0105",
        "judge_name": "李明",
        "judge_officer_id": "J110105023",
        "document_number": "（2026）京0105执1234号之一",
        "subject": subject,
    }
    fields.update(kw)
    return AgencyRequest(**fields)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def sim() -> AsyncIterator[TestServer]:
    server = TestServer(CONNECTOR.simulator(FAST))  # type: ignore[misc]
    await server.start_server()
    yield server
    await server.close()


def connect(
    sim: TestServer, session: aiohttp.ClientSession, app_key: str = "", timeout: float = 5.0
) -> BanksConnector:
    base = str(sim.make_url(""))
    config = ConnectorConfig(base, secret=app_key or "sim-key", timeout_seconds=timeout)
    return BanksConnector(config, session)


async def configure(sim: TestServer, session: aiohttp.ClientSession, **settings: Any) -> None:
    async with session.post(sim.make_url("/_sim/config"), json=settings) as resp:
        assert resp.status == 200, await resp.text()


async def sim_json(sim: TestServer, session: aiohttp.ClientSession, path: str) -> Any:
    async with session.get(sim.make_url(path)) as resp:
        return await resp.json()


async def answer(conn: BanksConnector, outcome: Any, within: float = 5.0) -> AgencyResult:
    assert isinstance(outcome, Pending)
    deadline = time.monotonic() + within
    while True:
        polled = await conn.poll(outcome.ticket)
        if isinstance(polled, AgencyResult):
            return polled
        assert time.monotonic() < deadline, "ticket never answered"
        await asyncio.sleep(min(polled.poll_after_seconds, 0.05))


def test_manifest_describes_the_gateway() -> None:
    manifest = CONNECTOR.manifest
    assert manifest.name == "banks" and manifest.answer_mode == "deferred" and manifest.callbacks
    assert manifest.batch is not None and manifest.batch.max_size == 200
    assert manifest.record_kinds == ("bank_account",) and manifest.search_category == "deposits"
    assert manifest.date_range and manifest.subject_kinds == {"person", "organization"}
    assert manifest.policy.deadline_seconds >= 86400


async def test_ticket_life_cycle(sim: TestServer, session: aiohttp.ClientSession) -> None:
    await configure(sim, session, time_scale=86400.0, answer_delay_seconds=86400.0)  # one day
    conn = connect(sim, session)
    reqs = [make_request(s, f"s-{i}:banks") for i, s in enumerate((PERSON, NOBODY, COMPANY))]
    outcomes = await conn.search_batch(reqs)
    assert [type(o) for o in outcomes] == [Pending] * 3
    assert len({o.ticket for o in outcomes if isinstance(o, Pending)}) == 3
    first = await conn.poll(outcomes[0].ticket)  # type: ignore[union-attr]
    assert isinstance(first, Pending) and 0 < first.poll_after_seconds <= 1.0
    results = [await answer(conn, o) for o in outcomes]
    for result in results:
        assert result.answered_at.utcoffset() == timedelta(0)  # the gateway's Beijing time, in UTC
        assert result.agency_reference and result.agency_reference.startswith("FK")
    assert results[0].records and results[2].records and results[1].records == ()
    assert results[1].raw["ResultMessage"] == "查无信息"


async def test_time_scale_makes_days_pass_in_seconds(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    await configure(sim, session, time_scale=86400.0, answer_delay_seconds=172800.0)  # two days
    conn = connect(sim, session)
    started = time.monotonic()
    pending = await conn.search(make_request(PERSON, "s-days:banks"))
    assert isinstance(pending, Pending) and 1.5 < pending.poll_after_seconds <= 2.0
    await asyncio.sleep(1.0)
    assert isinstance(await conn.poll(pending.ticket), Pending)  # one simulated day: not yet
    result = await answer(conn, pending)
    assert 1.9 < time.monotonic() - started < 4.0
    assert result.records


async def test_a_key_is_one_ticket_whether_searched_alone_or_in_a_batch(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connect(sim, session)
    req = make_request(PERSON, "s-7:banks")
    first = await conn.search(req)
    second = await conn.search_batch([req])
    assert isinstance(first, Pending)
    assert [o.ticket for o in second if isinstance(o, Pending)] == [first.ticket]
    stats = await sim_json(sim, session, "/_sim/stats")
    assert stats["effective_queries"] == 1 and stats["duplicated_keys"] == 0


async def test_organization_has_corporate_accounts(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connect(sim, session)
    result = await answer(conn, await conn.search(make_request(COMPANY, "s-org:banks")))
    assert result.records
    assert {r.account_type for r in result.records} <= {"current", "fixed"}  # type: ignore[attr-defined]
    assert result.raw["Accounts"][0]["AccountTypeName"].startswith("基本存款账户")


async def test_empty_answer_and_date_range(sim: TestServer, session: aiohttp.ClientSession) -> None:
    conn = connect(sim, session)
    empty = await answer(conn, await conn.search(make_request(NOBODY, "s-e:banks")))
    assert empty.records == () and empty.raw["ResultCode"] == "0001"
    old = make_request(
        PERSON, "s-old:banks", date_from=date(1990, 1, 1), date_to=date(1999, 12, 31)
    )
    assert (await answer(conn, await conn.search(old))).records == ()  # no account open then


async def test_rejected_items(sim: TestServer, session: aiohttp.ClientSession) -> None:
    conn = connect(sim, session)
    with pytest.raises(RejectedError) as info:
        await conn.search(make_request(PERSON, "s-r1:banks", document_number=""))
    assert info.value.code == "ITEM_FIELD_MISSING" and "协助查询通知书文号" in info.value.message
    bad = Subject(kind="person", id_number=PERSON.id_number[:17] + "Y", name="张伟")  # unchecked
    reqs = [
        make_request(PERSON, "s-r2:banks"),
        make_request(bad, "s-r3:banks"),
        make_request(COMPANY, "s-r4:banks", date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)),
    ]
    outcomes = await conn.search_batch(reqs)
    assert isinstance(outcomes[0], Pending)
    # A refused item is an explicit Rejected in its slot, with the bank's reason; the rest stand.
    for outcome, code in ((outcomes[1], "ID_NUMBER_INVALID"), (outcomes[2], "DATE_RANGE_INVALID")):
        assert isinstance(outcome, Rejected)
        assert outcome.code == code and code in outcome.reason
        assert PERSON.id_number not in outcome.reason
    assert (await answer(conn, outcomes[0])).records
    assert (await conn.search_batch([reqs[1]]))[0] == outcomes[1]  # same key, same refusal
    assert (await sim_json(sim, session, "/_sim/stats"))["effective_queries"] == 1


async def test_unknown_ticket_and_whole_batch_refusal(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    conn = connect(sim, session)
    with pytest.raises(RejectedError) as info:
        await conn.poll("CX20260101NOSUCHTICKET")
    assert info.value.code == "TICKET_NOT_FOUND"
    reqs = [make_request(NOBODY, f"s-big{i}:banks") for i in range(201)]
    with pytest.raises(RejectedError) as info:
        await conn.wire.submit_batch(batch_envelope(reqs))  # over the gateway's limit
    assert info.value.code == "BATCH_TOO_LARGE"
    outcomes = await conn.search_batch(reqs)  # the connector splits by the manifest's max_size
    assert (
        len(outcomes) == 201 and len({o.ticket for o in outcomes if isinstance(o, Pending)}) == 201
    )


class Receiver:
    """A tiny callback endpoint: records every delivery, fails the first ``fail_first``."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.tickets: set[str] = set()
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500, text="busy")
        self.deliveries.append((dict(request.headers), body))
        self.tickets.update(item["Ticket"] for item in json.loads(body)["Items"])
        self.changed.set()
        return web.json_response({"ok": True})

    async def wait_for(self, tickets: set[str], within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while not tickets <= self.tickets:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, TestServer]]:
    rec = Receiver(fail_first=1)
    app = web.Application()
    app.router.add_post("/callbacks/banks", rec.handle)
    server = TestServer(app)
    await server.start_server()
    yield rec, server
    await server.close()


async def test_callbacks_skip_refused_items_and_are_redelivered(
    sim: TestServer, session: aiohttp.ClientSession, receiver: tuple[Receiver, TestServer]
) -> None:
    rec, rserver = receiver
    url = str(rserver.make_url("/callbacks/banks"))
    await configure(sim, session, callback_url=url, callback_secret=CALLBACK_KEY)
    conn = connect(sim, session)
    reqs = [
        make_request(PERSON, "s-c1:banks"),
        make_request(NOBODY, "s-c2:banks"),
        make_request(COMPANY, "s-c3:banks", document_number=""),
    ]
    outcomes = await conn.search_batch(reqs)
    tickets = [o.ticket for o in outcomes if isinstance(o, Pending)]
    assert len(tickets) == 2
    refused = outcomes[2]
    assert isinstance(refused, Rejected) and "DocumentNo" in refused.reason
    await rec.wait_for(set(tickets))
    answers = {}
    for _headers, body in rec.deliveries:
        answers.update({a.ticket: a for a in conn.parse_callback(json.loads(body))})
    assert set(answers) == set(tickets)  # the refused item was answered in the batch, not called back
    empty = answers[tickets[1]].outcome
    assert empty is not None and empty.records == ()
    counts = await sim_json(sim, session, "/_sim/callbacks")
    assert counts["tickets_delivered"] == 2 and counts["receiver_errors"] >= 1  # first one refused
    assert counts["delivered"] == len(rec.deliveries) and counts.get("failed", 0) == 0
    assert answers[tickets[0]].outcome.answered_at.tzinfo == UTC  # type: ignore[union-attr]


async def test_reset_forgets_tickets(sim: TestServer, session: aiohttp.ClientSession) -> None:
    conn = connect(sim, session)
    pending = await conn.search(make_request(PERSON, "s-x:banks"))
    assert isinstance(pending, Pending)
    async with session.post(sim.make_url("/_sim/reset")) as resp:
        assert resp.status == 200
    with pytest.raises(RejectedError):
        await conn.poll(pending.ticket)
    fresh = await conn.search(make_request(PERSON, "s-x:banks"))  # the key is new to the bank
    assert isinstance(fresh, Pending) and fresh.ticket != pending.ticket
    assert (await sim_json(sim, session, "/_sim/stats"))["effective_queries"] == 1
