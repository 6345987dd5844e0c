"""In-memory fakes of the searches stores: small classes with the public methods of the store
Protocols (``SearchStoreProtocol``, ``TaskStoreProtocol``, ``AgencyStoreProtocol``), recording
what they were asked, so the services are checked in milliseconds without PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from connectors.sdk.manifest import Manifest
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.searches.store.agencies import (
    AgencyCallStats,
    CallbackCounts,
    Liveness,
    SharedBreaker,
    TicketHolder,
    WorkerAgencyStats,
)
from enforcement.searches.store.searches import (
    EVENTS_FROM_START,
    AssetRow,
    CaseForSearch,
    CreatedTask,
    NewSearch,
    SearchEvent,
    SearchRecord,
    SearchTask,
)
from enforcement.searches.store.tasks import ClaimedTask, ClaimWant, Settlement, Success, one_outcome_per_task

YEAR = 2026  # the court year the fake store counts serials in


@dataclass
class FakeCase:
    id: int
    case_number: str
    court_code: str
    judge_login: str
    status: str = "open"
    debtors: set[tuple[str, str]] = field(default_factory=set)  # (kind, id number)
    judge_name: str = "王法官"
    judge_officer_id: str = "2101020001"


class FakeSearchStore:
    """``SearchStoreProtocol`` over dicts. ``fresh`` holds the agencies with a stored answer still
    fresh for a subject key: a search that does not force freshness reuses it, as the SQL does."""

    def __init__(self, cases: Sequence[FakeCase] = (), *, audited: bool = True,
                 users: Sequence[Actor] = ()) -> None:
        self.cases = {c.id: c for c in cases}
        self.users = {u.login: u for u in users}  # the active users
        self._audited = audited
        self.serials: dict[str, int] = {}
        self.searches: dict[UUID, NewSearch] = {}
        self.created_at: dict[UUID, datetime] = {}
        self.entries: list[AuditEntry] = []
        self.reads: list[AuditEntry] = []
        self.fresh: dict[str, set[str]] = {}
        self.records_of: dict[UUID, list[AssetRow]] = {}
        self.tasks_of: dict[UUID, list[SearchTask]] = {}
        self.events: list[SearchEvent] = []
        self.connections: list[Any] = []
        self._ids = itertools.count(1)

    @property
    def audited(self) -> bool:
        return self._audited

    def _case(self, case_id: int, kind: str = "", id_number: str = "", serial: int | None = None,
              serial_year: int | None = None) -> CaseForSearch:
        c = self.cases[case_id]
        return CaseForSearch(c.id, c.case_number, c.court_code, c.status, c.judge_login, c.judge_name,
                             c.judge_officer_id, (kind, id_number) in c.debtors, serial, serial_year=serial_year)

    async def create(self, new: NewSearch, *, audit_entry: AuditEntry | None = None) -> list[CreatedTask]:
        self.searches[new.id] = new
        self.created_at[new.id] = datetime.now(UTC)
        if audit_entry is not None:
            self.entries.append(audit_entry)
        reusable = set() if new.force_fresh else self.fresh.get(new.subject_key, set())
        return [CreatedTask(next(self._ids), p.agency, "succeeded" if p.agency in reusable else "queued",
                            p.agency in reusable) for p in new.agencies]

    async def create_in(self, conn: Any, new: NewSearch, *,
                        audit_entry: AuditEntry | None = None) -> list[CreatedTask]:
        self.connections.append(conn)
        return await self.create(new, audit_entry=audit_entry)

    async def case_for_search(self, case_id: int) -> CaseForSearch | None:
        return self._case(case_id) if case_id in self.cases else None

    async def case_in(self, conn: Any, case_id: int) -> CaseForSearch | None:
        self.connections.append(conn)
        return await self.case_for_search(case_id)

    async def case_for_submission(self, case_id: int, subject_kind: str, id_number: str, *, actor_login: str,
                                  actor_role: str, take_serial: bool) -> CaseForSearch | None:
        if case_id not in self.cases:
            return None
        c = self.cases[case_id]
        allowed = (actor_role == "judge" and c.judge_login == actor_login and c.status == "open"
                   and (subject_kind, id_number) in c.debtors)
        year, serial = await self.next_document_serial(c.court_code) if take_serial and allowed else (None, None)
        return self._case(case_id, subject_kind, id_number, serial, year)

    async def case_and_user_for_submission(self, case_id: int, subject_kind: str, id_number: str, *, login: str,
                                           claimed_role: str | None,
                                           take_serial: bool) -> tuple[Actor | None, CaseForSearch | None]:
        user = self.users.get(login)
        if user is None or case_id not in self.cases:
            return user, None if case_id not in self.cases else self._case(case_id, subject_kind, id_number)
        if claimed_role is not None and claimed_role != user.role:
            take_serial = False
        return user, await self.case_for_submission(case_id, subject_kind, id_number, actor_login=user.login,
                                                    actor_role=user.role, take_serial=take_serial)

    async def next_document_serial(self, court_code: str) -> tuple[int, int]:
        self.serials[court_code] = self.serials.get(court_code, 0) + 1
        return YEAR, self.serials[court_code]

    async def next_document_serial_in(self, conn: Any, court_code: str) -> tuple[int, int]:
        self.connections.append(conn)
        return await self.next_document_serial(court_code)

    async def record_read(self, entry: AuditEntry) -> None:
        self.reads.append(entry)

    async def get(self, search_id: UUID) -> SearchRecord | None:
        n = self.searches.get(search_id)
        if n is None:
            return None
        return SearchRecord(n.id, n.case_id, n.batch_id, n.subject_kind, n.subject_id_number, n.subject_name,
                            n.subject_key, n.purpose, n.requested_by, n.force_fresh, n.request_no, n.case_number,
                            n.court_code, n.judge_name, n.judge_officer_id, n.document_number, n.date_from,
                            n.date_to, "running", self.created_at[n.id], None)

    async def tasks(self, search_id: UUID) -> list[SearchTask]:
        return list(self.tasks_of.get(search_id, []))

    async def records(self, search_id: UUID) -> list[AssetRow]:
        return list(self.records_of.get(search_id, []))

    async def previous_search_at(self, subject_key: str, before: datetime) -> datetime | None:
        earlier = [self.created_at[s.id] for s in self.searches.values()
                   if s.subject_key == subject_key and self.created_at[s.id] < before]
        return max(earlier, default=None)

    async def events_after(self, last_id: int, limit: int = 1000) -> list[SearchEvent]:
        return [e for e in self.events if e.id > last_id][:limit]

    async def events_of(self, search_id: UUID, after: int = EVENTS_FROM_START) -> list[SearchEvent]:
        return [e for e in self.events if e.search_id == search_id and e.id > after]

    async def last_event_id(self) -> int:
        return max((e.id for e in self.events), default=0)


def claimed(task_id: int, agency: str, *, ticket: str | None = None, attempts: int = 1,
            deadline_in: float = 3600.0, last_error: str | None = None) -> ClaimedTask:
    return ClaimedTask(
        id=task_id, search_id=UUID(int=task_id), agency=agency, idempotency_key=f"{task_id}:{agency}",
        ticket=ticket, attempts=attempts, deadline_at=datetime.now(UTC) + timedelta(seconds=deadline_in),
        subject_kind="person", subject_id_number="110101199003074514", subject_name="张三", purpose="财产调查",
        request_no=f"R{task_id}", case_number="（2025）辽0102执1号", court_code="辽0102", judge_name="王法官",
        judge_officer_id="2101020001", document_number="（2025）辽0102执协查00001号", date_from=None,
        date_to=None, last_error=last_error,
    )


class FakeTaskStore:
    """``TaskStoreProtocol``: ``due`` tasks per agency are handed out by the claims; flushes are
    recorded; each flush completes the searches named in ``completes``."""

    def __init__(self, due: Mapping[str, Sequence[ClaimedTask]] = ()) -> None:
        self.due: dict[str, list[ClaimedTask]] = {a: list(ts) for a, ts in dict(due).items()}
        self.flushes: list[tuple[list[Success], list[Settlement], str | None]] = []
        self.claims: list[tuple[str, ...]] = []
        self.fail_flushes = 0  # raise this many times first
        self.flush_error: Exception = ConnectionRefusedError("the database is away")
        self.released: list[tuple[str, list[int]]] = []

    @property
    def successes(self) -> list[Success]:
        return [s for f in self.flushes for s in f[0]]

    @property
    def settlements(self) -> list[Settlement]:
        return [s for f in self.flushes for s in f[1]]

    async def claim(self, agency: str, worker_id: str, limit: int, lease_seconds: float, agency_limit: int, *,
                    which: str = "any", call_group: UUID | None = None,
                    half_open_calls: int = 1) -> list[ClaimedTask]:
        self.claims.append((agency, which))
        queue = self.due.get(agency, [])
        if which == "polls":
            taken = [t for t in queue if t.ticket][:limit]
        elif which == "fresh":
            taken = [t for t in queue if not t.ticket][:limit]
        else:
            taken = queue[:limit]
        for t in taken:
            queue.remove(t)
        return taken

    async def claim_many(self, wants: Sequence[ClaimWant], worker_id: str, lease_seconds: float,
                         total: int) -> list[ClaimedTask]:
        out: list[ClaimedTask] = []
        for w in wants:
            out += await self.claim(w.agency, worker_id, min(w.limit, total - len(out)), lease_seconds,
                                    w.agency_limit, half_open_calls=w.half_open_calls)
        return out

    async def oldest_due(self, agency: str, up_to: int = 10_000) -> tuple[float, int]:
        fresh = [t for t in self.due.get(agency, []) if not t.ticket]
        return (60.0 if fresh else 0.0), min(len(fresh), up_to)

    async def flush(self, successes: Sequence[Success], settlements: Sequence[Settlement], *,
                    worker_id: str | None) -> list[UUID]:
        if self.fail_flushes > 0:
            self.fail_flushes -= 1
            raise self.flush_error
        s, t = one_outcome_per_task(successes, settlements)
        self.flushes.append((s, t, worker_id))
        return [UUID(int=x.task_id) for x in s]

    async def expire_overdue(self, limit: int = 1000) -> list[UUID]:
        return []

    async def release_forgotten(self, worker_id: str, held: Sequence[int], older_than_seconds: float) -> int:
        self.released.append((worker_id, list(held)))
        return 0

    async def counts_by_agency(self) -> dict[str, dict[str, tuple[int, float]]]:
        return {}


class FakeAgencyStore:
    """``AgencyStoreProtocol``: the shared breakers and the live dispatchers, in memory (one
    instance shared by several coordinators stands for the shared database)."""

    def __init__(self) -> None:
        self.shared: dict[str, SharedBreaker] = {}
        self.alive: dict[str, float] = {}
        self.stats: dict[str, list[WorkerAgencyStats]] = {}
        self.nonces: set[tuple[str, str]] = set()
        self.holders: dict[str, TicketHolder] = {}
        self.purged = 0
        self.callbacks: list[tuple[str, str | None, datetime]] = []

    async def ensure_breakers(self, agencies: Sequence[str]) -> None:
        for a in agencies:
            self.shared.setdefault(a, SharedBreaker(a, "closed", 0.0, None, None, None, None))

    async def open_breaker(self, agency: str, open_seconds: float, worker_id: str,
                           reason: str | None) -> tuple[str, bool]:
        await self.ensure_breakers([agency])
        before = self.shared[agency]
        was = before.view_state
        if was == "open":
            return "open", False
        now = datetime.now(UTC)
        self.shared[agency] = SharedBreaker(agency, "open", open_seconds, now, now + timedelta(seconds=open_seconds),
                                            worker_id, reason)
        return ("closed" if was == "closed" else "open"), True

    async def close_breaker(self, agency: str) -> bool:
        before = self.shared.get(agency)
        if before is None or before.state == "closed":
            return False
        self.shared[agency] = SharedBreaker(agency, "closed", 0.0, None, None, None, None)
        return True

    async def breakers(self) -> dict[str, SharedBreaker]:
        return dict(self.shared)

    async def beat(self, worker_id: str, liveness_seconds: float) -> Liveness:
        self.alive[worker_id] = liveness_seconds
        return Liveness(len(self.alive), sum(1 for w in self.alive if w < worker_id))

    async def forget(self, worker_id: str) -> None:
        self.alive.pop(worker_id, None)

    async def live_dispatchers(self, liveness_seconds: float) -> int:
        return len(self.alive)

    async def write_stats(self, worker_id: str, stats: Sequence[WorkerAgencyStats]) -> None:
        self.stats[worker_id] = list(stats)

    async def call_stats(self, freshness_seconds: float) -> dict[str, AgencyCallStats]:
        return {}

    async def purge(self, keep_seconds: float = 3600.0) -> None:
        self.purged += 1

    async def remember_nonce(self, agency: str, nonce: str, remember_seconds: float) -> bool:
        if (agency, nonce) in self.nonces:
            return False
        self.nonces.add((agency, nonce))
        return True

    async def ticket_holders(self, tickets: Sequence[str]) -> list[TicketHolder]:
        return [self.holders[t] for t in tickets if t in self.holders]

    async def count_callback(self, agency: str, *, refused_reason: str | None) -> None:
        self.callbacks.append((agency, refused_reason, datetime.now(UTC)))

    async def callback_counts(self, window_seconds: float) -> dict[str, CallbackCounts]:
        out: dict[str, CallbackCounts] = {}
        since = datetime.now(UTC) - timedelta(seconds=window_seconds)
        for agency, reason, at in self.callbacks:
            if at < since:
                continue
            c = out.get(agency) or CallbackCounts(agency, 0, 0, None, None, None)
            out[agency] = CallbackCounts(agency, c.accepted + (reason is None), c.refused + (reason is not None), at,
                                         "accepted" if reason is None else "refused", reason)
        return out


def manifests(*names: str) -> dict[str, Manifest]:
    """The real manifests of the named connectors (read from their packages)."""
    return {n: Manifest.load(f"connectors.{n}") for n in names}


__all__ = ["FakeAgencyStore", "FakeCase", "FakeSearchStore", "FakeTaskStore", "claimed", "manifests"]
