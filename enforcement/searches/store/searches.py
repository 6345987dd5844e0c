"""Searches: created with their agency tasks in one transaction (the outbox), read back with
tasks and records, and followed through their event log; the case a search is made for, and
its 协助查询通知书 serial.

A judge's submission (``SearchStore.create``) is ONE statement (``submit_search``): the search,
its tasks (and its completion when every agency was answered from a stored answer), its audit
record and the notifications, in the statement's own transaction, or inside a caller's
(``create_in``: a system search made along with other work). Judges' submissions that arrive while
one is being written are written together in one statement (``submit_searches``, by the store's
``SubmissionWriter``, decision 1945), each answered after the commit of its own search.

Callers get frozen values (``CaseForSearch``, ``SearchRecord``, ``SearchTask``, ``AssetRow``,
``SearchEvent``, ``CreatedTask``), never driver rows. ``SearchStoreProtocol`` is the store's public
surface, for the service's type and for in-memory fakes in unit tests.

A search's event log (``events_of``) begins with one ``task`` event per task as the submission
made it (queued, or succeeded and reused), derived from the tasks rather than written (decision
1930): their ids are -n..-1 for the search's n tasks, below every stored event's (from 1), so one
cursor (``after``, an SSE stream's ``Last-Event-ID``) orders both; ``EVENTS_FROM_START`` is below
them all. Past the events' retention (decision 1901) a completed search's whole log is derived,
each task's final state and the completion too (decision 1950).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import structlog

from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import CaseAccess
from enforcement.kernel import metrics
from enforcement.kernel.audit import AuditLog, Conn
from enforcement.kernel.queries import Q
from enforcement.kernel.users import actor_from_row

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AgencyPlan:
    """What the planner decided for one agency of a new search."""

    agency: str
    deadline_seconds: float
    freshness_hours: float


@dataclass(frozen=True, slots=True)
class NewSearch:
    id: UUID
    case_id: int
    subject_kind: str
    subject_id_number: str
    subject_name: str
    subject_key: str
    purpose: str
    requested_by: str
    force_fresh: bool
    request_no: str
    case_number: str
    court_code: str
    judge_name: str
    judge_officer_id: str
    document_number: str
    agencies: Sequence[AgencyPlan]
    batch_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class CreatedTask:
    id: int
    agency: str
    status: str
    reused: bool
    answer_id: int | None = None  # the stored answer it was answered from (reused)


@dataclass(frozen=True, slots=True)
class SearchEvent:
    id: int
    search_id: UUID
    agency: str | None
    kind: str
    payload: dict[str, Any]
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SearchEvent:
        return cls(row["id"], row["search_id"], row["agency"], row["kind"], dict(row["payload"]), row["created_at"])


# The cursor below every event of a search, derived (-n..-1) or stored (from 1): its whole log.
EVENTS_FROM_START = -(2**63)


# The audit columns of ``submit_search`` ($22..$36) when the submission writes no record.
_NO_RECORD: tuple[None, ...] = (None,) * 15


def _search_values(new: NewSearch) -> tuple[Any, ...]:
    """$1..$21 of ``submit_search``."""
    return (
        new.id, new.case_id, new.batch_id, new.subject_kind, new.subject_id_number, new.subject_name,
        new.subject_key, new.purpose, new.requested_by, new.force_fresh, new.request_no,
        new.case_number, new.court_code, new.judge_name, new.judge_officer_id, new.document_number,
        new.date_from, new.date_to,
        [a.agency for a in new.agencies],
        [a.deadline_seconds for a in new.agencies],
        [a.freshness_hours for a in new.agencies],
    )


def _task(r: asyncpg.Record) -> CreatedTask:
    return CreatedTask(r["id"], r["agency"], r["status"], r["reused"], r["answer_id"])


@dataclass(frozen=True, slots=True)
class CaseForSearch:
    """The case a search is made for, with its judge; from a submission's lookup, also whether
    the subject is one of its debtors and the notice serial taken with it (None if none was)."""

    id: int
    case_number: str
    court_code: str
    status: str
    judge_login: str | None
    judge_name: str | None
    judge_officer_id: str
    is_debtor: bool = False
    serial: int | None = None
    serial_year: int | None = None  # the court's year (Beijing time) the serial was counted in
    closure_mode: str | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> CaseForSearch:
        return cls(
            id=int(row["id"]), case_number=row["case_number"], court_code=row["court_code"], status=row["status"],
            judge_login=row["judge_login"], judge_name=row["judge_name"],
            judge_officer_id=row["judge_officer_id"] or "",
            is_debtor=bool(row.get("is_debtor", False)),
            serial=None if row.get("serial") is None else int(row["serial"]),
            serial_year=None if row.get("serial_year") is None else int(row["serial_year"]),
            closure_mode=row.get("closure_mode"),
        )

    @property
    def access(self) -> CaseAccess:
        """What the authorization rules need to know of the case."""
        return CaseAccess(self.id, self.court_code, self.judge_login, self.status, self.closure_mode)


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """One stored search."""

    id: UUID
    case_id: int
    batch_id: UUID | None
    subject_kind: str
    subject_id_number: str
    subject_name: str
    subject_key: str
    purpose: str
    requested_by: str
    force_fresh: bool
    request_no: str
    case_number: str
    court_code: str
    judge_name: str
    judge_officer_id: str
    document_number: str
    date_from: date | None
    date_to: date | None
    status: str
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SearchRecord:
        return cls(
            id=row["id"], case_id=int(row["case_id"]), batch_id=row["batch_id"], subject_kind=row["subject_kind"],
            subject_id_number=row["subject_id_number"], subject_name=row["subject_name"],
            subject_key=row["subject_key"], purpose=row["purpose"], requested_by=row["requested_by"],
            force_fresh=bool(row["force_fresh"]), request_no=row["request_no"], case_number=row["case_number"],
            court_code=row["court_code"], judge_name=row["judge_name"], judge_officer_id=row["judge_officer_id"],
            document_number=row["document_number"], date_from=row["date_from"], date_to=row["date_to"],
            status=row["status"], created_at=row["created_at"], completed_at=row["completed_at"],
        )


@dataclass(frozen=True, slots=True)
class SearchTask:
    """One agency task of a search, with its answer's time and, when reused, the search first answered."""

    id: int
    agency: str
    status: str
    attempts: int
    reused: bool
    error_code: str | None
    error_message: str | None
    has_ticket: bool
    created_at: datetime
    finished_at: datetime | None
    deadline_at: datetime
    answer_id: int | None
    answered_at: datetime | None
    record_count: int | None
    answer_search_id: UUID | None
    agency_reference: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SearchTask:
        return cls(
            id=int(row["id"]), agency=row["agency"], status=row["status"], attempts=int(row["attempts"]),
            reused=bool(row["reused"]), error_code=row["error_code"], error_message=row["error_message"],
            has_ticket=bool(row["has_ticket"]), created_at=row["created_at"], finished_at=row["finished_at"],
            deadline_at=row["deadline_at"], answer_id=row["answer_id"], answered_at=row["answered_at"],
            record_count=row["record_count"], answer_search_id=row["answer_search_id"],
            agency_reference=row["agency_reference"],
        )


