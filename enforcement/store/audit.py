"""The audit trail in PostgreSQL: appends serialized on the chain head, verification, pages.

``AuditLog(key).append(conn, entry)`` writes one record inside the caller's transaction, so the
record commits or rolls back with the action it records (a search, an export). ``record(pool,
entry)`` writes one in its own transaction (a dossier read, a refusal). Appends lock the single
row of ``audit_chain_head`` until the transaction ends, so concurrent writers, in any number of
processes, extend one chain and never fork it; take the lock last in a transaction (it is held
until commit).

Others call it like this (an export, for example)::

    audit = request.app[AUDIT]
    async with pool.acquire() as conn, conn.transaction():
        ... write the export ...
        await audit.append(conn, AuditEntry(action="export", actor_login=actor.login, ...))

The chain key comes from ``AUDIT_CHAIN_KEY``; the demo keeps one in the data folder.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from enforcement import metrics
from enforcement.domain.audit import (
    AuditEntry,
    AuditRecord,
    ChainBreak,
    ChainVerifier,
    Verification,
    check_details,
    seal,
)
from enforcement.settings import Settings
from enforcement.store.queries import Q

MIN_KEY_BYTES = 32
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


def record_from_row(row: asyncpg.Record | Mapping[str, Any]) -> AuditRecord:
    details = row["details"]
    entry = AuditEntry(
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
    return AuditRecord(row["seq"], row["at"], entry, row["prev_hash"], row["hash"])


@dataclass(frozen=True, slots=True)
class AuditFilter:
    court_code: str
    case_id: int | None = None
    actor_login: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 100


class AuditLog:
    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the audit chain key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self.key_id = key_id(key)

    async def append(self, conn: Conn, entry: AuditEntry) -> AuditRecord:
        """Append within the caller's transaction (one is opened if there is none)."""
        check_details(entry.details)
        if not conn.is_in_transaction():
            async with conn.transaction():
                return await self._append(conn, entry)
        return await self._append(conn, entry)

    async def _append(self, conn: Conn, entry: AuditEntry) -> AuditRecord:
        head = await conn.fetchrow(Q.lock_audit_head)
        assert head is not None, "migration 0002 creates the chain head"
        if head["key_id"] is not None and head["key_id"] != self.key_id:
            raise AuditKeyMismatch(f"the audit chain was started with key {head['key_id']}, "
                                   f"this process holds key {self.key_id}")
        rec = seal(self._key, head["seq"], head["hash"], head["now"], entry)
        e = rec.entry
        await conn.execute(
            Q.append_audit_record,
            rec.seq, rec.at, e.action, e.actor_login, e.actor_role, e.actor_court, e.case_id, e.case_number,
            e.case_court, e.subject_key, e.purpose, e.reason, e.target, e.request_id, dict(e.details),
            rec.prev_hash, rec.hash, self.key_id,
        )
        metrics.AUDIT_RECORDS.labels(action=e.action).inc()
        return rec

    async def append_many(self, conn: Conn, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Append several records, in order, within the caller's transaction (a bulk search of
        thousands of subjects): the head is locked once and the records go in one pipelined
        round trip, each chained on the one before, exactly as ``append`` would chain them."""
        if not entries:
            return []
        for entry in entries:
            check_details(entry.details)
        if not conn.is_in_transaction():
            async with conn.transaction():
                return await self._append_many(conn, entries)
        return await self._append_many(conn, entries)

    async def _append_many(self, conn: Conn, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        head = await conn.fetchrow(Q.lock_audit_head)
        assert head is not None, "migration 0002 creates the chain head"
        if head["key_id"] is not None and head["key_id"] != self.key_id:
            raise AuditKeyMismatch(f"the audit chain was started with key {head['key_id']}, "
                                   f"this process holds key {self.key_id}")
        records: list[AuditRecord] = []
        seq, prev = head["seq"], head["hash"]
        for entry in entries:
            rec = seal(self._key, seq, prev, head["now"], entry)
            records.append(rec)
            seq, prev = rec.seq, rec.hash
        await conn.executemany(Q.append_audit_record, [
            (r.seq, r.at, r.entry.action, r.entry.actor_login, r.entry.actor_role, r.entry.actor_court,
             r.entry.case_id, r.entry.case_number, r.entry.case_court, r.entry.subject_key, r.entry.purpose,
             r.entry.reason, r.entry.target, r.entry.request_id, dict(r.entry.details), r.prev_hash, r.hash,
             self.key_id)
            for r in records
        ])
        for r in records:
            metrics.AUDIT_RECORDS.labels(action=r.entry.action).inc()
        return records

    async def record(self, pool: asyncpg.Pool, entry: AuditEntry) -> AuditRecord:
        """Append in a transaction of its own."""
        async with pool.acquire() as conn, conn.transaction():
            return await self._append(conn, entry)

    async def verify(self, conn: Conn, *, prefetch: int = 1000,
                     anchors: Mapping[int, str] | None = None) -> Verification:
        """Check the whole chain in one consistent snapshot; name the first broken record.
        ``anchors`` (seq -> hash) are chain heads kept outside the database."""
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            head = await conn.fetchrow(Q.audit_head)
            assert head is not None, "migration 0002 creates the chain head"
            if head["key_id"] is not None and head["key_id"] != self.key_id:
                return Verification(0, 0, "", ChainBreak(1, "wrong_key", f"the chain was signed with key "
                                                         f"{head['key_id']}, not with this key ({self.key_id})"))
            verifier = ChainVerifier(self._key, anchors)
            async for row in conn.cursor(Q.audit_chain, prefetch=prefetch):
                if not verifier.feed(record_from_row(row)):
                    break
            return verifier.result((head["seq"], head["hash"]))

    async def page(self, pool: asyncpg.Pool, f: AuditFilter) -> list[AuditRecord]:
        rows = await pool.fetch(Q.audit_page, f.court_code, f.case_id, f.actor_login, f.action, f.since, f.until,
                                f.before_seq, f.limit)
        return [record_from_row(r) for r in rows]

    async def by_request(self, pool: asyncpg.Pool, request_id: str) -> list[AuditRecord]:
        return [record_from_row(r) for r in await pool.fetch(Q.audit_by_request, request_id)]


__all__ = ["AuditFilter", "AuditKeyMismatch", "AuditLog", "Conn", "key_id", "load_audit_key", "record_from_row"]
