"""The audit trail in PostgreSQL: records written with their actions, chained a moment later by
one chainer at a time, verification, pages.

``AuditLog(key).append(conn, entry)`` writes one record inside the caller's transaction, so the
record commits or rolls back with the action it records (a search, an export). ``record(pool,
entry)`` writes one on its own (a dossier read, a refusal). Neither takes a lock: the record is
written whole (signed by the writer, ``record_mac``) but without its place in the chain, and the
commit wakes the chainers (NOTIFY ``audit_pending``).

``chain_pending(pool)`` is one round of the chainer (``enforcement.kernel.audit_chainer``
runs it in every process): in a short transaction of its own it locks the chain head (``SKIP
LOCKED``: one chainer at a time, the others pass), takes the records waiting, oldest first,
gives each its seq, previous hash and HMAC hash exactly as an append under the lock did before
(decision 0402), and writes them and the head in one statement. Concurrent writers in any
number of processes therefore never fork the chain, and never wait for one another.

Others call it like this (an export, for example)::

    audit = request.app[AUDIT]
    async with pool.acquire() as conn, conn.transaction():
        ... write the export ...
        await audit.append(conn, AuditEntry(action="export", actor_login=actor.login, ...))

The chain key comes from ``AUDIT_CHAIN_KEY``; the demo keeps one in the data folder.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web
from asyncpg.pool import PoolConnectionProxy

from enforcement.domain.audit import (
    AuditEntry,
    AuditRecord,
    Backlog,
    ChainBreak,
    ChainVerifier,
    Verification,
    check_details,
    record_mac,
    seal_signed,
)
from enforcement.kernel import metrics
from enforcement.kernel.queries import Q
from enforcement.kernel.settings import Settings

MIN_KEY_BYTES = 32
# A record that has waited longer than this for its place in the chain means the chainers stopped.
STALE_AFTER_SECONDS = 60.0
CHAIN_BATCH = 1000
# A connection as the store's callers hold it: their own, or one acquired from the pool.
Conn = asyncpg.Connection | PoolConnectionProxy


class AuditKeyMismatch(RuntimeError):
    """The audit chain was started with another key: appending would break it."""


def key_id(key: bytes) -> str:
    """A fingerprint that names the key without revealing it."""
    return hashlib.sha256(b"enforcement-audit-key-id:" + key).hexdigest()[:16]


def load_audit_key(settings: Settings) -> bytes:
    """``AUDIT_CHAIN_KEY`` (at least 32 characters); in demo mode without it, a random key kept
    in ``<data_dir>/keys/audit-chain.key``. Production (``JWT_MODE=jwks``) must set the variable:
    every process and machine has to sign the one chain with the same key."""
    if settings.audit_chain_key:
        key = settings.audit_chain_key.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"AUDIT_CHAIN_KEY must be at least {MIN_KEY_BYTES} characters")
        return key
    if settings.jwt_mode != "demo":
        raise ValueError("AUDIT_CHAIN_KEY must be set outside the demo (JWT_MODE=jwks): every process "
                         "signs the one audit chain with the same key")
    folder = Path(settings.data_dir) / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "audit-chain.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip().encode("ascii")


def entry_from_row(row: asyncpg.Record | Mapping[str, Any]) -> AuditEntry:
    """An ``audit_log`` row as the entry it records."""
    details = row["details"]
    return AuditEntry(
        action=row["action"],
        actor_login=row["actor_login"],
        actor_role=row["actor_role"],
        actor_court=row["actor_court"],
        case_id=row["case_id"],
        case_number=row["case_number"],
        case_court=row["case_court"],
        subject_key=row["subject_key"],
        purpose=row["purpose"],
        reason=row["reason"],
        target=row["target"],
        request_id=row["request_id"],
        details=details if isinstance(details, dict) else {},
    )


def record_from_row(row: asyncpg.Record | Mapping[str, Any]) -> AuditRecord:
    """A chained record as stored."""
    return AuditRecord(row["seq"], row["at"], entry_from_row(row), row["prev_hash"], row["hash"])


@dataclass(frozen=True, slots=True)
class AuditFilter:
    court_code: str | None  # None: the records that belong to no court (what ops reads)
    case_id: int | None = None
    actor_login: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class ChainRound:
    """What one round of the chainer did."""

    chained: int = 0
    busy: bool = False  # another chainer held the chain head: it does the work
    refused: list[int] = field(default_factory=list)  # ids of records without the service's signature
    more: bool = False  # the round stopped at its batch size: records still wait


class AuditLog:
    """The audit chain's writer, chainer and verifier, holding the chain key (never the pool:
    each method takes the connection or pool it runs on)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the audit chain key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self.key_id = key_id(key)

    def _row(self, entry: AuditEntry, at: datetime) -> tuple[Any, ...]:
        e = entry
        return (e.action, e.actor_login, e.actor_role, e.actor_court, e.case_id, e.case_number, e.case_court,
                e.subject_key, e.purpose, e.reason, e.target, e.request_id, dict(e.details),
                record_mac(self._key, at, e))

    def signed_row(self, entry: AuditEntry) -> tuple[Any, ...]:
        """One record's values as ``insert_audit_record`` takes them ($1 at .. $15 mac), timed now
        and signed, for a statement that writes the record along with its action (a search
        submission). The caller counts it (``metrics.AUDIT_RECORDS``) once the statement succeeds."""
        check_details(entry.details)
        at = datetime.now(UTC)
        return (at, *self._row(entry, at))

    async def append(self, conn: Conn, entry: AuditEntry) -> int:
        """Write one record within the caller's transaction (it commits or rolls back with the
        action); its place in the chain follows within about a second. Returns the record's id."""
        record_id: int = await conn.fetchval(Q.insert_audit_record, *self.signed_row(entry))
        metrics.AUDIT_RECORDS.labels(action=entry.action).inc()
        return record_id

    async def append_many(self, conn: Conn, entries: Sequence[AuditEntry]) -> list[int]:
        """Write several records, in order, within the caller's transaction (a bulk search of
        thousands of subjects), in one statement; they are chained in this order."""
        if not entries:
            return []
        for entry in entries:
            check_details(entry.details)
        at = datetime.now(UTC)
        columns = [list(col) for col in zip(*(self._row(e, at) for e in entries), strict=True)]
        ids: list[int] = await conn.fetchval(Q.insert_audit_records, at, *columns)
        for entry in entries:
            metrics.AUDIT_RECORDS.labels(action=entry.action).inc()
        return ids

    async def record(self, pool: asyncpg.Pool | Conn, entry: AuditEntry) -> int:
        """Write one record on its own (one statement, its own transaction)."""
        record_id: int = await pool.fetchval(Q.insert_audit_record, *self.signed_row(entry))
        metrics.AUDIT_RECORDS.labels(action=entry.action).inc()
        return record_id

    def signed(self, row: asyncpg.Record | Mapping[str, Any]) -> bool:
        """Whether a record not yet chained carries the service's signature."""
        mac = row["mac"]
        return mac is not None and hmac.compare_digest(record_mac(self._key, row["at"], entry_from_row(row)), mac)

    async def chain_pending(self, pool: asyncpg.Pool, *, limit: int = CHAIN_BATCH,
                            skip: Collection[int] = (), look_first: bool = True) -> ChainRound:
        """One round of the chainer: give up to ``limit`` waiting records, oldest first, their
        place in the chain, in a short transaction of its own. Records without the service's
        signature are left waiting (``refused``; pass their ids back as ``skip``) for ``verify``
        and the alert to name. Raises ``AuditKeyMismatch`` when the chain has another key.

        ``look_first``: first ask, outside a transaction, whether anything waits (one round trip
        instead of three when nothing does: a round on the timer); a chainer woken by
        ``audit_pending`` knows something was written and goes straight to the claim."""
        passed = list(skip)
        if look_first and not await pool.fetchval(Q.any_unchained_audit, passed):
            return ChainRound()
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(Q.claim_audit_round, limit, passed)
            if not rows:
                return ChainRound(busy=True)
            head = rows[0]
            if head["key_id"] is not None and head["key_id"] != self.key_id:
                raise AuditKeyMismatch(f"the audit chain was started with key {head['key_id']}, "
                                       f"this process holds key {self.key_id}")
            if not head["fresh"]:
                # A chainer committed between this statement's snapshot and its lock: read again
                # in a statement of its own, whose snapshot sees what it committed.
                rows = await conn.fetch(Q.unchained_audit_records, limit, passed)
            elif rows[0]["id"] is None:
                return ChainRound()
            first_seq, first_prev = head["head_seq"], head["head_hash"]
            seq, prev = first_seq, first_prev
            key = self._key
            ids: list[int] = []
            hashes: list[str] = []
            refused: list[int] = []
            for row in rows:
                digest = seal_signed(key, prev, seq + 1, row["at"], entry_from_row(row), row["mac"])
                if digest is None:
                    refused.append(row["id"])
                    continue
                ids.append(row["id"])
                hashes.append(digest)
                seq, prev = seq + 1, digest
            if ids:
                chained = await conn.fetchval(Q.chain_audit_records, ids, hashes, first_seq, first_prev, self.key_id)
                if chained != len(ids):  # cannot happen under the head's lock; never half a batch
                    raise RuntimeError(f"chained {chained} of {len(ids)} audit records; rolled back")
        return ChainRound(len(ids), refused=refused, more=len(rows) == limit)

    async def backlog(self, conn: Conn) -> Backlog:
        """The records waiting to be chained: how many, the oldest, its age."""
        row = await conn.fetchrow(Q.audit_backlog)
        assert row is not None
        if row["id"] is None:
            return Backlog()
        return Backlog(row["pending"], row["id"], row["at"], float(row["age"]), self.signed(row))

    async def verify(self, conn: Conn, *, prefetch: int = 1000, anchors: Mapping[int, str] | None = None,
                     stale_after: float = STALE_AFTER_SECONDS) -> Verification:
        """Check the whole chain in one consistent snapshot; name the first broken record.
        ``anchors`` (seq -> hash) are chain heads kept outside the database. A record that has
        waited more than ``stale_after`` seconds for its place in the chain is reported too
        (``stalled``): the chainers have stopped, or someone else wrote it."""
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            backlog = await self.backlog(conn)  # first: its age is measured at the snapshot's start
            stalled = backlog.oldest_id is not None and (backlog.age_seconds > stale_after or not backlog.oldest_signed)
            head = await conn.fetchrow(Q.audit_head)
            assert head is not None, "migration 0002 creates the chain head"
            if head["key_id"] is not None and head["key_id"] != self.key_id:
                return Verification(0, 0, "", ChainBreak(1, "wrong_key", f"the chain was signed with key "
                                                         f"{head['key_id']}, not with this key ({self.key_id})"),
                                    backlog, stalled)
            verifier = ChainVerifier(self._key, anchors)
            async for row in conn.cursor(Q.audit_chain, prefetch=prefetch):
                if not verifier.feed(record_from_row(row)):
                    break
            result = verifier.result((head["seq"], head["hash"]))
            return Verification(result.checked, result.last_seq, result.last_hash, result.broken, backlog, stalled)

    async def page(self, pool: asyncpg.Pool, f: AuditFilter) -> list[AuditRecord]:
        """Chained records matching ``f``, newest first, at most ``f.limit``, before ``f.before_seq``;
        ``f.court_code`` None reads the records that belong to no court."""
        if f.court_code is None:
            rows = await pool.fetch(Q.audit_page_courtless, f.case_id, f.actor_login, f.action, f.since, f.until,
                                    f.before_seq, f.limit)
        else:
            rows = await pool.fetch(Q.audit_page, f.court_code, f.case_id, f.actor_login, f.action, f.since, f.until,
                                    f.before_seq, f.limit)
        return [record_from_row(r) for r in rows]

    async def case_reference(self, pool: asyncpg.Pool | Conn, case_id: int) -> tuple[str, str] | None:
        """A case's number and court (for a refusal that named only its id), or None."""
        row = await pool.fetchrow(Q.case_for_refusal, case_id)
        return None if row is None else (row["case_number"], row["court_code"])

    async def by_request(self, pool: asyncpg.Pool, request_id: str) -> list[AuditRecord]:
        """The chained records one request left (tests and support), in chain order."""
        return [record_from_row(r) for r in await pool.fetch(Q.audit_by_request, request_id)]