@dataclass(frozen=True, slots=True)
class AssetRow:
    """One asset record behind a search's answers, with its provenance and first sighting."""

    agency: str
    kind: str
    natural_key: str
    data: Mapping[str, Any]
    answer_id: int
    answered_at: datetime
    reused: bool
    is_new: bool
    first_seen_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> AssetRow:
        return cls(
            agency=row["agency"], kind=row["kind"], natural_key=row["natural_key"], data=row["data"],
            answer_id=int(row["answer_id"]), answered_at=row["answered_at"], reused=bool(row["reused"]),
            is_new=bool(row["is_new"]), first_seen_at=row["first_seen_at"],
        )


async def submit_search(conn: Conn | asyncpg.Pool, new: NewSearch, audit: AuditLog | None = None,
                        audit_entry: AuditEntry | None = None) -> list[CreatedTask]:
    """Insert the search, its tasks, and its audit record, in ONE statement (its own
    transaction, or the caller's when ``conn`` holds one): a search is never made without its
    audit record, nor recorded without being made. A search answered entirely from stored
    answers is completed at once, with its ``search_completed`` event (the event streams are
    woken for it); dispatchers and audit chainers are woken at commit. The tasks' submission
    events are not written: ``events_of`` derives them (decision 1930)."""
    if audit_entry is not None and audit is None:
        raise ValueError("an audit entry needs the audit log")
    record = _NO_RECORD if audit_entry is None or audit is None else audit.signed_row(audit_entry)
    rows = await conn.fetch(Q.submit_search, *_search_values(new), *record)
    if audit_entry is not None:
        if rows[0]["audit_id"] is None:  # cannot happen: the statement writes it with the search
            raise RuntimeError("the search's audit record was not written")
        metrics.AUDIT_RECORDS.labels(action=audit_entry.action).inc()
    # No agency at all: one row without a task (the search is made, completed, announced).
    return [_task(r) for r in rows if r["id"] is not None]


