"""A judge's submission on real PostgreSQL: the case lookup (which takes the 协助查询通知书 serial,
only for a search that is allowed) and ONE statement that writes the search, its tasks, its audit
record and the notifications, atomically; a search answered entirely from stored answers is
completed at once with its event, as the transactional path does it. The tasks' submission events
are derived when the log is read, not written (decision 1930)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Any

import asyncpg
import pytest

from connectors.sdk.registry import Registry
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import AccessDenied
from enforcement.domain.subjects import Subject
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.pool import create_pool
from enforcement.kernel.queries import Q
from enforcement.searches.service import NoAgencyCovers, SearchRequest, SearchService
from enforcement.searches.store.searches import (
    EVENTS_FROM_START,
    AgencyPlan,
    NewSearch,
    SearchStore,
    submit_search,
)
from enforcement.seeds import CASES, seed

AUDIT = AuditLog(b"search-submission-test-key-0123456789abcdef")
NUMBER, COURT, JUDGE_LOGIN, *_ = CASES[0]
DEBTOR = CASES[0][-1][0]
SUBJECT = Subject(DEBTOR.kind, DEBTOR.id_number, DEBTOR.name)
JUDGE = Actor("zhangwei", "judge", "张伟", COURT, "2101020031")
AGENCIES = ["vehicles", "hotels", "banks"]
CHANNELS = ("agency_tasks", "search_events", "audit_pending")


class Heard:
    """Notifications received on a dedicated connection, per channel."""

    def __init__(self) -> None:
        self.by_channel: dict[str, list[str]] = {c: [] for c in CHANNELS}

    def __call__(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        self.by_channel[channel].append(payload)

    async def until(self, channel: str, count: int = 1) -> list[str]:
        async with asyncio.timeout(5):
            while len(self.by_channel[channel]) < count:
                await asyncio.sleep(0.01)
        return self.by_channel[channel]


@pytest.fixture
async def heard(conn: asyncpg.Connection) -> AsyncIterator[Heard]:
    h = Heard()
    for channel in CHANNELS:
        await conn.add_listener(channel, h)
    yield h
    for channel in CHANNELS:
        await conn.remove_listener(channel, h)


def new_search(case_id: int, agencies: list[str] = AGENCIES, **extra: Any) -> NewSearch:
    sid = uuid.uuid4()
    return NewSearch(
        id=sid, case_id=case_id, subject_kind=SUBJECT.kind, subject_id_number=SUBJECT.id_number,
        subject_name=SUBJECT.name, subject_key=SUBJECT.key, purpose="财产调查", requested_by=JUDGE.login,
        force_fresh=False, request_no=sid.hex[:20], case_number=NUMBER, court_code=COURT, judge_name="张伟",
        judge_officer_id="2101020031", document_number="（2026）辽0102执协查00001号",
        agencies=[AgencyPlan(a, 600.0, 24.0) for a in agencies], **extra,
    )


def audit_entry(new: NewSearch) -> AuditEntry:
    return AuditEntry(action="search", actor_login=JUDGE.login, actor_role="judge", actor_court=COURT,
                      case_id=new.case_id, case_number=NUMBER, case_court=COURT, subject_key=new.subject_key,
                      purpose=new.purpose, target=str(new.id), request_id=f"req-{new.id}",
                      details={"agencies": sorted(a.agency for a in new.agencies)})


async def answer_all(pool: asyncpg.Pool, search_id: uuid.UUID) -> None:
    """Store an (empty) answer for every task of the search, as the dispatcher would."""
    await pool.execute(
        """INSERT INTO agency_answer (task_id, search_id, case_id, agency, subject_key, raw, record_count, answered_at)
           SELECT t.id, t.search_id, s.case_id, t.agency, s.subject_key, '{}'::jsonb, 0, now()
           FROM agency_task t JOIN search s ON s.id = t.search_id WHERE t.search_id = $1""", search_id)
    await pool.execute("UPDATE agency_task SET status = 'succeeded', finished_at = now() WHERE search_id = $1",
                       search_id)


async def events(pool: asyncpg.Pool, search_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await pool.fetch("SELECT agency, kind, payload FROM search_event WHERE search_id = $1 ORDER BY id",
                                 search_id))


async def test_a_submission_writes_search_tasks_and_record_and_wakes_dispatchers_and_chainer(
    pool: asyncpg.Pool, heard: Heard
) -> None:
    case_id = (await seed(pool))[NUMBER]
    store = SearchStore(pool, AUDIT)
    new = new_search(case_id)
    tasks = await store.create(new, audit_entry=audit_entry(new))
    assert [(t.agency, t.status, t.reused, t.answer_id) for t in tasks] == [(a, "queued", False, None)
                                                                           for a in AGENCIES]
    search = await store.get(new.id)
    assert search is not None
    assert (search.status, search.completed_at, search.document_number) == ("running", None,
                                                                                    new.document_number)
    # No event written: the log's first events are the tasks as submitted, derived (ids -n..-1).
    assert await events(pool, new.id) == []
    assert [(e.id, e.agency, e.kind, e.payload, e.created_at) for e in await store.events_of(new.id)] == [
        (i - len(tasks), t.agency, "task", {"task_id": t.id, "status": "queued", "reused": False}, search.created_at)
        for i, t in enumerate(tasks)]
    [rec] = await pool.fetch("SELECT * FROM audit_log")
    assert (rec["action"], rec["target"], rec["request_id"], rec["seq"]) == ("search", str(new.id),
                                                                           f"req-{new.id}", None)
    assert AUDIT.signed(rec)  # signed as AuditLog.append signs: the chainer will chain it
    assert (await AUDIT.chain_pending(pool)).chained == 1
    # the agencies and the search id: one dispatcher is woken for it (the id's hash picks which)
    assert await heard.until("agency_tasks") == [f"{','.join(AGENCIES)};{new.id}"]
    assert await heard.until("audit_pending") == [""]

    # Without an audit log: no record, no audit notification.
    bare = new_search(case_id, agencies=["vehicles"])
    await SearchStore(pool).create(bare)
    assert await heard.until("agency_tasks", 2) == [f"{','.join(AGENCIES)};{new.id}", f"vehicles;{bare.id}"]
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 1
    await asyncio.sleep(0.2)
    assert heard.by_channel["audit_pending"] == [""]
    assert heard.by_channel["search_events"] == []  # no event was written: no stream to wake


async def test_a_search_answered_from_stored_answers_is_completed_at_once_as_before(
    pool: asyncpg.Pool, heard: Heard
) -> None:
    case_id = (await seed(pool))[NUMBER]
    store = SearchStore(pool, AUDIT)
    first = new_search(case_id)
    await store.create(first, audit_entry=audit_entry(first))
    await answer_all(pool, first.id)
    answers = {r["agency"]: r["id"] for r in await pool.fetch("SELECT id, agency FROM agency_answer")}
    await heard.until("agency_tasks")

    again = new_search(case_id)
    tasks = await store.create(again, audit_entry=audit_entry(again))
    assert [(t.agency, t.status, t.reused, t.answer_id) for t in tasks] == [(a, "succeeded", True, answers[a])
                                                                           for a in AGENCIES]
    search = await store.get(again.id)
    assert search is not None and search.status == "completed"
    assert search.completed_at == search.created_at  # at once, in the submission's transaction
    got = await events(pool, again.id)
    assert [(e["agency"], e["kind"]) for e in got] == [(None, "search_completed")]  # the only one written
    log = await store.events_of(again.id)
    assert [(e.id, e.agency, e.kind, e.payload) for e in log[:-1]] == [
        (i - len(tasks), t.agency, "task", {"task_id": t.id, "status": "succeeded", "reused": True})
        for i, t in enumerate(tasks)]
    assert (log[-1].kind, log[-1].id > 0) == ("search_completed", True)
    done = got[-1]["payload"]
    assert set(done) == {"completed_at", "duration_seconds"} and done["duration_seconds"] == 0

    # Inside a caller's transaction without a record (a system search's path) it writes the same.
    old = new_search(case_id)
    async with pool.acquire() as c, c.transaction():
        await submit_search(c, old)
    before = await store.get(old.id)
    assert before is not None and (before.status, before.completed_at) == ("completed", before.created_at)
    old_events = await events(pool, old.id)
    assert [(e["agency"], e["kind"]) for e in old_events] == [(e["agency"], e["kind"]) for e in got]
    assert old_events[-1]["payload"] == {**done, "completed_at": old_events[-1]["payload"]["completed_at"]}
    assert [type(v) for v in old_events[-1]["payload"].values()] == [type(v) for v in done.values()]
    assert [(e.agency, e.kind, e.payload["status"]) for e in (await store.events_of(old.id))[:-1]] == [
        (a, "task", "succeeded") for a in AGENCIES]
    # Nothing queued: dispatchers are not woken by either; streams are, by both (not by the first).
    await heard.until("search_events", 2)
    await heard.until("audit_pending", 2)
    await asyncio.sleep(0.2)
    assert heard.by_channel["agency_tasks"] == [f"{','.join(AGENCIES)};{first.id}"]
    assert len(heard.by_channel["search_events"]) == 2


async def test_the_event_log_derives_the_submission_and_one_cursor_orders_derived_and_stored(
    pool: asyncpg.Pool,
) -> None:
    case_id = (await seed(pool))[NUMBER]
    store = SearchStore(pool, AUDIT)
    new = new_search(case_id)
    tasks = await store.create(new, audit_entry=audit_entry(new))
    # An answer stored after the submission: a stored event, after every derived one.
    await pool.execute("""INSERT INTO search_event (search_id, agency, kind, payload)
                          VALUES ($1, 'hotels', 'task', '{"status": "succeeded"}')""", new.id)
    log = await store.events_of(new.id)
    assert [e.id for e in log][:3] == [-3, -2, -1] and log[3].id > 0
    assert [(e.agency, e.payload["status"]) for e in log] == [(t.agency, "queued") for t in tasks] + [
        ("hotels", "succeeded")]
    # Resumed after each event, the log goes on from the next, derived or stored, nothing twice.
    for i, seen in enumerate(log):
        assert await store.events_of(new.id, seen.id) == log[i + 1:]
    assert await store.events_of(new.id, EVENTS_FROM_START) == log
    assert await store.events_of(new.id, -4) == log  # below every derived id: the whole log


async def test_a_search_whose_submission_wrote_its_task_events_gets_none_derived(pool: asyncpg.Pool) -> None:
    """Searches submitted before decision 1930 kept their submission events: not shown twice."""
    case_id = (await seed(pool))[NUMBER]
    store = SearchStore(pool, AUDIT)
    new = new_search(case_id)
    async with pool.acquire() as c, c.transaction():
        tasks = await submit_search(c, new)
        await c.execute("""INSERT INTO search_event (search_id, agency, kind, payload)
                           SELECT search_id, agency, 'task',
                                  jsonb_build_object('task_id', id, 'status', status, 'reused', reused)
                           FROM agency_task WHERE search_id = $1 ORDER BY id""", new.id)
    log = await store.events_of(new.id)
    assert all(e.id > 0 for e in log)
    assert [(e.agency, e.payload) for e in log] == [
        (t.agency, {"task_id": t.id, "status": "queued", "reused": False}) for t in tasks]


async def test_a_record_that_cannot_be_written_leaves_no_search_tasks_events_or_notifications(
    pool: asyncpg.Pool, heard: Heard, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = (await seed(pool))[NUMBER]
    store = SearchStore(pool, AUDIT)
    first = new_search(case_id)
    row = AUDIT.signed_row(audit_entry(first))
    monkeypatch.setattr(AUDIT, "signed_row", lambda _entry: row)
    await store.create(first, audit_entry=audit_entry(first))
    await heard.until("audit_pending")
    # The same signed row again: a copy of a record, refused by audit_log's unique mac.
    second = new_search(case_id)
    with pytest.raises(asyncpg.UniqueViolationError):
        await store.create(second, audit_entry=audit_entry(second))
    assert await store.get(second.id) is None
    assert await pool.fetchval("SELECT count(*) FROM agency_task WHERE search_id = $1", second.id) == 0
    assert await pool.fetchval("SELECT count(*) FROM search_event WHERE search_id = $1", second.id) == 0
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 1
    assert await pool.fetchval("SELECT count(*) FROM agency_task") == len(AGENCIES)  # the first search's
    await asyncio.sleep(0.2)
    assert {c: len(v) for c, v in heard.by_channel.items()} == {"agency_tasks": 1, "search_events": 0,
                                                                 "audit_pending": 1}


@pytest.fixture
async def service(db_url: str) -> AsyncIterator[tuple[SearchService, list[str]]]:
    """A service over a one-connection pool whose statements are counted."""
    statements: list[str] = []
    one = await create_pool(db_url, min_size=1, max_size=1)
    async with one.acquire() as c:
        c.add_query_logger(lambda q: statements.append(q.query))
    manifests = {n: spec.manifest for n, spec in Registry.discover().items()}
    yield SearchService(SearchStore(one, AUDIT), manifests), statements
    await one.close()


async def serial(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT coalesce(sum(last), 0) FROM document_serial WHERE court_code = $1",
                                   COURT))


async def test_a_submission_is_two_statements_and_a_refusal_takes_no_notice_number(
    pool: asyncpg.Pool, service: tuple[SearchService, list[str]]
) -> None:
    searches, statements = service
    ids = await seed(pool)
    case_id = ids[NUMBER]
    await searches.submit(JUDGE, SearchRequest(case_id, SUBJECT))  # warm: statements prepared, types known
    before = await serial(pool)
    statements.clear()
    submitted = await searches.submit(JUDGE, SearchRequest(case_id, SUBJECT), request_id="r-1")
    # Two round trips: the case (with its serial), then the submission (no BEGIN/COMMIT).
    assert statements == [Q.case_for_search_with_serial, Q.submit_search]
    assert await serial(pool) == before + 1
    row = await pool.fetchrow("SELECT document_number, status FROM search WHERE id = $1", submitted.search_id)
    assert row["document_number"] == f"（{date.today().year}）{COURT}执协查{before + 1:05d}号"
    assert await pool.fetchval("SELECT details ->> 'notice_number' FROM audit_log WHERE request_id = 'r-1'") == \
        row["document_number"]

    other_debtor = CASES[1][-1][0]
    closed = ids[CASES[3][0]]
    await pool.execute("UPDATE enforcement_case SET status = 'closed' WHERE id = $1", closed)
    refused = [
        (replace(JUDGE, role="supervisor"), case_id, SUBJECT, "role_cannot_search"),
        (Actor("lina", "judge", "李娜", COURT, "2101020047"), case_id, SUBJECT, "not_case_judge"),
        (JUDGE, closed, Subject(CASES[3][-1][0].kind, CASES[3][-1][0].id_number, "郑海涛"), "case_not_open"),
        (JUDGE, case_id, Subject(other_debtor.kind, other_debtor.id_number, other_debtor.name), "subject_not_debtor"),
    ]
    for actor, cid, subject, reason in refused:
        with pytest.raises(AccessDenied) as denied:
            await searches.submit(actor, SearchRequest(cid, subject))
        assert denied.value.reason == reason
        assert await serial(pool) == before + 1, f"a refusal ({reason}) took a notice number"
    searches.manifests = {}
    with pytest.raises(NoAgencyCovers):
        await searches.submit(JUDGE, SearchRequest(case_id, SUBJECT))
    assert await serial(pool) == before + 1, "a search without agencies took a notice number"
    searches.manifests = {n: spec.manifest for n, spec in Registry.discover().items()}
    given = await searches.submit(JUDGE, SearchRequest(case_id, SUBJECT, document_number="（2026）辽0102执协查77777号"))
    assert await serial(pool) == before + 1, "a search with its own number took one"
    assert await pool.fetchval("SELECT document_number FROM search WHERE id = $1", given.search_id) == \
        "（2026）辽0102执协查77777号"
    assert await pool.fetchval("SELECT count(*) FROM search") == 3