class AuditTrail:
    """The audit log bound to the pool, for callers that hold no connection (the edge: refusals,
    the audit page). Built by the composition root once the pool exists (key ``AUDIT_TRAIL``)."""

    def __init__(self, log: AuditLog, pool: asyncpg.Pool) -> None:
        self.log = log
        self._pool = pool

    async def record(self, entry: AuditEntry) -> int:
        """Write one record on its own transaction (``AuditLog.record``); returns its id."""
        return await self.log.record(self._pool, entry)

    async def case_reference(self, case_id: int) -> tuple[str, str] | None:
        """A case's number and court, or None when there is no such case."""
        return await self.log.case_reference(self._pool, case_id)

    async def page(self, f: AuditFilter) -> list[AuditRecord]:
        """One page of chained records, newest first (``AuditLog.page``)."""
        return await self.log.page(self._pool, f)


AUDIT_TRAIL = web.AppKey("audit_trail", AuditTrail)

__all__ = [
    "AUDIT_TRAIL",
    "STALE_AFTER_SECONDS",
    "AuditFilter",
    "AuditKeyMismatch",
    "AuditLog",
    "AuditTrail",
    "ChainRound",
    "Conn",
    "entry_from_row",
    "key_id",
    "load_audit_key",
    "record_from_row",
]