# The most submissions one ``submit_searches`` statement writes (decision 1945): the fan-out's 64 in
# flight fit in one; a larger queue is written by the next statements, in order.
SUBMISSIONS_PER_WRITE = 64


@dataclass(slots=True)
class _Queued:
    new: NewSearch
    audit_entry: AuditEntry | None
    done: asyncio.Future[list[CreatedTask]]


class SubmissionWriter:
    """Judges' submissions committed together (issue 19, decision 1945): ``submit`` queues one and
    waits for the commit of its own search. At most one write is in flight: when none is, the
    submission is written at once (no linger: ``submit_search``, as before); while one is, the
    submissions arriving queue, and the next write takes them all (at most ``cap``) in ONE
    ``submit_searches`` statement and transaction. If that statement fails, each of its
    submissions is written alone, so a bad one fails alone and the others are kept. A caller is
    answered only after the commit of its own search, or with its own error."""

    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None, cap: int = SUBMISSIONS_PER_WRITE) -> None:
        if cap < 1:
            raise ValueError("a write takes at least one submission")
        self.pool = pool
        self.audit = audit
        self.cap = cap
        self._queue: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, new: NewSearch, audit_entry: AuditEntry | None) -> list[CreatedTask]:
        done: asyncio.Future[list[CreatedTask]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(new, audit_entry, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queued(), name="submission-writer")
        # A caller that goes away does not stop the write its submission is in (it may be others' too).
        return await asyncio.shield(done)

    async def _write_queued(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.cap], self._queue[self.cap:]
                try:
                    if len(batch) == 1:
                        await self._write_alone(batch[0])
                    else:
                        await self._write_together(batch)
                except BaseException as exc:  # cancelled (shutdown): nothing is answered as kept
                    for q in batch:
                        if not q.done.done():
                            if isinstance(exc, Exception):
                                q.done.set_exception(exc)
                            else:
                                q.done.cancel()
                    raise
        finally:
            self._writer = None
            for q in self._queue:  # only if cancelled: the rest is not written
                if not q.done.done():
                    q.done.set_exception(RuntimeError("the submission writer stopped before writing it"))
            self._queue = []

    async def _write_alone(self, q: _Queued) -> None:
        try:
            tasks = await submit_search(self.pool, q.new, self.audit, q.audit_entry)
        except Exception as exc:
            if not q.done.done():
                q.done.set_exception(exc)
            return
        if not q.done.done():
            q.done.set_result(tasks)

    async def _write_together(self, batch: list[_Queued]) -> None:
        try:
            by_search = await submit_searches(self.pool, [(q.new, q.audit_entry) for q in batch], self.audit)
        except Exception as exc:
            # One bad submission must not sink the others: each is written alone, and fails alone.
            log.info("submissions_written_alone", submissions=len(batch), error=type(exc).__name__)
            for q in batch:
                await self._write_alone(q)
            return
        for q in batch:
            if not q.done.done():
                q.done.set_result(by_search[q.new.id])


async def submit_searches(pool: asyncpg.Pool | Conn, items: Sequence[tuple[NewSearch, AuditEntry | None]],
                          audit: AuditLog | None) -> dict[UUID, list[CreatedTask]]:
    """``submit_search`` for several submissions in ONE statement and transaction
    (``submit_searches``): the searches, their tasks, their audit records in this order, the
    notifications. Returns each search's tasks, by search id."""
    if any(e is not None for _, e in items) and audit is None:
        raise ValueError("an audit entry needs the audit log")
    searches = [_search_values(new)[:18] for new, _ in items]
    task_index: list[int] = []
    agencies: list[str] = []
    deadlines: list[float] = []
    freshness: list[float] = []
    for i, (new, _) in enumerate(items, start=1):
        for a in new.agencies:
            task_index.append(i)
            agencies.append(a.agency)
            deadlines.append(a.deadline_seconds)
            freshness.append(a.freshness_hours)
    records = [_NO_RECORD if e is None or audit is None else audit.signed_row(e) for _, e in items]
    rows = await pool.fetch(Q.submit_searches, *(list(c) for c in zip(*searches, strict=True)),
                            task_index, agencies, deadlines, freshness,
                            *(list(c) for c in zip(*records, strict=True)))
    entries = [e for _, e in items if e is not None]
    written = rows[0]["audit_ids"] or []
    if len(written) != len(entries):  # cannot happen: the statement writes them with the searches
        raise RuntimeError("the searches' audit records were not all written")
    for entry in entries:
        metrics.AUDIT_RECORDS.labels(action=entry.action).inc()
    by_search: dict[UUID, list[CreatedTask]] = {new.id: [] for new, _ in items}
    for r in rows:
        if r["id"] is not None:
            by_search[r["search_id"]].append(_task(r))
    return by_search


class SearchStoreProtocol(Protocol):
    """The public surface of ``SearchStore`` (what ``SearchService`` and ``EventHub`` use)."""

    @property
    def audited(self) -> bool: ...
    async def create(self, new: NewSearch, *, audit_entry: AuditEntry | None = None) -> list[CreatedTask]: ...
    async def create_in(self, conn: Conn, new: NewSearch, *,
                        audit_entry: AuditEntry | None = None) -> list[CreatedTask]: ...
    async def case_for_search(self, case_id: int) -> CaseForSearch | None: ...
    async def case_in(self, conn: Conn, case_id: int) -> CaseForSearch | None: ...
    async def case_for_submission(self, case_id: int, subject_kind: str, id_number: str, *, actor_login: str,
                                  actor_role: str, take_serial: bool) -> CaseForSearch | None: ...
    async def case_and_user_for_submission(self, case_id: int, subject_kind: str, id_number: str, *, login: str,
                                           claimed_role: str | None,
                                           take_serial: bool) -> tuple[Actor | None, CaseForSearch | None]: ...
    async def next_document_serial(self, court_code: str) -> tuple[int, int]: ...
    async def next_document_serial_in(self, conn: Conn, court_code: str) -> tuple[int, int]: ...
    async def record_read(self, entry: AuditEntry) -> None: ...
    async def get(self, search_id: UUID) -> SearchRecord | None: ...
    async def tasks(self, search_id: UUID) -> list[SearchTask]: ...
    async def records(self, search_id: UUID) -> list[AssetRow]: ...
    async def previous_search_at(self, subject_key: str, before: datetime) -> datetime | None: ...
    async def events_after(self, last_id: int, limit: int = 1000) -> list[SearchEvent]: ...
    async def events_of(self, search_id: UUID, after: int = EVENTS_FROM_START) -> list[SearchEvent]: ...
    async def last_event_id(self) -> int: ...


class SearchStore:
    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None = None) -> None:
        self.pool = pool
        self.audit = audit
        self.writer = SubmissionWriter(pool, audit)

    @property
    def audited(self) -> bool:
        """Whether the store writes audit records (it was given the audit log)."""
        return self.audit is not None

    async def create(self, new: NewSearch, *, audit_entry: AuditEntry | None = None) -> list[CreatedTask]:
        """Written by the store's ``SubmissionWriter``: alone (``submit_search``, one statement,
        its own transaction) when no write is in flight, else with the submissions queued
        meanwhile (``submit_searches``); returns after the commit of its own search."""
        if audit_entry is not None and self.audit is None:
            raise ValueError("an audit entry needs a SearchStore built with the audit log")
        return await self.writer.submit(new, audit_entry)

    async def create_in(self, conn: Conn, new: NewSearch, *,
                        audit_entry: AuditEntry | None = None) -> list[CreatedTask]:
        """``submit_search`` inside the caller's transaction (``conn`` holds it)."""
        if audit_entry is not None and self.audit is None:
            raise ValueError("an audit entry needs a SearchStore built with the audit log")
        return await submit_search(conn, new, self.audit, audit_entry)

    async def case_for_search(self, case_id: int) -> CaseForSearch | None:
        """The case with its judge's name and officer id, and its status; None if there is none."""
        return await self.case_in(self.pool, case_id)

    async def case_in(self, conn: Conn | asyncpg.Pool, case_id: int) -> CaseForSearch | None:
        """``case_for_search`` inside the caller's transaction."""
        row = await conn.fetchrow(Q.get_case_for_search, case_id)
        return None if row is None else CaseForSearch.from_row(row)

    async def case_for_submission(self, case_id: int, subject_kind: str, id_number: str, *, actor_login: str,
                                  actor_role: str, take_serial: bool) -> CaseForSearch | None:
        """The case (None if there is none), its judge, whether the subject is one of its debtors
        (``is_debtor``), and, when ``take_serial``, the court's next 协助查询通知书 serial
        (``serial``) in the same statement, taken only if the search is allowed (the rule of
        ``domain.authorization.check_search``, mirrored in SQL): a refusal consumes no number.
        ``serial`` is None when none was taken; the caller still applies ``check_search``."""
        row = await self.pool.fetchrow(Q.case_for_search_with_serial, case_id, subject_kind, id_number,
                                       actor_login, actor_role, take_serial)
        return None if row is None else CaseForSearch.from_row(row)

    async def case_and_user_for_submission(self, case_id: int, subject_kind: str, id_number: str, *, login: str,
                                           claimed_role: str | None,
                                           take_serial: bool) -> tuple[Actor | None, CaseForSearch | None]:
        """``case_for_submission`` for the user ``login`` names, loaded in the same statement:
        the active user (None when there is none: the caller refuses with a 401) and the case.
        The serial is taken as there, and only for an active user whose role is ``claimed_role``
        (when not None), so nothing is consumed for a request the caller will refuse."""
        row = await self.pool.fetchrow(Q.case_for_search_as_user, case_id, subject_kind, id_number, login,
                                       claimed_role, take_serial)
        if row is None:  # cannot happen: the statement answers one row, whatever it finds
            raise RuntimeError("case_for_search_as_user answered no row")
        user = None if row["user_login"] is None else actor_from_row(
            {"login": row["user_login"], "role": row["user_role"], "display_name": row["user_display_name"],
             "court_code": row["user_court_code"], "officer_id": row["user_officer_id"],
             "agency": row["user_agency"]})
        return user, None if row["id"] is None else CaseForSearch.from_row(row)

    async def next_document_serial(self, court_code: str) -> tuple[int, int]:
        """The court's year (Beijing time) and its next 协助查询通知书 serial in it (consumed, whatever
        the caller does next)."""
        return await self.next_document_serial_in(self.pool, court_code)

    async def next_document_serial_in(self, conn: Conn | asyncpg.Pool, court_code: str) -> tuple[int, int]:
        """``next_document_serial`` inside the caller's transaction."""
        row = await conn.fetchrow(Q.next_document_serial, court_code)
        assert row is not None  # an INSERT ... ON CONFLICT DO UPDATE returns its row
        return int(row["year"]), int(row["last"])

    async def record_read(self, entry: AuditEntry) -> None:
        """Write the audit record of a read on its own (one statement, its own transaction); nothing
        when the store has no audit log."""
        if self.audit is not None:
            await self.audit.record(self.pool, entry)

    async def get(self, search_id: UUID) -> SearchRecord | None:
        row = await self.pool.fetchrow(Q.get_search, search_id)
        return None if row is None else SearchRecord.from_row(row)

    async def tasks(self, search_id: UUID) -> list[SearchTask]:
        return [SearchTask.from_row(r) for r in await self.pool.fetch(Q.get_search_tasks, search_id)]

    async def records(self, search_id: UUID) -> list[AssetRow]:
        return [AssetRow.from_row(r) for r in await self.pool.fetch(Q.get_search_records, search_id)]

    async def previous_search_at(self, subject_key: str, before: datetime) -> datetime | None:
        """When the subject was last searched before ``before``; None if never."""
        row = await self.pool.fetchrow(Q.previous_search_of_subject, subject_key, before)
        return None if row is None else row["created_at"]

    async def events_after(self, last_id: int, limit: int = 1000) -> list[SearchEvent]:
        return [SearchEvent.from_row(r) for r in await self.pool.fetch(Q.events_after, last_id, limit)]

    async def events_of(self, search_id: UUID, after: int = EVENTS_FROM_START) -> list[SearchEvent]:
        """The search's events after ``after`` in id order: its tasks' submission events, derived
        (ids below 0), then the stored ones; a completed search whose stored events retention
        dropped gets its whole log derived (ids below 0, decision 1950)."""
        # at or past 0 nothing derived is left: the stored events alone, by the lighter statement
        query = Q.events_of_search if after < 0 else Q.stored_events_of_search
        return [SearchEvent.from_row(r) for r in await self.pool.fetch(query, search_id, after)]

    async def last_event_id(self) -> int:
        value = await self.pool.fetchval(Q.last_event_id)
        return int(value or 0)


__all__ = [
    "EVENTS_FROM_START",
    "AgencyPlan",
    "AssetRow",
    "CaseForSearch",
    "CreatedTask",
    "NewSearch",
    "SearchEvent",
    "SearchRecord",
    "SearchStore",
    "SearchStoreProtocol",
    "SearchTask",
    "SubmissionWriter",
    "submit_search",
    "submit_searches",
]
